"""Poll message statuses from the triggerer until the wait is over (see ``core.status_policy``).

Each poll asks only about messages that are not final yet (:class:`~..core.status_wait.StatusTally`),
on one pooled client for the whole run; the kwargs and the event carry the tally packed, so
they stay small however many messages are watched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_sms.core.status_wait import PendingRef, StatusTally, pack, unpack
from airflow_provider_sms.triggers.base import GatewayPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_sms.core.results import MessageStatus
    from airflow_provider_sms.hooks.base import MessageRef, SmsHook

__all__ = ["SmsMessageStatusTrigger"]

log = logging.getLogger(__name__)

def _ref_tuples(refs: Sequence[dict[str, Any]] | str) -> list[PendingRef]:
    items = unpack(refs) if isinstance(refs, str) else refs
    return [(_opt(r.get("batch_id")), _opt(r.get("message_id")), _opt(r.get("recipient"))) if isinstance(r, dict)
            else (_opt(r[0]), _opt(r[1]), _opt(r[2])) for r in items]


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


class SmsMessageStatusTrigger(GatewayPollingTrigger):
    """Yield one event when the messages named by ``refs`` are done (or polling keeps failing).

    :param sms_conn_id: SMS connection.
    :param refs: ``MessageRef`` dicts (``batch_id``/``message_id``/``recipient``), or the same
        packed by :func:`~..core.status_wait.pack` as ``[batch_id, message_id, recipient]`` lists.
    :param poll_interval: seconds between polls.
    :param success_when: ``all_delivered`` or ``all_final``.
    :param on_failed_delivery: ``fail``, ``skip`` or ``continue``.
    :param since: ISO time the messages were sent at the earliest (lets gateways read one report).
    :param max_consecutive_errors: give up after this many failed polls in a row.
    :param tally: what the sensor's first look found (:meth:`StatusTally.pack`); the trigger then
        asks only about the messages still pending and ``refs`` is not used.

    The event is ``{"status": "done", "tally": <packed StatusTally>}``.
    """

    def __init__(self, *, sms_conn_id: str, refs: Sequence[dict[str, Any]] | str = (), poll_interval: float = 30.0,
                 success_when: str = "all_delivered", on_failed_delivery: str = "fail", since: str | None = None,
                 max_consecutive_errors: int = 5, tally: str | None = None, first_poll_after: float = 0.0) -> None:
        super().__init__(sms_conn_id=sms_conn_id, poll_interval=poll_interval,
                         max_consecutive_errors=max_consecutive_errors,
                         first_poll_after=first_poll_after)
        self.refs = refs if isinstance(refs, str) else [dict(r) for r in refs]
        self.success_when = success_when
        self.on_failed_delivery = on_failed_delivery
        self.since = since
        self.tally = tally

    def _kwargs(self) -> dict[str, Any]:
        return {"refs": self.refs, "success_when": self.success_when,
                "on_failed_delivery": self.on_failed_delivery, "since": self.since, "tally": self.tally}

    def _start(self) -> tuple[StatusTally, list[PendingRef]]:
        if self.tally is not None:
            tally = StatusTally.unpack(self.tally)
            return tally, tally.to_ask()
        return StatusTally(), _ref_tuples(self.refs)

    async def poll(self, hook: SmsHook) -> dict[str, Any] | None:
        from airflow_provider_sms.hooks.base import off_loop

        if not hasattr(self, "_state"):
            size = len(self.refs) + len(self.tally or "") // 10
            self._state = await off_loop(size, self._start)  # kept between the polls of one run
        tally, asked = self._state
        since = dt.datetime.fromisoformat(self.since) if self.since else None
        statuses = await hook.aread_statuses(await off_loop(len(asked), _as_refs, asked), since)
        done, to_ask = await off_loop(len(statuses) + len(asked), self._record, tally, asked, statuses)
        log.info("%s", tally.progress())
        self._state = (tally, to_ask)
        if not done:
            return None
        return {"tally": await off_loop(tally.total, tally.pack)}

    def _record(self, tally: StatusTally, asked: list[PendingRef],
                statuses: list[MessageStatus]) -> tuple[bool, list[PendingRef]]:
        tally.record(asked, statuses)
        return tally.judge(self.success_when, self.on_failed_delivery).done, tally.to_ask()  # type: ignore[arg-type]


def _as_refs(asked: Sequence[PendingRef]) -> list[MessageRef]:
    from airflow_provider_sms.hooks.base import MessageRef

    return [MessageRef(*ref) for ref in asked]


def pack_refs(refs: Sequence[PendingRef]) -> str:
    """``refs`` in the packed form the trigger's ``refs`` accepts."""
    return pack([list(r) for r in refs])
