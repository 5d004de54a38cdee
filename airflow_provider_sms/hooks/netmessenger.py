"""NetMessenger (FastSMS) hook: sends, groups and lists, background sends, contacts, reports, accounts.

The API token lives in the connection's password; ``host`` defaults to the vendor's
(``https://my.fastsms.co.uk``, the API at ``/api``). Schedule dates and report windows are sent in
the account's time zone (extra ``time_zone``, default Europe/London as in the vendor SDKs).

NetMessenger has no duplicate suppression. A send whose answer is lost is never re-sent by the
hook; instead :meth:`NetMessengerHook.find_sent` reads documented reports (extra
``sent_lookup_reports``, default ``Messages,Outbox``) so the send journal can settle a chunk in doubt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_sms.core.contacts import ImportResult
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, SendResult
from airflow_provider_sms.exceptions import Problem, SmsConfigurationError, SmsGatewayError, SmsValidationError
from airflow_provider_sms.gateways.netmessenger import (
    DEFAULT_CANCEL_ACTION,
    DEFAULT_TIME_ZONE,
    BackgroundSendMessages,
    ChildUser,
    NetMessengerApi,
    ReportType,
    build_contacts_csv,
)
from airflow_provider_sms.gateways.netmessenger.lookup import DEFAULT_LOOKUP_REPORTS, SentMatcher
from airflow_provider_sms.hooks.base import MessageRef, SmsHook
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.in_flight import agather_in_order

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipt_polling import ReceiptBatch

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipt_polling import ReceiptBatch

__all__ = ["NetMessengerHook"]

# Up to this many single messages are checked one by one; more are read from one report.
_SINGLE_STATUS_LIMIT = 10
ADDRESS_BOOK_REPORTS = {"contacts": "GetAllContacts", "groups": "GetAllGroups"}


class NetMessengerHook(SmsHook):
    """Hook for NetMessenger / FastSMS (connection type ``netmessenger``).

    :param sms_conn_id: connection id (default ``netmessenger_default``); the API token is its password.
    """

    conn_type = "netmessenger"
    default_conn_name = "netmessenger_default"
    hook_name = "NetMessenger (FastSMS)"
    gateway = "netmessenger"
    #: The HTTP API page documents no concurrency guidance, no rate limit and no rate-limit code
    #: (seed 002; reference/gateways.md 3.8): a conservative 2 in flight.
    default_max_in_flight = 2
    in_flight_guidance = "no guidance and no rate-limit code in the HTTP API page: a conservative 2"
    default_host = "https://my.fastsms.co.uk"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SEND, Capability.GROUP_SEND, Capability.SCHEDULE, Capability.STATUS,
        Capability.DELIVERY_REPORT, Capability.INBOX, Capability.RECEIPT_POLL, Capability.CREDITS,
        Capability.CONTACT_IMPORT,
        Capability.ADDRESS_BOOK, Capability.BACKGROUND_SEND, Capability.CANCEL, Capability.SUB_ACCOUNTS,
        Capability.SENT_LOOKUP, Capability.VALIDITY,
    })
    # The vendor states no limit for numbers per Send: 200 by default, raised by the connection's
    # extra max_recipients_per_request up to the protocol's ceiling.
    max_recipients_limit = NetMessengerApi.recipients_ceiling
    default_recipients_per_request = NetMessengerApi.max_recipients_per_request
    max_groups_per_request = 1  # DestinationAddress=Group|List names one group or list

    @cached_property
    def api(self) -> NetMessengerApi:
        settings = self.settings
        if not settings.password:
            raise SmsConfigurationError("connection needs the API token in its password field", gateway=self.gateway)
        return NetMessengerApi(
            settings.password,
            time_zone=str(settings.extra.get("time_zone") or DEFAULT_TIME_ZONE),
            cancel_action=str(settings.extra.get("cancel_action") or DEFAULT_CANCEL_ACTION),
            allow_unicode=settings.flag("allow_unicode"),
            max_recipients_per_request=self.max_recipients_per_request,
        )

    def base_url(self) -> str:
        # Users paste the API's full URL (".../api") as often as the host: accept both.
        base = self.settings.base_url.rstrip("/")
        return base.removesuffix("/api")

    # -- sending ----------------------------------------------------------------------------------

    def prepare(self) -> None:
        _ = self.api

    def supports_unicode(self) -> bool:
        return self.api.allow_unicode

    def protocol_check(self, message: OutgoingMessage) -> None:
        self.api.check(message)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send to numbers (one request) or to one group/list (``"group:Name"``/``"list:Name"``).

        A group or list send answers with its background-send id in ``SendResult.background_send_ids``.
        """
        request = self.api.send_request(message)
        return self.transport.call(request, partial(self.api.parse_send, message=message))

    def cancel(self, message_id: str) -> None:
        """Cancel a scheduled message that has not gone out yet."""
        self.transport.call(self.api.cancel_request(message_id), self.api.parse_cancel)

    def get_credits(self) -> float:
        """Credit balance (``CheckCredits``)."""
        return self.transport.call(self.api.credits_request(), self.api.parse_credits)

    def already_sent(self, numbers: Sequence[str], text: str, since: dt.datetime) -> set[str]:
        """Numbers among ``numbers`` sent ``text`` since ``since`` (see :meth:`find_sent`)."""
        return self.find_sent(OutgoingMessage(text, numbers=numbers), since)

    @property
    def lookup_reports(self) -> list[str]:
        """Report types the look-up reads: extra ``sent_lookup_reports`` (comma-separated), default
        ``Messages,Outbox`` -- both documented by the vendor."""
        raw = self.settings.extra.get("sent_lookup_reports") or ",".join(DEFAULT_LOOKUP_REPORTS)
        names = [n.strip() for n in (raw.split(",") if isinstance(raw, str) else raw) if str(n).strip()]
        unknown = [n for n in names if ReportType.parse(n) is None]
        if unknown or not names:
            raise SmsConfigurationError(
                f"extra sent_lookup_reports must name report types ({', '.join(t.value for t in ReportType)}); "
                f"got {raw!r}", gateway=self.gateway)
        return names

    def lookup_tells_texts_apart(self) -> bool:
        """Only where every configured report has a body column: the documented ones have none."""
        return all("withbodies" in name.lower() for name in self.lookup_reports)

    def find_sent(self, message: OutgoingMessage, since: dt.datetime) -> set[str]:
        """Numbers of ``message`` (a chunk as sent earlier) that the account's reports show a message
        for since ``since``: sent ones (Messages) and those still waiting, scheduled ones included
        (Outbox). Rows match by number, and by sender, schedule time and text where the report has
        those columns (:mod:`~airflow_provider_sms.gateways.netmessenger.lookup`).

        :raises SmsCapabilityError: for a group or list send (the documented reports do not say
            which send a message came from).
        :raises SmsConfigurationError: the gateway refuses a configured report type (-601).
        """
        if message.groups:
            return super().find_sent(message, since)
        matcher = SentMatcher(message.numbers, message.text, message.sender, message.send_at, since,
                              self.api.time_zone)
        found: set[str] = set()
        # The gateway's clock may run ahead of ours: read a day past now.
        end = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        for kind in self.lookup_reports:
            try:
                header, rows = self.iter_report(kind, start=since, end=end)
                found |= matcher.matches(header, rows)
            except SmsGatewayError as error:
                if error.code == -601:
                    raise SmsConfigurationError(
                        f"the gateway does not know report type {kind!r} (-601 Unknown Report Type), which the "
                        "retry look-up reads; set the connection extra sent_lookup_reports to report types your "
                        "account offers (documented: Outbox, Messages, Usage, InboundMessages, FailedMessages)",
                        gateway=self.gateway) from None
                raise
            except ValueError as error:
                raise SmsConfigurationError(f"report {kind!r} cannot settle a lost send: {error}",
                                            gateway=self.gateway) from None
        return found

    # -- statuses ---------------------------------------------------------------------------------

    def background_send(self, background_send_id: str) -> BackgroundSendMessages:
        """The messages of a background send, or ``finished=False`` while it is still running (-522)."""
        request = self.api.background_messages_request(background_send_id)
        parse = partial(self.api.parse_background_messages, background_send_id=background_send_id)
        return self.transport.call(request, parse)

    async def abackground_send(self, background_send_id: str) -> BackgroundSendMessages:
        """Async twin of :meth:`background_send` (on the hook's :meth:`async_session` client when open)."""
        request = self.api.background_messages_request(background_send_id)
        return await self.session_transport().call(
            request, partial(self.api.parse_background_messages, background_send_id=background_send_id))

    def message_status(self, message_id: str) -> MessageStatus:
        """One message's status (``CheckMessageStatus``)."""
        return self.transport.call(
            self.api.status_request(message_id), partial(self.api.parse_status, message_id=message_id))

    def get_statuses(self, refs: Sequence[MessageRef], since: dt.datetime | None = None) -> list[MessageStatus]:
        """Background sends via ``GetBGMessages`` (one call each, however many of its messages are
        asked about); single messages one by one when few (or no ``since`` is known), otherwise
        from one Messages report covering ``since`` until now."""
        backgrounds, singles = _status_plan(refs)
        # Look-ups go ``max_in_flight`` at once (a send's bound), their answers kept in order.
        found = [s for (bg, wanted), send in self.each_in_flight(lambda item: self.background_send(item[0]),
                                                                 backgrounds.items())
                 for s in _background_statuses(send, wanted)]
        if len(singles) <= _SINGLE_STATUS_LIMIT or since is None:
            found.extend(status for _, status in self.each_in_flight(self.message_status, singles))
        else:
            header, rows = self.iter_report(ReportType.MESSAGES.value, start=since, end=dt.datetime.now(dt.UTC))
            found.extend(_pick(self.api.report_statuses(header, rows), singles))
        return found

    async def aget_statuses(self, refs: Sequence[MessageRef],
                            since: dt.datetime | None = None) -> list[MessageStatus]:
        """Async twin of :meth:`get_statuses`.

        Many single messages with a known ``since`` are read from one streamed Messages report, in a
        worker thread so the triggerer's event loop never waits on it.
        """
        backgrounds, singles = _status_plan(refs)
        if since is not None and len(singles) > _SINGLE_STATUS_LIMIT:
            return await asyncio.to_thread(self.get_statuses, refs, since)
        transport = self.session_transport()
        width = self.max_in_flight
        sends = await agather_in_order([partial(self.abackground_send, bg) for bg in backgrounds], width)
        found = [s for send, wanted in zip(sends, backgrounds.values(), strict=True)
                 for s in _background_statuses(send, wanted)]
        found += await agather_in_order([partial(transport.call, self.api.status_request(message_id),
                                                 partial(self.api.parse_status, message_id=message_id))
                                         for message_id in singles], width)
        return found

    # -- reports ----------------------------------------------------------------------------------

    def report_kinds(self) -> Sequence[str]:
        return [*(t.value for t in ReportType), *ADDRESS_BOOK_REPORTS]

    def iter_report(self, kind: str, **params: Any) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """Stream a report as ``(header, rows)``: any ``ReportType`` (with ``start``/``end``), or
        ``contacts``/``groups`` (the address book)."""
        action = ADDRESS_BOOK_REPORTS.get(kind.lower())
        if action is not None:
            request = self.api.contacts_request() if action == "GetAllContacts" else self.api.groups_request()
        else:
            if ReportType.parse(kind) is None:
                choices = ", ".join(self.report_kinds())
                raise SmsValidationError([Problem("report", f"unknown report; one of {choices}", kind)],
                                         gateway=self.gateway)
            request = self.api.report_request(kind, params.get("start"), params.get("end"))
            action = "Report"
        return self._stream_csv(request, partial(self.api.check_response, action=action),
                                partial(self.api.open_report, action=action))

    # -- polling receipts ---------------------------------------------------------------------------

    def poll_receipts(self, cursors: Mapping[str, str], limit: int) -> Iterator[ReceiptBatch]:
        """Inbound messages from the ``InboundMessages`` report (source ``inbound_report``).

        The window runs from the saved cursor (the first poll: a day back) to now; the next one starts
        :data:`INBOUND_OVERLAP` before this one's end, so a message the gateway lists late is still
        read (the event id, ``MessageID`` -- the ``id`` of the forwarding push -- stores it once). Rows
        come in batches of :data:`INBOUND_BATCH`; the cursor moves only with the last batch, and not
        at all when ``limit`` rows were read before the report ended (the next poll reads the window
        again). Delivery statuses are not polled here: the status sensor asks the gateway directly
        unless the connection sets ``receipts``.
        """
        from airflow_provider_sms.core.receipt_polling import ReceiptBatch
        from airflow_provider_sms.gateways.callbacks import CallbackRequest
        from airflow_provider_sms.gateways.netmessenger.receipts import inbound_events

        now = dt.datetime.now(dt.UTC)
        saved = cursors.get(INBOUND_SOURCE)
        start = dt.datetime.fromisoformat(saved) if saved else now - dt.timedelta(days=1)
        header, rows = self.iter_report(ReportType.INBOUND_MESSAGES.value, start=start, end=now)
        columns = _inbound_columns(header, self.gateway)
        conn_id = self.settings.conn_id or self.sms_conn_id
        batch: list[Any] = []
        for count, row in enumerate(rows, start=1):
            params = {name: row[index] if index < len(row) else "" for name, index in columns.items()}
            batch.extend(inbound_events(CallbackRequest(conn_id=conn_id, method="GET", params=params, body=b"",
                                                        content_type="", received_at=now,
                                                        options=self.settings.extra)))
            if count >= limit:
                yield ReceiptBatch(INBOUND_SOURCE, batch)  # cut short: the window is read again next time
                return
            if len(batch) >= INBOUND_BATCH:
                yield ReceiptBatch(INBOUND_SOURCE, batch)
                batch = []
        yield ReceiptBatch(INBOUND_SOURCE, batch, cursor=(now - INBOUND_OVERLAP).isoformat())

    # -- contacts, groups, accounts ---------------------------------------------------------------

    def import_contacts(self, contacts: Sequence[Mapping[str, str]], *, group: str | None = None,
                        duplicates: str = "ignore") -> ImportResult:
        """Upload one chunk of contacts (``ImportContactsCSV``); never re-sent after a lost answer.

        ``duplicates``: ``overwrite`` sends ``OverwriteDupes=1``, ``allow`` sends ``IgnoreDupes=1``
        (the gateway then creates duplicate contacts); ``ignore`` and ``error`` send neither, so the
        gateway refuses duplicates and reports them line by line.
        """
        body = build_contacts_csv(contacts, group=group)
        request = self.api.import_contacts_request(body, ignore_dupes=duplicates == "allow",
                                                   overwrite_dupes=duplicates == "overwrite")
        return self.transport.call(request, self.api.parse_import)

    def empty_group(self, group: str) -> None:
        """Remove every contact from ``group`` (the contacts stay in the address book)."""
        self.transport.call(self.api.empty_group_request(group), partial(self.api.parse_ok, action="EmptyGroup"))

    def delete_group(self, group: str) -> None:
        """Delete ``group`` itself."""
        self.transport.call(self.api.delete_group_request(group), partial(self.api.parse_ok, action="DeleteGroup"))

    def delete_all_contacts(self) -> None:
        """Delete every contact of the account."""
        self.transport.call(self.api.delete_all_contacts_request(),
                            partial(self.api.parse_ok, action="DeleteAllContacts"))

    def delete_all_groups(self) -> None:
        """Delete every group of the account."""
        self.transport.call(self.api.delete_all_groups_request(),
                            partial(self.api.parse_ok, action="DeleteAllGroups"))

    def create_sub_account(self, username: str, password: str, **details: Any) -> None:
        """Create a child account (``CreateUser``; admin accounts only).

        ``details``: ``first_name``, ``last_name``, ``email``, ``credits`` (taken from this account),
        ``access_level`` (``Normal``/``Admin``), ``telephone``, ``credit_reminder``, ``alert``.
        """
        try:
            user = ChildUser(username=username, password=password, **details)
        except TypeError as exc:
            raise SmsValidationError([Problem("details", str(exc))], gateway=self.gateway) from None
        self.transport.call(self.api.create_user_request(user), partial(self.api.parse_create_user, user=user))

    def transfer_credits(self, child_username: str, quantity: int) -> None:
        """Move ``quantity`` credits to a child account (negative: take them back) with ``UpdateCredits``."""
        self.transport.call(self.api.update_credits_request(child_username, quantity),
                            self.api.parse_update_credits)


#: Where the inbound report's window of the next poll starts, before this one's end.
INBOUND_OVERLAP = dt.timedelta(minutes=10)
INBOUND_BATCH = 500
INBOUND_SOURCE = "inbound_report"
# InboundMessages columns -> the fields of the inbound forwarding push (parsed the same way).
_INBOUND_FIELDS = {"messageid": "id", "from": "source", "number": "dest", "message": "msg",
                   "receiveddate": "receivedts"}


def _inbound_columns(header: Sequence[str], gateway: str) -> dict[str, int]:
    found = {_INBOUND_FIELDS[name.strip().lower()]: i for i, name in enumerate(header)
             if name.strip().lower() in _INBOUND_FIELDS}
    missing = [column for column, field in _INBOUND_FIELDS.items() if field not in found]
    if header and missing:
        raise SmsGatewayError(f"the InboundMessages report has no {', '.join(missing)} column", gateway=gateway)
    return found


def _status_plan(refs: Sequence[MessageRef]) -> tuple[dict[str, list[str]], list[str]]:
    """Background sends to read, each with the message ids wanted from it (empty: all of them),
    and the single message ids to look up."""
    backgrounds: dict[str, list[MessageRef]] = {}
    singles: list[str] = []
    for ref in refs:
        if ref.batch_id:
            backgrounds.setdefault(ref.batch_id, []).append(ref)
        elif ref.message_id:
            singles.append(ref.message_id)
    wanted = {bg: [r.message_id for r in rs if r.message_id] for bg, rs in backgrounds.items()}
    return {bg: ids if len(ids) == len(backgrounds[bg]) else [] for bg, ids in wanted.items()}, singles


def _background_statuses(answer: BackgroundSendMessages, wanted: Sequence[str] = ()) -> list[MessageStatus]:
    """The statuses of a background send: all of them, or those of ``wanted`` message ids."""
    if not answer.finished:
        running = "background send still running"
        if wanted:
            return [MessageStatus(DeliveryStatus.PENDING, message_id=m, batch_id=answer.background_send_id,
                                  text=running) for m in wanted]
        return [MessageStatus(DeliveryStatus.PENDING, batch_id=answer.background_send_id, text=running)]
    if wanted:
        return _pick(answer.statuses(), wanted, answer.background_send_id)
    return answer.statuses()


def _pick(statuses: Iterable[MessageStatus], wanted: Sequence[str], batch_id: str | None = None) -> list[MessageStatus]:
    """The statuses of ``wanted`` ids from a report; an id not listed yet counts as pending."""
    want = set(wanted)
    by_id = {s.message_id: s for s in statuses if s.message_id in want}
    return [by_id.get(m) or MessageStatus(DeliveryStatus.PENDING, message_id=m, batch_id=batch_id) for m in wanted]
