"""BulkSMS hook: the JSON API v1 (default, the vendor's recommendation) or the legacy EAPI.

The connection's extra ``api`` picks one; ``host`` holds scheme and regional host
(``https://api.bulksms.com`` for JSON, ``https://bulksms.vsms.net`` for EAPI, or a local simulator).

Duplicate suppression: every send carries ``OutgoingMessage.dedupe_key`` as EAPI ``stop_dup_id`` or
JSON ``deduplication-id``. BulkSMS answers a repeat within its window (EAPI: "a few hours"; JSON:
about 12 hours) with the original result and sends nothing, so a retried request or task does not
text anyone twice inside that window.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, SendResult
from airflow_provider_sms.exceptions import Problem, SmsConfigurationError, SmsTransientError, SmsValidationError
from airflow_provider_sms.gateways.bulksms import BulkSmsCredentials, BulkSmsEapi, BulkSmsJsonApi, StatusPage
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.hooks.base import MessageRef, SmsHook, off_loop
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.hooks.extras import load_extra
from airflow_provider_sms.in_flight import agather_in_order

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipt_polling import ReceiptBatch

__all__ = ["BulkSmsHook"]

_JSON_HOST = "https://api.bulksms.com"
_EAPI_HOST = "https://bulksms.vsms.net"


class BulkSmsHook(SmsHook):
    """Hook for BulkSMS (connection type ``bulksms``).

    :param sms_conn_id: connection id (default ``bulksms_default``). Login and password are the
        account's username and password, or an API token id and secret (JSON API).
    """

    conn_type = "bulksms"
    default_conn_name = "bulksms_default"
    hook_name = "BulkSMS"
    gateway = "bulksms"
    #: EAPI: "use one concurrent connection (single thread/process)" (reference/gateways.md 2.3 and
    #: 2.12, from the send_batch and send_sms pages). The JSON API's description says nothing on
    #: concurrency (2.13: up to 30,000 messages per request, about 4,000 recommended): the same
    #: vendor's one-connection rule is kept there too. ``max_in_flight`` raises it.
    default_max_in_flight = 1
    in_flight_guidance = ("EAPI: \"one concurrent connection\" (send_batch, send_sms pages); JSON API: no guidance, "
                          "the same vendor's rule kept")
    test_mode_hint = "use api=eapi for test_always_succeed/test_always_fail"

    _COMMON: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SEND, Capability.GROUP_SEND, Capability.SCHEDULE, Capability.DEDUPE, Capability.STATUS,
         Capability.DELIVERY_REPORT, Capability.CREDITS}
    )
    _EAPI_ONLY: ClassVar[frozenset[Capability]] = frozenset({Capability.TEST_MODE, Capability.QUOTE, Capability.INBOX,
                                                              Capability.RECEIPT_POLL})

    @classmethod
    def declared_capabilities(cls) -> Mapping[str, frozenset[Capability]]:
        return {"BulkSMS JSON": cls._COMMON, "BulkSMS EAPI": cls._COMMON | cls._EAPI_ONLY}

    @cached_property
    def api_name(self) -> str:
        """``json`` or ``eapi``, from the connection's extra ``api``."""
        # Read from the connection, not self.settings: the settings' default host depends on it.
        name = str(load_extra(self.connection, self.gateway).get("api") or "json").strip().lower()
        if name not in ("json", "eapi"):
            raise SmsConfigurationError(f"extra 'api' must be 'json' or 'eapi', got {name!r}", gateway=self.gateway)
        return name

    @property
    def default_host(self) -> str:  # type: ignore[override]
        return _EAPI_HOST if self.api_name == "eapi" else _JSON_HOST

    @property
    def capabilities(self) -> frozenset[Capability]:  # type: ignore[override]
        return self._COMMON | self._EAPI_ONLY if self.api_name == "eapi" else self._COMMON

    @property
    def dedupe_window(self) -> dt.timedelta:  # type: ignore[override]
        # The vendor says "a few hours" (EAPI) and about 12 hours (JSON); with a safety margin.
        return dt.timedelta(hours=2) if self.api_name == "eapi" else dt.timedelta(hours=10)

    @property
    def max_recipients_limit(self) -> int:  # type: ignore[override]
        # EAPI: one send_sms carries a comma list (the vendor caps batches at 30,000); JSON: the
        # vendor recommends about 4,000 messages per POST.
        return 5000 if self.api_name == "eapi" else 4000

    @cached_property
    def api(self) -> BulkSmsEapi | BulkSmsJsonApi:
        settings = self.settings
        if not settings.login or not settings.password:
            raise SmsConfigurationError("connection needs login (username or token id) and password",
                                        gateway=self.gateway)
        credentials = BulkSmsCredentials(settings.login, settings.password)
        base = settings.base_url.rstrip("/")
        for suffix in ("/eapi", "/v1"):
            if base.endswith(suffix):
                raise SmsConfigurationError(
                    f"host should be scheme and host only (e.g. {_JSON_HOST}); drop the trailing {suffix!r}",
                    gateway=self.gateway)
        if self.api_name == "eapi":
            return BulkSmsEapi(credentials, unicode_concat=settings.flag("eapi_unicode_concat"))
        return BulkSmsJsonApi(credentials)

    # -- sending ----------------------------------------------------------------------------------

    def prepare(self) -> None:
        _ = self.api

    def protocol_check(self, message: OutgoingMessage) -> None:
        self.api.check(message)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Submit ``message`` in one request; retried only per the error tree and the dedupe key."""
        if message.groups:
            self.require(Capability.GROUP_SEND)
        request = self.api.send_request(message)
        return self.transport.call(request, partial(self.api.parse_send, message=message))

    def get_credits(self) -> float:
        """Credit balance (EAPI ``get_credits``, JSON ``GET /v1/profile``)."""
        return self.transport.call(self.api.credits_request(), self.api.parse_credits)

    def quote(self, message: OutgoingMessage) -> float:
        """Credits ``message`` would cost (EAPI ``quote_sms``)."""
        self.require(Capability.QUOTE, "quote_sms exists only in the EAPI")
        api = self._eapi()
        return self.transport.call(api.quote_request(message), api.parse_quote)

    def _eapi(self) -> BulkSmsEapi:
        api = self.api
        assert isinstance(api, BulkSmsEapi)  # callers have checked the capability
        return api

    # -- statuses ---------------------------------------------------------------------------------

    def batch_statuses(self, batch_id: str, wanted_ids: Sequence[str] = ()) -> list[MessageStatus]:
        """Every recipient's status in one batch (EAPI ``get_report``; JSON one filtered listing, paged).

        :param wanted_ids: only these messages are needed (JSON API): the listing starts just above
            the highest id and stops once past the lowest, without the closing empty page.
        """
        pager = _StatusPager(self.api, batch_id, wanted_ids)
        while (request := pager.next_request()) is not None:
            pager.add(self.transport.call(request, pager.parse))
        return pager.statuses

    async def abatch_statuses(self, batch_id: str, wanted_ids: Sequence[str] = ()) -> list[MessageStatus]:
        """Async twin of :meth:`batch_statuses` (on the hook's :meth:`async_session` client when open)."""
        transport = self.session_transport()
        pager = _StatusPager(self.api, batch_id, wanted_ids)
        while (request := pager.next_request()) is not None:
            pager.add(await transport.call(request, pager.parse))
        return pager.statuses

    def get_statuses(self, refs: Sequence[MessageRef], since: dt.datetime | None = None) -> list[MessageStatus]:
        """One call per batch (pages of it on the JSON API), however many messages of it are asked
        about; asked about single messages, the JSON API reads only the id range they span."""
        by_batch = _refs_by_batch(refs, self.gateway)
        # Batches are read ``max_in_flight`` at once (a send's bound), their statuses kept in order.
        looked_up = self.each_in_flight(lambda item: self.batch_statuses(item[0], _wanted_ids(item[1])),
                                        by_batch.items())
        return [s for (batch, wanted), statuses in looked_up for s in _select(statuses, batch, wanted)]

    async def aget_statuses(self, refs: Sequence[MessageRef],
                            since: dt.datetime | None = None) -> list[MessageStatus]:
        by_batch = await off_loop(len(refs), _refs_by_batch, refs, self.gateway)

        async def one(batch: str, wanted: list[MessageRef]) -> list[MessageStatus]:
            statuses = await self.abatch_statuses(batch, _wanted_ids(wanted))
            return await off_loop(len(statuses) + len(wanted), _select, statuses, batch, wanted)

        found = await agather_in_order([partial(one, batch, wanted) for batch, wanted in by_batch.items()],
                                       self.max_in_flight)
        return [s for statuses in found for s in statuses]

    # -- reports ----------------------------------------------------------------------------------

    def report_kinds(self) -> Sequence[str]:
        return ("delivery", "inbox") if self.api_name == "eapi" else ("delivery",)

    def iter_report(self, kind: str, **params: Any) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """Stream a report. ``delivery``: ``batch_ids`` (list), optional ``optional_fields`` (EAPI).

        ``inbox`` (EAPI): ``last_retrieved_id`` (default 0); follows on until no more records.
        """
        if kind == "delivery":
            batch_ids = [str(b) for b in params.get("batch_ids") or []]
            if not batch_ids:
                raise SmsValidationError([Problem("batch_ids", "at least one batch id is needed")],
                                         gateway=self.gateway)
            if self.api_name == "eapi":
                fields = tuple(params.get("optional_fields") or ())
                header = ["batch_id", "msisdn", "status_code", "status", *fields]
                return header, self._eapi_delivery_rows(batch_ids, fields)
            header = ["batch_id", "message_id", "msisdn", "status_code", "status"]
            return header, self._json_delivery_rows(batch_ids)
        if kind == "inbox":
            self.require(Capability.INBOX, "the inbox report needs api=eapi")
            header = ["msg_id", "sender", "message", "received_time", "msisdn", "referring_batch_id", "encoding"]
            return header, self._inbox_rows(int(params.get("last_retrieved_id") or 0))
        raise SmsValidationError([Problem("kind", f"unknown report {kind!r}; choose from {list(self.report_kinds())}")],
                                 gateway=self.gateway)

    def _eapi_delivery_rows(self, batch_ids: Sequence[str], fields: Sequence[str]) -> Iterator[Sequence[str]]:
        api = self._eapi()
        for batch_id in batch_ids:
            request = api.report_request(batch_id, optional_fields=fields)
            with self.transport.stream_lines(request, self._check_http, charset="iso-8859-1") as lines:
                yield from api.iter_report_values(lines, batch_id, fields)

    def _json_delivery_rows(self, batch_ids: Sequence[str]) -> Iterator[Sequence[str]]:
        for batch_id in batch_ids:
            for status in self.batch_statuses(batch_id):
                yield [batch_id, status.message_id or "", status.recipient or "", status.code or "",
                       status.status.value]

    def _inbox_rows(self, last_id: int) -> Iterator[Sequence[str]]:
        api = self._eapi()
        while True:
            records = self.transport.call(api.inbox_request(last_id), api.parse_inbox)
            for rec in records:
                yield [str(rec.msg_id), rec.sender, rec.message, rec.received_time, rec.msisdn,
                       str(rec.referring_batch_id), rec.encoding or ""]
            if not records:
                return
            last_id = max(int(r.msg_id) for r in records)

    # -- polling receipts ---------------------------------------------------------------------------

    def poll_receipts(self, cursors: Mapping[str, str], limit: int) -> Iterator[ReceiptBatch]:
        """EAPI: the inbox (``get_inbox``) after the saved ``last_retrieved_id``, one page per batch
        (source ``inbox``, cursor the page's highest ``msg_id``). Read exactly as the EAPI inbound push
        is (event id ``msg_id``), so a message that also came by push is stored once. Delivery statuses
        are not polled here: the status sensor asks ``get_report`` directly unless ``receipts`` is set.
        """
        from airflow_provider_sms.core.receipt_polling import ReceiptBatch
        from airflow_provider_sms.gateways.bulksms.receipts import eapi_inbound_events
        from airflow_provider_sms.gateways.callbacks import CallbackRequest, parse_time

        self.require(Capability.RECEIPT_POLL, "the JSON API has no inbox to poll: use its webhooks, or api=eapi")
        api = self._eapi()
        conn_id = self.settings.conn_id or self.sms_conn_id
        zone = str(self.settings.extra.get("time_zone") or "") or None
        last, taken = int(cursors.get("inbox") or 0), 0
        while taken < limit:
            records = self.transport.call(api.inbox_request(last), api.parse_inbox)
            if not records:
                return
            now = dt.datetime.now(dt.UTC)
            events = [event for rec in records for event in eapi_inbound_events(CallbackRequest(
                conn_id=conn_id, method="GET", body=b"", content_type="", options=self.settings.extra,
                received_at=parse_time(rec.received_time, now, zone),
                params={"msg_id": str(rec.msg_id), "sender": rec.sender, "message": rec.message, "msisdn": rec.msisdn,
                        "referring_batch_id": rec.referring_batch_id or "", "dca": rec.encoding or "7bit"}))]
            last = max(last, *(int(r.msg_id) for r in records))
            taken += len(records)
            yield ReceiptBatch("inbox", events, cursor=str(last))

    def _check_http(self, response: HttpResponse) -> None:
        if response.status != 200:
            raise SmsTransientError(f"HTTP {response.status} from report", gateway=self.gateway, code=response.status)


class _StatusPager:
    """The pages of one batch's status listing: which request comes next, and when to stop.

    With ``wanted_ids`` (all numeric, JSON API) the listing, newest first, starts at the highest
    wanted id and ends at the page that reaches the lowest; otherwise it ends as the API asks, on
    an empty page (it warns that a short page does not prove there are no more).
    """

    def __init__(self, api: BulkSmsEapi | BulkSmsJsonApi, batch_id: str, wanted_ids: Sequence[str]) -> None:
        self.api = api
        self.batch_id = batch_id
        ids = [int(i) for i in wanted_ids if i.isascii() and i.isdigit()]
        ranged = isinstance(api, BulkSmsJsonApi) and bool(ids) and len(ids) == len(wanted_ids)
        self.lowest = min(ids) if ranged else None
        self.cursor: str | None = str(max(ids) + 1) if ranged else None
        self.statuses: list[MessageStatus] = []
        self.done = False

    def next_request(self) -> HttpRequest | None:
        return None if self.done else self.api.status_request(self.batch_id, self.cursor)

    def parse(self, response: HttpResponse) -> StatusPage:
        return self.api.parse_status(response, batch_id=self.batch_id)

    def add(self, page: StatusPage) -> None:
        self.statuses.extend(page.statuses)
        self.cursor = page.next_cursor
        self.done = self.cursor is None or (self.lowest is not None and int(self.cursor) <= self.lowest)


def _wanted_ids(wanted: Sequence[MessageRef]) -> list[str]:
    """The message ids asked about, when every ref of the batch names one (else the whole batch is read)."""
    ids = [r.message_id for r in wanted if r.message_id]
    return ids if len(ids) == len(wanted) else []


def _refs_by_batch(refs: Sequence[MessageRef], gateway: str) -> dict[str, list[MessageRef]]:
    by_batch: dict[str, list[MessageRef]] = defaultdict(list)
    missing = [r for r in refs if not r.batch_id]
    if missing:
        raise SmsValidationError([Problem("messages", "BulkSMS statuses are read per batch: batch_id is required")],
                                 gateway=gateway)
    for ref in refs:
        by_batch[str(ref.batch_id)].append(ref)
    return by_batch


def _select(statuses: list[MessageStatus], batch_id: str, wanted: list[MessageRef]) -> list[MessageStatus]:
    """The statuses asked for; a message the gateway does not list yet (scheduled) is pending."""
    if any(r.recipient is None and r.message_id is None for r in wanted):
        return statuses
    by_key: dict[str, MessageStatus] = {}
    for status in statuses:  # asked for by message id or by recipient: index both
        for key in (status.message_id, status.recipient):
            if key:
                by_key.setdefault(key, status)
    return [
        by_key.get(ref.message_id or ref.recipient or "")
        or MessageStatus(DeliveryStatus.PENDING, recipient=ref.recipient, message_id=ref.message_id, batch_id=batch_id)
        for ref in wanted
    ]
