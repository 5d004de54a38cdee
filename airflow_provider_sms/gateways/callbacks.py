"""Callbacks a gateway makes to the user's server, declared per gateway and read into receipts.

Each gateway package that calls back has a ``receipts`` module with ``CALLBACKS``: one
:class:`CallbackEndpoint` per URL the user configures at the gateway (a status push, an inbound
message push, a webhook, a postback). The receiver mounts every declared endpoint, checks the
secret and the caller, and stores what :attr:`CallbackEndpoint.parse` returns; nothing in the
receiver knows a gateway by name. Parsers are sans-I/O and raise only
:class:`~airflow_provider_sms.exceptions.SmsGatewayError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.exceptions import SmsError, SmsGatewayError

__all__ = [
    "CallbackEndpoint",
    "CallbackRequest",
    "Event",
    "callback_endpoints",
    "callback_error",
    "digest_id",
    "guarded",
    "parse_time",
    "required",
]

Event = StatusEvent | ReplyEvent
DEFAULT_BODY_LIMIT = 100_000
"""Largest callback body read (bytes): every gateway posts one short notification per request."""


@dataclass(frozen=True)
class CallbackRequest:
    """One callback as it arrived, the secret already taken out.

    :param params: the query parameters, and for form posts the form fields (first value of each name).
    :param options: the connection's extras (a parser may need the account's time zone).
    """

    conn_id: str
    method: str
    params: Mapping[str, str]
    body: bytes
    content_type: str
    received_at: dt.datetime
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackEndpoint:
    """One callback URL of one gateway.

    :param gateway: the gateway's name (the first path segment after the receiver's prefix).
    :param kind: the second path segment (``status``, ``reply``, ``inbound``, ``webhook``, ``postback``).
    :param conn_types: Airflow connection types whose connections may receive this callback.
    :param methods: HTTP methods the gateway uses.
    :param parse: reads a request into events; raises :class:`SmsGatewayError` on anything unreadable.
    :param setting: where at the gateway this URL is entered (shown by the callback-URL helper).
    :param auth_param: the query parameter that carries the connection's callback secret.
    :param answer: body of the success answer (BulkSMS wants at least one character).
    :param answer_within: seconds the gateway waits for the answer; the receiver answers 503 before
        that when storing is slow (the gateway then retries, and the event is stored once).
    """

    gateway: str
    kind: str
    conn_types: tuple[str, ...]
    methods: tuple[str, ...]
    parse: Callable[[CallbackRequest], Sequence[Event]]
    setting: str
    auth_param: str = "secret"
    answer: str = "OK"
    answer_within: float = 30.0
    body_limit: int = DEFAULT_BODY_LIMIT

    @property
    def path(self) -> str:
        """The path under the receiver's prefix, with ``{conn_id}`` to fill in."""
        return f"/{self.gateway}/{{conn_id}}/{self.kind}"


def callback_endpoints() -> tuple[CallbackEndpoint, ...]:
    """Every declared endpoint of every gateway package (those with a ``receipts`` module)."""
    import airflow_provider_sms.gateways as package

    found: list[CallbackEndpoint] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}.receipts")
        except ModuleNotFoundError as error:
            if error.name != f"{package.__name__}.{info.name}.receipts":
                raise
            continue
        found.extend(module.CALLBACKS)
    return tuple(found)


def callback_error(gateway: str, reason: str) -> SmsGatewayError:
    """The error of an unreadable callback (``reason`` never quotes more than a short preview)."""
    return SmsGatewayError(f"unreadable callback: {reason}", gateway=gateway)


def guarded(gateway: str, parse: Callable[[CallbackRequest], Sequence[Event]]
            ) -> Callable[[CallbackRequest], Sequence[Event]]:
    """``parse`` with anything but our errors turned into :func:`callback_error` (the last line of
    defence: events validate their own fields and raise :class:`SmsValidationError`)."""

    def run(request: CallbackRequest) -> Sequence[Event]:
        try:
            return parse(request)
        except SmsGatewayError:
            raise
        except SmsError as error:
            raise callback_error(gateway, error.message) from None
        except (ValueError, TypeError, KeyError, UnicodeError, OverflowError, RecursionError) as error:
            raise callback_error(gateway, type(error).__name__) from None

    return run


def required(gateway: str, params: Mapping[str, str], name: str) -> str:
    """A parameter that must be present and non-empty."""
    value = (params.get(name) or "").strip()
    if not value:
        raise callback_error(gateway, f"no {name}")
    return value


def digest_id(*parts: str | None) -> str:
    """A stable event id from the fields of a callback that has none (a retry carries the same fields)."""
    text = "\x1f".join(part or "" for part in parts)
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


_FORMATS = ("%Y-%m-%d %H:%M:%S", "%y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")


def parse_time(text: str | None, fallback: dt.datetime, zone: str | None = None) -> dt.datetime:
    """A gateway's timestamp in UTC: ISO-8601 (with an offset or ``Z``), or one of the gateways'
    zone-less forms read in ``zone`` (UTC when not given).

    A missing or unreadable time gives ``fallback`` (when the receiver got it): a receipt is never
    refused over its timestamp.
    """
    value = (text or "").strip()
    if not value or len(value) > 64:
        return fallback
    when: dt.datetime | None = None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for pattern in _FORMATS:
            try:
                when = dt.datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if when is None:
        return fallback
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=ZoneInfo(zone) if zone else dt.UTC)
        except (ZoneInfoNotFoundError, ValueError):
            when = when.replace(tzinfo=dt.UTC)
    try:
        return when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return fallback
