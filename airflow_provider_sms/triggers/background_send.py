"""Poll a background send (a group or list send the gateway runs on its own) until it has finished."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow_provider_sms.triggers.base import GatewayPollingTrigger

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsBackgroundSendTrigger"]

log = logging.getLogger(__name__)


class SmsBackgroundSendTrigger(GatewayPollingTrigger):
    """Yield one event with the background send's messages once the gateway says it has finished.

    The event is ``{"status": "done", "background_summary": <packed background_summary()>}``.

    :param sms_conn_id: SMS connection.
    :param background_send_id: the id a group/list send returned.
    :param poll_interval: seconds between polls.
    """

    def __init__(self, *, sms_conn_id: str, background_send_id: str, poll_interval: float = 30.0,
                 max_consecutive_errors: int = 5, first_poll_after: float = 0.0) -> None:
        super().__init__(sms_conn_id=sms_conn_id, poll_interval=poll_interval,
                         max_consecutive_errors=max_consecutive_errors,
                         first_poll_after=first_poll_after)
        self.background_send_id = background_send_id

    def _kwargs(self) -> dict[str, Any]:
        return {"background_send_id": self.background_send_id}

    async def poll(self, hook: SmsHook) -> dict[str, Any] | None:
        from airflow_provider_sms.core.status_policy import progress
        from airflow_provider_sms.core.status_wait import background_summary, pack

        answer = await hook.abackground_send(self.background_send_id)
        if not answer.finished:
            log.info("background send %s is still running", self.background_send_id)
            return None
        log.info("background send %s finished: %s", self.background_send_id, progress(answer.statuses()))
        # Packed counts and failures (every message up to 10,000): the event stays small.
        return {"background_summary": pack(background_summary(answer))}
