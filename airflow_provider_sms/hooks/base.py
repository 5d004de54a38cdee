"""The part every gateway hook shares: connection settings, transport, capabilities, the generic calls.

Generic operators and sensors talk only to :class:`SmsHook`; :func:`get_sms_hook` picks the concrete
hook from the connection's type. A gateway overrides the calls it supports and declares them in
``capabilities``; the others raise :class:`SmsCapabilityError` naming the gateway.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_sms.connection_forms import CONNECTION_FORMS, ConnectionForm
from airflow_provider_sms.core.contacts import ImportResult
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MmsContent, MmsMessage
from airflow_provider_sms.core.recipients import NumberCheck
from airflow_provider_sms.core.results import BackgroundSend, MessageStatus, RecipientResult, SendResult
from airflow_provider_sms.core.schedule import schedule_problems
from airflow_provider_sms.exceptions import SmsCapabilityError, SmsConfigurationError, SmsError, SmsValidationError
from airflow_provider_sms.gateways.answers import scrub, secret_forms
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.hooks.extras import ExtrasReader, load_extra
from airflow_provider_sms.pacing import Pacer
from airflow_provider_sms.transport import AnswerLimits, AsyncTransport, RetryPolicy, SyncTransport

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_sms.core.receipt_polling import ReceiptBatch

__all__ = ["GatewaySettings", "MessageRef", "SmsHook", "get_sms_hook", "hook_class_for", "off_loop"]

T = TypeVar("T")
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class GatewaySettings:
    """Everything a hook reads from its connection, parsed once. ``repr`` never shows the password."""

    base_url: str
    login: str
    password: str
    extra: Mapping[str, Any]
    default_region: str | None
    number_check: NumberCheck
    timeout: float
    max_recipients_per_request: int | None
    retry: RetryPolicy
    limits: AnswerLimits = field(default_factory=AnswerLimits)
    conn_id: str | None = None
    gateway: str = "sms"

    def __repr__(self) -> str:
        return f"GatewaySettings(base_url={self.base_url!r}, login={self.login!r}, extra keys={sorted(self.extra)})"

    def flag(self, name: str, default: bool = False) -> bool:
        """Read a boolean extra that may arrive as text (URI-form connections make every extra a string)."""
        value = self.extra.get(name, default)
        if value is None:
            return default
        return ExtrasReader(self.extra, conn_id=self.conn_id, gateway=self.gateway).flag(name, value)


@dataclass(frozen=True)
class MessageRef:
    """How a sensor names one message (or a whole batch when ``recipient`` and ``message_id`` are None)."""

    batch_id: str | None = None
    message_id: str | None = None
    recipient: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"batch_id": self.batch_id, "message_id": self.message_id, "recipient": self.recipient}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageRef:
        return cls(
            batch_id=_opt_str(data.get("batch_id")),
            message_id=_opt_str(data.get("message_id")),
            recipient=_opt_str(data.get("recipient")),
        )


# Limits of the extras every gateway reads (a bad value is a configuration error naming the limit).
MAX_TIMEOUT = 3600.0
MAX_RETRIES = 10
MAX_BACKOFF = 60.0
MAX_CHUNK = 1_000_000
MAX_IN_FLIGHT = 64
MAX_RATE = 100_000.0
MAX_LIMITS = {"deadline": 86_400.0, "max_answer_bytes": float(1 << 30), "report_deadline": 7 * 86_400.0,
              "max_line_bytes": float(1 << 30)}
"""Upper bounds of the deadline (s) and size-cap (bytes) extras: a day, 1 GiB, a week, 1 GiB."""


def _with_port(url: str, port: int | None) -> str:
    """``url`` with the connection's Port field in its address (after the host, before any path),
    unless the URL names a port itself. The forms always show the Port field (Airflow 3.3.2's Test
    button needs it saved), and a host may be a full API URL with a path (Skycore's must be)."""
    if not port or not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    try:
        if parts.port is not None or not parts.hostname:
            return url
    except ValueError:  # not a port number: the URL is the user's to fix, and the request says so
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{int(port)}"))


def _region(read: ExtrasReader, value: Any) -> str | None:
    if value is None or value == "":
        return None
    import phonenumbers

    if not isinstance(value, str) or value.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise read.error("default_region", "an ISO 3166 country code such as 'GB'", value)
    return value.strip().upper()


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _extra_value(extra: Mapping[str, Any], conn_type: str, name: str) -> Any:
    # Connections made before Airflow 2.3 stored custom fields as extra__<type>__<name>.
    if name in extra:
        return extra[name]
    return extra.get(f"extra__{conn_type}__{name}")


class SmsHook(BaseHook):
    """Base of the gateway hooks.

    :param sms_conn_id: the Airflow connection to use; its type picks the gateway.
    :param retry: retry policy for HTTP calls (tests pass one with no waiting).
    """

    conn_name_attr = "sms_conn_id"
    default_conn_name = "sms_default"
    conn_type = "sms"
    hook_name = "SMS gateway"

    gateway: ClassVar[str] = "sms"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    default_host: ClassVar[str] = ""
    max_recipients_limit: ClassVar[int] = 1000
    #: Chunk size when the connection sets none (None: ``max_recipients_limit``). A gateway whose
    #: documents set no limit keeps a prudent default here and a higher ceiling in the limit.
    default_recipients_per_request: ClassVar[int | None] = None
    max_groups_per_request: ClassVar[int] = 100
    default_timeout: ClassVar[float] = 30.0  # read timeout (s) when the connection sets none
    #: How long the gateway drops a repeated request with the same dedupe id (gateways with
    #: ``Capability.DEDUPE``; take the documented window with a safety margin). Within it a chunk in
    #: doubt is settled by sending it again under its id; after it, only a look-up can settle it.
    dedupe_window: ClassVar[dt.timedelta | None] = None
    #: Requests of one send in flight at once when the connection's ``max_in_flight`` is unset:
    #: from the vendor's guidance (see ``in_flight_guidance``), conservative where it has none.
    default_max_in_flight: ClassVar[int] = 1
    #: Where ``default_max_in_flight`` comes from (shown in the docs).
    in_flight_guidance: ClassVar[str] = ""
    #: A send's first request goes alone, the others only once it is answered: a configuration
    #: error (key, allow-list) then fails the task after one request. Worth it where a request
    #: carries one recipient (the wait is one message's); chunked gateways start at full width.
    first_request_alone: ClassVar[bool] = False

    #: Waiting for a turn (rate limit, throttling back-off) reads ``_clock`` and waits with
    #: ``_sleep``; tests inject a virtual clock so that they never sleep.
    _sleep: Any = staticmethod(time.sleep)
    _clock: Any = staticmethod(time.monotonic)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        form = CONNECTION_FORMS.get(cls.conn_type)
        if form is not None:
            # Airflow 3.1 registers form methods only when they sit in the class's own __dict__,
            # so each gateway hook gets its own copy built from the shared declaration.
            cls.get_connection_form_widgets = classmethod(lambda _cls: _form_widgets(form))  # type: ignore[method-assign,assignment]
            cls.get_ui_field_behaviour = classmethod(lambda _cls: form.ui_field_behaviour())  # type: ignore[method-assign,assignment]

    def __init__(self, sms_conn_id: str | None = None, *, retry: RetryPolicy | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id or self.default_conn_name
        self.retry = retry
        self._preloaded: Connection | None = None
        self._session: AsyncTransport | None = None

    @classmethod
    def for_connection(cls, connection: Connection, *, retry: RetryPolicy | None = None) -> SmsHook:
        """Build the hook around a connection already fetched (triggers fetch it asynchronously)."""
        hook = cls(sms_conn_id=connection.conn_id, retry=retry)
        hook._preloaded = connection
        return hook

    # -- settings and transport -------------------------------------------------------------------

    @cached_property
    def connection(self) -> Connection:
        return self._preloaded or self.get_connection(self.sms_conn_id)

    @cached_property
    def settings(self) -> GatewaySettings:
        conn = self.connection
        extra = load_extra(conn, self.gateway)  # not extra_dejson: it turns invalid JSON into {}
        read = ExtrasReader(extra, conn_id=conn.conn_id, gateway=self.gateway)
        host = (conn.host or self.default_host).strip()
        if host and "://" not in host:
            host = f"https://{host}"
        host = _with_port(host, conn.port)
        check = read.choice("number_check", self._extra_or(extra, "number_check", "valid"), ("valid", "possible"))
        chunk = self._extra_or(extra, "max_recipients_per_request", None)
        region = _region(read, _extra_value(extra, self.conn_type, "default_region"))
        settings = GatewaySettings(
            base_url=host,
            login=conn.login or "",
            password=conn.password or "",
            extra={k: v for k, v in extra.items() if not k.startswith("extra__")}
            | {k.split("__", 2)[2]: v for k, v in extra.items() if k.startswith(f"extra__{self.conn_type}__")},
            default_region=region,
            number_check=check,  # type: ignore[arg-type]
            timeout=read.number("timeout", self._extra_or(extra, "timeout", self.default_timeout), minimum=0,
                                maximum=MAX_TIMEOUT, above_minimum=True),
            max_recipients_per_request=None if chunk is None else int(
                read.number("max_recipients_per_request", chunk, minimum=1, maximum=MAX_CHUNK, whole=True)),
            retry=self.retry or RetryPolicy(
                max_attempts=1 + int(read.number("retries", self._extra_or(extra, "retries", 3), minimum=0,
                                                 maximum=MAX_RETRIES, whole=True)),
                backoff_base=read.number("retry_backoff", self._extra_or(extra, "retry_backoff", 0.5), minimum=0,
                                         maximum=MAX_BACKOFF),
            ),
            conn_id=conn.conn_id,
            gateway=self.gateway,
            limits=self._limits(extra, read),
        )
        self._mask_secrets(settings)
        return settings

    def secret_forms(self) -> tuple[str, ...]:
        """Every encoding of this connection's secrets (see :func:`~..gateways.answers.secret_forms`)."""
        return self._secret_forms_of(self.settings)

    def _secret_forms_of(self, settings: GatewaySettings) -> tuple[str, ...]:
        form = CONNECTION_FORMS.get(self.conn_type)
        secret_extras = [str(settings.extra.get(f.name) or "") for f in form.fields if f.secret] if form else []
        return secret_forms([settings.password, *secret_extras], basic_auth=(settings.login, settings.password))

    def _mask_secrets(self, settings: GatewaySettings) -> None:
        # Airflow masks the raw password; an echoing gateway shows it encoded, so every form goes
        # to the masker too, for whatever reaches a log without passing through ``scrub``.
        from airflow.providers.common.compat.sdk import mask_secret

        for form in self._secret_forms_of(settings):
            mask_secret(form)

    def _limits(self, extra: Mapping[str, Any], read: ExtrasReader) -> AnswerLimits:
        """The deadline and size-cap extras (each above 0 and at most :data:`MAX_LIMITS`; the defaults
        of :class:`AnswerLimits`)."""
        defaults = AnswerLimits()
        values = {name: read.number(name, self._extra_or(extra, name, getattr(defaults, name)), minimum=0,
                                    maximum=maximum, whole=name.startswith("max_"), above_minimum=True)
                  for name, maximum in MAX_LIMITS.items()}
        return AnswerLimits(deadline=values["deadline"], max_answer_bytes=int(values["max_answer_bytes"]),
                            report_deadline=values["report_deadline"], max_line_bytes=int(values["max_line_bytes"]))

    def _extra_or(self, extra: Mapping[str, Any], name: str, default: Any) -> Any:
        value = _extra_value(extra, self.conn_type, name)
        return default if value is None or value == "" else value

    def prepare(self) -> None:
        """Read the connection into settings (and the gateway's protocol object) now, not lazily."""
        _ = self.settings, self.max_in_flight, self.pacer

    def each_in_flight(self, call: Callable[[_T], _R], items: Iterable[_T]) -> Iterator[tuple[_T, _R]]:
        """``(item, call(item))`` for each item in order, ``max_in_flight`` calls at once (a send's
        bound; the first alone where ``first_request_alone``): contact uploads, status look-ups of
        many batches. See :func:`airflow_provider_sms.in_flight.in_order`."""
        from airflow_provider_sms.in_flight import in_order

        width = self.max_in_flight
        if width > 1:
            self.prepare()
            _ = self.transport  # built here, once, not raced for by the threads
        return in_order(call, items, width, first_alone=self.first_request_alone)

    def base_url(self) -> str:
        """Scheme and host the gateway's paths are appended to (gateways may trim what users paste)."""
        return self.settings.base_url

    @cached_property
    def transport(self) -> SyncTransport:
        return SyncTransport(self.base_url(), gateway=self.gateway, timeout=self.settings.timeout,
                             retry=self.settings.retry, limits=self.settings.limits,
                             pool_size=self.max_in_flight, pacer=self.pacer)

    #: Set by an operator's ``max_in_flight`` argument (before the first request); wins over the connection.
    in_flight_override: int | None = None

    @property
    def max_in_flight(self) -> int:
        """Requests of one send in flight at once: the operator's choice, else the connection's
        extra ``max_in_flight``, else the gateway's default (``default_max_in_flight``)."""
        if self.in_flight_override is not None:
            return self.in_flight_override
        value = self._extra_or(self.settings.extra, "max_in_flight", None)
        if value is None:
            return self.default_max_in_flight
        read = ExtrasReader(self.settings.extra, conn_id=self.settings.conn_id, gateway=self.gateway)
        return int(read.number("max_in_flight", value, minimum=1, maximum=MAX_IN_FLIGHT, whole=True))

    @cached_property
    def messages_per_second(self) -> float | None:
        """The client-side rate limit of the connection (extra ``messages_per_second``, over every
        request in flight); None: no limit."""
        value = self._extra_or(self.settings.extra, "messages_per_second", None)
        if value is None:
            return None
        read = ExtrasReader(self.settings.extra, conn_id=self.settings.conn_id, gateway=self.gateway)
        return read.number("messages_per_second", value, minimum=0, maximum=MAX_RATE, above_minimum=True)

    @cached_property
    def pacer(self) -> Pacer:
        """The rate limit and throttling back-off every request of this hook shares."""
        return Pacer(self.messages_per_second, clock=lambda: self._clock(), sleep=lambda s: self._sleep(s))

    def async_transport(self) -> AsyncTransport:
        """A new async transport (one per trigger run: event loops must not share clients)."""
        return AsyncTransport(self.base_url(), gateway=self.gateway, timeout=self.settings.timeout,
                              retry=self.settings.retry, limits=self.settings.limits)

    @asynccontextmanager
    async def async_session(self) -> AsyncIterator[AsyncTransport]:
        """Share one pooled async client among this hook's async calls until the block ends.

        Triggers wrap their whole run in it, so every poll reuses the same connections.
        """
        transport = self.async_transport()
        async with transport:
            self._session = transport
            try:
                yield transport
            finally:
                self._session = None

    def session_transport(self) -> AsyncTransport:
        """The transport of the open :meth:`async_session`, else a new one (a client per call)."""
        return self._session or self.async_transport()

    def close(self) -> None:
        if "transport" in self.__dict__:
            self.transport.close()

    @property
    def max_recipients_per_request(self) -> int:
        """Chunk size for big sends: the connection's choice (extra ``max_recipients_per_request``),
        capped at the gateway's limit; else the gateway's default."""
        configured = self.settings.max_recipients_per_request
        if configured is not None and configured > self.max_recipients_limit:
            raise SmsConfigurationError(
                f"extra max_recipients_per_request must be at most {self.max_recipients_limit} for "
                f"{self.hook_name}, got {configured}", gateway=self.gateway)
        wanted = configured or self.default_recipients_per_request or self.max_recipients_limit
        return max(1, min(wanted, self.max_recipients_limit))

    # -- capabilities -----------------------------------------------------------------------------

    @classmethod
    def declared_capabilities(cls) -> Mapping[str, frozenset[Capability]]:
        """What the gateway can do, per variant a connection can select (for docs and the README matrix).

        One entry named after the hook by default; a gateway whose capabilities depend on the
        connection (BulkSMS's ``api`` extra) lists each variant.
        """
        return {cls.hook_name: cls.capabilities}

    def require(self, capability: Capability, hint: str = "") -> None:
        """Raise :class:`SmsCapabilityError` unless this gateway (and API) supports ``capability``."""
        if capability not in self.capabilities:
            raise SmsCapabilityError(self.gateway, capability.value, hint)

    # -- generic calls (overridden by gateways that support them) ---------------------------------

    test_mode_hint: ClassVar[str] = ""

    def check_message(self, message: OutgoingMessage, now: dt.datetime | None = None) -> None:
        """Raise :class:`SmsValidationError` listing everything wrong with ``message``; send nothing.

        Problems found by the gateway's protocol rules (text, sender, recipients) and by the
        schedule check (past, or more than two years ahead) come in one error.
        """
        if message.test_mode is not None:
            self.require(Capability.TEST_MODE, self.test_mode_hint)
        if message.validity is not None:
            self.require(Capability.VALIDITY, "leave validity unset to use the gateway's own")
        problems = schedule_problems(message.send_at, now or dt.datetime.now(dt.UTC))
        try:
            self.protocol_check(message)
        except SmsValidationError as exc:
            problems = [*exc.problems, *problems]
        if problems:
            raise SmsValidationError(problems, gateway=self.gateway)

    def supports_unicode(self) -> bool:
        """Can this connection send UCS-2 text? Where not, typographic characters are replaced
        (see ``replace_typographic`` on the send operators)."""
        return True

    def protocol_check(self, message: OutgoingMessage) -> None:
        """The gateway protocol's own checks of ``message`` (raises :class:`SmsValidationError`)."""
        raise SmsCapabilityError(self.gateway, Capability.SEND.value)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one request's worth of ``message`` (at most ``max_recipients_per_request`` recipients)."""
        raise SmsCapabilityError(self.gateway, Capability.SEND.value)

    def check_mms_content(self, content: MmsContent) -> None:
        """Raise :class:`SmsValidationError` listing everything wrong with MMS content (slides, media)."""
        raise SmsCapabilityError(self.gateway, Capability.MMS.value)

    def check_mms(self, message: MmsMessage) -> None:
        """Raise :class:`SmsValidationError` listing everything wrong with an MMS send; send nothing."""
        raise SmsCapabilityError(self.gateway, Capability.MMS.value)

    def save_mms(self, content: MmsContent) -> str:
        """Save MMS content on the gateway; returns the id to send it by."""
        raise SmsCapabilityError(self.gateway, Capability.MMS.value)

    def send_mms(self, message: MmsMessage) -> SendResult:
        """Send one request's worth of an MMS (see ``max_recipients_per_request``); per-recipient results."""
        raise SmsCapabilityError(self.gateway, Capability.MMS.value)

    def get_statuses(self, refs: Sequence[MessageRef], since: dt.datetime | None = None) -> list[MessageStatus]:
        """Current status of each message, asking the gateway as few times as it allows.

        :param since: when the messages were sent, at the earliest; gateways that can read many
            statuses from one report use it to bound the report.
        """
        raise SmsCapabilityError(self.gateway, Capability.STATUS.value)

    async def aget_statuses(self, refs: Sequence[MessageRef],
                            since: dt.datetime | None = None) -> list[MessageStatus]:
        """Async twin of :meth:`get_statuses`, for triggers."""
        raise SmsCapabilityError(self.gateway, Capability.STATUS.value)

    # -- where statuses come from (a status call, or the receipt store) -----------------------------

    def status_source(self) -> str:
        """Where this connection's message statuses come from, for the status sensor and trigger.

        ``"gateway"``: a status call (:meth:`get_statuses`). ``"receipts"``: the receipt store, filled by
        the callback receiver and the pollers -- always for a gateway without a status call
        (``Capability.STATUS``: Bulletin Messenger, Skycore), and for the others when the connection's
        extra ``receipts`` is true (callbacks configured: no status calls, no polling of the gateway).
        """
        if Capability.STATUS not in self.capabilities or self.settings.flag("receipts"):
            return "receipts"
        return "gateway"

    def receipts_conn_id(self) -> str:
        """The connection of the receipt store (the extra ``receipts_conn_id``, else the journal's default)."""
        return str(self.settings.extra.get("receipts_conn_id") or "") or "sms_journal_default"

    def read_statuses(self, refs: Sequence[MessageRef], since: dt.datetime | None = None) -> list[MessageStatus]:
        """Current status of each message, from where :meth:`status_source` says (one per ref for receipts)."""
        if self.status_source() == "receipts":
            return self._stored_statuses(refs)
        return self.get_statuses(refs, since)

    async def aread_statuses(self, refs: Sequence[MessageRef],
                             since: dt.datetime | None = None) -> list[MessageStatus]:
        """Async twin of :meth:`read_statuses`; the store is read off the event loop."""
        if self.status_source() == "receipts":
            from asgiref.sync import sync_to_async

            return await sync_to_async(self._stored_statuses)(refs)
        return await self.aget_statuses(refs, since)

    def _stored_statuses(self, refs: Sequence[MessageRef]) -> list[MessageStatus]:
        from airflow_provider_sms.receipts.status_reader import stored_statuses
        from airflow_provider_sms.receipts.store import ReceiptStore

        store = ReceiptStore.from_conn_id(self.receipts_conn_id())
        return stored_statuses(store, self.gateway, self.settings.conn_id or self.sms_conn_id, refs)

    def poll_receipts(self, cursors: Mapping[str, str], limit: int) -> Iterator[ReceiptBatch]:
        """Take statuses and replies from the gateway's own queues, inboxes or reports, lazily.

        For users whose gateway cannot call back (no public URL). Each batch is stored by the caller
        before it asks for the next, and a batch's ``cursor`` is saved only after that: a queue that
        hands each item out once is read one item per batch, so nothing is taken that is not stored.

        :param cursors: where the last poll of each source got to (``ReceiptBatch.source`` -> cursor).
        :param limit: the most events to take per source in this poll.
        """
        raise SmsCapabilityError(self.gateway, Capability.RECEIPT_POLL.value)

    def background_send(self, background_send_id: str) -> BackgroundSend:
        """The messages of a background send, or ``finished=False`` while it runs."""
        raise SmsCapabilityError(self.gateway, Capability.BACKGROUND_SEND.value)

    async def abackground_send(self, background_send_id: str) -> BackgroundSend:
        """Async twin of :meth:`background_send`."""
        raise SmsCapabilityError(self.gateway, Capability.BACKGROUND_SEND.value)

    def import_contacts(self, contacts: Sequence[Mapping[str, str]], *, group: str | None = None,
                        duplicates: str = "ignore") -> ImportResult:
        """Upload one chunk of contacts (fields ``name``, ``number``, ``email``, ``group1``..``group3``).

        :param duplicates: ``ignore``/``error`` (keep existing contacts), ``overwrite``, or
            ``allow`` (create duplicates) -- see ``SmsContactImportOperator``.
        """
        raise SmsCapabilityError(self.gateway, Capability.CONTACT_IMPORT.value)

    def empty_group(self, group: str) -> None:
        """Remove every contact from ``group`` (the contacts stay in the address book)."""
        raise SmsCapabilityError(self.gateway, Capability.ADDRESS_BOOK.value)

    def delete_group(self, group: str) -> None:
        """Delete ``group`` itself."""
        raise SmsCapabilityError(self.gateway, Capability.ADDRESS_BOOK.value)

    def delete_all_contacts(self) -> None:
        """Delete every contact of the account."""
        raise SmsCapabilityError(self.gateway, Capability.ADDRESS_BOOK.value)

    def delete_all_groups(self) -> None:
        """Delete every group of the account."""
        raise SmsCapabilityError(self.gateway, Capability.ADDRESS_BOOK.value)

    def create_sub_account(self, username: str, password: str, **details: Any) -> None:
        """Create a child account under this one (gateway-specific ``details``: names, email, credits...)."""
        raise SmsCapabilityError(self.gateway, Capability.SUB_ACCOUNTS.value)

    def transfer_credits(self, child_username: str, quantity: int) -> None:
        """Move credits to a child account (negative: take them back)."""
        raise SmsCapabilityError(self.gateway, Capability.SUB_ACCOUNTS.value)

    def already_sent(self, numbers: Sequence[str], text: str, since: dt.datetime) -> set[str]:
        """Which of ``numbers`` the gateway already sent ``text`` to since ``since``.

        Lets a retried task skip them on gateways without duplicate suppression.
        """
        raise SmsCapabilityError(self.gateway, Capability.SENT_LOOKUP.value)

    def earlier_outcomes(self, message: OutgoingMessage, since: dt.datetime) -> list[RecipientResult]:
        """What earlier tries did for the recipients of ``message`` (numbers, or address-book entries
        as written), according to the gateway's own records since ``since``.

        Each recipient an earlier try already handled gets one result: accepted (texted) or
        rejected (refused by the gateway, so not worth sending again); recipients the records do not
        mention are left out (absence proves nothing). The default reports what :meth:`find_sent`
        finds as accepted.
        """
        done = self.find_sent(message, since)
        return [RecipientResult(r, accepted=True, code="already_sent", text="found sent by the gateway's records")
                for r in [*message.numbers, *message.groups] if r in done]

    def rejection_is_final(self, result: RecipientResult) -> bool:
        """Would the gateway only refuse ``result``'s recipient again (refused inside an answered request)?

        When True, a later try of the task (a retry, a clear, a re-run of the run) reports the
        rejection from the send journal and does not send to that recipient again. The default,
        False, sends again: a rejection may pass (a number the gateway could not route today).
        """
        return False

    def lookup_tells_texts_apart(self) -> bool:
        """Does :meth:`already_sent` match the text, not only the number? A look-up that cannot tell
        two texts apart must not be used to decide that a *different* message was already sent."""
        return True

    def can_find_sent(self, message: OutgoingMessage) -> bool:
        """Can :meth:`find_sent` look up a send like ``message``? The default serves numbers only."""
        return Capability.SENT_LOOKUP in self.capabilities and not message.groups
    def find_sent(self, message: OutgoingMessage, since: dt.datetime) -> set[str]:
        """Which recipients of ``message`` -- one chunk exactly as an earlier try sent it -- the gateway
        already has this message for, sent (or scheduled) since ``since``.

        The send journal calls it to settle a chunk in doubt (its answer was lost); ``since`` is the
        chunk's recorded intent time (less a little clock slack), so another run's identical text
        does not count. Only positive evidence counts: a recipient missing from the answer stays in
        doubt, because a report may be incomplete. ``message.send_at`` is set for scheduled sends,
        which a gateway finds among its not-yet-sent messages where it can list them.

        The default serves numbers through :meth:`already_sent`; a gateway that can look up group or
        list sends (``message.groups``) overrides it.

        :raises SmsCapabilityError: the gateway cannot look this kind of send up.
        """
        if message.groups:
            raise SmsCapabilityError(self.gateway, "looking up earlier group or list sends")
        return self.already_sent(message.numbers, message.text, since)

    def get_credits(self) -> float:
        """The account's credit balance."""
        raise SmsCapabilityError(self.gateway, Capability.CREDITS.value)

    def report_kinds(self) -> Sequence[str]:
        """Names of the reports :meth:`iter_report` can produce."""
        return ()

    def iter_report(self, kind: str, **params: Any) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """``(header, rows)`` of a report, streamed from the gateway; rows are lists of strings."""
        raise SmsCapabilityError(self.gateway, Capability.DELIVERY_REPORT.value)

    def _stream_csv(self, request: HttpRequest, check: Callable[[HttpResponse], None],
                    open_rows: Callable[[Iterator[str]], tuple[Sequence[str], Iterator[Sequence[str]]]],
                    ) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """Open a streamed tabular answer: ``(header, rows)``; the connection closes when rows run out."""

        def rows() -> Iterator[Sequence[str]]:
            with self.transport.stream_lines(request, check) as lines:
                header, body = open_rows(lines)
                yield header
                yield from body

        stream = rows()
        return next(stream), stream

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with a call that changes nothing (the credit balance)."""
        try:
            balance = self.get_credits()
        except SmsError as exc:
            return False, self._scrubbed(str(exc))
        except Exception as exc:
            return False, self._scrubbed(f"{type(exc).__name__}: {exc}")
        return True, f"Connected to {self.hook_name}; credit balance {balance:g}"


    def _scrubbed(self, text: str) -> str:
        try:
            forms = self.secret_forms()
        except SmsError:
            forms = ()  # the connection itself is unreadable: nothing secret was read
        return scrub(text, forms, limit=1000)


def _form_widgets(form: ConnectionForm) -> dict[str, Any]:
    # Imported on each call: Airflow 3.1's API server patches these names with stand-ins that turn
    # the fields into JSON-schema params (``default=`` and ``any_of`` become default and drop-down).
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, PasswordField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for f in form.fields:
        label = lazy_gettext(f.label)
        text = f.help_text(form.placeholders.get(f.name))
        validators: list[Any] = [Optional()]
        if f.enum:
            validators.append(any_of(list(f.enum)))
        if f.type == "boolean":
            widgets[f.name] = BooleanField(label, default=bool(f.default), description=text)
        elif f.type == "integer":
            widgets[f.name] = IntegerField(label, validators=validators, widget=BS3TextFieldWidget(),
                                           description=text, default=f.default)
        elif f.secret:
            widgets[f.name] = PasswordField(label, validators=validators, widget=BS3PasswordFieldWidget(),
                                            description=text)
        else:  # strings, and numbers with a fraction (3.1 has no float field): read back with float()
            default = None if f.default is None else str(f.default)
            widgets[f.name] = StringField(label, validators=validators, widget=BS3TextFieldWidget(),
                                          description=text, default=default)
    return widgets


#: Work over at least this many items is done in a worker thread by :func:`off_loop`.
OFF_LOOP_ITEMS = 2_000


async def off_loop(items: int, func: Callable[..., T], *args: Any) -> T:
    """``func(*args)``, in a worker thread when it handles ``items`` >= :data:`OFF_LOOP_ITEMS`, so
    a poll of many statuses never holds up the triggerer's event loop for long."""
    if items >= OFF_LOOP_ITEMS:
        import asyncio

        return await asyncio.to_thread(func, *args)
    return func(*args)


def hook_class_for(conn_type: str | None) -> type[SmsHook]:
    """The hook class registered for a connection type, or a configuration error naming the types we know."""
    form = CONNECTION_FORMS.get(conn_type or "")
    if form is None:
        known = ", ".join(sorted(CONNECTION_FORMS))
        raise SmsConfigurationError(f"connection type {conn_type!r} is not an SMS gateway (known: {known})")
    module_name, _, class_name = form.hook_class.rpartition(".")
    hook_class: type[SmsHook] = getattr(importlib.import_module(module_name), class_name)
    return hook_class


def get_sms_hook(sms_conn_id: str, *, retry: RetryPolicy | None = None) -> SmsHook:
    """The hook for ``sms_conn_id``, chosen by the connection's type; the connection is fetched once."""
    connection = BaseHook.get_connection(sms_conn_id)
    return hook_class_for(connection.conn_type).for_connection(connection, retry=retry)


def iter_chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most ``size`` items."""
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
