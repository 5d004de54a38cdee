"""Text an alert from a task or DAG callback, or from a deadline alert, through any SMS connection.

    from airflow_provider_sms.notifications.sms import send_sms_notification

    default_args = {"retries": 2, "on_failure_callback": send_sms_notification(
        sms_conn_id="bulksms_default", fallback_conn_ids=["netmessenger_default"],
        to=["+447700100001"], sender="Alerts")}

With no ``message`` the alert says which DAG, task and run, which try of how many, the
exception's first line and, when ``[api] base_url`` is configured, a link to the task.

Callbacks are not retried by Airflow, and a callback that raises or hangs only hurts the task
runner, so the notifier never raises and gives up after ``timeout`` seconds: an alert that could
not be sent is logged at error level with the gateway's code and the recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jinja2
from airflow.providers.common.compat.notifier import BaseNotifier

from airflow_provider_sms.notifications.delivery import Alert, DeliveryReport, deliver, safe_error_text
from airflow_provider_sms.notifications.quiet_hours import QuietHours
from airflow_provider_sms.notifications.rendering import AlertFacts, alert_facts, default_message
from airflow_provider_sms.notifications.repeat_guard import RepeatGuard

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["SmsNotifier", "send_sms_notification"]

# One per process: the same alert firing twice here (two callbacks, a re-run callback) texts once.
_REPEATS = RepeatGuard()

# How far back a gateway without dedupe ids is searched for an earlier copy of the alert when
# the run's start is unknown.
_LOOKBACK = dt.timedelta(hours=12)


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    # Read as strictly as the send operators: a dict's keys or a float are never texted.
    from airflow_provider_sms.core.recipients import split_recipients
    from airflow_provider_sms.operators.inputs import as_items

    return list(split_recipients(as_items(value, "to")))


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


class SmsNotifier(BaseNotifier):
    """Send an SMS alert when called as a callback (``on_failure_callback`` & co., DAG callbacks, deadlines).

    :param sms_conn_id: the first SMS connection to try. Templated.
    :param to: numbers (list or comma-separated string). Templated.
    :param message: the alert text (templated); None for the default message. Cut to three SMS
        parts (or what the gateway takes). A template that fails to render (e.g. ``{{ ds }}`` on a
        run without a logical date) falls back to the default message.
    :param sender: sender id (required by some gateways, e.g. NetMessenger). Templated.
    :param fallback_conn_ids: connections tried in order when the previous one fails (fatal error,
        outage, refused recipients); any mix of gateway types. Templated.
    :param final_failure_only: no text while the task will be retried (on by default; turn it off
        to alert on every failed try, e.g. from ``on_retry_callback``).
    :param quiet_hours: ``(start, end)`` local times such as ``("22:00", "07:00")``: non-urgent
        alerts in that window are held until its end (scheduled at the gateway) or dropped.
    :param quiet_hours_time_zone: IANA zone of ``quiet_hours`` (default UTC).
    :param quiet_hours_action: ``hold`` (default) or ``drop``.
    :param urgent: ignore quiet hours.
    :param timeout: seconds the callback may take in all; after that it returns (and logs).
    :param ui_base_url: the Airflow UI's address for the task link (default: ``[api] base_url``).
    :param clock: returns the current aware time (tests inject one); default the system clock.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "to", "message", "sender", "fallback_conn_ids")

    def __init__(
        self,
        *,
        sms_conn_id: str,
        to: str | Sequence[str],
        message: str | None = None,
        sender: str | None = None,
        fallback_conn_ids: Sequence[str] = (),
        final_failure_only: bool = True,
        quiet_hours: tuple[str | dt.time, str | dt.time] | None = None,
        quiet_hours_time_zone: str = "UTC",
        quiet_hours_action: str = "hold",
        urgent: bool = False,
        timeout: float = 60.0,
        ui_base_url: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.to = to
        self.message = message
        self.sender = sender
        self.fallback_conn_ids = list(fallback_conn_ids)
        self.final_failure_only = final_failure_only
        self.quiet_hours = (QuietHours.parse(quiet_hours, quiet_hours_time_zone, quiet_hours_action)
                            if quiet_hours else None)
        self.urgent = urgent
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.timeout = float(timeout)
        self.ui_base_url = ui_base_url
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._template_error: str | None = None

    # -- Airflow entry points: never raise --------------------------------------------------------

    def __call__(self, *args: Any) -> None:
        """Render and send on a copy, so one instance serves every try and run (Airflow reuses it)."""
        try:
            copy.copy(self)._call(*args)
        except Exception as error:  # a callback must not raise into the task runner
            self.log.error("SMS alert not sent: %s", safe_error_text(error))

    def _call(self, *args: Any) -> None:
        super().__call__(*args)

    def __await__(self) -> Any:
        """Deadline alerts: Airflow builds the notifier with ``context=`` and awaits it."""
        return copy.copy(self)._await_safely().__await__()

    async def _await_safely(self) -> None:
        try:
            self._update_context(self.context)
            self.render_template_fields(self.context)
            await self.async_notify(self.context)
        except Exception as error:
            self.log.error("SMS alert not sent: %s", safe_error_text(error))

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Render field by field: a ``message`` that cannot render gives way to the default message."""
        if jinja_env is None:
            try:
                jinja_env = self.get_template_env(dag=context.get("dag"))
            except AttributeError:  # dag.test()'s DAG callbacks pass the serialised DAG, which has no env
                jinja_env = self.get_template_env(dag=None)
        # An undefined name (``ds`` on a run without a logical date) must fail the render, so the
        # default message goes out rather than a text with holes.
        jinja_env = jinja_env.overlay(undefined=jinja2.StrictUndefined)
        for name in self.template_fields:
            try:
                self._do_render_template_fields(self, [name], context, jinja_env, set())
            except Exception as error:
                if name != "message":
                    raise
                self._template_error = safe_error_text(error)
                self.message = None

    def notify(self, context: Any) -> None:
        """Send the alert (task and DAG state callbacks), in at most ``timeout`` seconds."""
        try:
            plan = self._plan(context)
            if plan is None:
                return
            hooks = {conn_id: self._hook_or_error(conn_id) for conn_id in self._conn_ids()}
            self._deliver_bounded(plan, hooks)
        except Exception as error:
            self.log.error("SMS alert not sent: %s", safe_error_text(error))

    async def async_notify(self, context: Any) -> None:
        """Send the alert from the triggerer (deadline alerts) without blocking its event loop."""
        from airflow.providers.common.compat.connection import get_async_connection
        from asgiref.sync import sync_to_async

        from airflow_provider_sms.hooks.base import hook_class_for

        try:
            plan = self._plan(context)
            if plan is None:
                return
            hooks: dict[str, SmsHook | Exception] = {}
            for conn_id in self._conn_ids():
                try:
                    connection = await get_async_connection(conn_id)
                    hook = hook_class_for(connection.conn_type).for_connection(connection)
                    # Settings and secret masking may call the task supervisor: through asgiref, which
                    # Airflow's triggerer expects (see triggers/base.py), before the delivery thread.
                    await sync_to_async(hook.prepare)()
                    hooks[conn_id] = hook
                except Exception as error:  # this connection is skipped, the next tried
                    hooks[conn_id] = error
            started = time.monotonic()
            try:
                report = await asyncio.wait_for(_in_daemon_thread(self._deliver, plan, hooks, started + self.timeout),
                                                timeout=self.timeout)
            except TimeoutError:
                self._log_timeout(plan)
                return
            self._log_report(plan, report)
        except Exception as error:
            self.log.error("SMS alert not sent: %s", safe_error_text(error))

    # -- deciding what to send --------------------------------------------------------------------

    def _conn_ids(self) -> list[str]:
        return list(dict.fromkeys([self.sms_conn_id, *_as_list(self.fallback_conn_ids)]))

    def _plan(self, context: Any) -> tuple[Alert, tuple[Any, ...]] | None:
        """The alert to send and its repeat key, or None when nothing is to be sent now."""
        context = context if isinstance(context, dict) else dict(context or {})
        facts = alert_facts(context)
        if self.final_failure_only and not facts.dag_level and facts.retries_remain:
            self.log.info("No SMS alert: try %s of %s failed and will be retried", facts.try_number,
                          facts.tries_total)
            return None
        now = self.clock()
        send_at = None
        if self.quiet_hours is not None and not self.urgent and self.quiet_hours.contains(now):
            if self.quiet_hours.action == "drop":
                self.log.warning("SMS alert dropped: quiet hours %s-%s %s", self.quiet_hours.start,
                                 self.quiet_hours.end, self.quiet_hours.time_zone)
                return None
            send_at = self.quiet_hours.ends_after(now)
            self.log.info("SMS alert held for the end of quiet hours: scheduled for %s", send_at.isoformat())
        if self._template_error:
            self.log.warning("SMS alert message could not be rendered (%s); sending the default message",
                             self._template_error)
        text = str(self.message) if self.message else default_message(facts, self._base_url())
        to = _as_list(self.to)
        identity = self._identity(facts)
        key = (identity, tuple(to), text, send_at is not None)
        if identity and not _REPEATS.first_time(key):
            self.log.info("SMS alert already sent for %s; not sending it again", "/".join(identity))
            return None
        started = _utc(context.get("dag_run") and _get(context["dag_run"], "start_date")) or now - _LOOKBACK
        alert = Alert(to=to, text=text, sender=self.sender or None, identity=identity, send_at=send_at,
                      sent_since=min(started, now - dt.timedelta(minutes=1)))
        return alert, key

    @staticmethod
    def _identity(facts: AlertFacts) -> tuple[str, ...]:
        """What makes this alert unique: DAG, task, run, map index, try, and what happened."""
        if not facts.dag_id and not facts.run_id:
            return ()
        if facts.dag_level:
            parts: tuple[object, ...] = (facts.dag_id, "", facts.run_id, "", "", facts.reason)
        else:
            parts = (facts.dag_id, facts.task_id, facts.run_id, facts.map_index, facts.try_number,
                     facts.deadline or facts.state)
        return tuple("" if p is None else str(p) for p in parts)

    def _base_url(self) -> str | None:
        if self.ui_base_url:
            return self.ui_base_url
        try:
            from airflow.providers.common.compat.sdk import conf

            return conf.get("api", "base_url", fallback=None) or None
        except Exception:  # no link is better than no alert
            return None

    # -- delivering ---------------------------------------------------------------------------------

    def _hook_or_error(self, conn_id: str) -> SmsHook | Exception:
        """Fetch the connection now, on the caller's thread (Airflow's connection lookup is not ours to thread)."""
        from airflow_provider_sms.hooks.base import get_sms_hook

        try:
            hook = get_sms_hook(conn_id)
            hook.prepare()
            return hook
        except Exception as error:  # this connection is skipped, the next tried
            return error

    def _deliver(self, plan: tuple[Alert, tuple[Any, ...]], hooks: dict[str, SmsHook | Exception],
                 deadline: float) -> DeliveryReport:
        def hook_for(conn_id: str) -> SmsHook:
            hook = hooks[conn_id]
            if isinstance(hook, Exception):
                raise hook
            return hook

        return deliver(plan[0], list(hooks), deadline=deadline, hook_factory=hook_for, log=self.log)

    def _deliver_bounded(self, plan: tuple[Alert, tuple[Any, ...]], hooks: dict[str, SmsHook | Exception]) -> None:
        """Deliver on a daemon thread and wait at most ``timeout``: a hung gateway cannot hang Airflow."""
        outcome: list[DeliveryReport | BaseException] = []
        started = time.monotonic()

        def work() -> None:
            try:
                outcome.append(self._deliver(plan, hooks, started + self.timeout))
            except BaseException as error:  # handed to the waiting thread
                outcome.append(error)

        worker = threading.Thread(target=work, name="sms-alert", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if not outcome:
            self._log_timeout(plan)
            return
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        self._log_report(plan, result)

    def _log_timeout(self, plan: tuple[Alert, tuple[Any, ...]]) -> None:
        _REPEATS.forget(plan[1])
        self.log.error("SMS alert to %s via %s not confirmed within %ss; gave up waiting (it may still arrive)",
                       plan[0].to, ", ".join([self.sms_conn_id, *self.fallback_conn_ids]), self.timeout)

    def _log_report(self, plan: tuple[Alert, tuple[Any, ...]], report: DeliveryReport) -> None:
        failures = "; ".join(
            f"{a.conn_id} ({a.gateway or '?'}, code {a.code if a.code is not None else '-'}) "
            f"for {list(a.recipients)}: {a.error}" for a in report.attempts)
        if report.undelivered:
            _REPEATS.forget(plan[1])
            self.log.error("SMS alert not sent to %s: %s", report.undelivered, failures or "no connection")
        elif report.attempts:
            self.log.warning("SMS alert needed a fallback: %s", failures)
        for conn_id, numbers in report.skipped_as_sent.items():
            self.log.info("SMS alert already sent through %s to %s; not sent again", conn_id, numbers)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


send_sms_notification = SmsNotifier


async def _in_daemon_thread(func: Any, *args: Any) -> Any:
    """``func(*args)`` in a daemon thread: unlike ``asyncio.to_thread``, a hung gateway call left
    behind after a timeout never holds up the event loop's shutdown."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(value: Any, failed: bool) -> None:
        if not future.done():
            (future.set_exception if failed else future.set_result)(value)

    def work() -> None:
        try:
            value, failed = func(*args), False
        except BaseException as error:  # handed to the awaiting coroutine
            value, failed = error, True
        with contextlib.suppress(RuntimeError):  # the loop may be gone after a timeout
            loop.call_soon_threadsafe(settle, value, failed)

    threading.Thread(target=work, name="sms-alert", daemon=True).start()
    return await future
