"""Bulletin Messenger hook: sends to numbers and address-book names, polling queues, the sent list.

The Messenger user id is the connection's login and its password the password; ``host``
defaults to the vendor's (``https://www.bulletinmessenger.net``). Credentials go in the Basic
``Authorization`` header (extra ``auth_in_form`` sends them as form fields instead).

Bulletin documents no duplicate suppression, and its ``messageId`` is described as a tracking id
only, so a repeated ``messageId`` is not relied on. A send whose answer is lost is never re-sent
by the hook; :meth:`BulletinMessengerHook.earlier_outcomes` reads the sent-messages list
(``/api/2/sms/list``) so a retried task skips whoever an earlier try texted or had refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SendResult
from airflow_provider_sms.exceptions import Problem, SmsConfigurationError, SmsError, SmsValidationError
from airflow_provider_sms.gateways.bulletin import (
    DEFAULT_REPLY_CALLBACK_PARAM,
    DEFAULT_STATUS_CALLBACK_PARAM,
    SENT_REPORT_HEADER,
    BulletinApi,
    InboundReply,
    SentItem,
    SentMessage,
    StatusUpdate,
    message_id_for,
    wire_name,
)
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.hooks.base import SmsHook
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.hooks.extras import ExtrasReader

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipt_polling import ReceiptBatch

__all__ = ["BulletinMessengerHook"]

SENT_REPORT = "sent"


class BulletinMessengerHook(SmsHook):
    """Hook for Bulletin Messenger (connection type ``bulletin_messenger``).

    :param sms_conn_id: connection id (default ``bulletin_messenger_default``); user id in login,
        password in password.
    """

    conn_type = "bulletin_messenger"
    default_conn_name = "bulletin_messenger_default"
    hook_name = "Bulletin Messenger"
    gateway = "bulletin"
    #: No concurrency guidance; the FAQ gives a throughput of "about 3000 per minute" for
    #: individually customised messages and no rate-limit answer (reference/gateways.md 1.6):
    #: a conservative 2 in flight.
    default_max_in_flight = 2
    in_flight_guidance = "no guidance; FAQ: about 3000 messages per minute, no rate-limit answer: a conservative 2"
    default_host = "https://www.bulletinmessenger.net"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SEND, Capability.GROUP_SEND, Capability.ADDRESS_BOOK_SEND, Capability.SENT_LOOKUP,
        Capability.DELIVERY_REPORT, Capability.RECEIPT_POLL,
    })
    max_recipients_limit = BulletinApi.max_recipients_per_request
    max_groups_per_request = BulletinApi.max_recipients_per_request
    default_timeout = 45.0  # /api/1/sms/status and /in hold the call up to 30 s when nothing is waiting

    @cached_property
    def api(self) -> BulletinApi:
        settings = self.settings
        if not settings.login or not settings.password:
            raise SmsConfigurationError("connection needs the Messenger user id in login and the password",
                                        gateway=self.gateway)
        extra = settings.extra
        read = ExtrasReader(extra, conn_id=settings.conn_id, gateway=self.gateway)
        return BulletinApi(
            settings.login, settings.password, auth_in_form=settings.flag("auth_in_form"),
            reply_callback_url=read.url("reply_callback_url", extra.get("reply_callback_url")),
            status_callback_url=read.url("status_callback_url", extra.get("status_callback_url")),
            reply_callback_param=read.identifier("reply_callback_param", extra.get("reply_callback_param"),
                                                 DEFAULT_REPLY_CALLBACK_PARAM),
            status_callback_param=read.identifier("status_callback_param", extra.get("status_callback_param"),
                                                  DEFAULT_STATUS_CALLBACK_PARAM),
            other_secrets=[str(extra.get("callback_secret") or "")],  # it travels in the callback URLs
        )

    def base_url(self) -> str:
        # Users paste ".../api/3/sms/out" as often as the host: keep scheme and host only.
        base = self.settings.base_url.rstrip("/")
        cut = base.find("/api/")
        return base[:cut] if cut > base.find("://") + 2 else base

    def prepare(self) -> None:
        _ = self.api

    # -- sending ----------------------------------------------------------------------------------

    def protocol_check(self, message: OutgoingMessage) -> None:
        self.api.check(message)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one request to numbers and address-book names (``group:Name``/``contact:Name``/bare).

        Recipients refused inside a 200 answer (blocked number, unknown name) come back rejected,
        one result each; the others accepted under the request's ``messageId``.
        """
        request = self.api.send_request(message)
        message_id = dict(request.form or ()).get("messageId") or message_id_for(message.dedupe_key)
        return self.transport.call(request, partial(self.api.parse_send, message=message, message_id=message_id))

    # -- retries: what an earlier try did -----------------------------------------------------------

    def iter_sent(self) -> Iterator[SentItem]:
        """Every recipient of every recent message in the sent list (``/api/2/sms/list``), streamed."""
        with self.transport.stream_lines(self.api.list_request(), self.api.check_list) as lines:
            yield from self.api.sent_items(lines)

    def earlier_outcomes(self, message: OutgoingMessage, since: dt.datetime) -> list[RecipientResult]:
        """Recipients an earlier try texted (accepted) or had refused (rejected), from the sent list.

        Matched by the text and the recipient as addressed (a number, or an address-book name
        without its prefix); messages dated before ``since`` are left out when the list dates them.
        """
        return self._outcomes([*message.numbers, *message.groups], message.text, since)

    def can_find_sent(self, message: OutgoingMessage) -> bool:
        """The sent list names recipients as addressed, so numbers, groups and contacts are all found."""
        return True

    def find_sent(self, message: OutgoingMessage, since: dt.datetime) -> set[str]:
        """Recipients of ``message`` (numbers or address-book names) the sent list shows as texted."""
        return {r.recipient for r in self.earlier_outcomes(message, since) if r.accepted}

    def _outcomes(self, recipients: Sequence[str], text: str, since: dt.datetime) -> list[RecipientResult]:
        wanted = {wire_name(r).lower(): r for r in recipients}
        found: dict[str, RecipientResult] = {}
        cutoff = since.astimezone(dt.UTC)
        for item in self.iter_sent():
            who = wanted.get(item.recipient.lstrip("+").lower())
            if who is None or item.body != text or _before(item.date, cutoff):
                continue
            if item.rejected:
                found.setdefault(who, RecipientResult(who, False, code="rejected_earlier",
                                                      text=f"refused by an earlier try: {item.error}",
                                                      message_id=item.message_id or None,
                                                      status=DeliveryStatus.REJECTED))
            else:
                found[who] = RecipientResult(who, True, code="already_sent", text="sent by an earlier try",
                                             message_id=item.message_id or None)
        return [found[r] for r in recipients if r in found]

    def rejection_is_final(self, result: RecipientResult) -> bool:
        """Always: a recipient refused inside a 200 answer (a blocked number, a name not in the address
        book) is refused again until someone changes the account, so a later try does not re-send it."""
        return True

    def already_sent(self, numbers: Sequence[str], text: str, since: dt.datetime) -> set[str]:
        """Recipients among ``numbers`` that an earlier send of ``text`` since ``since`` reached."""
        return {r.recipient for r in self._outcomes(numbers, text, since) if r.accepted}

    # -- polling queues (each item handed out once by the gateway) ---------------------------------

    def iter_status_updates(self, limit: int | None = None) -> Iterator[StatusUpdate]:
        """Drain ``/api/1/sms/status``: one update per call until it answers 204 (or ``limit`` items).

        Lazy: an item is fetched only when the consumer asks for the next one, so none is taken
        from the gateway's queue without being handed over.
        """
        return self._drain(self.api.status_poll_request, self.api.parse_status_poll, limit)

    def iter_replies(self, limit: int | None = None) -> Iterator[InboundReply]:
        """Drain ``/api/1/sms/in`` the same way (replies, one per call)."""
        return self._drain(self.api.reply_poll_request, self.api.parse_reply_poll, limit)

    def iter_sent_since_last_poll(self) -> Iterator[SentMessage]:
        """``/api/3/sms/out/poll``: the messages sent since the last poll (the gateway's cursor moves)."""
        yield from self.transport.call(self.api.out_poll_request(), self.api.parse_out_poll)

    def poll_receipts(self, cursors: Mapping[str, str], limit: int) -> Iterator[ReceiptBatch]:
        """Drain the status queue, then the reply queue, one item per batch (``status_queue``, ``reply_queue``).

        Messenger hands each queue item out once (a call takes it off the queue; there is no separate
        acknowledgement), so the next item is fetched only when the caller asks for the next batch,
        after storing this one. The items are read exactly as the FORMv1 callbacks are (the same
        event ids: a status's ``messageId``, a reply's ``messageId``), so an item that also came by
        callback is stored once. ``cursors`` are not used: the queues keep their own place.
        """
        from airflow_provider_sms.gateways.bulletin.receipts import reply_events, status_events

        yield from self._drain_events("status_queue", self.api.status_poll_request, self.api.parse_status_poll,
                                      status_events, limit)
        yield from self._drain_events("reply_queue", self.api.reply_poll_request, self.api.parse_reply_poll,
                                      reply_events, limit)

    def _drain_events(self, source: str, build: Any, parse: Any, convert: Any, limit: int) -> Iterator[ReceiptBatch]:
        from airflow_provider_sms.core.receipt_polling import ReceiptBatch
        from airflow_provider_sms.gateways.callbacks import CallbackRequest

        def item_and_body(response: HttpResponse) -> tuple[Any, bytes]:
            return parse(response), response.body

        conn_id = self.settings.conn_id or self.sms_conn_id
        for _ in range(limit):
            item, body = self.transport.call(build(), item_and_body)
            if item is None:
                return
            request = CallbackRequest(conn_id=conn_id, method="POST", params={}, body=body,
                                      content_type="application/x-www-form-urlencoded",
                                      received_at=dt.datetime.now(dt.UTC), options=self.settings.extra)
            yield ReceiptBatch(source, convert(request))

    def _drain(self, build: Any, parse: Any, limit: int | None) -> Iterator[Any]:
        taken = 0
        while limit is None or taken < limit:
            item = self.transport.call(build(), parse)
            if item is None:
                return
            taken += 1
            yield item

    # -- reports ----------------------------------------------------------------------------------

    def report_kinds(self) -> Sequence[str]:
        return [SENT_REPORT]

    def iter_report(self, kind: str, **params: Any) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """``sent``: the sent-messages list, one row per recipient (streamed).

        The list is the account's recent messages and takes no window, so ``start``/``end`` (the
        report operator's window) are applied here: a message dated outside ``[start, end)`` is
        left out. A message the list does not date is kept (nothing says it is outside).
        """
        if kind.lower() not in (SENT_REPORT, "delivery"):
            raise SmsValidationError([Problem("report", f"unknown report; one of {SENT_REPORT}", kind)],
                                     gateway=self.gateway)
        start, end = params.get("start"), params.get("end")
        for name, value in (("start", start), ("end", end)):
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise SmsValidationError([Problem(name, "a timezone-aware datetime", str(value))],
                                         gateway=self.gateway)
        rows = (item.row() for item in self.iter_sent() if _in_window(item.date, start, end))
        return SENT_REPORT_HEADER, rows

    def test_connection(self) -> tuple[bool, str]:
        """Read the sent-messages list: proves host and credentials, sends nothing, takes nothing off a queue."""
        try:
            with self.transport.stream_lines(self.api.list_request(), self.api.check_list):
                pass
        except SmsError as exc:
            return False, self._scrubbed(str(exc))
        except Exception as exc:
            return False, self._scrubbed(f"{type(exc).__name__}: {exc}")
        return True, f"Connected to {self.hook_name} (read the sent-messages list; nothing was sent)"


def _when(date: str) -> dt.datetime | None:
    """A sent-list date (ISO 8601, ``Z`` or an offset; UTC when it has neither), or None when unreadable."""
    if not date:
        return None
    try:
        when = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _before(date: str, cutoff: dt.datetime) -> bool:
    when = _when(date)
    return when is not None and when < cutoff


def _in_window(date: str, start: dt.datetime | None, end: dt.datetime | None) -> bool:
    when = _when(date)
    if when is None:
        return True
    return (start is None or when >= start) and (end is None or when < end)
