"""Text an alert from a task or DAG callback, or from a deadline alert, through any SMS connection.

    from airflow_provider_sms.notifications.sms import send_sms_notification

    DAG(..., on_failure_callback=send_sms_notification(
        sms_conn_id="bulksms_default", to=["+447700100001"],
        message="{{ dag.dag_id }} failed: {{ ti.task_id }} ({{ run_id }})"))

Callbacks are not retried by Airflow, so the notifier never fails the task it reports on: an
alert that could not be sent -- for any reason, including an unexpected exception -- is logged as
an error (gateway, code, recipients; never credentials). It never holds the callback longer than
``time_budget`` seconds either: the gateway calls get that as their deadline, and the callback
stops waiting when it is spent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.notifier import BaseNotifier

if TYPE_CHECKING:
    from airflow_provider_sms.core.message import OutgoingMessage
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsNotifier", "send_sms_notification"]

# Alerts are short: cut long rendered text instead of refusing to send it.
_ALERT_MAX_PARTS = 3
DEFAULT_TIME_BUDGET = 60.0
"""Seconds an alert may hold its callback, whatever the gateway does."""


class SmsNotifier(BaseNotifier):
    """Send ``message`` to ``to`` when called as a callback.

    :param sms_conn_id: SMS connection. Templated.
    :param to: numbers (list or comma-separated string). Templated.
    :param message: the alert text; shortened to what the gateway takes (at most three SMS parts). Templated.
    :param sender: sender id (required by NetMessenger). Templated.
    :param time_budget: the longest the alert may take, in seconds, retries included; after it the
        callback goes on (an alert still in flight is logged as not confirmed).
    """

    template_fields: Sequence[str] = ("sms_conn_id", "to", "message", "sender")

    def __init__(self, *, sms_conn_id: str, to: str | Sequence[str], message: str, sender: str | None = None,
                 time_budget: float = DEFAULT_TIME_BUDGET, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.to = to
        self.message = message
        self.sender = sender
        self.time_budget = time_budget

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

        limits = hook.settings.limits
        hook.transport.limits = replace(limits, deadline=min(limits.deadline, self.time_budget))
        message = self._outgoing(hook, context)
        for chunk in iter_chunks(message.numbers, hook.max_recipients_per_request):
            result = hook.send(replace(message, numbers=chunk))
            if result.rejected:
                self.log.error("SMS alert refused for %s", [r.recipient for r in result.rejected])

    def notify(self, context: Any) -> None:
        """Send the alert (task/DAG state callbacks); returns within ``time_budget`` and never raises."""
        from airflow_provider_sms.hooks.base import get_sms_hook

        try:
            # The connection is read here, not in the worker thread: Airflow's task comms belong to this one.
            hook = get_sms_hook(self.sms_conn_id)
            hook.prepare()
        except Exception as error:
            self._log_failure(error)
            return
        self._within_budget(lambda: self._send(hook, context))

    async def async_notify(self, context: Any) -> None:
        """Send the alert from the triggerer (deadline alerts), without blocking its event loop."""
        from airflow.providers.common.compat.connection import get_async_connection

        from airflow_provider_sms.hooks.base import hook_class_for

        try:
            async with asyncio.timeout(self.time_budget):
                connection = await get_async_connection(self.sms_conn_id)
            hook = hook_class_for(connection.conn_type).for_connection(connection)
            hook.prepare()
        except Exception as error:
            self._log_failure(error)
            return
        # A worker thread: the event loop stays free, and a stuck gateway only costs the budget.
        await asyncio.to_thread(self._within_budget, lambda: self._send(hook, context))

    def _within_budget(self, work: Callable[[], None]) -> None:
        """Run ``work`` in a daemon thread; log whatever it raises, or that it overran the budget."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                work()
            except Exception as error:
                failure.append(error)

        worker = threading.Thread(target=run, name="sms-alert", daemon=True)
        worker.start()
        worker.join(self.time_budget)
        if worker.is_alive():
            self.log.error("SMS alert to %s via connection %r not confirmed within its %g s time budget",
                           self.to, self.sms_conn_id, self.time_budget)
        elif failure:
            self._log_failure(failure[0])

    def _log_failure(self, error: BaseException) -> None:
        from airflow_provider_sms.exceptions import SmsError

        if isinstance(error, SmsError):
            self.log.error("SMS alert not sent to %s via connection %r: %s", self.to, self.sms_conn_id, error)
        else:
            # Unexpected: the type and a short, one-line text (secrets are masked by Airflow's log filter).
            text = " ".join(str(error).split())[:200]
            self.log.error("SMS alert not sent to %s via connection %r: unexpected %s: %s", self.to,
                           self.sms_conn_id, type(error).__name__, text)


send_sms_notification = SmsNotifier
