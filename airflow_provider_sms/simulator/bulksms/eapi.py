"""BulkSMS legacy HTTP "EAPI" (``/eapi/...``), as documented by the vendor.

Requests carry form parameters encoded in ISO-8859-1 (GET is accepted like the vendor does, but
every request is logged with its method so tests can insist on POST). Answers are ``text/plain``
lines ``status_code|status_description|batch_id``.

Check order for submissions: credentials (23) -> ``stop_dup_id`` replay -> validation (24, 201)
-> ``test_always_fail`` (22) / ``test_always_succeed`` -> credits (25) and daily quota (27).
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from airflow_provider_sms.simulator.bulksms.batch_csv import parse_batch_data
from airflow_provider_sms.simulator.bulksms.state import (
    DAILY_QUOTA_EXCEEDED,
    FINAL,
    AccountState,
    Batch,
    BulkSmsState,
    Content,
    ReportMode,
)
from airflow_provider_sms.simulator.bulksms.text import (
    SINGLE_OCTETS,
    SINGLE_TEXT_CHARS,
    binary_parts,
    decode_hex,
    escape_line,
    gsm_length,
    normalize_msisdn,
    text_parts,
)
from airflow_provider_sms.simulator.routes import Endpoint
from airflow_provider_sms.simulator.timeutil import MAX_SCHEDULE_AHEAD, format_local, parse_local

SEND_SMS = "/eapi/submission/send_sms/2/2.0"
SEND_BATCH = "/eapi/submission/send_batch/1/1.0"
QUOTE_SMS = "/eapi/submission/quote_sms/2/2.0"
GET_REPORT = "/eapi/status_reports/get_report/2/2.0"
GET_CREDITS = "/eapi/user/get_credits/1/1.1"
GET_INBOX = "/eapi/reception/get_inbox/1/1.1"

THROTTLED_ANSWER = "40|Temporarily unavailable|"
OPTIONAL_FIELDS = ("body", "completed_time", "created_time", "credits", "origin_address", "source_id")
MAX_INBOX_RECORDS = 1000
_REPORT_CHUNK = 5000  # report lines per streamed chunk
_MAX_STOP_DUP_ID = 2147483647

Params = dict[str, str]


class EapiError(Exception):
    """A non-success EAPI answer."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def line(self) -> str:
        """The answer line, e.g. ``24|no message|``."""
        return f"{self.code}|{self.description}|"


def invalid(reason: str) -> EapiError:
    """Code 24, data validation failed."""
    return EapiError(24, reason)


def text_response(body: str) -> Response:
    """A plain-text EAPI answer in ISO-8859-1."""
    return Response(body.encode("latin-1", "replace"), media_type="text/plain; charset=ISO-8859-1")


@dataclass
class SmsPlan:
    """A validated submission, ready to be charged and recorded."""

    msisdns: list[str]
    contents: list[Content]
    content_index: array[int] | None
    send_at: float
    source_id: str | None
    report_mode: ReportMode

    @property
    def cost(self) -> float:
        """Credits it costs: one per part per recipient."""
        if self.content_index is None:
            return float(self.contents[0].parts * len(self.msisdns))
        return float(sum(self.contents[i].parts for i in self.content_index))


class Eapi:
    """Route handlers of the EAPI, over a shared :class:`BulkSmsState`."""

    def __init__(self, state: BulkSmsState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        """Starlette routes (GET and POST, like the vendor)."""
        handlers: dict[str, Callable[[Params], Response]] = {
            SEND_SMS: self.send_sms,
            SEND_BATCH: self.send_batch,
            QUOTE_SMS: self.quote_sms,
            GET_REPORT: self.get_report,
            GET_CREDITS: self.get_credits,
            GET_INBOX: self.get_inbox,
        }
        return [Route(path, _endpoint(handler), methods=["GET", "POST"]) for path, handler in handlers.items()]

    # -- operations -----------------------------------------------------------------------------

    def send_sms(self, params: Params) -> Response:
        """``send_sms``: one text to numbers and/or groups."""
        return self._submit(params, lambda account: self.plan_sms(account, params))

    def send_batch(self, params: Params) -> Response:
        """``send_batch``: one message per CSV line."""
        return self._submit(params, lambda account: self.plan_batch(account, params))

    def quote_sms(self, params: Params) -> Response:
        """``quote_sms``: validate like send_sms, answer the cost, send nothing."""
        try:
            account = self._authenticate(params)
            plan = self.plan_sms(account, params)
        except EapiError as exc:
            return text_response(exc.line())
        return text_response(f"0|Quotation issued|{plan.cost}")

    def get_credits(self, params: Params) -> Response:
        """``get_credits``: ``0|<balance>``."""
        try:
            account = self._authenticate(params)
        except EapiError as exc:
            return text_response(exc.line())
        return text_response(f"0|{account.balance:.2f}")

    def get_inbox(self, params: Params) -> Response:
        """``get_inbox``: inbound messages after ``last_retrieved_id``."""
        try:
            account = self._authenticate(params)
            after = _int(params, "last_retrieved_id", None, 0, None)
        except EapiError as exc:
            return text_response(exc.line())
        records = self.state.inbox(account.username, after, MAX_INBOX_RECORDS)
        lines = [f"0|records to follow|{len(records)}"]
        for record in records:
            try:
                record.text.encode("latin-1")
                body, encoding = escape_line(record.text), "7bit"
            except UnicodeEncodeError:
                body, encoding = record.text.encode("utf-16-be").hex().upper(), "16bit"
            received = format_local(record.received_at, account.account.time_zone)
            lines.append(
                f"{record.msg_id}|{record.sender}|{body}|{received}|{record.msisdn}|{record.referring_batch_id}|{encoding}"
            )
        return text_response("\n".join(lines) + "\n")

    def get_report(self, params: Params) -> Response:
        """``get_report``: per-recipient statuses of one batch, streamed."""
        try:
            account = self._authenticate(params)
            batch_id = _int(params, "batch_id", None, 1, None)
            batch = self.state.batch(batch_id, account.username)
            if batch is None:
                raise invalid(f"unknown batch_id {batch_id}")
            fields = [f.strip() for f in params.get("optional_fields", "").split(",") if f.strip()]
            unknown = [f for f in fields if f not in OPTIONAL_FIELDS]
            if unknown:
                raise invalid(f"unknown optional_fields: {','.join(unknown)}")
            only: str | None = None
            if params.get("msisdn", "").strip():
                only = normalize_msisdn(params["msisdn"])
                if only is None:
                    raise invalid("msisdn must be 7-15 digits")
        except EapiError as exc:
            return text_response(exc.line())
        head = f"0|{self.state.config.report_first_line}\n\n"
        lines = _report_lines(batch, self.state.clock.now(), fields, only)
        return StreamingResponse(_encoded(head, lines), media_type="text/plain; charset=ISO-8859-1")

    # -- validation -----------------------------------------------------------------------------

    def plan_sms(self, account: AccountState, params: Params) -> SmsPlan:
        """Validate a send_sms/quote_sms request (raises :class:`EapiError`)."""
        message = params.get("message", "")
        if not message:
            raise invalid("no message")
        sender = _sender(params)
        content = _content(message, params, sender)
        msisdns = self._recipients(params)
        return SmsPlan(
            msisdns,
            [content],
            None,
            _send_at(params, account, self.state.clock.now()),
            _source_id(params),
            _report_mode(params),
        )

    def plan_batch(self, account: AccountState, params: Params) -> SmsPlan:
        """Validate a send_batch request; unreadable or invalid lines are skipped."""
        data = params.get("batch_data", "")
        if not data.strip():
            raise invalid("no batch_data")
        sender = _sender(params)
        header, rows, _ = parse_batch_data(data)
        if "msisdn" not in header or "message" not in header:
            raise invalid("batch_data header must name the msisdn and message columns")
        number_col, message_col = header.index("msisdn"), header.index("message")
        width = max(number_col, message_col) + 1
        msisdns: list[str] = []
        contents: list[Content] = []
        for row in rows:
            if len(row) < width:
                continue
            number = normalize_msisdn(row[number_col])
            if number is None or not row[message_col]:
                continue
            try:
                contents.append(_content(row[message_col], params, sender))
            except EapiError:
                continue
            msisdns.append(number)
        if not msisdns:
            raise invalid("batch_data has no valid lines")
        if len(msisdns) > self.state.config.max_batch_size:
            raise EapiError(201, "Maximum batch size exceeded")
        return SmsPlan(
            msisdns,
            contents,
            array("I", range(len(contents))),
            _send_at(params, account, self.state.clock.now()),
            _source_id(params),
            _report_mode(params),
        )

    def _recipients(self, params: Params) -> list[str]:
        raw_numbers = [n for n in params.get("msisdn", "").split(",") if n.strip()]
        raw_groups = [g for g in params.get("dest_group_id", "").split(",") if g.strip()]
        if not raw_numbers and not raw_groups:
            raise invalid("either msisdn or dest_group_id is required")
        numbers: list[str] = []
        bad: list[str] = []
        for raw in raw_numbers:
            number = normalize_msisdn(raw)
            if number is None:
                bad.append(raw.strip())
            else:
                numbers.append(number)
        if bad:
            raise invalid(f"invalid msisdn: {','.join(bad[:5])}")
        unique = list(dict.fromkeys(numbers))
        if len(unique) != len(numbers) and not _flag(params, "strip_dup_recipients"):
            raise invalid("duplicate recipients (set strip_dup_recipients=1 to drop them)")
        # Group members are resolved now (at submission); they never count as duplicates.
        seen = set(unique)
        for raw in raw_groups:
            try:
                group = self.state.group(int(raw))
            except ValueError:
                group = None
            if group is None:
                raise invalid(f"unknown dest_group_id {raw.strip()}")
            for member in group.members:
                if member not in seen:
                    seen.add(member)
                    unique.append(member)
        if not unique:
            raise invalid("no recipients")
        if len(unique) > self.state.config.max_batch_size:
            raise EapiError(201, "Maximum batch size exceeded")
        return unique

    # -- submission -----------------------------------------------------------------------------

    def _authenticate(self, params: Params) -> AccountState:
        account = self.state.authenticate(params.get("username", ""), params.get("password", ""))
        if account is None:
            # Never echo the password (the vendor echoes the username only).
            raise EapiError(23, "invalid credentials")
        return account

    def _submit(self, params: Params, plan: Callable[[AccountState], SmsPlan]) -> Response:
        try:
            account = self._authenticate(params)
            stop_dup_id = _int(params, "stop_dup_id", 0, 1, _MAX_STOP_DUP_ID) if params.get("stop_dup_id") else 0
            if stop_dup_id:
                original = self.state.recall_stop_dup(account, stop_dup_id)
                if original is not None:
                    return text_response(original)
            answer = self._accept(account, params, plan(account))
        except EapiError as exc:
            # Failures are not remembered: a retry after a failure is processed afresh.
            return text_response(exc.line())
        if stop_dup_id:
            self.state.remember_stop_dup(account, stop_dup_id, answer)
        return text_response(answer)

    def _accept(self, account: AccountState, params: Params, plan: SmsPlan) -> str:
        if _flag(params, "test_always_fail"):
            raise EapiError(22, "Test failure requested")
        scheduled = plan.send_at > self.state.clock.now()
        if _flag(params, "test_always_succeed"):
            batch_id = self.state.new_batch_id()
        else:
            result = self.state.record(
                account,
                api="eapi",
                msisdns=plan.msisdns,
                contents=plan.contents,
                content_index=plan.content_index,
                send_at=plan.send_at,
                source_id=plan.source_id,
                report_mode=plan.report_mode,
            )
            if isinstance(result, int):
                if result == DAILY_QUOTA_EXCEEDED:
                    raise EapiError(result, "Daily quota exceeded")
                raise EapiError(result, "Insufficient credits")
            batch_id = result.batch_id
        return f"1|SCHEDULED|{batch_id}" if scheduled else f"0|IN_PROGRESS|{batch_id}"


# -- request parsing ------------------------------------------------------------------------------


def _endpoint(handler: Callable[[Params], Response]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return handler(await read_params(request))

    return endpoint


async def read_params(request: Request) -> Params:
    """Query and form parameters, percent-decoded as ISO-8859-1 (later values win)."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True, encoding="latin-1")
    if request.method == "POST":
        body = await request.body()
        # Raw non-ASCII bytes would be ISO-8859-1 too, so decode the whole body that way.
        pairs += parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return dict(pairs)


def _int(params: Params, name: str, default: int | None, low: int | None, high: int | None) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        if default is None:
            raise invalid(f"{name} is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(f"{name} out of range")
    return value


def _flag(params: Params, name: str) -> bool:
    return params.get(name, "0").strip() == "1"


def _sender(params: Params) -> str | None:
    sender = params.get("sender", "").strip()
    if not sender:
        return None
    numeric = sender[1:] if sender.startswith("+") else sender
    if numeric.isdigit():
        if len(numeric) > 15:
            raise invalid("numeric sender longer than 15 digits")
    elif len(sender) > 11:
        raise invalid("alphanumeric sender longer than 11 characters")
    if params.get("repliable", "").strip() == "1":
        raise invalid("sender cannot be combined with repliable=1")
    return sender


def _source_id(params: Params) -> str | None:
    source_id = params.get("source_id", "")
    if len(source_id) > 20:
        raise invalid("source_id longer than 20 characters")
    return source_id or None


def _report_mode(params: Params) -> ReportMode:
    return "NONE" if _int(params, "want_report", 1, 0, 1) == 0 else "ALL"


def _content(message: str, params: Params, sender: str | None) -> Content:
    """Validate one message body against ``dca`` and the concatenation settings."""
    dca = params.get("dca", "7bit").strip() or "7bit"
    allow_concat = _flag(params, "allow_concat_text_sms")
    max_parts = _int(params, "concat_text_sms_max_parts", 2, 1, 127)
    _int(params, "msg_class", 2, 0, 3)
    _int(params, "routing_group", 2, 1, 3)
    if params.get("replace_msg_id", "").strip():
        _int(params, "replace_msg_id", None, 1, 7)
    if dca == "7bit":
        if gsm_length(message) > SINGLE_TEXT_CHARS and not allow_concat:
            raise invalid("message longer than 160 characters (set allow_concat_text_sms=1)")
        parts = text_parts(message)
        text = message
    elif dca in ("8bit", "16bit"):
        octets = decode_hex(message.strip())
        if octets is None:
            raise invalid(f"message must be hex octets for dca={dca}")
        if len(octets) > SINGLE_OCTETS and not allow_concat:
            raise invalid(f"message longer than {SINGLE_OCTETS} octets")
        parts = binary_parts(len(octets))
        # 16bit is UCS-2/UTF-16BE: decode it so tests can read what was sent.
        text = octets.decode("utf-16-be", "replace") if dca == "16bit" else message.strip().upper()
    else:
        raise invalid("dca must be 7bit, 8bit or 16bit")
    if parts > max_parts:
        raise invalid(f"message needs {parts} parts, more than concat_text_sms_max_parts={max_parts}")
    return Content(text, dca, parts, sender)


def _send_at(params: Params, account: AccountState, now: float) -> float:
    """When to send: ``send_time`` (account time zone) or ``send_time_unixtime``; now by default."""
    if params.get("send_time", "").strip():
        try:
            when = parse_local(params["send_time"], account.account.time_zone)
        except ValueError:
            raise invalid("send_time must be yyyy-mm-dd hh:mm:ss") from None
    elif params.get("send_time_unixtime", "").strip():
        when = float(_int(params, "send_time_unixtime", None, 0, None))
    else:
        return now
    if when - now > MAX_SCHEDULE_AHEAD:
        raise invalid("send_time more than two years ahead")
    return max(when, now)


# -- report streaming -----------------------------------------------------------------------------


def _report_lines(batch: Batch, now: float, fields: Sequence[str], only: str | None) -> Iterator[str]:
    """Chunks of ``msisdn|status[|optional...]`` lines; nothing while the batch is scheduled."""
    phase = batch.phase(now)
    if phase is None:
        return
    numbers = batch.msisdns
    indices: Sequence[int] = (
        range(len(numbers)) if only is None else [i for i, number in enumerate(numbers) if number == only]
    )
    extras = _OptionalFields(batch, fields, phase == FINAL)
    for start in range(0, len(indices), _REPORT_CHUNK):
        chunk = indices[start : start + _REPORT_CHUNK]
        if not fields and (phase != FINAL or not batch.outcomes) and isinstance(chunk, range):
            # Fast path: every recipient shares one status.
            suffix = f"|{batch.status(0, now)}\n"
            yield suffix.join(numbers[chunk.start : chunk.stop]) + suffix
        else:
            yield "".join(f"{numbers[i]}|{batch.status(i, now)}{extras.suffix(i)}\n" for i in chunk)


class _OptionalFields:
    """The ``|opt1|opt2`` tail of report lines, computed once per distinct content."""

    def __init__(self, batch: Batch, fields: Sequence[str], final: bool) -> None:
        self.batch = batch
        self.fields = fields
        # Batch-wide values are formatted once, not once per recipient.
        self.fixed = {
            "completed_time": format_local(batch.final_at, batch.time_zone) if final else "",
            "created_time": format_local(batch.created_at, batch.time_zone),
            "source_id": batch.source_id or "",
        }
        self.cache: dict[int, str] = {}

    def suffix(self, index: int) -> str:
        if not self.fields:
            return ""
        key = 0 if self.batch.content_index is None else self.batch.content_index[index]
        cached = self.cache.get(key)
        if cached is None:
            content = self.batch.contents[key]
            values = {
                **self.fixed,
                "body": escape_line(content.wire_body),
                "credits": str(float(content.parts)),
                "origin_address": content.sender or "",
            }
            cached = "".join("|" + values[name] for name in self.fields)
            self.cache[key] = cached
        return cached


async def _encoded(head: str, chunks: Iterator[str]) -> AsyncIterator[bytes]:
    yield head.encode("latin-1")
    for chunk in chunks:
        yield chunk.encode("latin-1", "replace")
        # Let other requests run between chunks of a huge report.
        await asyncio.sleep(0)
