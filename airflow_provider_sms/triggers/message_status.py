"""Poll message statuses from the triggerer until the wait is over (see ``core.status_policy``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["SmsMessageStatusTrigger"]

log = logging.getLogger(__name__)


class SmsMessageStatusTrigger(BaseTrigger):
    """Yield one event when the messages named by ``refs`` are done (or polling keeps failing).

    :param sms_conn_id: SMS connection.
    :param refs: ``MessageRef`` dicts (``batch_id``/``message_id``/``recipient``).
    :param poll_interval: seconds between polls.
    :param success_when: ``all_delivered`` or ``all_final``.
    :param on_failed_delivery: ``fail``, ``skip`` or ``continue``.
    :param max_consecutive_errors: give up after this many failed polls in a row.
    """

    def __init__(self, *, sms_conn_id: str, refs: Sequence[dict[str, Any]], poll_interval: float = 30.0,
                 success_when: str = "all_delivered", on_failed_delivery: str = "fail",
                 max_consecutive_errors: int = 5) -> None:
        super().__init__()
        self.sms_conn_id = sms_conn_id
        self.refs = [dict(r) for r in refs]
        self.poll_interval = poll_interval
        self.success_when = success_when
        self.on_failed_delivery = on_failed_delivery
        self.max_consecutive_errors = max_consecutive_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "sms_conn_id": self.sms_conn_id,
                "refs": self.refs,
                "poll_interval": self.poll_interval,
                "success_when": self.success_when,
                "on_failed_delivery": self.on_failed_delivery,
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.providers.common.compat.connection import get_async_connection

        from airflow_provider_sms.core.status_policy import judge
        from airflow_provider_sms.exceptions import SmsError
        from airflow_provider_sms.hooks.base import MessageRef, hook_class_for

        try:
            connection = await get_async_connection(self.sms_conn_id)
            hook = hook_class_for(connection.conn_type).for_connection(connection)
            refs = [MessageRef.from_dict(r) for r in self.refs]
        except SmsError as error:
            yield TriggerEvent({"status": "error", "message": str(error)})
            return
        errors = 0
        while True:
            try:
                statuses = await hook.aget_statuses(refs)
            except SmsError as error:
                errors += 1
                log.warning("status poll failed (%d/%d): %s", errors, self.max_consecutive_errors, error)
                if not error.retryable or errors >= self.max_consecutive_errors:
                    yield TriggerEvent({"status": "error", "message": str(error)})
                    return
            else:
                errors = 0
                verdict = judge(statuses, self.success_when, self.on_failed_delivery)  # type: ignore[arg-type]
                log.info("%d messages, %d not final yet", len(statuses), verdict.pending)
                if verdict.done:
                    yield TriggerEvent({"status": "done", "statuses": [s.to_dict() for s in statuses]})
                    return
            await asyncio.sleep(self.poll_interval)
