"""Text an alert from a task or DAG callback, or from a deadline alert, through any SMS connection.

    from airflow_provider_sms.notifications.sms import send_sms_notification

    DAG(..., on_failure_callback=send_sms_notification(
        sms_conn_id="bulksms_default", to=["+447700100001"],
        message="{{ dag.dag_id }} failed: {{ ti.task_id }} ({{ run_id }})"))

Callbacks are not retried by Airflow, so the notifier never fails the task it reports on: an
alert that could not be sent is logged as an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.notifier import BaseNotifier

if TYPE_CHECKING:
    from airflow_provider_sms.core.message import OutgoingMessage
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsNotifier", "send_sms_notification"]

# Alerts are short: cut long rendered text instead of refusing to send it.
_ALERT_MAX_PARTS = 3


class SmsNotifier(BaseNotifier):
    """Send ``message`` to ``to`` when called as a callback.

    :param sms_conn_id: SMS connection. Templated.
    :param to: numbers (list or comma-separated string). Templated.
    :param message: the alert text; shortened to what the gateway takes (at most three SMS parts). Templated.
    :param sender: sender id (required by NetMessenger). Templated.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "to", "message", "sender")

    def __init__(self, *, sms_conn_id: str, to: str | Sequence[str], message: str, sender: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.to = to
        self.message = message
        self.sender = sender

    def _outgoing(self, hook: SmsHook, context: Any) -> OutgoingMessage:
        """The alert as the gateway will take it: numbers normalised, text cut to the gateway's limit."""
        from airflow_provider_sms.core.dedupe import dedupe_key
        from airflow_provider_sms.core.message import OutgoingMessage
        from airflow_provider_sms.core.recipients import normalise_numbers
        from airflow_provider_sms.exceptions import SmsValidationError

        settings = hook.settings
        numbers = list(dict.fromkeys(normalise_numbers(self.to, settings.default_region, settings.number_check,
                                                       gateway=hook.gateway)))
        ti = context.get("ti") if isinstance(context, dict) else None
        # The same callback firing twice for one try (e.g. a re-parsed DAG processor callback)
        # sends once where the gateway deduplicates.
        key = dedupe_key("notify", getattr(ti, "dag_id", ""), getattr(ti, "task_id", ""),
                         context.get("run_id", "") if isinstance(context, dict) else "",
                         getattr(ti, "try_number", ""), self.message) if ti is not None else None
        text = " ".join(str(self.message).split())
        for _ in range(12):
            message = OutgoingMessage(text, numbers=numbers, sender=self.sender or None, max_parts=_ALERT_MAX_PARTS,
                                      dedupe_key=key)
            try:
                hook.check_message(message)
                return message
            except SmsValidationError as error:
                # Too long for this gateway (e.g. one 70-character UCS-2 part on BulkSMS EAPI):
                # shorten, rather than drop the alert. Anything else is a real problem.
                if len(text) <= 20 or {p.field for p in error.problems} != {"message"}:
                    raise
                text = text[: int(len(text) * 0.8)].rstrip() + "..."  # ASCII: keeps GSM text GSM
        hook.check_message(message)
        return message

    def _send(self, hook: SmsHook, context: Any) -> None:
        from airflow_provider_sms.hooks.base import iter_chunks

        message = self._outgoing(hook, context)
        for chunk in iter_chunks(message.numbers, hook.max_recipients_per_request):
            result = hook.send(replace(message, numbers=chunk))
            if result.rejected:
                self.log.error("SMS alert refused for %s", [r.recipient for r in result.rejected])

    def notify(self, context: Any) -> None:
        """Send the alert (task/DAG state callbacks)."""
        from airflow_provider_sms.exceptions import SmsError
        from airflow_provider_sms.hooks.base import get_sms_hook

        try:
            self._send(get_sms_hook(self.sms_conn_id), context)
        except SmsError as error:
            self.log.error("SMS alert not sent: %s", error)

    async def async_notify(self, context: Any) -> None:
        """Send the alert from the triggerer (deadline alerts), without blocking its event loop."""
        from airflow.providers.common.compat.connection import get_async_connection

        from airflow_provider_sms.exceptions import SmsError
        from airflow_provider_sms.hooks.base import hook_class_for

        try:
            connection = await get_async_connection(self.sms_conn_id)
            hook = hook_class_for(connection.conn_type).for_connection(connection)
            # asgiref, not asyncio.to_thread: see triggers/base.py (supervisor calls from the thread).
            from asgiref.sync import sync_to_async

            await sync_to_async(self._send)(hook, context)
        except SmsError as error:
            self.log.error("SMS alert not sent: %s", error)


send_sms_notification = SmsNotifier
