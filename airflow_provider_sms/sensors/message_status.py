"""Wait until messages reach a final status, poking or deferred to the triggerer."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException, PokeReturnValue

from airflow_provider_sms.sensors.base import SmsDeferrableSensor, load_xcom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.status_wait import StatusTally
    from airflow_provider_sms.hooks.base import MessageRef, SmsHook
    from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger

__all__ = ["SmsMessageStatusSensor"]


def _handset_refs(results: Sequence[dict[str, Any]], log: Any) -> list[MessageRef]:
    """One ref per accepted recipient that is a phone number.

    Receipts name handsets. A group or address-book name (``group:Name``, a Bulletin group, a
    Skycore subscriber reference) names none, and which handsets it reached is not in the send's
    result, so it cannot be followed: it is left out and named in the log, rather than waited for
    until the sensor times out.
    """
    from airflow_provider_sms.hooks.base import MessageRef

    refs: list[MessageRef] = []
    names: list[str] = []
    for row in results:
        if not row.get("accepted") or not (row.get("message_id") or row.get("batch_id")):
            continue
        recipient = _text(row.get("recipient"))
        if recipient is not None and not recipient.lstrip("+").isdigit():
            names.append(recipient)
            continue
        refs.append(MessageRef(batch_id=_text(row.get("batch_id")), message_id=_text(row.get("message_id")),
                               recipient=recipient))
    if names:
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        if not refs:
            raise AirflowFailException(
                f"nothing to wait for: {shown} names no handset, and delivery receipts report per handset "
                "(the send's result does not list the members); send to the numbers to follow their delivery")
        log.warning("%d recipients not followed (delivery receipts report per handset, and these name no "
                    "handset): %s", len(names), shown)
    return refs


class SmsMessageStatusSensor(SmsDeferrableSensor):
    """Wait for messages to be delivered (or at least final), reading many statuses per call.

    Name the messages with any of:

    :param messages: the return value of ``SmsSendOperator``/``SmsGroupSendOperator`` (``task.output``
        or its rendered XCom): every batch it produced is watched, one status call per batch.
    :param batch_ids: batch/submission ids (every message in them).
    :param message_ids: single message ids (gateways with per-message ids).
    :param sms_conn_id: SMS connection. Templated.
    :param success_when: ``all_delivered`` (default) or ``all_final`` (failed deliveries are reported, not errors).
    :param on_failed_delivery: with ``all_delivered``: ``fail`` (default; fail as soon as one message
        failed), ``skip`` (mark the task skipped), or ``continue`` (wait for all and succeed, reporting failures).
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param failure_log_limit: the final summary in the task log names at most this many failed recipients.
    :return: ``{"total": n, "delivered": n, "failed": n, "pending": n, "counts": {status: n},
        "statuses": [...], "statuses_complete": bool}``. ``statuses`` lists every message while the
        wait holds at most 10,000 (``statuses_complete`` true); above that, only the messages that
        did not succeed (at most 10,000 of them; the counts stay exact), so XCom stays small.

    Each poke after the first (and each trigger poll) asks the gateway only about the messages
    that are not final yet; a deferred wait hands what the first poke found to the trigger.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "messages", "batch_ids", "message_ids")
    ui_color = "#fff3e0"

    def __init__(
        self,
        *,
        sms_conn_id: str,
        messages: Any = None,
        batch_ids: Sequence[str] | str | None = None,
        message_ids: Sequence[str] | str | None = None,
        success_when: Literal["all_delivered", "all_final"] = "all_delivered",
        on_failed_delivery: Literal["fail", "skip", "continue"] = "fail",
        failure_log_limit: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(sms_conn_id=sms_conn_id, **kwargs)
        if success_when not in ("all_delivered", "all_final"):
            raise ValueError(f"success_when must be 'all_delivered' or 'all_final', got {success_when!r}")
        if on_failed_delivery not in ("fail", "skip", "continue"):
            raise ValueError(f"on_failed_delivery must be 'fail', 'skip' or 'continue', got {on_failed_delivery!r}")
        self.messages = messages
        self.batch_ids = batch_ids
        self.message_ids = message_ids
        self.success_when = success_when
        self.on_failed_delivery = on_failed_delivery
        self.failure_log_limit = failure_log_limit

    def _refs(self, hook: Callable[[], SmsHook]) -> list[MessageRef]:
        from airflow_provider_sms.core.recipients import split_recipients
        from airflow_provider_sms.hooks.base import MessageRef

        refs: list[MessageRef] = []
        messages = load_xcom(self.messages, "messages")
        if isinstance(messages, dict) and messages.get("results") and hook().status_source() == "receipts":
            # Receipts report per handset: follow each accepted recipient, not the batch.
            refs += _handset_refs(messages["results"], self.log)
        elif isinstance(messages, dict):
            batches = [*messages.get("batch_ids", []), *messages.get("background_send_ids", [])]
            refs += [MessageRef(batch_id=str(b)) for b in batches]
            if not refs:
                refs += [MessageRef(message_id=str(m)) for m in messages.get("message_ids", [])]
        elif isinstance(messages, list):
            refs += [MessageRef.from_dict(m) if isinstance(m, dict) else MessageRef(batch_id=str(m)) for m in messages]
        refs += [MessageRef(batch_id=b) for b in split_recipients(load_xcom(self.batch_ids, "batch_ids"))]
        refs += [MessageRef(message_id=m) for m in split_recipients(load_xcom(self.message_ids, "message_ids"))]
        if not refs:
            raise AirflowFailException("no messages to watch: give messages, batch_ids or message_ids")
        return refs

    def _conclude(self, tally: StatusTally) -> PokeReturnValue:
        verdict = tally.judge(self.success_when, self.on_failed_delivery)
        self.log.info("%s", tally.progress())
        if not verdict.done:
            return PokeReturnValue(is_done=False)
        summary = tally.failure_summary(self.failure_log_limit)
        if summary:
            self.log.warning("%s", summary)
        if verdict.failed and self.on_failed_delivery != "continue":
            sample = ", ".join(f"{s.recipient or s.message_id}: {s.status.value} ({s.code})"
                               for s in verdict.failed[:10])
            text = f"{tally.failed} messages were not delivered: {sample}"
            if self.on_failed_delivery == "skip":
                raise AirflowSkipException(text)
            raise AirflowFailException(text)
        return PokeReturnValue(is_done=True, xcom_value=tally.summary())

    def poke(self, context: Context) -> PokeReturnValue:
        """One look: the first asks about every message, later ones (same sensor run) only about
        those not final yet."""
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms._gc import gc_held
        from airflow_provider_sms.core.status_wait import StatusTally
        from airflow_provider_sms.hooks.base import MessageRef, get_sms_hook

        with airflow_errors(), gc_held():
            hook = functools.cache(lambda: get_sms_hook(self.sms_conn_id))
            tally: StatusTally | None = getattr(self, "_tally", None)
            if tally is None:
                refs = self._refs(hook)
                tally = StatusTally()
            else:
                refs = [MessageRef(*ref) for ref in tally.to_ask()]
            statuses = hook().read_statuses(refs, self._since())
            tally.record([(r.batch_id, r.message_id, r.recipient) for r in refs], statuses)
            self._tally = tally
            return self._conclude(tally)

    def _since(self) -> dt.datetime | None:
        from airflow_provider_sms.operators.inputs import as_datetime

        messages = load_xcom(self.messages, "messages")
        sent_at = messages.get("sent_at") if isinstance(messages, dict) else None
        since = as_datetime(sent_at, "messages.sent_at")
        # A few minutes of slack for clock differences between us and the gateway.
        return since - dt.timedelta(minutes=5) if since else None

    def trigger(self, context: Context) -> SmsMessageStatusTrigger:
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger, pack_refs

        since = self._since()
        tally: StatusTally | None = getattr(self, "_tally", None)
        hook = functools.cache(lambda: get_sms_hook(self.sms_conn_id))
        return SmsMessageStatusTrigger(
            sms_conn_id=self.sms_conn_id,
            # What the first poke found travels packed: the trigger asks only about pending messages.
            refs="" if tally is not None else pack_refs([(r.batch_id, r.message_id, r.recipient)
                                                          for r in self._refs(hook)]),
            tally=tally.pack() if tally is not None else None,
            poll_interval=float(self.poke_interval),
            success_when=self.success_when,
            on_failed_delivery=self.on_failed_delivery,
            since=since.isoformat() if since else None,
        )

    def conclude_event(self, context: Context, event: dict[str, Any]) -> Any:
        from airflow_provider_sms.core.results import MessageStatus
        from airflow_provider_sms.core.status_wait import StatusTally

        if "tally" in event:
            tally = StatusTally.unpack(event["tally"])
        else:  # an event of a trigger from before issue 13: every status listed
            tally = StatusTally()
            tally.record([], [MessageStatus.from_dict(s) for s in event["statuses"]])
        result = self._conclude(tally)
        if not result.is_done:
            raise AirflowFailException("trigger ended before the messages were final")
        return result.xcom_value


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
