"""NetMessenger (FastSMS) HTTP API, sans-I/O: build form POSTs, parse text/CSV/JSON answers.

Reference: ``reference/gateways.md`` section 3 and the vendor's HTTP API page (seed 002).

Wire rules this module keeps:

* every call is ``POST {base_path}`` (default ``/api`` on ``https://my.fastsms.co.uk``) with a
  form body; the ``Token`` is a form field, never in the path or the query string;
* every call carries ``ShowErrorMessage=1``, so an error answer is the negative code on the first
  line and the vendor's text on the next; error text is scrubbed of the token (and of a child
  user's password) and cut short before it goes into an exception;
* answers: a bare number or word (credits, ``1``, status), comma-separated message ids mixed
  with negative codes (sends to numbers), per-line results (contact imports), CSV with a header
  (reports, contacts, groups), JSON (``GetBGMessages``).

Choices where the reference is UNCERTAIN (each is documented where it is made):

* the cancel action's name: ``cancel_action`` (default ``CancelMessage``, after the vendor's
  section title "Cancel Message" -- every other action except Send is named after its section);
  a wrong name answers -502, raised as a configuration error that names the parameter;
* no documented UCS-2 switch: text must be GSM 03.38 unless ``allow_unicode=True``;
* ``ShowErrorMessage`` text in mixed send answers cannot be matched to a destination, so a
  rejected destination carries the vendor table's meaning of its code;
* NetMessenger has no duplicate suppression: ``OutgoingMessage.dedupe_key`` is never passed on
  (the transport must not think a lost send answer is safe to replay), nor are ``client_ref`` and
  ``want_report``, which the API has no field for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, RecipientResult, SendResult
from airflow_provider_sms.core.text import TextInfo, check_text, is_gsm7
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsCapabilityError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsPartialFailure,
    SmsRateLimitedError,
    SmsRetryableError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import (
    MAX_NUMBER_DIGITS,
    decode_body,
    header,
    load_json,
    parse_retry_after,
    scrub,
    secret_forms,
)
from airflow_provider_sms.gateways.checks import number_problems
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.gateways.netmessenger.codes import (
    ACT_ONCE_ACTIONS,
    BACKGROUND_SEND_NOT_FINISHED,
    PARTIAL_FAILURE,
    ImportOutcome,
    error_code,
    import_outcome,
    may_have_acted,
    message_status,
)
from airflow_provider_sms.gateways.netmessenger.csvio import iter_report_rows
from airflow_provider_sms.gateways.netmessenger.models import (
    BackgroundMessage,
    BackgroundSendMessages,
    ChildUser,
    ImportLine,
    ImportResult,
    ReportType,
    SendItem,
)

__all__ = [
    "DEFAULT_BASE_PATH",
    "DEFAULT_CANCEL_ACTION",
    "DEFAULT_TIME_ZONE",
    "GATEWAY",
    "NetMessengerApi",
    "parse_group",
]

GATEWAY = "netmessenger"
DEFAULT_BASE_PATH = "/api"
DEFAULT_TIME_ZONE = "Europe/London"
DEFAULT_CANCEL_ACTION = "CancelMessage"
"""UNCERTAIN: the vendor page documents "Cancel Message" (``MessageID``) but not its ``Action`` value."""

_TIME_FORMAT = "%Y%m%d%H%M%S"
_NEGATIVE = re.compile(rf"-\d{{1,{MAX_NUMBER_DIGITS}}}")
_ITEM = re.compile(rf"-?\d{{1,{MAX_NUMBER_DIGITS}}}")
_IMPORT_LINE = re.compile(rf"(\d{{1,{MAX_NUMBER_DIGITS}}})\s*:\s*(.*)")
_ACTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# The vendor page's JSON examples went through a word processor: “ ” and ″ instead of ".
_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2033": '"'})

# Requests that must never be replayed blindly after a lost answer: a Send texts people again,
# UpdateCredits moves credits twice, ImportContactsCSV may create duplicates, CreateUser fails
# with a misleading -508. They are marked ``sends_message`` so the transport treats them so.
_NOT_REPLAY_SAFE = frozenset({"Send", "UpdateCredits", "ImportContactsCSV", "CreateUser"})


def _all_success(count: int) -> list[str]:
    """The answer lines of an ``ImportContactsCSV`` of ``count`` lines that all succeeded."""
    return [f"{number} : Success" for number in range(1, count + 1)]


def parse_group(value: str) -> tuple[Literal["Group", "List"], str]:
    """Split an ``OutgoingMessage.groups`` entry into the destination kind and the name.

    ``"list:Name"`` is a distribution list, ``"group:Name"`` or a bare ``"Name"`` a contact group
    (prefixes case-insensitive; a name may itself contain ``:``).
    """
    head, sep, tail = value.partition(":")
    kind = head.strip().lower()
    if sep and kind in ("list", "group"):
        return ("List" if kind == "list" else "Group"), tail.strip()
    return "Group", value.strip()


@dataclass(frozen=True)
class _Answer:
    """A decoded answer: every line stripped (blank lines kept, for the import format)."""

    lines: list[str]

    @property
    def filled(self) -> list[str]:
        return [line for line in self.lines if line]

    @property
    def first(self) -> str:
        filled = self.filled
        return filled[0] if filled else ""

    @property
    def after_first(self) -> list[str]:
        return self.filled[1:]


def _negative(text: str) -> int | None:
    text = text.strip()
    return int(text) if _NEGATIVE.fullmatch(text) else None


def _same(a: str, b: str) -> bool:
    return "".join(c for c in a.lower() if c.isalnum()) == "".join(c for c in b.lower() if c.isalnum())


REPORT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "message_id": ("messageid", "msgid", "id"),
    "status": ("status", "messagestatus", "deliverystatus", "state"),
    "destination": ("destination", "destinationaddress", "number", "to", "recipient", "mobile", "msisdn"),
}
"""Report column names (keys as compared by :func:`_column_key`) for each value a status needs."""


def _column_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class NetMessengerApi:
    """The NetMessenger/FastSMS HTTP API: every action's request and answer, no I/O.

    The hook sends the :class:`HttpRequest` objects and passes the :class:`HttpResponse` (or, for
    CSV answers, the streamed lines) back to the matching ``parse_*``/``open_report`` method.

    :param token: the API token (NetMessenger settings). Only ever a form field; ``repr`` and
        error text never show it.
    :param base_path: path of the API on the host.
    :param time_zone: the account's time zone: ``ScheduleDate``, ``From`` and ``To`` are local
        times in it (the vendor SDKs use Europe/London). Aware datetimes are converted with
        :mod:`zoneinfo`; naive ones are refused.
    :param cancel_action: ``Action`` value that cancels a scheduled message (UNCERTAIN, see
        :data:`DEFAULT_CANCEL_ACTION`; ``Cancel`` is the other plausible name).
    :param allow_unicode: let non-GSM text through (UNCERTAIN: the HTTP API documents no UCS-2
        switch; such text is then measured as UCS-2, at most 3 parts of 67 code units).
    :param get_all_message_ids: send ``GetAllMessageIDs=1``: the answer then has an id for every
        part of a long message, and :meth:`parse_send_items` returns them all.
    """

    gateway: str = GATEWAY
    max_recipients_per_request: int = 200
    """Numbers per Send request by default. [infer] The API states no limit ("use POST for many");
    200 is the size above which the vendor moves list sends to the background, so a numbers send
    of this size still answers promptly and a lost answer leaves at most 200 recipients in doubt.
    The constructor's ``max_recipients_per_request`` raises it up to :attr:`recipients_ceiling`."""
    recipients_ceiling: int = 10_000
    """The most numbers one Send may carry here, whatever is configured: the POST body stays
    near 130 KB and a lost answer leaves at most this many recipients in doubt."""
    max_parts_limit: int = 3
    """``Body`` is at most 459 characters = 3 concatenated GSM-7 parts of 153 (160 unsplit)."""
    body_max_chars: int = 459
    sender_alnum_max: int = 11
    sender_numeric_max: int = 15
    numeric_ton_min_digits: int = 11
    """A numeric sender of at least this many digits goes as ``SourceTON=1`` (international);
    anything else as 5 (alphanumeric) -- the official PHP SDK's rule -- and so does a number in
    national form (a leading ``0``, e.g. ``07911123456``), which is not an international number."""
    validity_period_max: int = 86_400
    validity_period_default: int = 86_400
    """Sent when the message sets no validity: the vendor page lists ``ValidityPeriod`` without
    "(optional)" under "all parameters are mandatory unless otherwise stated", and the official
    SDKs always send 86400."""

    def __init__(
        self,
        token: str,
        *,
        base_path: str = DEFAULT_BASE_PATH,
        time_zone: str = DEFAULT_TIME_ZONE,
        cancel_action: str = DEFAULT_CANCEL_ACTION,
        allow_unicode: bool = False,
        get_all_message_ids: bool = False,
        max_recipients_per_request: int | None = None,
    ) -> None:
        if max_recipients_per_request is not None:
            if isinstance(max_recipients_per_request, bool) or not (
                    isinstance(max_recipients_per_request, int)
                    and 1 <= max_recipients_per_request <= self.recipients_ceiling):
                raise SmsConfigurationError(
                    f"max_recipients_per_request must be a whole number from 1 to {self.recipients_ceiling}, "
                    f"got {max_recipients_per_request!r}", gateway=GATEWAY)
            self.max_recipients_per_request = max_recipients_per_request
        if not token or not token.strip():
            raise SmsConfigurationError("the NetMessenger API token is empty", gateway=GATEWAY)
        try:
            self._zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SmsConfigurationError(f"unknown time zone {time_zone!r}", gateway=GATEWAY) from None
        if not _ACTION_NAME.fullmatch(cancel_action):
            raise SmsConfigurationError(f"cancel_action must be an action name, got {cancel_action!r}",
                                        gateway=GATEWAY)
        self._token = token
        self._secret_forms = secret_forms([token])  # every encoding an echo may show, derived once
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else "/"
        self.time_zone = time_zone
        self.cancel_action = cancel_action
        self.allow_unicode = allow_unicode
        self.get_all_message_ids = get_all_message_ids

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_path={self.base_path!r}, time_zone={self.time_zone!r}, "
            f"cancel_action={self.cancel_action!r})"
        )

    # ================================================================ shared plumbing

    def _request(self, action: str, fields: Sequence[tuple[str, str]] = (), *,
                 recipients: Sequence[str] = ()) -> HttpRequest:
        form = [("Token", self._token), ("Action", action), *fields, ("ShowErrorMessage", "1")]
        return HttpRequest(
            method="POST",
            path=self.base_path,
            form=form,
            sends_message=action in _NOT_REPLAY_SAFE,
            recipients=list(recipients),
        )

    def safe_text(self, text: str, secret: str | None = None) -> str:
        """Gateway text fit for an error message: the token (and ``secret``, e.g. a child user's
        password) replaced by ``***``, one line, shortened."""
        return scrub(text, (*secret_forms([secret]), *self._secret_forms) if secret else self._secret_forms)

    def _error(self, cls: type[SmsError], message: str, *, code: int | None = None,
               retry_after: float | None = None, result: Any = None) -> SmsError:
        error: SmsError
        if issubclass(cls, SmsPartialFailure):
            error = cls(message, gateway=self.gateway, result=result)
            error.code = code
        elif issubclass(cls, SmsRetryableError):
            error = cls(message, gateway=self.gateway, code=code, retry_after=retry_after)
        else:
            error = cls(message, gateway=self.gateway, code=code)
        return error

    def _code_error(self, code: int, texts: Sequence[str], action: str, *, secret: str | None = None,
                    result: Any = None, recipients: Sequence[str] = ()) -> SmsError:
        """The exception for error ``code`` answered to ``action`` (vendor text kept when it adds something)."""
        entry = error_code(code)
        said = self.safe_text(" ".join(texts), secret) if texts else ""
        message = f"{action} refused: {entry.meaning}"
        if said and not _same(said, entry.meaning):
            message += f": {said}"
        if code == -503 and action == self.cancel_action:
            message += " (already sent, not this account's, or no such message)"
        if code == -502:
            hint = "cancel_action" if action == self.cancel_action else "the action name"
            message += f"; the gateway does not know Action={action!r} (check {hint})"
        if may_have_acted(code, action):
            error = SmsAmbiguousError(f"{message}; the gateway may have acted before failing", gateway=self.gateway,
                                      recipients_in_doubt=recipients)
            error.code = code
            return error
        return self._error(entry.error, message, code=code, result=result)

    def _answer(self, response: HttpResponse, action: str, recipients: Sequence[str] = ()) -> _Answer:
        self.check_response(response, action, recipients=recipients)
        text = decode_body(response.body).lstrip("\ufeff")
        return _Answer([line.strip() for line in text.splitlines()])

    def check_response(self, response: HttpResponse, action: str = "Report", *,
                       recipients: Sequence[str] = ()) -> None:
        """Raise for an HTTP status that is not 2xx (the API itself answers 200 with codes).

        Usable as the ``check`` of a streamed answer (headers only). 429 is rate limiting; 5xx, 408
        and 425 are transient for reads but ambiguous for the actions that must not be replayed
        (every 5xx, 503 included, for Send, UpdateCredits and CreateUser, which carry no dedupe id;
        all but 503 for ImportContactsCSV, whose repeat the duplicate checks absorb); 401/403 are
        credential problems; the rest are refusals.
        """
        status = response.status
        if 200 <= status < 300:
            return
        retry_after = parse_retry_after(header(response.headers, "Retry-After"))
        text = f"{action} answered HTTP {status}"
        if status == 429:
            raise self._error(SmsRateLimitedError, text, code=status, retry_after=retry_after)
        if status == 503 and action not in ACT_ONCE_ACTIONS:
            raise self._error(SmsTransientError, text, code=status, retry_after=retry_after)
        if status >= 500 or status in (408, 425):
            if action in _NOT_REPLAY_SAFE:
                raise SmsAmbiguousError(f"{text}; the gateway may have acted on it", gateway=self.gateway,
                                        recipients_in_doubt=recipients, code=status)
            raise self._error(SmsTransientError, text, code=status, retry_after=retry_after)
        if status in (401, 403):
            raise self._error(SmsAuthenticationError, text, code=status)
        raise self._error(SmsGatewayError, text, code=status)

    def _unreadable(self, action: str, what: str, recipients: Sequence[str] = ()) -> SmsError:
        if action in _NOT_REPLAY_SAFE:
            return SmsAmbiguousError(f"{action} answered {what}; the gateway may have acted on it",
                                     gateway=self.gateway, recipients_in_doubt=recipients)
        return SmsTransientError(f"{action} answered {what}", gateway=self.gateway)

    def _raise_problems(self, problems: Iterable[Problem]) -> None:
        found = list(problems)
        if found:
            raise SmsValidationError(found, gateway=self.gateway)

    def parse_ok(self, response: HttpResponse, action: str, *, secret: str | None = None) -> None:
        """Read an answer that is ``1`` on success (deletes, empty group, cancel, users, credits).

        :raises SmsError: the error of the code on the first line (see :mod:`.codes`).
        :raises SmsTransientError: anything else, for actions safe to repeat;
            :class:`SmsAmbiguousError` for the others.
        """
        answer = self._answer(response, action)
        code = _negative(answer.first)
        if code is not None:
            raise self._code_error(code, answer.after_first, action, secret=secret)
        if answer.first != "1":
            raise self._unreadable(action, "neither 1 nor an error code")

    def schedule_date(self, when: dt.datetime) -> str:
        """``when`` (timezone-aware) as ``YYYYMMDDHHMMSS`` wall-clock time in the account's zone.

        In the hour repeated when clocks go back, two instants give the same text: the gateway's
        format cannot tell them apart (it has no offset).

        :raises ValueError: for a naive datetime (``check``/the builders report it as a problem first).
        """
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("a NetMessenger time must be timezone-aware")
        return when.astimezone(self._zone).strftime(_TIME_FORMAT)

    # ================================================================ Send: checks

    def _recipient_problems(self, message: OutgoingMessage) -> list[Problem]:
        problems: list[Problem] = []
        numbers, groups = message.numbers, message.groups
        if not numbers and not groups:
            problems.append(Problem("recipients", "at least one number or one group/list is needed"))
        if numbers and groups:
            problems.append(Problem("recipients", "a NetMessenger send carries numbers or one group/list, "
                                                  "not both: send them separately"))
        if len(groups) > 1:
            problems.append(Problem("groups", f"one group or list per NetMessenger send, got {len(groups)}"))
        if len(numbers) > self.max_recipients_per_request:
            problems.append(Problem("numbers", f"at most {self.max_recipients_per_request} numbers per request, "
                                               f"got {len(numbers)}: split the send"))
        problems += number_problems(numbers)
        for index, group in enumerate(groups):
            kind, name = parse_group(group)
            if not name:
                problems.append(Problem("groups", f"{kind.lower()} name must not be empty", group, index))
        return problems

    def _sender_problems(self, sender: str | None, source_ton: int | None) -> list[Problem]:
        if sender is None:
            return [Problem("sender", "NetMessenger needs a sender (SourceAddress)")]
        if not sender.strip():
            return [Problem("sender", "must not be empty", sender)]
        digits = sender[1:] if sender.startswith("+") else sender
        problems: list[Problem] = []
        numeric = digits.isascii() and digits.isdigit()
        national = numeric and not sender.startswith("+") and digits.startswith("0")
        if national:
            if len(sender) > self.sender_alnum_max:
                problems.append(Problem("sender", f"a number in national form goes as written (SourceTON 5), at most "
                                                  f"{self.sender_alnum_max} digits, got {len(sender)}: give it in "
                                                  "international form", sender))
        elif numeric:
            if len(digits) > self.sender_numeric_max:
                problems.append(Problem("sender", f"a numeric sender has at most {self.sender_numeric_max} "
                                                  f"digits, got {len(digits)}", sender))
        elif len(sender) > self.sender_alnum_max:
            problems.append(Problem("sender", f"an alphanumeric sender has at most {self.sender_alnum_max} "
                                              f"characters, got {len(sender)}", sender))
        elif any(ord(c) < 32 or ord(c) == 127 for c in sender) or not is_gsm7(sender):
            problems.append(Problem("sender", "must be GSM 03.38 characters without control characters "
                                              "(A-Z, a-z, 0-9 and space are safest)", sender))
        if source_ton is not None:
            if source_ton not in (1, 5) or not _is_int(source_ton):
                problems.append(Problem("source_ton", "must be 1 (international number) or 5 (alphanumeric)",
                                        str(source_ton)))
            elif source_ton == 1 and (not numeric or national):
                problems.append(Problem("source_ton", "1 (international number) needs a number in international "
                                                      "form (no leading 0)", sender))
        return problems

    def _text_problems(self, message: OutgoingMessage) -> tuple[list[Problem], TextInfo | None]:
        problems: list[Problem] = []
        if message.unicode is True and not self.allow_unicode:
            problems.append(Problem("unicode", "the NetMessenger HTTP API has no documented unicode (UCS-2) "
                                               "switch; enable allow_unicode on the connection to try it"))
        if message.max_parts is not None and not (
            _is_int(message.max_parts) and 1 <= message.max_parts <= self.max_parts_limit
        ):
            problems.append(Problem("max_parts", f"must be between 1 and {self.max_parts_limit} for NetMessenger "
                                                 f"(Body is at most {self.body_max_chars} characters)",
                                    str(message.max_parts)))
        max_parts = self.max_parts_limit
        if _is_int(message.max_parts) and 1 <= message.max_parts <= self.max_parts_limit:
            max_parts = message.max_parts
        unicode = message.unicode if self.allow_unicode else False
        try:
            info = check_text(message.text, unicode=unicode, max_parts=max_parts, gateway=self.gateway)
        except SmsValidationError as exc:
            return problems + exc.problems, None
        return problems, info

    def _validity(self, message: OutgoingMessage, validity_period: int | None) -> Any:
        if validity_period is not None:
            return validity_period
        return message.validity if message.validity is not None else self.validity_period_default

    def _option_problems(self, message: OutgoingMessage, validity_period: int | None,
                         own: Iterable[str]) -> list[Problem]:
        problems: list[Problem] = []
        validity = self._validity(message, validity_period)
        if not (_is_int(validity) and 1 <= validity <= self.validity_period_max):
            problems.append(Problem("validity", f"must be whole seconds from 1 to {self.validity_period_max} "
                                                "(NetMessenger ValidityPeriod)", str(validity)))
        if message.send_at is not None and (message.send_at.tzinfo is None or message.send_at.utcoffset() is None):
            problems.append(Problem("send_at", f"must be timezone-aware (it is sent as {self.time_zone} time)",
                                    str(message.send_at)))
        taken = {name.lower() for name in ("Token", "Action", "ShowErrorMessage", *own)}
        for key, value in message.extras.items():
            if not isinstance(value, str):
                problems.append(Problem("extras", f"value must be a string, got {type(value).__name__}", key))
            elif key.lower() in taken:
                problems.append(Problem("extras", "clashes with a parameter this provider sets", key))
        return problems

    def _checked(self, message: OutgoingMessage, validity_period: int | None,
                 source_ton: int | None) -> TextInfo:
        if message.test_mode is not None:
            # A silently ignored test flag would text real people.
            raise SmsCapabilityError(self.gateway, "test_mode", "the NetMessenger API has no test flag")
        problems = self._recipient_problems(message)
        problems += self._sender_problems(message.sender, source_ton)
        text_problems, info = self._text_problems(message)
        problems += text_problems
        own = ("DestinationAddress", "ListName", "GroupName", "SourceAddress", "Body", "ScheduleDate", "SourceTON",
               "ValidityPeriod", "GetAllMessageIDs", "GetBGSendID")
        problems += self._option_problems(message, validity_period, own)
        self._raise_problems(problems)
        assert info is not None  # no problems means check_text returned
        return info

    def check(self, message: OutgoingMessage, *, validity_period: int | None = None,
              source_ton: int | None = None) -> None:
        """Validate ``message`` for ``Action=Send`` before anything is sent.

        Limits (reference 3.4): text GSM 03.38 (unless ``allow_unicode``), at most 3 parts = 459
        GSM-7 characters (``Body`` max 459; extension characters such as ``€`` count twice), not
        blank; sender required, alphanumeric at most 11 GSM characters or a number of at most 15
        digits; numbers as international digits, no repeats, at most
        :attr:`max_recipients_per_request`; or exactly one group/list (``"list:Name"``,
        ``"group:Name"`` or ``"Name"``), never both; ``send_at`` timezone-aware;
        the validity (``validity_period`` or ``message.validity``) 1..86400 s; ``source_ton`` 1 or 5
        (1 only for an international number); ``extras`` strings that do not clash
        with the parameters set here.

        :raises SmsCapabilityError: ``test_mode`` is set (NetMessenger cannot test-send).
        :raises SmsValidationError: listing every problem.
        """
        self._checked(message, validity_period, source_ton)

    # ================================================================ Send: request

    def _source(self, sender: str, source_ton: int | None) -> tuple[str, int]:
        digits = sender[1:] if sender.startswith("+") else sender
        if digits.isascii() and digits.isdigit():
            international = sender.startswith("+") or not digits.startswith("0")
            ton = source_ton or (1 if international and len(digits) >= self.numeric_ton_min_digits else 5)
            return digits, ton
        return sender, source_ton or 5

    def send_request(
        self,
        message: OutgoingMessage,
        *,
        validity_period: int | None = None,
        source_ton: int | None = None,
        get_bg_send_id: bool = True,
    ) -> HttpRequest:
        """Build ``Action=Send`` for numbers (``DestinationAddress=n1,n2,..``) or one group/list
        (``DestinationAddress=Group&GroupName=..`` / ``List&ListName=..``), validated first.

        :param validity_period: ``ValidityPeriod`` in seconds; when ``None``, ``message.validity``,
            else 86400 (always sent: the vendor page does not mark it optional).
        :param source_ton: ``SourceTON``; default 1 for international numeric senders of 11+
            digits, else 5 (a national number such as ``07911123456`` goes as written, TON 5).
        :param get_bg_send_id: for group/list sends, ask for the background-send id(s).
        """
        self._checked(message, validity_period, source_ton)
        assert message.sender is not None  # checked
        fields: list[tuple[str, str]] = []
        if message.numbers:
            fields.append(("DestinationAddress", ",".join(message.numbers)))
            recipients = list(message.numbers)
        else:
            kind, name = parse_group(message.groups[0])
            fields += [("DestinationAddress", kind), (f"{kind}Name", name)]
            recipients = [message.groups[0]]
        source, ton = self._source(message.sender, source_ton)
        fields += [("SourceAddress", source), ("Body", message.text)]
        if message.send_at is not None:
            fields.append(("ScheduleDate", self.schedule_date(message.send_at)))
        fields.append(("SourceTON", str(ton)))
        fields.append(("ValidityPeriod", str(self._validity(message, validity_period))))
        if message.numbers and self.get_all_message_ids:
            fields.append(("GetAllMessageIDs", "1"))
        if message.groups and get_bg_send_id:
            fields.append(("GetBGSendID", "1"))
        fields += list(message.extras.items())
        return self._request("Send", fields, recipients=recipients)

    # ================================================================ Send: answer

    def _send_tokens(self, response: HttpResponse, recipients: Sequence[str], *,
                     every_line: bool = False) -> tuple[list[int], list[str]]:
        """The ids/codes of a Send answer and the text lines after them.

        ``every_line``: read ids from every line that holds only ids (a group/list answer may put
        the success flag ``1`` and the background-send id on separate lines); otherwise only the
        first line holds ids and the rest is error text.
        """
        answer = self._answer(response, "Send", recipients)
        filled = answer.filled
        taken = 0
        tokens: list[str] = []
        while taken < len(filled) and (taken == 0 or every_line):
            line = [t.strip() for t in filled[taken].split(",") if t.strip()]
            if not line or not all(_ITEM.fullmatch(t) for t in line):
                break
            tokens += line
            taken += 1
        if not tokens or any(int(t) == 0 for t in tokens):
            raise self._unreadable("Send", "without readable message ids or codes", recipients)
        return [int(t) for t in tokens], filled[taken:]

    def _rejection_text(self, code: int, texts: Sequence[str]) -> str:
        entry = error_code(code)
        if entry.meaning == "Undocumented error code" and len(texts) == 1:
            return self.safe_text(texts[0])
        return entry.meaning

    def _align(self, items: Sequence[int], numbers: Sequence[str], parts: int) -> list[list[int]] | None:
        """Group the answer's items by destination, in order; ``None`` when they do not line up.

        One item per destination, unless ``GetAllMessageIDs`` gave every part of a long message
        its own id: then an accepted destination has ``parts`` ids and a rejected one its code.
        """
        if self.get_all_message_ids and len(items) != len(numbers):
            guesses = [parts]
            if all(i > 0 for i in items) and len(items) % len(numbers) == 0:
                guesses.append(len(items) // len(numbers))  # the gateway counted parts differently
            for per in guesses:
                grouped = _greedy(items, len(numbers), per)
                if grouped is not None:
                    return grouped
            return None
        if len(items) != len(numbers):
            return None
        return [[i] for i in items]

    def parse_send_items(self, response: HttpResponse, message: OutgoingMessage) -> list[SendItem]:
        """Read the answer of a send to numbers: one :class:`SendItem` per number, in order.

        :raises SmsAmbiguousError: the answer cannot be matched to the numbers (the messages may
            have gone out).
        :raises SmsError: an answer that is one error code for the whole request (see
            :meth:`parse_send`).
        """
        numbers = list(message.numbers)
        items, texts = self._send_tokens(response, numbers)
        if all(i == PARTIAL_FAILURE for i in items):
            # "Some numbers in list failed" without ids: some numbers were texted, nobody says which.
            raise SmsAmbiguousError(
                f"Send answered {items[0]} ({error_code(items[0]).meaning}) without message ids; which of the "
                f"{len(numbers)} numbers were texted is unknown",
                gateway=self.gateway,
                recipients_in_doubt=numbers,
            )
        if len(items) == 1 and items[0] < 0 and (len(numbers) > 1 or error_code(items[0]).scope == "request"):
            raise self._code_error(items[0], texts, "Send", recipients=numbers)
        parts = max(1, self._parts(message))
        grouped = self._align(items, numbers, parts)
        if grouped is None:
            raise SmsAmbiguousError(
                f"Send answered {len(items)} ids/codes for {len(numbers)} numbers; who was texted is unknown",
                gateway=self.gateway,
                recipients_in_doubt=numbers,
            )
        codes = {g[0] for g in grouped if g[0] < 0}
        if len(codes) == 1 and all(g[0] < 0 for g in grouped):
            only = codes.pop()
            if error_code(only).scope == "request":
                raise self._code_error(only, texts, "Send", recipients=numbers)
        result: list[SendItem] = []
        for number, group in zip(numbers, grouped, strict=True):
            if group[0] < 0:
                result.append(SendItem(number, (), group[0], self._rejection_text(group[0], texts)))
            else:
                result.append(SendItem(number, tuple(str(i) for i in group)))
        return result

    def _parts(self, message: OutgoingMessage) -> int:
        _, info = self._text_problems(message)
        return info.segments if info is not None else 1

    def parse_send(self, response: HttpResponse, message: OutgoingMessage) -> SendResult:
        """Read a Send answer into one :class:`RecipientResult` per number, or one for the group/list.

        Numbers: ``id`` accepted (``message_id`` = the first part's id), ``-code`` rejected with
        the code and its meaning; status SCHEDULED when ``send_at`` was set. An answer that is one
        request-level code (bad token, no credits for a single number, maintenance, ...) is raised
        instead, as is a list made only of one request-level code.

        Groups/lists: ``1`` accepted; with ``GetBGSendID`` the background-send id(s) (comma
        separated, "for future proofing") go to ``background_send_ids`` (an answer ``1,<ids>`` is
        read as the success flag followed by ids -- UNCERTAIN, not documented -- and so is ``1``
        with the ids on the following lines).

        :raises SmsPartialFailure: -400 (some numbers of the list failed); ``result`` is the
            :meth:`SendResult.to_dict` of the accepted group.
        :raises SmsAmbiguousError: an unreadable 200 answer, ids that do not line up with the
            numbers, or a bare -400 to numbers (some were texted, the answer does not say which).
        :raises SmsTransientError: -300, -511, -513, -515, -517 and 503/429 (rate limited).
        :raises SmsAuthenticationError: -501, -512, -514.
        :raises SmsGatewayError: the other codes of the table and undocumented ones.
        """
        status = DeliveryStatus.SCHEDULED if message.send_at is not None else DeliveryStatus.PENDING
        if message.numbers:
            results = [
                RecipientResult(recipient=item.destination, accepted=True, message_id=item.message_ids[0],
                                status=status)
                if item.accepted
                else RecipientResult(recipient=item.destination, accepted=False, code=str(item.code),
                                     text=item.text, status=DeliveryStatus.REJECTED)
                for item in self.parse_send_items(response, message)
            ]
            return SendResult(gateway=self.gateway, results=results)
        label = message.groups[0] if message.groups else ""
        items, texts = self._send_tokens(response, [label], every_line=True)
        positives = [str(i) for i in items if i > 0]
        ids = positives[1:] if positives[:1] == ["1"] else positives
        accepted = SendResult(
            gateway=self.gateway,
            results=[RecipientResult(recipient=label, accepted=True, batch_id=ids[0] if ids else None, status=status)],
            background_send_ids=ids,
        )
        negatives = [i for i in items if i < 0]
        if negatives:
            code = negatives[0]
            if code == PARTIAL_FAILURE:
                partial = SendResult(
                    gateway=self.gateway,
                    results=[RecipientResult(recipient=label, accepted=True, code=str(code),
                                             text=error_code(code).meaning, batch_id=ids[0] if ids else None,
                                             status=status)],
                    background_send_ids=ids,
                )
                raise self._code_error(code, texts, "Send", result=partial.to_dict())
            raise self._code_error(code, texts, "Send", recipients=[label])
        return accepted

    # ================================================================ credits, status, cancel

    def credits_request(self) -> HttpRequest:
        """Build ``Action=CheckCredits``."""
        return self._request("CheckCredits")

    def parse_credits(self, response: HttpResponse) -> float:
        """Read the balance. A decimal comma is accepted (the .NET SDK replaces ``,`` by ``.``).

        A negative *integer* is an error code; a negative decimal is read as a balance.
        """
        answer = self._answer(response, "CheckCredits")
        code = _negative(answer.first)
        if code is not None:
            raise self._code_error(code, answer.after_first, "CheckCredits")
        text = answer.first.replace(" ", "")
        text = text.replace(",", "") if "." in text else text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            raise self._unreadable("CheckCredits", "without a readable balance") from None

    @staticmethod
    def _message_id_problems(message_id: str, field: str = "message_id") -> list[Problem]:
        if isinstance(message_id, str) and message_id.isascii() and message_id.isdigit() and int(message_id) > 0:
            return []
        return [Problem(field, "must be a NetMessenger message id (positive digits)", str(message_id))]

    def status_request(self, message_id: str) -> HttpRequest:
        """Build ``Action=CheckMessageStatus&MessageID=..``."""
        self._raise_problems(self._message_id_problems(message_id))
        return self._request("CheckMessageStatus", [("MessageID", message_id)])

    def parse_status(self, response: HttpResponse, message_id: str) -> MessageStatus:
        """Read the status word (``Delivered``, ``Undeliverable``, ...) into a :class:`MessageStatus`.

        ``code`` is the word as answered; ``text`` its meaning. An undocumented word is UNKNOWN.

        :raises SmsGatewayError: -503 (unknown message id) and other codes.
        """
        answer = self._answer(response, "CheckMessageStatus")
        code = _negative(answer.first)
        if code is not None:
            raise self._code_error(code, answer.after_first, "CheckMessageStatus")
        if not answer.first:
            raise self._unreadable("CheckMessageStatus", "an empty page")
        entry = message_status(answer.first)
        return MessageStatus(status=entry.status, message_id=message_id, code=answer.first, text=entry.meaning)

    def cancel_request(self, message_id: str) -> HttpRequest:
        """Build the cancel of a scheduled message: ``Action=<cancel_action>&MessageID=..``."""
        self._raise_problems(self._message_id_problems(message_id))
        return self._request(self.cancel_action, [("MessageID", message_id)])

    def parse_cancel(self, response: HttpResponse) -> None:
        """Read a cancel answer: ``1`` [infer] when cancelled.

        :raises SmsGatewayError: -503 when the message was already sent, is not this account's or
            does not exist.
        :raises SmsConfigurationError: -502, i.e. ``cancel_action`` is not the gateway's name.
        """
        self.parse_ok(response, self.cancel_action)

    # ================================================================ reports and CSV answers

    def _time_problems(self, name: str, value: dt.datetime | None, required: bool) -> list[Problem]:
        if value is None:
            return [Problem(name, "is required for this report type")] if required else []
        if value.tzinfo is None or value.utcoffset() is None:
            return [Problem(name, f"must be timezone-aware (it is sent as {self.time_zone} time)", str(value))]
        return []

    def report_request(self, report_type: str | ReportType, start: dt.datetime | None = None,
                       end: dt.datetime | None = None) -> HttpRequest:
        """Build ``Action=Report&ReportType=..&From=..&To=..`` (times in the account's zone).

        :param report_type: a :class:`ReportType` or its name in any casing.
        :param start: ``From``; required except for Outbox (whose dates the gateway ignores).
        :param end: ``To``; required except for Outbox; not before ``start``.
        :raises SmsValidationError: an unknown type, a missing or naive time, ``end < start``.
        """
        kind = ReportType.parse(report_type)
        problems: list[Problem] = []
        if kind is None:
            reason = "unknown report type; one of " + ", ".join(t.value for t in ReportType)
            problems.append(Problem("report_type", reason, str(report_type)))
        required = kind is not None and kind.uses_dates
        problems += self._time_problems("start", start, required)
        problems += self._time_problems("end", end, required)
        if not problems and start is not None and end is not None and end < start:
            problems.append(Problem("end", f"is before start ({start.isoformat()})", end.isoformat()))
        self._raise_problems(problems)
        assert kind is not None
        fields = [("ReportType", kind.value)]
        if start is not None:
            fields.append(("From", self.schedule_date(start)))
        if end is not None:
            fields.append(("To", self.schedule_date(end)))
        return self._request("Report", fields)

    def contacts_request(self) -> HttpRequest:
        """Build ``Action=GetAllContacts`` (CSV answer; [infer] the action name and columns)."""
        return self._request("GetAllContacts")

    def groups_request(self) -> HttpRequest:
        """Build ``Action=GetAllGroups`` (CSV answer; [infer] the action name and columns)."""
        return self._request("GetAllGroups")

    def open_report(self, lines: Iterable[str], action: str = "Report") -> tuple[list[str], Iterator[list[str]]]:
        """Start reading a CSV answer (Report, GetAllContacts, GetAllGroups) from streamed lines.

        :returns: the header row and an iterator over the data rows (see
            :func:`~.csvio.iter_report_rows`); an empty answer gives ``([], <empty>)``.
        :raises SmsError: when the first line is an error code (its text is the next line).
        """
        iterator = iter(lines)
        first: str | None = None
        for line in iterator:
            if line.strip():
                first = line
                break
        if first is None:
            return [], iter(())
        code = _negative(first.lstrip("\ufeff"))
        if code is not None:
            text = next((line.strip() for line in iterator if line.strip()), None)
            raise self._code_error(code, [text] if text else [], action)
        rows = iter_report_rows(chain([first], iterator))
        header = next(rows, [])
        return header, rows

    def parse_report(self, response: HttpResponse, action: str = "Report") -> tuple[list[str], list[list[str]]]:
        """Read a whole (small) CSV answer; prefer :meth:`open_report` on streamed lines for big ones."""
        self.check_response(response, action)
        header, rows = self.open_report(decode_body(response.body).splitlines(), action)
        return header, list(rows)

    def report_statuses(self, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[MessageStatus]:
        """Turn the rows of a Messages/Outbox/FailedMessages report into statuses, lazily.

        UNCERTAIN: the vendor page does not name these columns (the names come from the .NET
        SDK's field names), so they are found ignoring case, spaces, ``_`` and ``-``, under the
        variants in :data:`REPORT_COLUMNS` (``MessageID``/``Message ID``/``Msg_ID``/``ID``,
        ``Status``/``Message Status``/``Delivery Status``, ``Destination``/``Number``/``To``/...).

        :raises SmsGatewayError: no id or no status column, naming the columns the report has.
        """
        names = [_column_key(h) for h in header]
        found = {role: next((names.index(n) for n in variants if n in names), None)
                 for role, variants in REPORT_COLUMNS.items()}
        id_at, status_at = found["message_id"], found["status"]
        if id_at is None or status_at is None:
            shown = ", ".join(repr(self.safe_text(h)) for h in header[:20]) or "none"
            raise SmsGatewayError(
                f"the Messages report has no message id and status columns that this provider recognises "
                f"(its columns: {shown}); statuses cannot be read from it", gateway=self.gateway)
        return self._statuses(rows, id_at, status_at, found["destination"])

    @staticmethod
    def _statuses(rows: Iterable[Sequence[str]], id_at: int, status_at: int,
                  to_at: int | None) -> Iterator[MessageStatus]:
        for row in rows:
            if len(row) <= max(id_at, status_at):
                continue
            entry = message_status(row[status_at])
            recipient = row[to_at].strip() if to_at is not None and len(row) > to_at else None
            yield MessageStatus(status=entry.status, recipient=recipient or None, message_id=row[id_at].strip(),
                                code=row[status_at].strip(), text=entry.meaning)

    # ================================================================ contacts and groups

    def import_contacts_request(self, contacts_csv: str, *, ignore_dupes: bool = False,
                                overwrite_dupes: bool = False) -> HttpRequest:
        """Build ``Action=ImportContactsCSV`` for one upload (see :func:`~.csvio.build_contacts_csv`).

        :param ignore_dupes: ``IgnoreDupes=1``: create contacts even when the name or number exists.
        :param overwrite_dupes: ``OverwriteDupes=1``: overwrite a contact with the same number (a
            same name with another number still makes a new contact); the gateway then ignores
            ``IgnoreDupes``.
        """
        if not contacts_csv.strip():
            self._raise_problems([Problem("contacts_csv", "at least one contact line is needed")])
        fields = [("ContactsCSV", contacts_csv)]
        if ignore_dupes:
            fields.append(("IgnoreDupes", "1"))
        if overwrite_dupes:
            fields.append(("OverwriteDupes", "1"))
        return self._request("ImportContactsCSV", fields)

    def parse_import(self, response: HttpResponse) -> ImportResult:
        """Read the per-line results ``<n> : <result>`` and, after a blank line, the detail lines
        ``<n> : <reason>`` (e.g. ``4 : No name``) into counts, per-line outcomes and reasons.

        A detail line whose number has no result line is kept in ``notes``, as is unnumbered text.

        :raises SmsError: an error code on the first line (bad token, ...).
        :raises SmsAmbiguousError: no readable result line (contacts may have been imported).
        """
        answer = self._answer(response, "ImportContactsCSV")
        code = _negative(answer.first)
        if code is not None:
            raise self._code_error(code, answer.after_first, "ImportContactsCSV")
        written = answer.lines
        if written and written[0] == "1 : Success" and written == _all_success(len(written)):
            # Every line imported, as the vendor writes it: what the loop below reads, without its work.
            success = self.safe_text("Success")
            return ImportResult(tuple(ImportLine(number, ImportOutcome.SUCCESS, success)
                                      for number in range(1, len(written) + 1)))
        results: list[tuple[int, ImportOutcome, str]] = []
        seen: set[int] = set()
        details: dict[int, list[str]] = {}
        notes: list[str] = []
        in_details = False
        outcomes: dict[str, ImportOutcome] = {}  # result words repeat: each is looked up once
        for line in answer.lines:
            if not line:
                in_details = in_details or bool(results)
                continue
            match = _IMPORT_LINE.fullmatch(line)
            if match is None:
                if not results:
                    raise self._unreadable("ImportContactsCSV", "without readable per-line results")
                notes.append(self.safe_text(line))
                continue
            number, text = int(match.group(1)), match.group(2).strip()
            outcome = outcomes.get(text)
            if outcome is None:
                outcome = outcomes[text] = import_outcome(text)
            if not in_details and number in seen and outcome is ImportOutcome.UNKNOWN:
                in_details = True  # details without the blank line in between
            if in_details:
                details.setdefault(number, []).append(self.safe_text(text))
            else:
                results.append((number, outcome, text))
                seen.add(number)
        if not results:
            raise self._unreadable("ImportContactsCSV", "without readable per-line results")
        safe: dict[str, str] = {}  # scrubbing is costly and "Success" comes back thousands of times
        lines = tuple(
            ImportLine(number, outcome, safe.get(text) or safe.setdefault(text, self.safe_text(text)),
                       tuple(details.pop(number, ())))
            for number, outcome, text in results
        )
        notes += [f"line {number}: {reason}" for number, reasons in details.items() for reason in reasons]
        return ImportResult(lines, tuple(notes))

    def delete_all_contacts_request(self) -> HttpRequest:
        """Build ``Action=DeleteAllContacts`` (answer ``1``: :meth:`parse_ok`)."""
        return self._request("DeleteAllContacts")

    def delete_all_groups_request(self) -> HttpRequest:
        """Build ``Action=DeleteAllGroups`` (answer ``1``: :meth:`parse_ok`)."""
        return self._request("DeleteAllGroups")

    def _group_request(self, action: str, group: str) -> HttpRequest:
        if not isinstance(group, str) or not group.strip():
            self._raise_problems([Problem("group", "a group name is needed", str(group))])
        return self._request(action, [("Group", group.strip())])

    def empty_group_request(self, group: str) -> HttpRequest:
        """Build ``Action=EmptyGroup&Group=..`` (remove every contact from it; answer ``1``)."""
        return self._group_request("EmptyGroup", group)

    def delete_group_request(self, group: str) -> HttpRequest:
        """Build ``Action=DeleteGroup&Group=..`` (answer ``1``)."""
        return self._group_request("DeleteGroup", group)

    # ================================================================ accounts

    def create_user_request(self, user: ChildUser) -> HttpRequest:
        """Build ``Action=CreateUser`` (admin accounts only; the credits come from this account).

        :raises SmsValidationError: listing every problem: username, password, first/last name and
            email required (email with ``@``), access level Normal/Admin, credits >= 0,
            credit_reminder >= 0, alert >= 1, no blank telephone.
        """
        problems: list[Problem] = []
        for name, value in (("username", user.username), ("first_name", user.first_name),
                            ("last_name", user.last_name), ("email", user.email)):
            if not value or not value.strip():
                problems.append(Problem(name, "is required"))
        if not user.password:
            problems.append(Problem("password", "is required"))
        if user.email.strip() and "@" not in user.email:
            problems.append(Problem("email", "is not an email address", user.email))
        if user.access_level not in ("Normal", "Admin"):
            problems.append(Problem("access_level", "must be 'Normal' or 'Admin'", str(user.access_level)))
        if not (_is_int(user.credits) and user.credits >= 0):
            problems.append(Problem("credits", "must be a whole number >= 0", str(user.credits)))
        if user.credit_reminder is not None and not (_is_int(user.credit_reminder) and user.credit_reminder >= 0):
            problems.append(Problem("credit_reminder", "must be a whole number >= 0", str(user.credit_reminder)))
        if user.alert is not None and not (_is_int(user.alert) and user.alert >= 1):
            problems.append(Problem("alert", "must be a whole number of days >= 1", str(user.alert)))
        if user.telephone is not None and not user.telephone.strip():
            problems.append(Problem("telephone", "must not be blank (leave it out instead)"))
        self._raise_problems(problems)
        fields = [
            ("ChildUsername", user.username.strip()),
            ("ChildPassword", user.password),
            ("AccessLevel", user.access_level),
            ("FirstName", user.first_name.strip()),
            ("LastName", user.last_name.strip()),
            ("Email", user.email.strip()),
        ]
        if user.telephone is not None:
            fields.append(("Telephone", user.telephone.strip()))
        fields.append(("Credits", str(user.credits)))
        if user.credit_reminder is not None:
            # The vendor page spells the parameter "Credit Reminder" (with the space); the official
            # .NET SDK sends CreditReminder. The document is the contract we follow.
            fields.append(("Credit Reminder", str(user.credit_reminder)))
        if user.alert is not None:
            fields.append(("Alert", str(user.alert)))
        return self._request("CreateUser", fields)

    def parse_create_user(self, response: HttpResponse, user: ChildUser | None = None) -> None:
        """Read ``1``, or an error code with explanation lines (the child's password is scrubbed)."""
        self.parse_ok(response, "CreateUser", secret=user.password if user is not None else None)

    def update_credits_request(self, child_username: str, quantity: int) -> HttpRequest:
        """Build ``Action=UpdateCredits``: positive ``quantity`` moves credits to the child, negative back.

        :raises SmsValidationError: blank username, zero or non-integer quantity.
        """
        problems: list[Problem] = []
        if not child_username or not child_username.strip():
            problems.append(Problem("child_username", "is required"))
        if not _is_int(quantity) or quantity == 0:
            problems.append(Problem("quantity", "must be a non-zero whole number", str(quantity)))
        self._raise_problems(problems)
        return self._request("UpdateCredits", [("ChildUsername", child_username.strip()), ("Quantity", str(quantity))])

    def parse_update_credits(self, response: HttpResponse) -> None:
        """Read ``1``; -509 unknown user, -510 would go below 0, -702 invalid amount are raised."""
        self.parse_ok(response, "UpdateCredits")

    # ================================================================ background sends

    def background_messages_request(self, background_send_id: str) -> HttpRequest:
        """Build ``Action=GetBGMessages&BGSendID=..``."""
        self._raise_problems(self._message_id_problems(background_send_id, "background_send_id"))
        return self._request("GetBGMessages", [("BGSendID", background_send_id)])

    @staticmethod
    def _loads(text: str) -> Any:
        for candidate in (text, text.translate(_TYPOGRAPHIC_QUOTES)):
            try:
                return load_json(candidate)
            except ValueError:
                continue
        return None

    def parse_background_messages(self, response: HttpResponse, background_send_id: str) -> BackgroundSendMessages:
        """Read ``GetBGMessages``: a JSON array of ``{"MessageID", "Destination", "Status"}``.

        -522 (background send not finished) is not raised: it returns ``finished=False`` with no
        messages, for a sensor to poll on. The error object ``{"error": "-521", "message": ..}``
        and plain-text codes are raised per the table (-521 unknown id, -523 no messages found
        -- e.g. archived). The vendor page's examples use typographic quotes; they are accepted.

        :raises SmsTransientError: an answer that is neither.
        """
        action = "GetBGMessages"
        answer = self._answer(response, action)
        data = self._loads("\n".join(answer.filled))
        code: int | None = None
        texts: list[str] = []
        if isinstance(data, dict) and "error" in data:
            raw = str(data.get("error", "")).strip()
            code = int(raw) if _ITEM.fullmatch(raw) else None
            if code is None:
                raise self._unreadable(action, "an error object without a code")
            said = data.get("message")
            texts = [said] if isinstance(said, str) and said.strip() else []
        elif data is None or isinstance(data, int):
            code = _negative(answer.first)
            texts = answer.after_first
            if code is None:
                raise self._unreadable(action, "neither JSON nor an error code")
        if code is not None:
            if code == BACKGROUND_SEND_NOT_FINISHED:
                return BackgroundSendMessages(background_send_id, finished=False)
            raise self._code_error(code, texts, action)
        if not isinstance(data, list):
            raise self._unreadable(action, "JSON that is not a list of messages")
        return BackgroundSendMessages(background_send_id, finished=True,
                                      messages=tuple(self._background_message(item) for item in data))

    def _background_message(self, item: Any) -> BackgroundMessage:
        if not isinstance(item, dict):
            raise self._unreadable("GetBGMessages", "a message that is not an object")
        fields: Mapping[str, Any] = {str(k).lower(): v for k, v in item.items()}
        message_id, status = fields.get("messageid"), fields.get("status")
        destination = fields.get("destination", fields.get("number"))
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in (message_id, status, destination)):
            raise self._unreadable("GetBGMessages", "a message without MessageID, Destination and Status")
        word = str(status).strip()
        return BackgroundMessage(str(message_id).strip(), str(destination).strip(), word, message_status(word).status)


def _greedy(items: Sequence[int], destinations: int, per: int) -> list[list[int]] | None:
    """Split ``items`` into ``destinations`` groups: a code alone, or up to ``per`` part ids."""
    groups: list[list[int]] = []
    at = 0
    for _ in range(destinations):
        if at >= len(items):
            return None
        if items[at] < 0:
            groups.append([items[at]])
            at += 1
            continue
        end = at
        while end < len(items) and end - at < per and items[end] > 0:
            end += 1
        groups.append(list(items[at:end]))
        at = end
    return groups if at == len(items) else None
