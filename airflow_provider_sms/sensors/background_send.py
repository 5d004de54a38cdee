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
    :return: ``{"background_send_id", "total", "messages": [{"message_id", "destination",
        "status_word", "status", "final"}, ...]}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "background_send_id")
    ui_color = "#fff3e0"

    def __init__(self, *, sms_conn_id: str, background_send_id: Any, **kwargs: Any) -> None:
        super().__init__(sms_conn_id=sms_conn_id, **kwargs)
        self.background_send_id = background_send_id

    def _id(self) -> str:
        value = load_xcom(self.background_send_id)
        if isinstance(value, dict):
            ids = value.get("background_send_ids") or []
            if not ids:
                raise AirflowFailException("the send result has no background send id (was it a numbers send?)")
            value = ids[0]
        if value in (None, ""):
            raise AirflowFailException("background_send_id is empty")
        return str(value)

    def _result(self, answer: BackgroundSend) -> dict[str, Any]:
        from airflow_provider_sms.core.status_policy import failure_summary, progress

        statuses = answer.statuses()
        self.log.info("background send %s finished: %s", answer.background_send_id, progress(statuses))
        summary = failure_summary(statuses)
        if summary:
            self.log.warning("%s", summary)
        data = answer.to_dict()
        return {"background_send_id": data["background_send_id"], "total": len(data["messages"]),
                "messages": data["messages"]}

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook

        background_send_id = self._id()
        with airflow_errors():
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
        from airflow_provider_sms.core.results import BackgroundSend

        return self._result(BackgroundSend.from_dict(event["background_send"]))
