"""Deliver one alert through a list of SMS connections, falling back from one to the next.

Generic over gateways: each connection's hook (chosen by its type) says what it can do, and this
module only asks the capabilities, never the gateway's name. A connection is left for the next one
when it cannot be used (unknown, misconfigured, cannot schedule a held alert, text it refuses) or
when the gateway fails (a refusal, an outage, an answer lost); recipients a gateway rejects are
tried on the next connection too.

Repeat alerts are avoided at the gateway where it allows: a dedupe id on gateways that have one
(:attr:`Capability.DEDUPE`), and on gateways that can list what they sent
(:attr:`Capability.SENT_LOOKUP`) numbers that already got this exact text are skipped.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_sms.core.dedupe import dedupe_key
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.recipients import normalise_numbers
from airflow_provider_sms.core.text import replace_typographic
from airflow_provider_sms.exceptions import SmsError, SmsValidationError
from airflow_provider_sms.hooks.capabilities import Capability

if TYPE_CHECKING:
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["Alert", "Attempt", "DeliveryReport", "deliver"]

# Alerts are short: long rendered text is cut rather than refused.
ALERT_MAX_PARTS = 3
_ERROR_CHARS = 300


@dataclass(frozen=True)
class Alert:
    """One alert, gateway-neutral.

    :param to: recipients as the user wrote them (any format the connection's region accepts).
    :param identity: what makes this alert unique (DAG, task, run, try...): the dedupe id is derived
        from it and the text, so the same alert firing twice carries the same id.
    :param send_at: when set, the alert is scheduled at the gateway for that instant (quiet hours).
    :param sent_since: how far back to look for an earlier copy on gateways without dedupe ids.
    """

    to: Sequence[str]
    text: str
    sender: str | None = None
    identity: tuple[str, ...] = ()
    send_at: dt.datetime | None = None
    sent_since: dt.datetime | None = None


@dataclass(frozen=True)
class Attempt:
    """One connection that did not deliver to everyone: why, and to whom."""

    conn_id: str
    gateway: str | None
    error: str
    code: str | int | None
    recipients: tuple[str, ...]


@dataclass
class DeliveryReport:
    """Who got the alert through which connection, and what failed on the way."""

    delivered: dict[str, list[str]] = field(default_factory=dict)  # conn_id -> numbers
    skipped_as_sent: dict[str, list[str]] = field(default_factory=dict)  # conn_id -> already had this text
    undelivered: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.undelivered


HookFactory = Callable[[str], "SmsHook"]


def _default_hook(conn_id: str) -> SmsHook:
    from airflow_provider_sms.hooks.base import get_sms_hook

    return get_sms_hook(conn_id)


def safe_error_text(error: BaseException, secrets: Sequence[str] = ()) -> str:
    """An error as one short log-safe line: credentials replaced, cut to a few hundred characters.

    Our own errors are already free of credentials; anything else (a library's exception) is
    scrubbed of every secret the connections tried hold.
    """
    text = str(error) if isinstance(error, SmsError) else f"{type(error).__name__}: {error}"
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 3] + "..."


def _fit(hook: SmsHook, alert: Alert, numbers: list[str]) -> OutgoingMessage:
    """The alert as this gateway will take it: the text shortened until the gateway accepts it."""
    text = " ".join(alert.text.split())
    if not hook.supports_unicode():  # an alert with a curly quote must still go out
        text = replace_typographic(text)[0]
    while True:
        message = OutgoingMessage(text, numbers=numbers, sender=alert.sender or None, max_parts=ALERT_MAX_PARTS,
                                  send_at=alert.send_at)
        try:
            hook.check_message(message)
            return message
        except SmsValidationError as error:
            # Too long for this gateway (e.g. one 70-character UCS-2 part on BulkSMS EAPI): shorten,
            # rather than drop the alert. Any other problem is real.
            if len(text) <= 20 or {p.field for p in error.problems} != {"message"}:
                raise
            text = text[: int(len(text) * 0.8)].rstrip() + "..."  # ASCII: keeps GSM text GSM


def _request_key(alert: Alert, numbers: Sequence[str]) -> int | None:
    """The gateway dedupe id of one request: the same alert to the same numbers, held or not, gets the same id."""
    if not alert.identity:
        return None
    return dedupe_key("notify", *alert.identity, alert.text, alert.send_at or "", *numbers)


def _already_sent(hook: SmsHook, alert: Alert, message: OutgoingMessage) -> set[str]:
    if alert.sent_since is None or Capability.DEDUPE in hook.capabilities:
        return set()
    if Capability.SENT_LOOKUP not in hook.capabilities or not hook.lookup_tells_texts_apart():
        # Skipping on a number-only match could swallow a new, different alert; a repeat alert
        # from another process is the lesser harm (the in-process repeat guard still holds).
        return set()
    return hook.already_sent(list(message.numbers), message.text, alert.sent_since)


def _send_through(hook: SmsHook, alert: Alert, pending: list[str], report: DeliveryReport, conn_id: str,
                  ) -> list[str]:
    """Send to ``pending`` through ``hook``; returns the numbers still without the alert."""
    from airflow_provider_sms.hooks.base import iter_chunks

    if alert.send_at is not None:
        hook.require(Capability.SCHEDULE, "a held alert (quiet hours) needs scheduled sends")
    numbers = list(dict.fromkeys(normalise_numbers(pending, hook.settings.default_region,
                                                   hook.settings.number_check, gateway=hook.gateway)))
    message = _fit(hook, alert, numbers)
    seen = _already_sent(hook, alert, message)
    if seen:
        report.skipped_as_sent.setdefault(conn_id, []).extend(sorted(seen))
    left: list[str] = []
    for chunk in iter_chunks([n for n in numbers if n not in seen], hook.max_recipients_per_request):
        result = hook.send(replace(message, numbers=chunk, dedupe_key=_request_key(alert, chunk)))
        accepted = [r.recipient for r in result.accepted]
        if accepted:
            report.delivered.setdefault(conn_id, []).extend(accepted)
        for refused in result.rejected:
            left.append(refused.recipient)
            report.attempts.append(Attempt(conn_id, hook.gateway, refused.text or "recipient refused",
                                           refused.code, (refused.recipient,)))
    return left


def deliver(alert: Alert, conn_ids: Sequence[str], *, deadline: float | None = None,
            hook_factory: HookFactory = _default_hook, log: Any = None) -> DeliveryReport:
    """Try ``conn_ids`` in order until every recipient has the alert or the connections run out.

    :param deadline: a ``time.monotonic()`` instant after which no further connection is tried.
    :param log: where to say which connection delivered (a logger; optional).
    """
    report = DeliveryReport()
    pending = list(alert.to)
    for conn_id in conn_ids:
        if not pending:
            break
        if deadline is not None and time.monotonic() >= deadline:
            report.attempts.append(Attempt(conn_id, None, "not tried: out of time", None, tuple(pending)))
            continue
        secrets: list[str] = []
        hook: SmsHook | None = None
        try:
            hook = hook_factory(conn_id)
            secrets = [hook.settings.password]
            pending = _send_through(hook, alert, pending, report, conn_id)
        except Exception as error:  # any failure moves the alert to the next connection
            gateway = getattr(error, "gateway", None) or (hook.gateway if hook is not None else None)
            report.attempts.append(Attempt(conn_id, gateway, safe_error_text(error, secrets),
                                           getattr(error, "code", None), tuple(pending)))
        finally:
            if hook is not None:
                hook.close()
        if log is not None and conn_id in report.delivered:
            log.info("SMS alert delivered through %s (%s) to %s", conn_id, hook.gateway if hook else "?",
                     report.delivered[conn_id])
    report.undelivered = pending
    return report
