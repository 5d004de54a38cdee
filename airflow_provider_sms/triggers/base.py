"""A trigger that polls a gateway until an answer is final, shared by the provider's triggers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_sms._gc import gc_held

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["GatewayPollingTrigger"]

log = logging.getLogger(__name__)


class GatewayPollingTrigger(BaseTrigger):
    """Fetch the connection without blocking the event loop, then call :meth:`poll` every
    ``poll_interval`` seconds until it returns an event payload.

    Yields exactly one event: the payload of :meth:`poll` (``status`` ``done``), or ``status``
    ``error`` with a message after a non-retryable error or ``max_consecutive_errors`` failed polls.
    Subclasses add their own kwargs to :meth:`serialize` via :meth:`_kwargs`.
    """

    def __init__(self, *, sms_conn_id: str, poll_interval: float = 30.0, max_consecutive_errors: int = 5) -> None:
        super().__init__()
        self.sms_conn_id = sms_conn_id
        self.poll_interval = poll_interval
        self.max_consecutive_errors = max_consecutive_errors

    def _kwargs(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"sms_conn_id": self.sms_conn_id, "poll_interval": self.poll_interval,
             "max_consecutive_errors": self.max_consecutive_errors, **self._kwargs()},
        )

    async def poll(self, hook: SmsHook) -> dict[str, Any] | None:
        """One look at the gateway: the event payload when done, else None."""
        raise NotImplementedError

    async def poll_once(self, hook: SmsHook) -> dict[str, Any] | None:
        """:meth:`poll` with the garbage collector held: a big poll's objects would otherwise trigger
        full collections that stall the triggerer's event loop (see :mod:`.._gc`)."""
        with gc_held():
            return await self.poll(hook)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.providers.common.compat.connection import get_async_connection

        from airflow_provider_sms.exceptions import SmsError
        from airflow_provider_sms.hooks.base import hook_class_for

        try:
            connection = await get_async_connection(self.sms_conn_id)
            hook = hook_class_for(connection.conn_type).for_connection(connection)
            # Reading the connection's extras may call the task supervisor synchronously (secret
            # masking): do it once, off the event loop, through asgiref. Airflow < 3.3.2's triggerer
            # sends such calls back to its own event loop from asgiref threads only; from a plain
            # asyncio.to_thread thread they run on a second loop, and two triggers starting together
            # crash the triggerer ("Response read out of order", seen on 3.1.8 in make e2e).
            from asgiref.sync import sync_to_async

            await sync_to_async(hook.prepare)()
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
        async with hook.async_session():  # one pooled client for every poll of this run
            while True:
                try:
                    payload = await self.poll_once(hook)
                except SmsError as error:
                    errors += 1
                    log.warning("poll failed (%d/%d): %s", errors, self.max_consecutive_errors, error)
                    if not error.retryable or errors >= self.max_consecutive_errors:
                        return TriggerEvent({"status": "error", "message": str(error), "retryable": error.retryable})
                else:
                    errors = 0
                    if payload is not None:
                        return TriggerEvent({"status": "done", **payload})
                await asyncio.sleep(self.poll_interval)
