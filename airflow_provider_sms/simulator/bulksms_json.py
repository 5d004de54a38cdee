"""BulkSMS JSON REST API v1 (``/v1/...``): the part the provider uses.

HTTP Basic auth on every route (401 problem JSON otherwise). Errors are "problem" objects
``{"type", "title", "status", "detail"}``.

* ``POST /v1/messages`` - body: one SubmissionEntry or a list. ``to`` is a number, a list, or
  ``{"type": "INTERNATIONAL", "address": ...}`` / ``{"type": "GROUP", "id"|"name": ...}``
  objects. Query: ``deduplication-id`` (int32; a repeat within ``json_dedupe_window`` answers
  the original 201 body and sends nothing), ``auto-unicode``, ``schedule-date`` (ISO-8601 with
  offset, at most two years ahead), ``schedule-description``. 201 with a list of Messages;
  400 validation, 403 insufficient credits or daily quota.
* ``GET /v1/messages?filter=...&limit=N`` - newest first, ``limit`` 1..1000 (default 1000).
  ``filter`` is a ``;``-separated conjunction of ``field op value``: ``submission.id==X``,
  ``id`` with ``== < <= > >=``, ``status.type`` with ``== !=``. Page by repeating the query with
  ``;id<`` the smallest id received so far.
* ``GET /v1/messages/{id}`` and ``GET /v1/profile``.

Status types come from the same numeric outcome the EAPI reports: 0 ACCEPTED, 10 SENT,
11 DELIVERED, 53 FAILED.EXPIRED, 51/57 FAILED.HANDSET_ERROR, 32/55 FAILED.BLOCKED, other failures
FAILED.NOT_SENT; a message whose scheduled time has not come is SCHEDULED.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_sms.simulator.bulksms_state import (
    DAILY_QUOTA_EXCEEDED,
    AccountState,
    Batch,
    BulkSmsState,
    Content,
    ReportMode,
)
from airflow_provider_sms.simulator.bulksms_text import (
    binary_parts,
    decode_hex,
    is_gsm,
    normalize_msisdn,
    text_parts,
    unicode_parts,
)
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
_CONDITION = re.compile(r"^\s*(submission\.id|id|status\.type)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$")

Endpoint = Callable[[Request], Awaitable[Response]]


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
    """400 validation failure."""
    return ProblemError(400, "Validation Failed", detail, "validation")


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


def message_json(batch: Batch, index: int, now: float) -> dict[str, Any]:
    """The JSON API ``Message`` object for recipient ``index`` of ``batch``."""
    content = batch.content(index)
    kind, subtype = json_status(batch.status(index, now))
    return {
        "id": str(batch.message_id(index)),
        "type": "SENT",
        "from": content.sender,
        "to": batch.msisdns[index],
        "body": content.text,
        "encoding": _DCA_TO_ENCODING.get(content.dca, "TEXT"),
        "protocolId": 0,
        "messageClass": 2,
        "numberOfParts": content.parts,
        "creditCost": float(content.parts),
        "submission": {"id": str(batch.batch_id), "date": iso_utc(batch.created_at)},
        "status": {"id": f"{kind}.{subtype or 'null'}", "type": kind, "subtype": subtype},
        "relatedSentMessageId": None,
        "userSuppliedId": content.user_supplied_id,
    }


@dataclass
class _Condition:
    field: str
    op: str
    value: str


class JsonApi:
    """Route handlers of the JSON API, over a shared :class:`BulkSmsState`."""

    def __init__(self, state: BulkSmsState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        """Starlette routes."""
        return [
            Route(MESSAGES, self._guard(self.post_messages), methods=["POST"]),
            Route(MESSAGES, self._guard(self.list_messages), methods=["GET"]),
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
        """Submit messages."""
        query = request.query_params
        dedupe_id = _int32(query.get("deduplication-id"), "deduplication-id")
        if dedupe_id is not None:
            original = self.state.recall_json(account, dedupe_id)
            if original is not None:
                return Response(original, status_code=201, media_type="application/json")
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise bad_request("the body is not valid JSON") from None
        entries = payload if isinstance(payload, list) else [payload]
        if not entries or not all(isinstance(entry, dict) for entry in entries):
            raise bad_request("the body must be a SubmissionEntry object or a non-empty list of them")
        auto_unicode = query.get("auto-unicode", "false").lower() == "true"
        if len(query.get("schedule-description", "")) > 256:
            raise bad_request("schedule-description longer than 256 characters")
        now = self.state.clock.now()
        send_at = _schedule(query.get("schedule-date"), now)

        msisdns: list[str] = []
        contents: list[Content] = []
        owners = array("I")
        modes: set[str] = set()
        for position, entry in enumerate(entries):
            content, numbers, mode = self._entry(entry, position, auto_unicode)
            contents.append(content)
            msisdns.extend(numbers)
            owners.extend([position] * len(numbers))
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
        body = json.dumps([message_json(result, i, accepted) for i in range(len(msisdns))]).encode("utf-8")
        if dedupe_id is not None:
            self.state.remember_json(account, dedupe_id, body)
        return Response(body, status_code=201, media_type="application/json")

    def _entry(self, entry: dict[str, Any], position: int, auto_unicode: bool) -> tuple[Content, list[str], str]:
        where = f"entry {position}: "
        numbers = self._recipients(entry.get("to"), where)
        body = entry.get("body")
        if not isinstance(body, str) or not body:
            raise bad_request(where + "body must be a non-empty string")
        encoding = entry.get("encoding", "TEXT")
        if encoding not in _ENCODING_TO_DCA:
            raise bad_request(where + "encoding must be TEXT, UNICODE or BINARY")
        if encoding == "TEXT" and auto_unicode and not is_gsm(body):
            encoding = "UNICODE"
        max_parts = entry.get("longMessageMaxParts", DEFAULT_MAX_PARTS)
        if not isinstance(max_parts, int) or isinstance(max_parts, bool) or max_parts < 1:
            raise bad_request(where + "longMessageMaxParts must be a positive integer")
        if encoding == "BINARY":
            octets = decode_hex(body)
            if octets is None:
                raise bad_request(where + "a BINARY body must be hex octets")
            parts = binary_parts(len(octets))
        else:
            parts = text_parts(body) if encoding == "TEXT" else unicode_parts(body)
        if parts > max_parts:
            raise bad_request(where + f"the body needs {parts} parts, more than longMessageMaxParts={max_parts}")
        user_id = entry.get("userSuppliedId")
        if user_id is not None and (not isinstance(user_id, str) or len(user_id) > 20):
            raise bad_request(where + "userSuppliedId must be a string of at most 20 characters")
        mode = entry.get("deliveryReports", "ALL")
        if mode not in _REPORT_MODES:
            raise bad_request(where + "deliveryReports must be ALL, ERRORS or NONE")
        routing = entry.get("routingGroup", "STANDARD")
        if routing not in ("ECONOMY", "STANDARD", "PREMIUM"):
            raise bad_request(where + "routingGroup must be ECONOMY, STANDARD or PREMIUM")
        content = Content(body, _ENCODING_TO_DCA[encoding], parts, _sender(entry.get("from"), where), user_id)
        return content, numbers, mode

    def _recipients(self, to: Any, where: str) -> list[str]:
        items = to if isinstance(to, list) else [to]
        if to is None or not items:
            raise bad_request(where + "'to' is required")
        numbers: list[str] = []
        for item in items:
            if isinstance(item, str):
                numbers.append(_number(item, where))
            elif isinstance(item, dict) and item.get("type", "INTERNATIONAL") == "INTERNATIONAL":
                numbers.append(_number(item.get("address"), where))
            elif isinstance(item, dict) and item.get("type") == "GROUP":
                numbers.extend(self._group_members(item, where))
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
        """Messages of the account, newest first, filtered."""
        try:
            limit = int(request.query_params.get("limit", str(MAX_LIST_LIMIT)))
        except ValueError:
            raise bad_request("limit must be an integer") from None
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise bad_request(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        conditions = _parse_filter(request.query_params.get("filter", ""))
        low, high = 0, 2**63
        submission: int | None = None
        statuses: list[_Condition] = []
        for cond in conditions:
            if cond.field == "submission.id":
                submission = _int_value(cond)
            elif cond.field == "id":
                value = _int_value(cond)
                if cond.op in ("==", ">="):
                    low = max(low, value)
                if cond.op in ("==", "<="):
                    high = min(high, value + 1)
                if cond.op == ">":
                    low = max(low, value + 1)
                if cond.op == "<":
                    high = min(high, value)
            else:
                statuses.append(cond)
        if submission is not None:
            batch = self.state.batch(submission, account.username)
            batches = [] if batch is None else [batch]
        else:
            batches = self.state.batches(account.username)
        now = self.state.clock.now()
        found: list[dict[str, Any]] = []
        for batch in reversed(batches):
            first = batch.first_message_id
            start = max(0, low - first)
            stop = min(len(batch.msisdns), high - first)
            for index in range(stop - 1, start - 1, -1):
                message = message_json(batch, index, now)
                if all(_status_matches(message, cond) for cond in statuses):
                    found.append(message)
                    if len(found) >= limit:
                        return JSONResponse(found)
        return JSONResponse(found)

    async def get_message(self, request: Request, account: AccountState) -> Response:
        """One message by id."""
        raw = request.path_params["message_id"]
        hit = self.state.find_message(int(raw)) if raw.isdigit() else None
        if hit is None or hit[0].username != account.username:
            raise ProblemError(404, "Not Found", f"No message with id {raw}", "not-found")
        return JSONResponse(message_json(hit[0], hit[1], self.state.clock.now()))

    async def profile(self, request: Request, account: AccountState) -> Response:
        """The account profile with its credit balance."""
        return JSONResponse(
            {
                "id": str(self.state.usernames().index(account.username) + 1),
                "username": account.username,
                "credits": {"balance": round(account.balance, 2), "isTransferAllowed": False},
            }
        )


# -- helpers --------------------------------------------------------------------------------------


def _number(raw: Any, where: str) -> str:
    number = normalize_msisdn(raw) if isinstance(raw, str) else None
    if number is None:
        raise bad_request(where + f"{raw!r} is not an international number (7-15 digits)")
    return number


def _sender(raw: Any, where: str) -> str | None:
    if isinstance(raw, dict):
        if raw.get("type") == "REPLIABLE":
            return None
        raw = raw.get("address")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise bad_request(where + "'from' must be a string or an address object")
    numeric = raw[1:] if raw.startswith("+") else raw
    if numeric.isdigit() and len(numeric) > 15:
        raise bad_request(where + "numeric 'from' longer than 15 digits")
    if not numeric.isdigit() and len(raw) > 11:
        raise bad_request(where + "alphanumeric 'from' longer than 11 characters")
    return raw


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


def _parse_filter(text: str) -> list[_Condition]:
    conditions = []
    for clause in filter(None, (part.strip() for part in text.split(";"))):
        match = _CONDITION.match(clause)
        if match is None:
            raise bad_request(f"unsupported filter condition {clause!r}")
        cond = _Condition(*match.groups())
        if cond.field == "submission.id" and cond.op != "==":
            raise bad_request("submission.id supports == only")
        if cond.field == "id" and cond.op == "!=":
            raise bad_request("id supports == < <= > >= only")
        if cond.field == "status.type" and cond.op not in ("==", "!="):
            raise bad_request("status.type supports == and != only")
        conditions.append(cond)
    return conditions


def _int_value(cond: _Condition) -> int:
    try:
        return int(cond.value)
    except ValueError:
        raise bad_request(f"{cond.field} must be compared with an integer") from None


def _status_matches(message: dict[str, Any], cond: _Condition) -> bool:
    equal = message["status"]["type"] == cond.value
    return equal if cond.op == "==" else not equal
