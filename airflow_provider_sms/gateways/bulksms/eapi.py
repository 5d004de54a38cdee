"""BulkSMS legacy HTTP API ("EAPI"), sans-I/O: build form POSTs, parse ``code|text|id`` answers.

Reference: ``reference/gateways.md`` section 2 (2.2-2.11) and the vendor's send_sms page.

Wire rules this module keeps:

* every call is a form POST whose FIRST fields are ``username`` and ``password`` (EAPI has no
  header auth) and whose values are ISO-8859-1 (``HttpRequest.charset``);
* every answer starts with ``status_code|status_description[|extra]``; only the code is relied
  on (the vendor: "never depend on the value of status_description");
* any HTTP status other than 200 is transient (the vendor: "should be considered transient").

Text encoding: GSM-7 text goes as ``dca=7bit`` ISO-8859-1 text. Characters that are GSM-7 but
not ISO-8859-1 (the Greek capitals and ``€``) cannot be put in an ISO-8859-1 form value, and the
vendor's 7-bit mapping for them is UNCERTAIN, so such a text is sent as ``dca=16bit`` UCS-2 hex
instead, and the UCS-2 length limit applies to it. The vendor says concatenation is not supported
for Unicode; unless ``unicode_concat=True`` (UNCERTAIN: route-specific), a UCS-2 text must fit in
one message of 70 UTF-16 code units.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, SendResult, same_outcome
from airflow_provider_sms.core.text import Encoding, TextInfo, analyse, check_text, ucs2_hex
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsError,
    SmsGatewayError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import is_number
from airflow_provider_sms.gateways.bulksms.codes import (
    EAPI_ACCEPTED,
    EAPI_SCHEDULED,
    eapi_message_status,
    eapi_request_code,
)
from airflow_provider_sms.gateways.bulksms.common import (
    BulkSmsApiBase,
    BulkSmsCredentials,
    StatusPage,
    decode_body,
    header,
    parse_retry_after,
    preview,
)
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse

__all__ = ["EAPI_PATHS", "REPORT_OPTIONAL_FIELDS", "BulkSmsEapi", "InboundMessage", "ReportRow"]

EAPI_PATHS: Mapping[str, str] = {
    "send_sms": "/submission/send_sms/2/2.0",
    "send_batch": "/submission/send_batch/1/1.0",
    "quote_sms": "/submission/quote_sms/2/2.0",
    "get_report": "/status_reports/get_report/2/2.0",
    "get_credits": "/user/get_credits/1/1.1",
    "get_inbox": "/reception/get_inbox/1/1.1",
}
"""Operation -> path after the EAPI base (current versions, reference 2.2)."""

REPORT_OPTIONAL_FIELDS = ("body", "completed_time", "created_time", "credits", "origin_address", "source_id")
"""The ``optional_fields`` get_report accepts; values come back in the order requested."""

_CHARSET = "iso-8859-1"
_BATCH_HEADER = "msisdn,message"
# A ``received_time`` of get_inbox, used to tell v1.1 records (with ``encoding``) from v1.0 ones
# when a message body itself contains "|".
_RECEIVED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_INBOX_ESCAPE = re.compile(r"\\([nr])")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{4})+$")


@dataclass(frozen=True)
class ReportRow:
    """One recipient line of a get_report answer: ``msisdn|status_code[|optional...]``.

    :param status_code: the per-message code; a non-numeric code is read as 70 (unknown).
    :param fields: the requested optional fields, by name, as far as the line carried them.
    """

    msisdn: str
    status_code: int
    status: DeliveryStatus
    fields: Mapping[str, str] = field(default_factory=dict)

    def to_message_status(self, batch_id: str) -> MessageStatus:
        """This row in the shared model (the EAPI has no per-message ids: batch + number identify it)."""
        return MessageStatus(
            status=self.status,
            recipient=self.msisdn,
            batch_id=batch_id,
            code=str(self.status_code),
            text=eapi_message_status(self.status_code).meaning,
        )


@dataclass(frozen=True)
class InboundMessage:
    """One record of get_inbox: a message someone sent to the account.

    :param received_time: as the gateway wrote it (``yyyy-MM-dd HH:mm:ss`` in the account's
        time zone, which we cannot know, so it is not turned into a datetime).
    :param msisdn: the account's number the message was sent to.
    :param referring_batch_id: the batch replied to; ``None`` when the gateway says 0.
    :param encoding: ``None`` for get_inbox v1.0 records, which lack the column.
    """

    msg_id: int
    sender: str
    message: str
    received_time: str
    msisdn: str
    referring_batch_id: str | None
    encoding: str | None = None


@dataclass(frozen=True)
class _StatusLine:
    code: int
    description: str
    extra: str | None


@dataclass(frozen=True)
class _TextPlan:
    """How a body goes on the wire: 16-bit hex or 7-bit text, and what that costs."""

    sixteen_bit: bool
    info: TextInfo

    def body(self, text: str) -> str:
        return ucs2_hex(text) if self.sixteen_bit else text


def _latin1_ok(text: str) -> bool:
    try:
        text.encode(_CHARSET)
    except UnicodeEncodeError:
        return False
    return True


def _needs_16bit(text: str) -> bool:
    """Would ``text`` have to go as ``dca=16bit`` (non-GSM, or GSM but outside ISO-8859-1)?"""
    return not _latin1_ok(text) or bool(analyse(text).non_gsm_chars)


def _csv_value(text: str) -> str:
    # send_batch escapes with backslashes (reference 2.5). Escaping the backslash itself is
    # UNCERTAIN (not documented) but needed: without it a text ending in "\" would escape our
    # closing quote and corrupt every following row.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\\n").replace("\r", "\\\r")
    return f'"{escaped}"'


class BulkSmsEapi(BulkSmsApiBase):
    """The BulkSMS EAPI (deprecated by the vendor but documented): requests and answers.

    Nothing here does I/O: the hook sends the :class:`HttpRequest` objects and passes the
    :class:`HttpResponse` back to the matching ``parse_*`` method.

    :param base_path: path prefix of the EAPI on the host, e.g. ``/eapi``.
    :param unicode_concat: allow UCS-2 texts longer than one message (UNCERTAIN: the vendor says
        concatenation is not supported for Unicode).
    """

    api = "eapi"
    api_label = "BulkSMS EAPI"
    max_parts_default: int = 1  # EAPI: 160 characters unless concatenation is asked for
    max_parts_limit: int = 127  # concat_text_sms_max_parts maximum
    batch_max_rows: int = 30_000
    """send_batch limit: older vendor pages say 30,000, the current one 50,000 (error 201)."""

    def __init__(
        self,
        credentials: BulkSmsCredentials,
        *,
        base_path: str = "/eapi",
        unicode_concat: bool = False,
    ) -> None:
        super().__init__(credentials)
        self.base_path = base_path.rstrip("/")
        self.unicode_concat = unicode_concat

    # ============================================================== building requests

    def _request(
        self,
        operation: str,
        fields: Sequence[tuple[str, str]],
        *,
        message: OutgoingMessage | None = None,
        recipients: Sequence[str] = (),
    ) -> HttpRequest:
        # Credentials first, as the vendor's samples do; they go only into the form body.
        form = [("username", self._credentials.username), ("password", self._credentials.password), *fields]
        sends = message is not None and message.test_mode is None  # test flags never text anyone
        return HttpRequest(
            method="POST",
            path=self.base_path + EAPI_PATHS[operation],
            form=form,
            charset=_CHARSET,
            sends_message=sends,
            dedupe_key=message.dedupe_key if message is not None else None,
            recipients=list(recipients),
        )

    def _plan_text(
        self,
        text: str,
        unicode: bool | None,
        max_parts: int,
        *,
        field: str = "message",
        index: int | None = None,
    ) -> tuple[_TextPlan, list[Problem]]:
        """Choose 7-bit or 16-bit for ``text`` and list what is wrong with it."""
        problems: list[Problem] = []
        latin1 = _latin1_ok(text)
        gsm_only = not analyse(text).non_gsm_chars
        if unicode is False and gsm_only and not latin1:
            # The text is GSM-7, but an ISO-8859-1 form cannot carry these characters, so it
            # would have to go as UCS-2 -- exactly what unicode=False forbids.
            chars = ", ".join(repr(c) for c in dict.fromkeys(text) if not _latin1_ok(c))
            reason = f"characters {chars} need 16-bit (UCS-2) on the BulkSMS EAPI; allow unicode to send them"
            problems.append(Problem(field, reason, preview(text), index))
        sixteen_bit = unicode is True or (unicode is None and (not gsm_only or not latin1))
        info = analyse(text, force_unicode=sixteen_bit)
        capped = info.encoding is Encoding.UCS2 and not self.unicode_concat
        try:
            # When UCS-2 is capped at one message, the length problem is ours (it names the
            # cause); check_text is then only asked about emptiness and the alphabet.
            limit = max(max_parts, info.segments) if capped else max_parts
            check_text(
                text, unicode=True if sixteen_bit else unicode, max_parts=limit, field=field, gateway=self.gateway
            )
        except SmsValidationError as exc:
            problems += [replace(p, index=index) for p in exc.problems]
        if capped and info.segments > 1:
            reason = (
                f"needs {info.units} UTF-16 code units as UCS-2, but the BulkSMS EAPI does not concatenate "
                f"unicode messages: at most {info.single_limit} fit in one message"
            )
            problems.append(Problem(field, reason, preview(text), index))
        return _TextPlan(sixteen_bit, info), problems

    def _option_fields(
        self,
        message: OutgoingMessage,
        *,
        sixteen_bit: bool,
        segments: int,
        sends: bool,
    ) -> list[tuple[str, str]]:
        """Every parameter after the recipients and the body, shared by send/quote/batch.

        ``extras`` are not included: callers append them last, after checking for clashes.
        """
        fields: list[tuple[str, str]] = []
        if sixteen_bit:
            fields.append(("dca", "16bit"))
        if message.sender is not None:
            # The vendor: "If specifying sender, set repliable=0 to be safe" (a repliable profile
            # default would otherwise override the sender).
            fields += [("sender", message.sender), ("repliable", "0")]
        fields.append(("want_report", "1" if message.want_report else "0"))
        if segments > 1:
            # Only when needed: concatenation is route-specific and may be refused where a
            # single-part message would have gone through.
            parts = str(self._text_max_parts(message))
            fields += [("allow_concat_text_sms", "1"), ("concat_text_sms_max_parts", parts)]
        if sends and message.dedupe_key is not None:
            # Never on a quote: stop_dup_id is shared by the submission calls, and a quote that
            # claimed the id could make the real send get the cached quote answer back.
            fields.append(("stop_dup_id", str(message.dedupe_key)))
        if message.send_at is not None:
            # send_time would be in the account's time zone; unixtime is UTC by definition.
            fields.append(("send_time_unixtime", str(math.floor(message.send_at.timestamp()))))
        if message.client_ref is not None:
            fields.append(("source_id", message.client_ref))
        if sends and message.test_mode == "succeed":
            fields.append(("test_always_succeed", "1"))
        elif sends and message.test_mode == "fail":
            fields.append(("test_always_fail", "1"))
        return fields

    def _option_problems(
        self,
        message: OutgoingMessage,
        own_fields: Sequence[tuple[str, str]],
        reserved: Iterable[str],
    ) -> list[Problem]:
        """Problems of the option values: test mode, ISO-8859-1, extras clashing with our fields."""
        problems: list[Problem] = []
        if message.test_mode not in (None, "succeed", "fail"):
            problems.append(Problem("test_mode", "must be 'succeed' or 'fail'", str(message.test_mode)))
        for name, value in (("sender", message.sender), ("client_ref", message.client_ref)):
            if value is not None and not _latin1_ok(value):
                problems.append(Problem(name, "must be encodable in ISO-8859-1 for the BulkSMS EAPI", value))
        taken = {"username", "password", *reserved, *(k for k, _ in own_fields)}
        for key, value in message.extras.items():
            if key in taken:
                problems.append(Problem("extras", "clashes with a parameter this provider sets", key))
            elif not _latin1_ok(key) or (isinstance(value, str) and not _latin1_ok(value)):
                problems.append(Problem("extras", "must be encodable in ISO-8859-1 for the BulkSMS EAPI", key))
        return problems

    def _checked(self, message: OutgoingMessage) -> _TextPlan:
        problems = self._common_problems(message)
        if message.numbers and message.groups:
            # The vendor requires "one of" msisdn / dest_group_id; what it does with both is not
            # documented, so the hook sends numbers and groups as separate requests.
            problems.append(Problem("recipients", "the BulkSMS EAPI takes numbers or groups in one request, not both"))
        plan, text_problems = self._plan_text(message.text, message.unicode, self._text_max_parts(message))
        problems += text_problems
        options = self._option_fields(message, sixteen_bit=plan.sixteen_bit, segments=plan.info.segments, sends=True)
        problems += self._option_problems(message, options, ("msisdn", "dest_group_id", "message", "batch_data"))
        self._raise_problems(problems)
        return plan

    def check(self, message: OutgoingMessage) -> None:
        """Validate ``message`` for send_sms before anything is sent.

        :raises SmsValidationError: listing every problem: recipients (digits only, no
            duplicates, numeric group ids, not numbers and groups together), text (alphabet,
            length in parts, the UCS-2 single-message cap), sender (alphanumeric <= 11 or
            numeric <= 15 digits), client_ref (<= 20), dedupe_key (1..2147483647), max_parts
            (1..127), send_at (timezone-aware), test_mode, extras (strings, ISO-8859-1, no clash
            with the parameters this class sets).
        """
        self._checked(message)

    def _recipient_fields(self, message: OutgoingMessage) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        if message.numbers:
            fields.append(("msisdn", ",".join(message.numbers)))
        if message.groups:
            fields.append(("dest_group_id", ",".join(message.groups)))
        return fields

    def send_request(self, message: OutgoingMessage) -> HttpRequest:
        """Build the send_sms POST for ``message`` (validated first, see :meth:`check`)."""
        plan = self._checked(message)
        fields = [
            *self._recipient_fields(message),
            ("message", plan.body(message.text)),
            *self._option_fields(message, sixteen_bit=plan.sixteen_bit, segments=plan.info.segments, sends=True),
            *message.extras.items(),
        ]
        return self._request("send_sms", fields, message=message, recipients=[*message.numbers, *message.groups])

    def quote_request(self, message: OutgoingMessage) -> HttpRequest:
        """Build a quote_sms POST: the send_sms parameters minus ``stop_dup_id`` and test flags.

        Pass ``routing_group`` in ``extras`` for an accurate quote (the vendor's advice).
        """
        plan = self._checked(message)
        fields = [
            *self._recipient_fields(message),
            ("message", plan.body(message.text)),
            *self._option_fields(message, sixteen_bit=plan.sixteen_bit, segments=plan.info.segments, sends=False),
            *message.extras.items(),
        ]
        return self._request("quote_sms", fields)

    def batch_request(self, rows: Sequence[tuple[str, str]], message_defaults: OutgoingMessage) -> HttpRequest:
        """Build a send_batch POST: one ``(msisdn, text)`` per row, options from ``message_defaults``.

        ``message_defaults.text``, ``numbers`` and ``groups`` are not used (must be empty for the
        latter two). ``batch_data`` is the CSV of reference 2.5: a ``msisdn,message`` header,
        then quoted values with ``\\"``, ``\\``+newline (and, UNCERTAIN, ``\\\\``) escapes. The
        encoding is batch-wide: if any row needs 16-bit, every row is sent as UCS-2 hex and must
        fit the UCS-2 limit.

        :raises SmsValidationError: listing every bad row (by index) and option.
        """
        problems = self._common_problems(message_defaults, recipients=False)
        if message_defaults.numbers or message_defaults.groups:
            problems.append(Problem("recipients", "send_batch takes its recipients from the rows only"))
        if not rows:
            problems.append(Problem("rows", "at least one row is needed"))
        elif len(rows) > self.batch_max_rows:
            problems.append(Problem("rows", f"at most {self.batch_max_rows} rows per batch, got {len(rows)}"))
        unicode = message_defaults.unicode
        sixteen_bit = unicode is True or (unicode is None and any(_needs_16bit(text) for _, text in rows))
        max_parts = self._text_max_parts(message_defaults)
        segments = 0
        lines = [_BATCH_HEADER]
        for index, (msisdn, text) in enumerate(rows):
            if not (msisdn.isascii() and msisdn.isdigit()):
                problems.append(Problem("rows", "msisdn must be international digits only", msisdn, index))
            plan, text_problems = self._plan_text(
                text, True if sixteen_bit else unicode, max_parts, field="rows", index=index
            )
            problems += text_problems
            segments = max(segments, plan.info.segments)
            lines.append(f"{_csv_value(msisdn)},{_csv_value(plan.body(text))}")
        options = self._option_fields(message_defaults, sixteen_bit=sixteen_bit, segments=segments, sends=True)
        problems += self._option_problems(message_defaults, options, ("batch_data", "msisdn", "message"))
        self._raise_problems(problems)
        fields = [("batch_data", "\n".join(lines)), *options, *message_defaults.extras.items()]
        return self._request("send_batch", fields, message=message_defaults, recipients=[m for m, _ in rows])

    def report_request(
        self,
        batch_id: str,
        optional_fields: Sequence[str] = (),
        msisdn: str | None = None,
    ) -> HttpRequest:
        """Build a get_report POST for one batch (optionally one recipient, plus optional fields).

        :raises SmsValidationError: on a non-numeric batch id or msisdn, or an unknown or
            repeated optional field.
        """
        problems = self._batch_id_problems(batch_id)
        if msisdn is not None and not (msisdn.isascii() and msisdn.isdigit()):
            problems.append(Problem("msisdn", "must be international digits only", msisdn))
        seen: set[str] = set()
        for index, name in enumerate(optional_fields):
            if name not in REPORT_OPTIONAL_FIELDS:
                reason = "unknown; one of " + ", ".join(REPORT_OPTIONAL_FIELDS)
                problems.append(Problem("optional_fields", reason, name, index))
            elif name in seen:
                problems.append(Problem("optional_fields", "repeated", name, index))
            seen.add(name)
        self._raise_problems(problems)
        fields = [("batch_id", batch_id)]
        if msisdn is not None:
            fields.append(("msisdn", msisdn))
        if optional_fields:
            fields.append(("optional_fields", ",".join(optional_fields)))
        return self._request("get_report", fields)

    def status_request(self, batch_id: str, cursor: str | None = None) -> HttpRequest:
        """Build a get_report POST for every recipient of ``batch_id``.

        ``cursor`` is accepted for symmetry with the JSON API and ignored: get_report answers a
        whole batch at once, so :meth:`parse_status` never returns a cursor.
        """
        return self.report_request(batch_id)

    def credits_request(self) -> HttpRequest:
        """Build a get_credits POST (v1.1, whose answer always starts with a status code)."""
        return self._request("get_credits", [])

    def inbox_request(self, last_retrieved_id: int) -> HttpRequest:
        """Build a get_inbox POST for the messages after ``last_retrieved_id`` (0 the first time)."""
        if isinstance(last_retrieved_id, bool) or not isinstance(last_retrieved_id, int) or last_retrieved_id < 0:
            self._raise_problems([Problem("last_retrieved_id", "must be an integer >= 0", str(last_retrieved_id))])
        return self._request("get_inbox", [("last_retrieved_id", str(last_retrieved_id))])

    @staticmethod
    def _batch_id_problems(batch_id: str) -> list[Problem]:
        # The vendor: "batch_id is guaranteed to be a positive integer > 0".
        if batch_id.isascii() and batch_id.isdigit() and int(batch_id) > 0:
            return []
        return [Problem("batch_id", "must be a positive integer", batch_id)]

    # ============================================================== parsing answers

    @staticmethod
    def _parse_status_line(line: str) -> _StatusLine | None:
        """Split ``code|description[|extra]``; ``None`` when the line does not start with a code."""
        parts = line.strip().lstrip("\ufeff").split("|")
        code = parts[0].strip()
        if not is_number(code):
            return None
        description = parts[1].strip() if len(parts) > 1 else ""
        extra = parts[2].strip() if len(parts) > 2 else ""
        return _StatusLine(int(code), description, extra or None)

    def _code_error(self, line: _StatusLine, operation: str) -> SmsError:
        entry = eapi_request_code(line.code)
        cls = entry.error or SmsGatewayError  # a success code where none is expected
        text = self.safe_text(line.description)
        return self._error(cls, f"{operation} refused: {entry.meaning}" + (f": {text}" if text else ""), code=line.code)

    def _http_error(self, response: HttpResponse, operation: str) -> SmsError:
        retry_after = parse_retry_after(header(response.headers, "Retry-After"))
        message = f"{operation} answered HTTP {response.status}; the vendor says to resend later"
        return self._error(SmsTransientError, message, retry_after=retry_after)

    def _first_line(self, response: HttpResponse, operation: str) -> tuple[_StatusLine, list[str]]:
        """The status line (code 0 only) and the remaining lines of a non-send answer.

        Non-200 and unreadable answers are transient: nothing was changed by a read, so asking
        again is safe.
        """
        if response.status != 200:
            raise self._http_error(response, operation)
        lines = decode_body(response.body).splitlines()
        line = self._parse_status_line(lines[0]) if lines else None
        if line is None:
            raise SmsTransientError(f"{operation} answered with an unreadable status line", gateway=self.gateway)
        if line.code != EAPI_ACCEPTED:
            raise self._code_error(line, operation)
        return line, lines[1:]

    def _parse_submission(self, response: HttpResponse, recipients: Sequence[str], operation: str) -> SendResult:
        if response.status != 200:
            raise self._http_error(response, operation)
        text = decode_body(response.body)
        line = self._parse_status_line(text.split("\n", 1)[0])
        if line is None:
            # We cannot tell whether the gateway took the message: never a plain retry.
            raise SmsAmbiguousError(
                f"{operation} answered HTTP 200 with an unreadable body; the message may have been accepted",
                gateway=self.gateway,
                recipients_in_doubt=recipients,
            )
        if line.code not in (EAPI_ACCEPTED, EAPI_SCHEDULED):
            raise self._code_error(line, operation)
        status = DeliveryStatus.PENDING if line.code == EAPI_ACCEPTED else DeliveryStatus.SCHEDULED
        description = self.safe_text(line.description) or None
        results = same_outcome(recipients, True, str(line.code), description, batch_id=line.extra, status=status)
        return SendResult(gateway=self.gateway, results=results, batch_ids=[line.extra] if line.extra else [])

    def parse_send(self, response: HttpResponse, message: OutgoingMessage) -> SendResult:
        """Read a send_sms answer ``code|description|batch_id``.

        Codes 0 (in progress) and 1 (scheduled) accept every recipient (numbers and groups) under
        the batch id, which may be missing.

        :raises SmsTransientError: HTTP status other than 200, codes 26 and 28.
        :raises SmsRateLimitedError: code 40.
        :raises SmsAuthenticationError: code 23.
        :raises SmsGatewayError: codes 22, 24, 25, 27, 201 and undocumented codes.
        :raises SmsAmbiguousError: a 200 answer that does not start with a code.
        """
        self._unprotected_server_error(response, message)
        return self._parse_submission(response, [*message.numbers, *message.groups], "send_sms")

    def parse_batch(self, response: HttpResponse, rows: Sequence[tuple[str, str]]) -> SendResult:
        """Read a send_batch answer (same format and codes as :meth:`parse_send`), one result per row."""
        return self._parse_submission(response, [m for m, _ in rows], "send_batch")

    def iter_report_lines(
        self,
        lines: Iterable[str],
        batch_id: str,
        optional_fields: Sequence[str] = (),
    ) -> Iterator[ReportRow]:
        """Stream the rows of a get_report answer; the FIRST line is the status line.

        Accepts ``0|Returns to follow`` and ``0|Results to follow`` (any text after code 0), skips
        blank lines (the separator and the empty-report variant) and tolerates line ends left on
        the lines (e.g. iterating over a file).

        :param optional_fields: as requested in :meth:`report_request`; a ``body`` value that
            itself contains ``|`` is put back together.
        :raises SmsAuthenticationError, SmsGatewayError: error codes (22, 23, 24, ...) in the
            status line.
        :raises SmsTransientError: a missing/unreadable status line or a row without a status code.
        """
        for parts, (code, status) in self._report_parts(lines, batch_id, optional_fields):
            yield ReportRow(msisdn=parts[0].strip(), status_code=int(code), status=DeliveryStatus(status),
                            fields=dict(zip(optional_fields, parts[2:], strict=False)))

    def iter_report_values(
        self,
        lines: Iterable[str],
        batch_id: str,
        optional_fields: Sequence[str] = (),
    ) -> Iterator[list[str]]:
        """:meth:`iter_report_lines` as plain rows, ready for a CSV: ``[batch_id, msisdn, status code,
        status, *optional fields]`` (a field a line does not carry is ``""``).

        The lean path of a report pull: one list per line, the status of each code text looked up
        once. Same checks and errors as :meth:`iter_report_lines`.
        """
        if not optional_fields:  # the common case: one tight loop, one list per line
            iterator = self._report_body(lines, batch_id)
            statuses: dict[str, tuple[str, str]] = {}
            for number, raw in enumerate(iterator, start=2):
                text = raw.rstrip("\r\n")
                parts = text.split("|")
                if len(parts) < 2:
                    if not text.strip():
                        continue
                    raise SmsTransientError(f"get_report for batch {batch_id}: line {number} has no status code",
                                            gateway=self.gateway)
                code = statuses.get(parts[1]) or self._status_of(parts[1], statuses)
                yield [batch_id, parts[0].strip(), *code]
            return
        wanted = 2 + len(optional_fields)
        for parts, code in self._report_parts(lines, batch_id, optional_fields):
            extra = parts[2:wanted]
            yield [batch_id, parts[0].strip(), *code, *extra, *[""] * (wanted - 2 - len(extra))]

    def _report_body(self, lines: Iterable[str], batch_id: str) -> Iterator[str]:
        """The recipient lines of a get_report answer, once its status line says they follow."""
        operation = f"get_report for batch {batch_id}"
        iterator = iter(lines)
        first = next(iterator, None)
        line = self._parse_status_line(first) if first is not None else None
        if line is None:
            raise SmsTransientError(f"{operation} answered with an unreadable status line", gateway=self.gateway)
        if line.code != EAPI_ACCEPTED:
            raise self._code_error(line, operation)
        return iterator

    @staticmethod
    def _status_of(code_text: str, seen: dict[str, tuple[str, str]]) -> tuple[str, str]:
        """``(status code, status)`` of a code as written on a report line, remembered in ``seen``."""
        entry = eapi_message_status(code_text)
        seen[code_text] = found = (str(entry.code), entry.status.value)
        return found

    def _report_parts(self, lines: Iterable[str], batch_id: str,
                      optional_fields: Sequence[str]) -> Iterator[tuple[list[str], tuple[str, str]]]:
        """Each recipient line split on ``|`` (a ``body`` with ``|`` put back together), with its
        ``(status code, status)``; the checks and errors of :meth:`iter_report_lines`."""
        operation = f"get_report for batch {batch_id}"
        iterator = self._report_body(lines, batch_id)
        expected = 2 + len(optional_fields)
        body_at = 2 + optional_fields.index("body") if "body" in optional_fields else None
        statuses: dict[str, tuple[str, str]] = {}  # code as written -> (code, status), read once per code
        for number, raw in enumerate(iterator, start=2):
            text = raw.rstrip("\r\n")
            if not text.strip():
                continue
            parts = text.split("|")
            if len(parts) < 2:
                raise SmsTransientError(f"{operation}: line {number} has no status code", gateway=self.gateway)
            code = statuses.get(parts[1]) or self._status_of(parts[1], statuses)
            surplus = len(parts) - expected
            if surplus > 0 and body_at is not None:
                parts[body_at : body_at + surplus + 1] = ["|".join(parts[body_at : body_at + surplus + 1])]
            yield parts, code

    def parse_status(self, response: HttpResponse, batch_id: str) -> StatusPage:
        """Read a whole get_report answer into statuses (one per recipient; never a next cursor)."""
        if response.status != 200:
            raise self._http_error(response, f"get_report for batch {batch_id}")
        rows = self.iter_report_lines(decode_body(response.body).splitlines(), batch_id)
        return StatusPage([row.to_message_status(batch_id) for row in rows], None)

    def parse_credits(self, response: HttpResponse) -> float:
        """Read a get_credits answer ``0|2101.15`` into the balance."""
        line, _ = self._first_line(response, "get_credits")
        try:
            return float(line.description)
        except ValueError:
            raise SmsTransientError("get_credits answered without a readable balance", gateway=self.gateway) from None

    def parse_quote(self, response: HttpResponse) -> float:
        """Read a quote_sms answer ``0|Quotation issued|12.5`` into the credits the send would cost."""
        line, _ = self._first_line(response, "quote_sms")
        try:
            return float(line.extra or "")
        except ValueError:
            raise SmsTransientError("quote_sms answered without a readable total", gateway=self.gateway) from None

    def parse_inbox(self, response: HttpResponse) -> list[InboundMessage]:
        """Read a get_inbox answer: a ``0|records to follow|N`` line, then one record per line.

        Records are v1.1 ``msg_id|sender|message|received_time|msisdn|referring_batch_id|encoding``
        or v1.0 (no ``encoding``). ``\\n``/``\\r`` escapes in bodies are undone; a ``16bit`` body
        that is UCS-2 hex is decoded (UNCERTAIN: documented for push, assumed here).
        """
        _, lines = self._first_line(response, "get_inbox")
        messages: list[InboundMessage] = []
        for number, text in enumerate(lines, start=2):
            if not text.strip():
                continue
            record = self._inbox_record(text)
            if record is None:
                raise SmsTransientError(f"get_inbox: record on line {number} is unreadable", gateway=self.gateway)
            messages.append(record)
        return messages

    @staticmethod
    def _inbox_record(text: str) -> InboundMessage | None:
        parts = text.split("|")
        if len(parts) < 6 or not is_number(parts[0]):
            return None
        # The body is the only free-text field and may itself hold "|": find the fixed columns
        # from the right, telling v1.1 (with ``encoding``) from v1.0 by where the time sits.
        if len(parts) >= 7 and _RECEIVED_TIME.match(parts[-4].strip()):
            v11 = True
        elif _RECEIVED_TIME.match(parts[-3].strip()):
            v11 = False
        else:
            v11 = len(parts) >= 7
        if v11:
            tail, encoding = parts[-4:-1], parts[-1].strip() or None
            body = "|".join(parts[2:-4])
        else:
            tail, encoding = parts[-3:], None
            body = "|".join(parts[2:-3])
        body = _INBOX_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else "\r", body)
        if encoding == "16bit" and _HEX.match(body):
            body = bytes.fromhex(body).decode("utf-16-be", errors="replace")
        received_time, msisdn, referring = (t.strip() for t in tail)
        return InboundMessage(
            msg_id=int(parts[0]),
            sender=parts[1].strip(),
            message=body,
            received_time=received_time,
            msisdn=msisdn,
            referring_batch_id=None if referring in ("", "0") else referring,
            encoding=encoding,
        )
