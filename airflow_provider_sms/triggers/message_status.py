"""Poll message statuses from the triggerer until the wait is over (see ``core.status_policy``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_sms.triggers.base import GatewayPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsMessageStatusTrigger"]

log = logging.getLogger(__name__)


class SmsMessageStatusTrigger(GatewayPollingTrigger):
    """Yield one event when the messages named by ``refs`` are done (or polling keeps failing).

    :param sms_conn_id: SMS connection.
    :param refs: ``MessageRef`` dicts (``batch_id``/``message_id``/``recipient``).
    :param poll_interval: seconds between polls.
    :param success_when: ``all_delivered`` or ``all_final``.
    :param on_failed_delivery: ``fail``, ``skip`` or ``continue``.
    :param since: ISO time the messages were sent at the earliest (lets gateways read one report).
    :param max_consecutive_errors: give up after this many failed polls in a row.
    """

    def __init__(self, *, sms_conn_id: str, refs: Sequence[dict[str, Any]], poll_interval: float = 30.0,
                 success_when: str = "all_delivered", on_failed_delivery: str = "fail", since: str | None = None,
                 max_consecutive_errors: int = 5) -> None:
        super().__init__(sms_conn_id=sms_conn_id, poll_interval=poll_interval,
                         max_consecutive_errors=max_consecutive_errors)
        self.refs = [dict(r) for r in refs]
        self.success_when = success_when
        self.on_failed_delivery = on_failed_delivery
        self.since = since

    def _kwargs(self) -> dict[str, Any]:
        return {"refs": self.refs, "success_when": self.success_when,
                "on_failed_delivery": self.on_failed_delivery, "since": self.since}

    async def poll(self, hook: SmsHook) -> dict[str, Any] | None:
        from airflow_provider_sms.core.status_policy import judge, progress
        from airflow_provider_sms.hooks.base import MessageRef

        refs = [MessageRef.from_dict(r) for r in self.refs]
        since = dt.datetime.fromisoformat(self.since) if self.since else None
        statuses = await hook.aread_statuses(refs, since)
        verdict = judge(statuses, self.success_when, self.on_failed_delivery)  # type: ignore[arg-type]
        log.info("%s", progress(statuses))
        if not verdict.done:
            return None
        return {"statuses": [s.to_dict() for s in statuses]}
