"""Wait until messages reach a final status, poking or deferred to the triggerer."""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.results import MessageStatus
    from airflow_provider_sms.hooks.base import MessageRef

__all__ = ["SmsMessageStatusSensor"]


def _load(value: Any) -> Any:
    """Read a rendered XCom (a JSON or Python literal string) back into data."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return ast.literal_eval(value)
    return value


class SmsMessageStatusSensor(BaseSensorOperator):
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
    :return: ``{"statuses": [...], "delivered": n, "failed": n, "total": n}``.
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
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        if success_when not in ("all_delivered", "all_final"):
            raise ValueError(f"success_when must be 'all_delivered' or 'all_final', got {success_when!r}")
        if on_failed_delivery not in ("fail", "skip", "continue"):
            raise ValueError(f"on_failed_delivery must be 'fail', 'skip' or 'continue', got {on_failed_delivery!r}")
        self.sms_conn_id = sms_conn_id
        self.messages = messages
        self.batch_ids = batch_ids
        self.message_ids = message_ids
        self.success_when = success_when
        self.on_failed_delivery = on_failed_delivery
        self.deferrable = deferrable

    def _refs(self) -> list[MessageRef]:
        from airflow_provider_sms.core.recipients import split_recipients
        from airflow_provider_sms.hooks.base import MessageRef

        refs: list[MessageRef] = []
        messages = _load(self.messages)
        if isinstance(messages, dict):
            refs += [MessageRef(batch_id=str(b)) for b in messages.get("batch_ids", [])]
            if not refs:
                refs += [MessageRef(message_id=str(m)) for m in messages.get("message_ids", [])]
        elif isinstance(messages, list):
            refs += [MessageRef.from_dict(m) if isinstance(m, dict) else MessageRef(batch_id=str(m)) for m in messages]
        refs += [MessageRef(batch_id=b) for b in split_recipients(_load(self.batch_ids))]
        refs += [MessageRef(message_id=m) for m in split_recipients(_load(self.message_ids))]
        if not refs:
            raise AirflowFailException("no messages to watch: give messages, batch_ids or message_ids")
        return refs

    def _conclude(self, statuses: Sequence[MessageStatus]) -> PokeReturnValue:
        from airflow_provider_sms.core.status_policy import judge

        verdict = judge(statuses, self.success_when, self.on_failed_delivery)
        if not verdict.done:
            self.log.info("%d of %d messages not final yet", verdict.pending, len(statuses))
            return PokeReturnValue(is_done=False)
        if verdict.failed and self.on_failed_delivery != "continue":
            sample = ", ".join(f"{s.recipient or s.message_id}: {s.status.value} ({s.code})"
                               for s in verdict.failed[:10])
            text = f"{len(verdict.failed)} messages were not delivered: {sample}"
            if self.on_failed_delivery == "skip":
                raise AirflowSkipException(text)
            raise AirflowFailException(text)
        delivered = sum(1 for s in statuses if s.status.is_success)
        return PokeReturnValue(is_done=True, xcom_value={
            "statuses": [s.to_dict() for s in statuses],
            "total": len(statuses),
            "delivered": delivered,
            "failed": sum(1 for s in statuses if s.status.is_failure),
        })

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook

        refs = self._refs()
        with airflow_errors():
            return self._conclude(get_sms_hook(self.sms_conn_id).get_statuses(refs))

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger

        self.defer(
            trigger=SmsMessageStatusTrigger(
                sms_conn_id=self.sms_conn_id,
                refs=[r.to_dict() for r in self._refs()],
                poll_interval=float(self.poke_interval),
                success_when=self.success_when,
                on_failed_delivery=self.on_failed_delivery,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=float(self.timeout)) if self.timeout else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        from airflow_provider_sms.core.results import MessageStatus

        if not event or event.get("status") != "done":
            raise AirflowFailException(f"waiting for delivery failed: {(event or {}).get('message', 'no event')}")
        result = self._conclude([MessageStatus.from_dict(s) for s in event["statuses"]])
        if not result.is_done:
            raise AirflowFailException("trigger ended before the messages were final")
        return result.xcom_value
