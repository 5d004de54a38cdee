"""Bulletin Messenger HTTP API, sans-I/O: send requests and answers, polling queues, the sent list.

:class:`BulletinApi` builds :class:`~airflow_provider_sms.gateways.http.HttpRequest` objects and
reads :class:`~airflow_provider_sms.gateways.http.HttpResponse` objects into the shared model and
the error tree. XML goes through the hardened reader of :mod:`airflow_provider_sms.gateways.xml`.

Credentials travel in the Basic ``Authorization`` header; with ``auth_in_form`` they go as the
``userId``/``password`` form fields instead (never both, never in a URL).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SendResult
from airflow_provider_sms.core.text import check_text
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsCapabilityError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import decode_body, header, load_json, parse_retry_after, scrub, secret_forms
from airflow_provider_sms.gateways.bulletin.models import InboundReply, SentItem, SentMessage, StatusUpdate
from airflow_provider_sms.gateways.checks import number_problems
from airflow_provider_sms.gateways.http import BasicAuth, HttpRequest, HttpResponse
from airflow_provider_sms.gateways.xml import parse_xml

__all__ = [
    "ADDRESS_BOOK_PREFIXES",
    "DEFAULT_REPLY_CALLBACK_PARAM",
    "DEFAULT_STATUS_CALLBACK_PARAM",
    "GATEWAY",
    "LIST_PATH",
    "OUT_PATH",
    "OUT_POLL_PATH",
    "REPLY_POLL_PATH",
    "SENT_REPORT_HEADER",
    "STATUS_POLL_PATH",
    "BulletinApi",
    "message_id_for",
    "wire_name",
]

GATEWAY = "bulletin"
OUT_PATH = "/api/3/sms/out"
STATUS_POLL_PATH = "/api/1/sms/status"
REPLY_POLL_PATH = "/api/1/sms/in"
OUT_POLL_PATH = "/api/3/sms/out/poll"
LIST_PATH = "/api/2/sms/list"

#: Names of the two per-message callback parameters: not confirmed by any source (reference 1.12),
#: so the connection can change them; these are the most likely ones.
DEFAULT_REPLY_CALLBACK_PARAM = "callbackUrl"
DEFAULT_STATUS_CALLBACK_PARAM = "statusCallbackUrl"

ADDRESS_BOOK_PREFIXES = ("group:", "contact:")
UTF16_CONTENT_TYPE = "text/plain; charset=UTF-16"
BODY_MAX_CHARS = 480
MESSAGE_ID_MAX = 36
MAX_PARTS_LIMIT = 8  # 480 UTF-16 characters in parts of 67
_SENDER_ALNUM_MAX = 11
_SENDER_NUMERIC_MAX = 16
SENT_REPORT_HEADER = ("message_id", "recipient", "date", "status_code", "error", "body")
_DAILY_LIMIT = re.compile(r"daily|per day|limit", re.IGNORECASE)


def message_id_for(dedupe_key: int | None, client_ref: str | None = None) -> str:
    """The ``messageId`` of one chunk: derived from its dedupe key, so a retried task reuses it.

    Without a dedupe key (direct hook use) the caller's ``client_ref`` is used, else a fresh UUID.
    """
    if dedupe_key is not None:
        return f"airflow-{dedupe_key}"
    return client_ref or uuid.uuid4().hex


def wire_name(entry: str) -> str:
    """An address-book entry as it goes in ``to``: without its ``group:``/``contact:`` prefix."""
    lowered = entry.lower()
    for prefix in ADDRESS_BOOK_PREFIXES:
        if lowered.startswith(prefix):
            return entry[len(prefix):].strip()
    return entry.strip()


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


class BulletinApi:
    """Requests and answers of the Messenger API for one account.

    :param user_id: the Messenger login (``userId``).
    :param password: its password.
    :param auth_in_form: send ``userId``/``password`` as form fields instead of the Basic header.
    :param reply_callback_url: per-message URL called with replies (omitted when ``None``).
    :param status_callback_url: per-message URL called on status changes (omitted when ``None``).
    :param reply_callback_param: the parameter carrying ``reply_callback_url``.
    :param status_callback_param: the parameter carrying ``status_callback_url``.
    :param other_secrets: secrets inside what is sent (the callback URLs' secret), scrubbed like the password.
    """

    gateway = GATEWAY
    max_recipients_per_request = 500

    def __init__(self, user_id: str, password: str, *, auth_in_form: bool = False,
                 reply_callback_url: str | None = None, status_callback_url: str | None = None,
                 reply_callback_param: str = DEFAULT_REPLY_CALLBACK_PARAM,
                 status_callback_param: str = DEFAULT_STATUS_CALLBACK_PARAM,
                 other_secrets: Sequence[str] = ()) -> None:
        self._user_id = user_id
        self._password = password
        # Every form the password (and the callback URLs' secret) takes on the wire, for echoing gateways.
        self._secret_forms = secret_forms([password, *other_secrets], basic_auth=(user_id, password))
        self.auth_in_form = auth_in_form
        self.reply_callback_url = reply_callback_url or None
        self.status_callback_url = status_callback_url or None
        self.reply_callback_param = reply_callback_param or DEFAULT_REPLY_CALLBACK_PARAM
        self.status_callback_param = status_callback_param or DEFAULT_STATUS_CALLBACK_PARAM

    def __repr__(self) -> str:
        return f"BulletinApi(user_id={self._user_id!r}, auth_in_form={self.auth_in_form})"

    # ================================================================ plumbing

    def _safe(self, text: str) -> str:
        return scrub(text, self._secret_forms)

    def _request(self, method: str, path: str, fields: Sequence[tuple[str, str]] = (), *,
                 sends_message: bool = False, recipients: Sequence[str] = ()) -> HttpRequest:
        form = list(fields)
        auth: BasicAuth | None = BasicAuth(self._user_id, self._password)
        if self.auth_in_form:
            form = [("userId", self._user_id), ("password", self._password), *form]
            auth = None
        if method == "GET":
            # Only the Basic header may carry credentials on a GET: a form would have to go in the URL.
            return HttpRequest("GET", path, auth=BasicAuth(self._user_id, self._password))
        return HttpRequest("POST", path, form=form, auth=auth, sends_message=sends_message,
                           recipients=recipients)

    def _error_for_status(self, response: HttpResponse, what: str, *, detail: str = "",
                          recipients: Sequence[str] = (), sends_message: bool = False) -> SmsError:
        status = response.status
        text = f"{what}: HTTP {status}" + (f" ({self._safe(detail)})" if detail else "")
        if status == 401:
            return SmsAuthenticationError(f"{text}; check the URL, user id and password", gateway=self.gateway,
                                          code=401)
        if status == 403:
            if _DAILY_LIMIT.search(detail):
                return SmsGatewayError(f"{text}; the company's daily message limit is reached (not an "
                                       "authentication problem; it clears the next day, or ask Bulletin to lift it)",
                                       gateway=self.gateway, code=403)
            return SmsGatewayError(f"{text}; check company limits and address-book restrictions",
                                   gateway=self.gateway, code=403)
        if status == 429:
            return SmsRateLimitedError(text, gateway=self.gateway, code=429,
                                       retry_after=parse_retry_after(header(response.headers, "Retry-After")))
        if status >= 500:
            if sends_message:
                return SmsAmbiguousError(f"{text}: the send may or may not have been accepted",
                                         gateway=self.gateway, recipients_in_doubt=recipients)
            return SmsTransientError(text, gateway=self.gateway, code=status)
        return SmsGatewayError(text, gateway=self.gateway, code=status)

    def _xml_root(self, response: HttpResponse, recipients: Sequence[str]) -> Any:
        def unreadable(reason: str) -> SmsError:
            return SmsAmbiguousError(f"send answered {reason}; who was texted is unknown", gateway=self.gateway,
                                     recipients_in_doubt=recipients)

        return parse_xml(response.body, unreadable, complete_root=True)

    # ================================================================ send: checks

    def _recipient_problems(self, message: OutgoingMessage) -> list[Problem]:
        problems: list[Problem] = []
        if not message.numbers and not message.groups:
            problems.append(Problem("recipients", "at least one number or address-book name is needed"))
        if message.recipient_count > self.max_recipients_per_request:
            problems.append(Problem("recipients", f"at most {self.max_recipients_per_request} per request, got "
                                                  f"{message.recipient_count}: split the send"))
        problems += number_problems(message.numbers)
        problems += [Problem("numbers", "international digits without leading zeros", n, i)
                     for i, n in enumerate(message.numbers) if n.startswith("0")]
        seen: set[str] = set()
        for index, entry in enumerate(message.groups):
            name = wire_name(entry)
            if not name:
                problems.append(Problem("groups", "address-book name must not be empty", entry, index))
            elif any(ch.isspace() for ch in name):
                problems.append(Problem("groups", "Messenger's space-delimited 'to' cannot carry a name with "
                                                  "spaces", entry, index))
            elif name.isdigit():
                problems.append(Problem("groups", "an all-digit name would be read as a number", entry, index))
            elif name.lower() in seen:
                problems.append(Problem("groups", "duplicate recipient", entry, index))
            seen.add(name.lower())
        return problems

    def _sender_problems(self, sender: str | None) -> list[Problem]:
        if sender is None:
            return []  # Messenger uses the account's default source
        digits = sender[1:] if sender.startswith("+") else sender
        if not sender.strip():
            return [Problem("sender", "must not be empty", sender)]
        if digits.isascii() and digits.isdigit():
            if len(digits) > _SENDER_NUMERIC_MAX:
                return [Problem("sender", f"a numeric sender has at most {_SENDER_NUMERIC_MAX} digits", sender)]
            return []
        if len(sender) > _SENDER_ALNUM_MAX:
            return [Problem("sender", f"an alphanumeric sender has at most {_SENDER_ALNUM_MAX} characters",
                            sender)]
        if any(ord(c) < 32 or ord(c) == 127 for c in sender):
            return [Problem("sender", "must not hold control characters", sender)]
        return []

    def _text_problems(self, message: OutgoingMessage) -> list[Problem]:
        problems: list[Problem] = []
        limit = MAX_PARTS_LIMIT
        if message.max_parts is not None:
            if not isinstance(message.max_parts, int) or not 1 <= message.max_parts <= MAX_PARTS_LIMIT:
                problems.append(Problem("max_parts", f"must be between 1 and {MAX_PARTS_LIMIT} (fragmentationLimit)",
                                        str(message.max_parts)))
            else:
                limit = message.max_parts
        if len(message.text) > BODY_MAX_CHARS:
            problems.append(Problem("message", f"at most {BODY_MAX_CHARS} characters, got {len(message.text)}"))
        try:
            check_text(message.text, unicode=message.unicode, max_parts=limit, gateway=self.gateway)
        except SmsValidationError as exc:
            problems += exc.problems
        return problems

    def check(self, message: OutgoingMessage) -> None:
        """Validate ``message`` for ``/api/3/sms/out`` before anything is sent.

        Recipients: international digits (no ``+``, no leading zero) and address-book names
        (``group:Name``/``contact:Name``/bare, no spaces), at most :attr:`max_recipients_per_request`;
        text at most 480 characters and ``max_parts`` (``fragmentationLimit``) parts; sender
        optional (alphanumeric up to 11 or a number); no schedule (the API has none); extras
        must not clash with the parameters set here.

        :raises SmsCapabilityError: ``test_mode`` is set (Messenger has no test flag).
        :raises SmsValidationError: listing every problem.
        """
        if message.test_mode is not None:
            raise SmsCapabilityError(self.gateway, "test-mode sends", "the Messenger API has no test flag")
        problems = self._recipient_problems(message)
        problems += self._sender_problems(message.sender)
        problems += self._text_problems(message)
        if message.send_at is not None:
            problems.append(Problem("send_at", "the Messenger API documents no scheduled sends"))
        if message.client_ref is not None and len(message.client_ref) > MESSAGE_ID_MAX:
            problems.append(Problem("client_ref", f"at most {MESSAGE_ID_MAX} characters (messageId)",
                                    message.client_ref))
        taken = {n.lower() for n in ("userId", "password", "to", "body", "from", "messageId", "contentType",
                                     "fragmentationLimit", self.reply_callback_param, self.status_callback_param)}
        for key, value in message.extras.items():
            if key.lower() in taken:
                problems.append(Problem("extras", "clashes with a parameter this provider sets", key))
            elif not isinstance(value, str):
                problems.append(Problem("extras", f"value must be a string, got {type(value).__name__}", key))
        if problems:
            raise SmsValidationError(problems, gateway=self.gateway)

    # ================================================================ send: request and answer

    def needs_utf16(self, message: OutgoingMessage) -> bool:
        """True when the text must go as UTF-16 (characters outside GSM 03.38, or ``unicode=True``)."""
        if message.unicode is True:
            return True
        info = check_text(message.text, unicode=message.unicode, max_parts=MAX_PARTS_LIMIT, gateway=self.gateway)
        return bool(info.non_gsm_chars)

    def send_request(self, message: OutgoingMessage) -> HttpRequest:
        """Build ``POST /api/3/sms/out`` (validated first); the form is UTF-8 whatever the alphabet."""
        self.check(message)
        wire = [*message.numbers, *(wire_name(g) for g in message.groups)]
        fields: list[tuple[str, str]] = [("to", " ".join(wire)), ("body", message.text)]
        if message.sender:
            fields.append(("from", message.sender))
        fields.append(("messageId", message_id_for(message.dedupe_key, message.client_ref)))
        if message.max_parts is not None:
            fields.append(("fragmentationLimit", str(message.max_parts)))
        if self.needs_utf16(message):
            fields.append(("contentType", UTF16_CONTENT_TYPE))
        if self.reply_callback_url:
            fields.append((self.reply_callback_param, self.reply_callback_url))
        if self.status_callback_url:
            fields.append((self.status_callback_param, self.status_callback_url))
        fields += list(message.extras.items())
        return self._request("POST", OUT_PATH, fields, sends_message=True,
                             recipients=[*message.numbers, *message.groups])

    def parse_send(self, response: HttpResponse, message: OutgoingMessage, message_id: str) -> SendResult:
        """Read the ``outbound-message-delivery`` answer: one result per recipient we named.

        A recipient flagged ``isError="true"`` (blocked number, unknown contact, ...) is rejected
        with its code and text; the others are accepted under ``message_id``. A recipient the
        answer does not mention (a group the gateway expanded, say) counts as accepted when the
        request as a whole succeeded; recipients the answer adds (group members) are listed too.

        :raises SmsAuthenticationError: HTTP 401 or a root error 401.
        :raises SmsGatewayError: HTTP 400/403 or a root error (403 daily limit said so).
        :raises SmsAmbiguousError: HTTP 5xx, or an unreadable 200 (the send may have gone out).
        """
        named = [*message.numbers, *message.groups]
        by_wire = {n: n for n in message.numbers} | {wire_name(g).lower(): g for g in message.groups}
        if response.status == 204:
            return SendResult(gateway=self.gateway, batch_ids=[message_id], results=[
                RecipientResult(r, True, text="accepted (no details in the answer)", message_id=message_id,
                                batch_id=message_id) for r in named])
        if response.status != 200:
            detail = self._error_detail(response)
            raise self._error_for_status(response, "send refused", detail=detail, recipients=named,
                                         sends_message=True)
        root = self._xml_root(response, named)
        if root.tag != "outbound-message-delivery":
            raise SmsAmbiguousError(f"send answered a <{str(root.tag)[:40]}> document; who was texted is unknown",
                                    gateway=self.gateway, recipients_in_doubt=named)
        if _bool(root.get("isError")):
            code = (root.get("errorCode") or "").strip()
            status = int(code) if code.isdigit() and len(code) == 3 else 400
            raise self._error_for_status(HttpResponse(status, b""), "send refused",
                                         detail=root.get("errorMessage") or "", recipients=named,
                                         sends_message=True)
        results: dict[str, RecipientResult] = {}
        extra: list[RecipientResult] = []
        for node in root:
            if not isinstance(node.tag, str) or node.tag != "recipient":
                continue
            wire = (node.get("msisdn") or "").strip()
            who = by_wire.get(wire) or by_wire.get(wire.lower()) or by_wire.get(wire.lstrip("+")) or wire
            if _bool(node.get("isError")):
                result = RecipientResult(who, False, code=(node.get("errorCode") or "").strip() or None,
                                         text=self._safe(node.get("errorMessage") or "rejected"),
                                         message_id=message_id, batch_id=message_id,
                                         status=DeliveryStatus.REJECTED)
            else:
                result = RecipientResult(who, True, message_id=message_id, batch_id=message_id)
            if who in results or who not in named:
                extra.append(result)
            else:
                results[who] = result
        ordered = [results.get(r) or RecipientResult(r, True, text="accepted (not itemised in the answer)",
                                                     message_id=message_id, batch_id=message_id) for r in named]
        return SendResult(gateway=self.gateway, results=ordered + extra, batch_ids=[message_id])

    def _error_detail(self, response: HttpResponse) -> str:
        """``errorMessage`` of an error answer's XML, else its first line (the vendor: "status line")."""
        try:
            root = parse_xml(response.body[:100_000], lambda reason: SmsGatewayError(reason), complete_root=True)
            return str(root.get("errorMessage") or "")
        except SmsError:
            text = decode_body(response.body[:500]).strip()
            return text.splitlines()[0] if text else ""

    # ================================================================ polling queues

    def status_poll_request(self) -> HttpRequest:
        """``/api/1/sms/status``: one unread status update (each is handed out once)."""
        return self._request("POST", STATUS_POLL_PATH)

    def reply_poll_request(self) -> HttpRequest:
        """``/api/1/sms/in``: one unread reply (each is handed out once)."""
        return self._request("POST", REPLY_POLL_PATH)

    def out_poll_request(self) -> HttpRequest:
        """``/api/3/sms/out/poll``: the messages sent since the last poll (the cursor moves on)."""
        return self._request("GET", OUT_POLL_PATH)

    def list_request(self) -> HttpRequest:
        """``/api/2/sms/list``: recent messages; reads nothing off a queue."""
        return self._request("GET", LIST_PATH)

    def _check_poll(self, response: HttpResponse, what: str) -> bool:
        """True when the answer carries an item; False on 204 (nothing waiting)."""
        if response.status == 204:
            return False
        if response.status != 200:
            raise self._error_for_status(response, what, detail=self._error_detail(response))
        return True

    def _form(self, response: HttpResponse) -> dict[str, str]:
        text = decode_body(response.body)
        if len(text) > 100_000:
            raise SmsGatewayError("a polled item of more than 100,000 characters", gateway=self.gateway)
        try:
            pairs = parse_qsl(text.strip(), keep_blank_values=True, strict_parsing=bool(text.strip()),
                              max_num_fields=100)
        except ValueError:
            raise SmsTransientError("a polled item that is not form-encoded", gateway=self.gateway) from None
        return {k: v for k, v in pairs}

    def parse_status_poll(self, response: HttpResponse) -> StatusUpdate | None:
        """One status update, or ``None`` when nothing is waiting (HTTP 204)."""
        if not self._check_poll(response, "status poll"):
            return None
        return status_from_form(self._form(response), self.gateway)

    def parse_reply_poll(self, response: HttpResponse) -> InboundReply | None:
        """One reply, or ``None`` when nothing is waiting (HTTP 204)."""
        if not self._check_poll(response, "reply poll"):
            return None
        return reply_from_form(self._form(response), self.gateway)

    def _json(self, response: HttpResponse, what: str) -> Any:
        if not self._check_poll(response, what):
            return []
        try:
            return load_json(decode_body(response.body))
        except ValueError:  # RecursionError too (nesting too deep): load_json turns it into this
            raise SmsTransientError(f"{what} answered something that is not JSON", gateway=self.gateway) from None

    def parse_out_poll(self, response: HttpResponse) -> list[SentMessage]:
        """The messages sent since the last poll (JSON list; fields matched by name)."""
        data = self._json(response, "sent-messages poll")
        if not isinstance(data, list):
            raise SmsTransientError("sent-messages poll answered JSON that is not a list", gateway=self.gateway)
        found: list[SentMessage] = []
        for item in data:
            if not isinstance(item, Mapping):
                continue
            count = item.get("recipientCount")
            found.append(SentMessage(
                message_id=str(item.get("messageId") or ""), body=str(item.get("body") or ""),
                recipient_count=count if isinstance(count, int) else None,
                recipients=str(item.get("recipients") or ""), message_date=str(item.get("messageDate") or ""),
                status_code=str(item.get("statusCode") or "")))
        return found

    def check_list(self, response: HttpResponse) -> None:
        """Raise for an error answer to the sent list (status and headers only: the body streams)."""
        if response.status != 200:
            raise self._error_for_status(response, "sent list")

    def sent_items(self, lines: Iterable[str]) -> Iterator[SentItem]:
        """Every recipient of every message in a streamed ``/api/2/sms/list`` answer.

        The list's format is not documented (reference 1.7 names the endpoint only): read as a
        JSON array of messages, each with ``messageId``, ``body``, ``messageDate`` and either
        ``recipients`` (objects with ``to``/``msisdn``, ``statusCode``, ``isError``/``errorMessage``)
        or one recipient in ``to``/``msisdn``. Parsed one message at a time, never whole.
        """
        for item in iter_json_array(lines, self.gateway):
            if isinstance(item, Mapping):
                yield from _sent_items(item)


def status_from_form(fields: Mapping[str, str], gateway: str = GATEWAY) -> StatusUpdate:
    """A status update from FORMv1 fields (callback or poll): ``messageId`` is the *status* id and
    ``inReplyToId`` the message's ``messageId``."""
    get = _getter(fields)
    code = get("statusCode")
    if not code:
        raise SmsGatewayError("a status update without statusCode", gateway=gateway)
    return StatusUpdate(status_id=get("messageId"), message_id=get("inReplyToId"), handset=get("from"),
                        status_code=code.upper(), to=get("to"), error=get("error"),
                        status_date=get("statusDate") or None)


def reply_from_form(fields: Mapping[str, str], gateway: str = GATEWAY) -> InboundReply:
    """A reply from FORMv1 fields (callback or poll): ``inReplyToId`` is the message answered."""
    get = _getter(fields)
    if not get("from"):
        raise SmsGatewayError("a reply without the sender ('from')", gateway=gateway)
    return InboundReply(handset=get("from"), body=get("body"), in_reply_to=get("inReplyToId"),
                        reply_id=get("messageId"), to=get("to"))


def _getter(fields: Mapping[str, str]) -> Any:
    lowered = {str(k).lower(): str(v) for k, v in fields.items()}
    return lambda name: lowered.get(name.lower(), "").strip()


def _sent_items(item: Mapping[str, Any]) -> Iterator[SentItem]:
    message_id = str(item.get("messageId") or "")
    body = str(item.get("body") or "")
    date = str(item.get("messageDate") or item.get("date") or "")
    recipients = item.get("recipients")
    rows = recipients if isinstance(recipients, list) else [item]
    for row in rows:
        if isinstance(row, str):
            yield SentItem(message_id, row, body, date)
        elif isinstance(row, Mapping):
            who = str(row.get("to") or row.get("msisdn") or row.get("recipient") or "")
            error = str(row.get("errorMessage") or row.get("error") or "") if _is_error(row) else ""
            yield SentItem(message_id, who, body, date, str(row.get("statusCode") or ""), error)


def _is_error(row: Mapping[str, Any]) -> bool:
    flag = row.get("isError")
    return flag is True or str(flag).lower() == "true" or (flag is None and bool(row.get("errorMessage")))


def iter_json_array(lines: Iterable[str], gateway: str = GATEWAY, *, item_limit: int = 1_000_000) -> Iterator[Any]:
    """The elements of a JSON array arriving in pieces (lines), decoded one by one (never the whole array).

    :raises SmsTransientError: the text is not a JSON array, or one element exceeds ``item_limit``
        characters.
    """
    decoder = json.JSONDecoder()
    buffer = ""
    state = "open"  # open -> first (item or ]) -> after (, or ]) -> item -> after ...
    pieces = iter(lines)
    exhausted = False

    def broken(why: str) -> SmsTransientError:
        return SmsTransientError(f"the sent list is not a readable JSON array ({why})", gateway=gateway)

    while True:
        buffer = buffer.lstrip()
        if buffer:
            head = buffer[0]
            if state == "open":
                if head != "[":
                    raise broken("no opening bracket")
                buffer, state = buffer[1:], "first"
                continue
            if state in ("first", "after") and head == "]":
                return
            if state == "after":
                if head != ",":
                    raise broken("a missing comma")
                buffer, state = buffer[1:], "item"
                continue
            try:
                item, end = decoder.raw_decode(buffer)
            except ValueError:
                item, end = None, -1
            except RecursionError:
                raise broken("an item nested too deeply") from None
            if end >= 0 and (end < len(buffer) or exhausted):
                yield item
                buffer, state = buffer[end:], "after"
                continue
            if len(buffer) > item_limit:
                raise broken("an item too large to read")
        if exhausted:
            raise broken("it ends early" if buffer or state != "open" else "it is empty")
        try:
            buffer += next(pieces) + "\n"
        except StopIteration:
            exhausted = True
