"""A trigger that polls a gateway until an answer is final, shared by the provider's triggers."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_sms._gc import gc_held

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["GatewayPollingTrigger"]

log = logging.getLogger(__name__)

SETUP_ATTEMPTS = 5
SETUP_BACKOFF_SECONDS = 1.0

_SETUP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


MAX_ERROR_BACKOFF_SECONDS = 60.0


def error_backoff(poll_interval: float, errors: int) -> float:
    """Seconds to wait after the ``errors``-th failed poll in a row: the poll interval, doubled after
    each further failure, up to a minute (or the poll interval, when that is longer)."""
    return float(min(poll_interval * 2 ** (errors - 1), max(poll_interval, MAX_ERROR_BACKOFF_SECONDS)))


async def _pause(seconds: float) -> None:
    """The wait between polls (a seam for tests: the transport's own retry waits are separate)."""
    await asyncio.sleep(seconds)


def _setup_lock() -> asyncio.Lock:
    """One lock per event loop (a triggerer runs one loop; tests run many)."""
    loop = asyncio.get_running_loop()
    lock = _SETUP_LOCKS.get(loop)
    if lock is None:
        lock = _SETUP_LOCKS[loop] = asyncio.Lock()
    return lock


class GatewayPollingTrigger(BaseTrigger):
    """Fetch the connection without blocking the event loop, then call :meth:`poll` every
    ``poll_interval`` seconds until it returns an event payload.

    Yields exactly one event: the payload of :meth:`poll` (``status`` ``done``), or ``status``
    ``error`` with a message after a non-retryable error or ``max_consecutive_errors`` failed polls
    in a row (the wait doubles after each failed poll, see :func:`error_backoff`).
    Subclasses add their own kwargs to :meth:`serialize` via :meth:`_kwargs`.

    :param first_poll_after: seconds to wait before the first poll (a sensor that has just looked
        sets it, see ``SmsDeferrableSensor``).
    """

    def __init__(self, *, sms_conn_id: str, poll_interval: float = 30.0, max_consecutive_errors: int = 5,
                 first_poll_after: float = 0.0) -> None:
        super().__init__()
        self.sms_conn_id = sms_conn_id
        self.poll_interval = poll_interval
        self.max_consecutive_errors = max_consecutive_errors
        self.first_poll_after = first_poll_after

    def _kwargs(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"sms_conn_id": self.sms_conn_id, "poll_interval": self.poll_interval,
             "max_consecutive_errors": self.max_consecutive_errors, "first_poll_after": self.first_poll_after,
             **self._kwargs()},
        )

    async def _open_hook(self) -> SmsHook:
        """The hook for the connection, read without blocking the event loop.

        A new triggerer (after a restart) starts every waiting trigger at once, and each one asks the
        triggerer's supervisor for its connection. On Airflow 3.1 those requests can fail when they
        overlap ("Response read out of order"), which would fail the waiting task although nothing
        is wrong with the gateway. So the set-ups in one triggerer take turns, and a failure that is
        not ours is tried again a few times before it fails the task.
        """
        from airflow.providers.common.compat.connection import get_async_connection
        from asgiref.sync import sync_to_async

        from airflow_provider_sms.exceptions import SmsError
        from airflow_provider_sms.hooks.base import hook_class_for

        for attempt in range(1, SETUP_ATTEMPTS + 1):
            try:
                async with _setup_lock():
                    connection = await get_async_connection(self.sms_conn_id)
                    hook = hook_class_for(connection.conn_type).for_connection(connection)
                    # Reading the connection's extras may call the task supervisor synchronously
                    # (secret masking): off the event loop, through asgiref, because Airflow < 3.3.2's
                    # triggerer sends such calls back to its own loop from asgiref threads only (from
                    # an asyncio.to_thread thread they run on a second loop and crash the triggerer).
                    await sync_to_async(hook.prepare)()
                return hook
            except SmsError:
                raise
            except Exception as error:  # Airflow's own comms: retried, then re-raised
                if attempt == SETUP_ATTEMPTS:
                    raise
                log.warning("reading connection %s failed (try %d of %d), trying again: %s: %s",
                            self.sms_conn_id, attempt, SETUP_ATTEMPTS, type(error).__name__, error)
                await asyncio.sleep(SETUP_BACKOFF_SECONDS * attempt)
        raise AssertionError("unreachable")

    async def poll(self, hook: SmsHook) -> dict[str, Any] | None:
        """One look at the gateway: the event payload when done, else None."""
        raise NotImplementedError

    async def poll_once(self, hook: SmsHook) -> dict[str, Any] | None:
        """:meth:`poll` with the garbage collector held: a big poll's objects would otherwise trigger
        full collections that stall the triggerer's event loop (see :mod:`.._gc`)."""
        with gc_held():
            return await self.poll(hook)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_sms.exceptions import SmsError

        try:
            hook = await self._open_hook()
        except SmsError as error:
            yield TriggerEvent({"status": "error", "message": str(error)})
            return
        # The event is yielded after the session's client is closed: a triggerer that stops
        # iterating after the event must not leave a connection (or a pending close) behind.
        yield await self._poll_until_event(hook)

    async def _poll_until_event(self, hook: SmsHook) -> TriggerEvent:
        """Poll on one pooled client until :meth:`poll` has a payload or polling keeps failing."""
        from airflow_provider_sms.exceptions import SmsError

        errors = 0
        if self.first_poll_after > 0:
            await _pause(self.first_poll_after)
        async with hook.async_session():  # one pooled client for every poll of this run
            while True:
                try:
                    payload = await self.poll_once(hook)
                except SmsError as error:
                    errors += 1
                    log.warning("poll failed (%d/%d): %s", errors, self.max_consecutive_errors, error)
                    if not error.retryable or errors >= self.max_consecutive_errors:
                        return TriggerEvent({"status": "error", "message": str(error), "retryable": error.retryable})
                    # Back off while the gateway fails, so a short poll interval does not spend the
                    # whole error budget within seconds of a brief outage.
                    await _pause(error_backoff(self.poll_interval, errors))
                    continue
                errors = 0
                if payload is not None:
                    return TriggerEvent({"status": "done", **payload})
                await _pause(self.poll_interval)
