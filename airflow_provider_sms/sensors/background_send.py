"""Wait for a background send (a group or distribution-list send the gateway runs by itself) to finish."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, PokeReturnValue

from airflow_provider_sms.sensors.base import SmsDeferrableSensor, load_xcom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.results import BackgroundSend
    from airflow_provider_sms.triggers.background_send import SmsBackgroundSendTrigger

__all__ = ["SmsBackgroundSendSensor"]


class SmsBackgroundSendSensor(SmsDeferrableSensor):
    """Wait until a background send has finished, then return each of its messages.

    :param sms_conn_id: SMS connection. Templated.
    :param background_send_id: the id returned by a group/list send, or that send's return value
        (``group_send.output``), whose first background send is watched. Templated.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :return: ``{"background_send_id", "total", "counts": {status: n}, "messages": [{"message_id",
        "destination", "status_word", "status", "final"}, ...], "messages_complete": bool}``:
        every message up to 10,000, above that only those that failed (``messages_complete``
        false; the counts stay exact).

    A group or list small enough for the gateway to send in the foreground (NetMessenger: at most
    200 members) may come back without a background-send id: its messages went out with the
    request, so the sensor finishes at once with ``"foreground": True``, the groups it sent to,
    and no per-message entries (the gateway gave none).
    """

    template_fields: Sequence[str] = ("sms_conn_id", "background_send_id")
    ui_color = "#fff3e0"

    def __init__(self, *, sms_conn_id: str, background_send_id: Any, **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, **kwargs)
        self.background_send_id = background_send_id

    def _id(self) -> str:
        from airflow_provider_sms.exceptions import Problem, SmsValidationError

        value = load_xcom(self.background_send_id, "background_send_id")
        if isinstance(value, dict):
            ids = value.get("background_send_ids") or []
            if not ids:
                raise AirflowFailException("the send result has no background send id (was it a numbers send?)")
            value = ids[0]
        if value in (None, ""):
            raise AirflowFailException("background_send_id is empty")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SmsValidationError([Problem("background_send_id", "must be an id (text or a whole number) or a "
                                              f"send operator's result, got a {type(value).__name__}")])
        return str(value)

    def _result(self, answer: BackgroundSend) -> dict[str, Any]:
        from airflow_provider_sms.core.status_policy import failure_summary, progress
        from airflow_provider_sms.core.status_wait import background_summary

        statuses = answer.statuses()
        self.log.info("background send %s finished: %s", answer.background_send_id, progress(statuses))
        summary = failure_summary(statuses)
        if summary:
            self.log.warning("%s", summary)
        return background_summary(answer)

    def _foreground_groups(self) -> list[str] | None:
        """The groups of a send result that ran in the foreground (accepted, no background id), else None."""
        value = load_xcom(self.background_send_id)
        if not isinstance(value, dict) or value.get("background_send_ids"):
            return None
        results = value.get("results") or []
        groups = [r.get("recipient") for r in results if isinstance(r, dict) and r.get("accepted")]
        if not groups or value.get("message_ids") or len(groups) != value.get("accepted_count", len(groups)):
            return None  # a numbers send, or nothing accepted: _id() explains
        return [str(g) for g in groups]

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook

        groups = self._foreground_groups()
        if groups is not None:
            self.log.info("the send to %s ran in the foreground (no background send id): finished", groups)
            return PokeReturnValue(is_done=True, xcom_value={"background_send_id": None, "foreground": True,
                                                             "groups": groups, "total": 0, "messages": []})
        with airflow_errors():
            background_send_id = self._id()
            answer = get_sms_hook(self.sms_conn_id).background_send(background_send_id)
        if not answer.finished:
            self.log.info("background send %s is still running", background_send_id)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._result(answer))

    def trigger(self, context: Context) -> SmsBackgroundSendTrigger:
        from airflow_provider_sms.triggers.background_send import SmsBackgroundSendTrigger

        return SmsBackgroundSendTrigger(sms_conn_id=self.sms_conn_id, background_send_id=self._id(),
                                        poll_interval=float(self.poke_interval))

    def conclude_event(self, context: Context, event: dict[str, Any]) -> Any:
        from airflow_provider_sms.core.results import BackgroundSend, DeliveryStatus, MessageStatus
        from airflow_provider_sms.core.status_policy import failure_summary_line, progress_line
        from airflow_provider_sms.core.status_wait import unpack

        if "background_send" in event:  # an event of a trigger from before issue 13
            return self._result(BackgroundSend.from_dict(event["background_send"]))
        result: dict[str, Any] = unpack(event["background_summary"])
        counts = {DeliveryStatus(s): int(n) for s, n in result.get("counts", {}).items()}
        failed = [MessageStatus(DeliveryStatus(m["status"]), recipient=m["destination"], message_id=m["message_id"],
                                code=m["status_word"]) for m in result.get("messages", [])]
        failed = [s for s in failed if s.status.is_failure]
        self.log.info("background send %s finished: %s", result.get("background_send_id"), progress_line(
            int(result.get("total", 0)), sum(n for s, n in counts.items() if not s.is_final),
            counts.get(DeliveryStatus.DELIVERED, 0), sum(n for s, n in counts.items() if s.is_failure), failed))
        summary = failure_summary_line(int(result.get("total", 0)),
                                       sum(n for s, n in counts.items() if s.is_failure), failed)
        if summary:
            self.log.warning("%s", summary)
        return result
