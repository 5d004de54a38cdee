"""BulkSMS JSON REST API v1 (``/v1/...``): the part the provider uses.

HTTP Basic auth on every route (401 problem JSON otherwise). Errors are "problem" objects
``{"type", "title", "status", "detail"}``.

* ``POST /v1/messages`` - body: one SubmissionEntry or a list. ``to`` is a number, a list, or
  ``{"type": "INTERNATIONAL", "address": ..., "fields": [...]}`` / ``{"type": "GROUP",
  "id"|"name": ...}`` objects. Query: ``deduplication-id`` (int32; a repeat within
  ``json_dedupe_window`` answers the original 201 body and sends nothing), ``auto-unicode``,
  ``schedule-date`` (ISO-8601 with offset, at most two years ahead), ``schedule-description``,
  ``longMessageMaxParts`` (the default for entries that do not set it, as in the vendor's PHP
  sample). Entries may set ``messageClass``, ``protocolId`` and use body templates
  (:mod:`.entries`). 201 with a list of Messages; 400 validation, 403 insufficient credits or
  daily quota. A form-encoded body (``to``, ``body``, ``deduplication-id``) is taken too.
* ``GET /v1/messages/send?to=..&body=..[&deduplication-id=..]`` - the vendor's "really simple"
  single-message send; answers like ``POST /v1/messages``.
* ``GET /v1/messages?filter=...&limit=N&sortOrder=ASCENDING`` - newest first unless
  ``sortOrder=ASCENDING``; at most 1000 messages (``limit`` default 1000). ``filter`` is the
  vendor's ``name=value`` clauses joined by ``&`` (see :mod:`.query`), e.g.
  ``submission.id=1-00000000000000012345`` then ``submission.id=...&id<<smallest id seen>``.
* ``GET /v1/messages/{id}`` and ``GET /v1/profile``.

Status types come from the same numeric outcome the EAPI reports: 10 SENT, 11 DELIVERED,
53 FAILED.EXPIRED, 51/57 FAILED.HANDSET_ERROR, 32/55 FAILED.BLOCKED, other failures
FAILED.NOT_SENT. ``ACCEPTED`` and ``SCHEDULED`` are "only returned for initial message
submissions" (the vendor's ``status.type``): the 201 answer says ACCEPTED (SCHEDULED for a future
``schedule-date``); later reads show a message still in progress as SENT and leave out one whose
scheduled time has not come (as the EAPI, where its status cannot be asked "until after it has
actually been sent"; ``GET /v1/messages/{id}`` answers 404 for it).
"""

from __future__ import annotations

import base64
import binascii
import json
from array import array
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_sms.simulator.bulksms.entries import fill_template, has_template, message_class, protocol_id
from airflow_provider_sms.simulator.bulksms.query import format_submission_id, parse_filter
from airflow_provider_sms.simulator.bulksms.state import (
    DAILY_QUOTA_EXCEEDED,
    AccountState,
    Batch,
    BulkSmsState,
    Content,
    ReportMode,
)
from airflow_provider_sms.simulator.bulksms.text import (
    binary_parts,
    decode_hex,
    is_gsm,
    normalize_msisdn,
    text_parts,
    unicode_parts,
)
from airflow_provider_sms.simulator.routes import Endpoint
from airflow_provider_sms.simulator.timeutil import MAX_SCHEDULE_AHEAD, iso_utc, parse_iso_with_offset

MESSAGES = "/v1/messages"
PROFILE = "/v1/profile"
PROBLEM_TYPE = "https://developer.bulksms.com/json/v1/errors#"
MAX_LIST_LIMIT = 1000
DEFAULT_MAX_PARTS = 3
_INT32 = (-(2**31), 2**31 - 1)
_ENCODING_TO_DCA = {"TEXT": "7bit", "UNICODE": "16bit", "BINARY": "8bit"}
_DCA_TO_ENCODING = {dca: encoding for encoding, dca in _ENCODING_TO_DCA.items()}
_REPORT_MODES: tuple[ReportMode, ...] = ("ALL", "ERRORS", "NONE")



class ProblemError(Exception):
    """An HTTP problem answer."""

    def __init__(self, status: int, title: str, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind

    def response(self, headers: dict[str, str] | None = None) -> Response:
        """The problem as a JSON response."""
        return problem(self.status, self.title, self.detail, self.kind, headers)


def problem(status: int, title: str, detail: str, kind: str, headers: dict[str, str] | None = None) -> Response:
    """A ``{"type", "title", "status", "detail"}`` answer."""
    body = {"type": PROBLEM_TYPE + kind, "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def bad_request(detail: str) -> ProblemError:
    """400: "The content or structure of your submission, or a parameter, was found to be invalid"."""
    return ProblemError(400, "Bad Request", detail, "bad-request")


def throttled() -> Response:
    """429 with a one-second ``Retry-After`` hint."""
    return problem(
        429, "Too Many Requests", "Rate limit exceeded, retry later", "too-many-requests", {"Retry-After": "1"}
    )


def json_status(code: int | None) -> tuple[str, str | None]:
    """JSON ``status.type`` and ``status.subtype`` for an EAPI status code (None = scheduled)."""
    if code is None:
        return "SCHEDULED", None
    if code == 0:
        return "ACCEPTED", None
    if code in (10, 12) or 60 <= code <= 64:
        return "SENT", None
    if code == 11:
        return "DELIVERED", None
    if code == 70:
        return "UNKNOWN", None
    if code == 53:
        return "FAILED", "EXPIRED"
    if code in (51, 57):
        return "FAILED", "HANDSET_ERROR"
    if code in (32, 55):
        return "FAILED", "BLOCKED"
    return "FAILED", "NOT_SENT"


def message_json(batch: Batch, index: int, now: float, *, in_submission: bool = False) -> dict[str, Any]:
    """The JSON API ``Message`` object for recipient ``index`` of ``batch``.

    ``in_submission``: as in the 201 answer, where (per the vendor) ``numberOfParts`` and
    ``creditCost`` "do not have a value"; later reads carry them.
    """
    content = batch.content(index)
    code = batch.status(index, now)
    if not in_submission and code == 0:
        code = 10  # ACCEPTED is for the submission answer only; in progress reads as SENT
    kind, subtype = json_status(code)
    return {
        "id": str(batch.message_id(index)),
        "type": "SENT",
        "from": content.sender,
        "to": batch.msisdns[index],
        "body": content.text,
        "encoding": _DCA_TO_ENCODING.get(content.dca, "TEXT"),
        "protocolId": content.protocol_id,
        "messageClass": content.message_class,
        "numberOfParts": None if in_submission else content.parts,
        "creditCost": None if in_submission else float(content.parts),
        "submission": {"id": format_submission_id(batch.batch_id), "date": iso_utc(batch.created_at)},
        "status": {"id": f"{kind}.{subtype or 'null'}", "type": kind, "subtype": subtype},
        "relatedSentMessageId": None,
        "userSuppliedId": content.user_supplied_id,
    }


class JsonApi:
    """Route handlers of the JSON API, over a shared :class:`BulkSmsState`."""

    def __init__(self, state: BulkSmsState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        """Starlette routes."""
        return [
            Route(MESSAGES, self._guard(self.post_messages), methods=["POST"]),
            Route(MESSAGES, self._guard(self.list_messages), methods=["GET"]),
            Route(MESSAGES + "/send", self._guard(self.simple_send), methods=["GET"]),
            Route(MESSAGES + "/{message_id}", self._guard(self.get_message), methods=["GET"]),
            Route(PROFILE, self._guard(self.profile), methods=["GET"]),
        ]

    def _guard(self, handler: Callable[[Request, AccountState], Awaitable[Response]]) -> Endpoint:
        """Authenticate, then call ``handler``; problems become JSON answers."""

        async def endpoint(request: Request) -> Response:
            account = self._authenticate(request.headers.get("authorization", ""))
            if account is None:
                return problem(
                    401,
                    "Authentication Failed",
                    "Invalid username or password",
                    "authentication-failed",
                    {"WWW-Authenticate": 'Basic realm="BulkSMS"'},
                )
            try:
                return await handler(request, account)
            except ProblemError as exc:
                return exc.response()

        return endpoint

    def _authenticate(self, header: str) -> AccountState | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.state.authenticate(username, password)

    # -- POST /v1/messages ----------------------------------------------------------------------

    async def post_messages(self, request: Request, account: AccountState) -> Response:
        """Submit messages: a JSON body, or the simple form-encoded ``to``/``body``."""
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return self._submit(account, {**request.query_params, **form}, [_simple_entry(form)])
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise bad_request("the body is not valid JSON") from None
        entries = payload if isinstance(payload, list) else [payload]
        if not entries or not all(isinstance(entry, dict) for entry in entries):
            raise bad_request("the body must be a SubmissionEntry object or a non-empty list of them")
        return self._submit(account, request.query_params, entries)

    async def simple_send(self, request: Request, account: AccountState) -> Response:
        """``GET /v1/messages/send?to=..&body=..``: one message, the URI read as UTF-8."""
        query = request.query_params
        return self._submit(account, query, [_simple_entry(query)])

    def _submit(self, account: AccountState, query: Mapping[str, str], entries: list[Any]) -> Response:
        dedupe_id = _int32(query.get("deduplication-id"), "deduplication-id")
        if dedupe_id is not None:
            original = self.state.recall_json(account, dedupe_id)
            if original is not None:
                return Response(original, status_code=201, media_type="application/json")
        auto_unicode = query.get("auto-unicode", "false").lower() == "true"
        default_parts = _positive(query.get("longMessageMaxParts", DEFAULT_MAX_PARTS), "longMessageMaxParts")
        now = self.state.clock.now()
        send_at = _schedule(query.get("schedule-date"), now)

        msisdns: list[str] = []
        contents: list[Content] = []
        owners = array("I")
        modes: set[str] = set()
        for position, entry in enumerate(entries):
            entry_contents, numbers, mode = self._entry(entry, position, auto_unicode, default_parts)
            distinct = list(dict.fromkeys(entry_contents))
            at = {c: len(contents) + i for i, c in enumerate(distinct)}
            contents.extend(distinct)
            owners.extend(at[c] for c in entry_contents)
            msisdns.extend(numbers)
            modes.add(mode)
            if len(msisdns) > self.state.config.max_batch_size:
                raise bad_request(f"too many messages: at most {self.state.config.max_batch_size} per request")
        report_mode = next(mode for mode in _REPORT_MODES if mode in modes)  # the most inclusive wins

        result = self.state.record(
            account,
            api="json",
            msisdns=msisdns,
            contents=contents,
            content_index=None if len(contents) == 1 else owners,
            send_at=send_at,
            report_mode=report_mode,
        )
        if isinstance(result, int):
            if result == DAILY_QUOTA_EXCEEDED:
                raise ProblemError(403, "Quota Exceeded", "Daily quota exceeded", "quota-exceeded")
            raise ProblemError(403, "Insufficient Credits", "You do not have enough credits", "insufficient-credits")
        # Statuses as at acceptance: ACCEPTED, or SCHEDULED for a future schedule-date.
        accepted = result.created_at
        messages = [message_json(result, i, accepted, in_submission=True) for i in range(len(msisdns))]
        body = json.dumps(messages).encode("utf-8")
        if dedupe_id is not None:
            self.state.remember_json(account, dedupe_id, body)
        return Response(body, status_code=201, media_type="application/json")

    def _entry(self, entry: dict[str, Any], position: int, auto_unicode: bool,
               default_parts: int) -> tuple[list[Content], list[str], str]:
        """One Content per recipient (the same object for all unless a body template differs) and the numbers."""
        where = f"entry {position}: "
        recipients = self._recipients(entry.get("to"), where)
        body = entry.get("body")
        if not isinstance(body, str) or not body:
            raise bad_request(where + "body must be a non-empty string")
        encoding = entry.get("encoding", "TEXT")
        if encoding not in _ENCODING_TO_DCA:
            raise bad_request(where + "encoding must be TEXT, UNICODE or BINARY")
        max_parts = _positive(entry.get("longMessageMaxParts", default_parts), where + "longMessageMaxParts")
        klass, pid = message_class(entry.get("messageClass")), protocol_id(entry.get("protocolId"))
        if klass is None:
            raise bad_request(where + "messageClass must be 0-3 or FLASH_SMS, ME_SPECIFIC, SIM_SPECIFIC, TE_SPECIFIC")
        if pid is None:
            raise bad_request(where + "protocolId must be 0-255 or one of the documented names")
        user_id = entry.get("userSuppliedId")
        if user_id is not None and (not isinstance(user_id, str) or len(user_id) > 20):
            raise bad_request(where + "userSuppliedId must be a string of at most 20 characters")
        mode = entry.get("deliveryReports", "ALL")
        if mode not in _REPORT_MODES:
            raise bad_request(where + "deliveryReports must be ALL, ERRORS or NONE")
        routing = entry.get("routingGroup", "STANDARD")
        if routing not in ("ECONOMY", "STANDARD", "PREMIUM"):
            raise bad_request(where + "routingGroup must be ECONOMY, STANDARD or PREMIUM")
        sender = _sender(entry.get("from"), where)

        def content(text: str) -> Content:
            kind = encoding
            if kind == "TEXT" and not is_gsm(text):
                if auto_unicode:
                    kind = "UNICODE"
                else:
                    # The vendor: "non-GSM 03.38 characters will be replaced by the ? character".
                    text = "".join(char if is_gsm(char) else "?" for char in text)
            if kind == "BINARY":
                octets = decode_hex(text)
                if octets is None:
                    raise bad_request(where + "a BINARY body must be hex octets")
                parts = binary_parts(len(octets))
            else:
                parts = text_parts(text) if kind == "TEXT" else unicode_parts(text)
            if parts > max_parts:
                raise bad_request(where + f"the body needs {parts} parts, more than longMessageMaxParts={max_parts}")
            return Content(text, _ENCODING_TO_DCA[kind], parts, sender, user_id, klass, pid)

        numbers = [number for number, _ in recipients]
        if encoding == "BINARY" or not has_template(body):
            shared = content(body)
            return [shared] * len(numbers), numbers, mode
        filled: dict[str, Content] = {}  # recipients whose filled bodies are alike share one Content
        per_recipient = []
        for _, fields in recipients:
            text = fill_template(body, fields)
            if text not in filled:
                filled[text] = content(text)
            per_recipient.append(filled[text])
        return per_recipient, numbers, mode

    def _recipients(self, to: Any, where: str) -> list[tuple[str, tuple[str, ...]]]:
        """Each number with its template ``fields`` (group members have none)."""
        items = to if isinstance(to, list) else [to]
        if to is None or not items:
            raise bad_request(where + "'to' is required")
        numbers: list[tuple[str, tuple[str, ...]]] = []
        for item in items:
            if isinstance(item, str):
                numbers.append((_number(item, where), ()))
            elif isinstance(item, dict) and item.get("type", "INTERNATIONAL") == "INTERNATIONAL":
                fields = item.get("fields", [])
                if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                    raise bad_request(where + "'fields' must be a list of strings")
                numbers.append((_number(item.get("address"), where), tuple(fields)))
            elif isinstance(item, dict) and item.get("type") == "GROUP":
                numbers.extend((member, ()) for member in self._group_members(item, where))
            else:
                raise bad_request(where + "each 'to' must be a number or an INTERNATIONAL/GROUP address")
        return numbers

    def _group_members(self, item: dict[str, Any], where: str) -> tuple[str, ...]:
        # Members are resolved now, at submission, as the vendor does.
        if "id" in item:
            try:
                group = self.state.group(group_id=int(item["id"]))
            except (TypeError, ValueError):
                raise bad_request(where + "a group id must be an integer") from None
        else:
            group = self.state.group(name=str(item.get("name")))
        if group is None:
            raise bad_request(where + "unknown group")
        return group.members

    # -- GET /v1/messages -----------------------------------------------------------------------

    async def list_messages(self, request: Request, account: AccountState) -> Response:
        """Messages of the account matching ``filter``, newest first (or oldest with ``sortOrder``)."""
        query = request.query_params
        try:
            limit = min(int(query.get("limit", str(MAX_LIST_LIMIT))), MAX_LIST_LIMIT)
        except ValueError:
            raise bad_request("limit must be an integer") from None
        if limit < 1:
            raise bad_request("limit must be positive")
        ascending = query.get("sortOrder", "DESCENDING").upper() == "ASCENDING"
        try:
            wanted = parse_filter(query.get("filter", ""))
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        if wanted.received_only:
            return JSONResponse([])  # inbound messages are only served by the EAPI inbox here
        if wanted.submission is not None:
            batch = self.state.batch(wanted.submission, account.username)
            batches = [] if batch is None else [batch]
        else:
            batches = self.state.batches(account.username)
        now = self.state.clock.now()
        found: list[dict[str, Any]] = []
        for batch in batches if ascending else reversed(batches):
            # Message ids are contiguous within a batch, so id bounds become an index range.
            start = max(0, wanted.id_low - batch.first_message_id)
            stop = min(len(batch.msisdns), wanted.id_high - batch.first_message_id)
            indices = range(start, stop) if ascending else range(stop - 1, start - 1, -1)
            if now < batch.send_at:
                continue  # not sent yet: no status to read before it is (see the module docstring)
            for index in indices:
                message = message_json(batch, index, now)
                if wanted.accepts(message, batch.created_at):
                    found.append(message)
                    if len(found) >= limit:
                        return JSONResponse(found)
        return JSONResponse(found)

    async def get_message(self, request: Request, account: AccountState) -> Response:
        """One message by id."""
        raw = request.path_params["message_id"]
        hit = self.state.find_message(int(raw)) if raw.isdigit() else None
        now = self.state.clock.now()
        if hit is None or hit[0].username != account.username or now < hit[0].send_at:
            raise ProblemError(404, "Not Found", f"No message with id {raw}", "not-found")
        return JSONResponse(message_json(hit[0], hit[1], now))

    async def profile(self, request: Request, account: AccountState) -> Response:
        """The account profile with its credit balance."""
        return JSONResponse(
            {
                "id": str(self.state.usernames().index(account.username) + 1),
                "username": account.username,
                "created": iso_utc(self.state.created_at),
                "credits": {"balance": round(account.balance, 2), "isTransferAllowed": False},
                "quota": self._quota(account),
            }
        )

    def _quota(self, account: AccountState) -> dict[str, int]:
        size = account.account.daily_quota
        if size is None:
            return {"size": 0, "remaining": 0}  # 0: no quota configured
        spent = account.spent_by_day.get(int(self.state.clock.now() // 86400), 0.0)
        return {"size": int(size), "remaining": max(0, int(size - spent))}


# -- helpers --------------------------------------------------------------------------------------


def _number(raw: Any, where: str) -> str:
    number = normalize_msisdn(raw) if isinstance(raw, str) else None
    if number is None:
        raise bad_request(where + f"{raw!r} is not an international number (7-15 digits)")
    return number


def _sender(raw: Any, where: str) -> str | None:
    """Validate ``from`` as the vendor describes it; None when BulkSMS picks the sender."""
    if raw is None or raw == "":
        return None
    kind: Any
    address: Any
    if isinstance(raw, str):
        # "If the value does not begin with a + and it contains at least one character that is not
        # a digit, the type is detected as ALPHANUMERIC. Otherwise ... INTERNATIONAL."
        kind = "ALPHANUMERIC" if not raw.startswith("+") and not raw.isdigit() else "INTERNATIONAL"
        address = raw
    elif isinstance(raw, dict):
        kind, address = raw.get("type"), raw.get("address")
        if kind == "REPLIABLE":
            return None
    else:
        raise bad_request(where + "'from' must be a string or an address object")
    if not isinstance(address, str) or not address:
        raise bad_request(where + "'from' needs an address")
    digits = address[1:] if address.startswith("+") else address
    if kind == "INTERNATIONAL" and not (digits.isdigit() and 6 < len(digits) <= 15):
        raise bad_request(where + "an INTERNATIONAL 'from' has 7 to 15 digits")
    if kind == "SHORTCODE" and not (address.isdigit() and len(address) <= 6):
        raise bad_request(where + "a SHORTCODE 'from' has at most 6 digits")
    if kind == "ALPHANUMERIC" and len(address) > 11:
        raise bad_request(where + "an ALPHANUMERIC 'from' has at most 11 characters")
    if kind not in ("INTERNATIONAL", "SHORTCODE", "ALPHANUMERIC"):
        raise bad_request(where + "'from.type' must be INTERNATIONAL, ALPHANUMERIC, SHORTCODE or REPLIABLE")
    return address


def _simple_entry(fields: Mapping[str, str]) -> dict[str, Any]:
    """The SubmissionEntry of the simple send (``to`` and ``body`` fields, both required)."""
    to, body = fields.get("to"), fields.get("body")
    if not to:
        raise bad_request("'to' is required")
    if not body:
        raise bad_request("body must be a non-empty string")
    return {"to": to, "body": body}


def _positive(raw: Any, name: str) -> int:
    """A positive integer from JSON (an int) or a query string (digits)."""
    value = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else raw
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad_request(f"{name} must be a positive integer")
    return value


def _int32(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None
    if not _INT32[0] <= value <= _INT32[1]:
        raise bad_request(f"{name} must fit in 32 bits")
    return value


def _schedule(raw: str | None, now: float) -> float:
    if not raw:
        return now
    try:
        when = parse_iso_with_offset(raw)
    except ValueError:
        raise bad_request("schedule-date must be ISO-8601 with a UTC offset") from None
    if when - now > MAX_SCHEDULE_AHEAD:
        raise bad_request("schedule-date more than two years ahead")
    return max(when, now)
