"""BulkSMS JSON REST API v1, sans-I/O: build requests, parse answers into the shared model.

Reference: ``reference/gateways.md`` 2.13 and the vendor's OpenAPI document (``openapi.yaml``
of the JSON API v1). HTTP Basic auth; JSON bodies; ``POST /messages`` answers 201 with one
``Message`` per recipient; errors are ``{type, title, status, detail}`` objects.

The API has no test flag, no quote, no batch-of-different-texts helper beyond several
submission entries, and no polling inbox in this provider: the hook reports those as
capability errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, RecipientResult, SendResult
from airflow_provider_sms.core.text import Encoding, TextInfo, check_text
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsCapabilityError,
    SmsError,
    SmsGatewayError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import is_number, load_json
from airflow_provider_sms.gateways.bulksms.codes import json_delivery_status, json_http_error
from airflow_provider_sms.gateways.bulksms.common import (
    BulkSmsApiBase,
    BulkSmsCredentials,
    StatusPage,
    decode_body,
    header,
    parse_retry_after,
)
from airflow_provider_sms.gateways.http import BasicAuth, HttpRequest, HttpResponse

__all__ = ["BulkSmsJsonApi"]

_JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json", "Accept": "application/json"}
# Characters that would change the meaning of a ``filter`` clause (clause separator,
# operators) and so can never be part of a submission id we put into one.
_FILTER_SYNTAX = frozenset("&=<>!;, ")
# The vendor's OpenAPI text for ``filter``: "Each clause has the form name=value ... Multiple
# clauses are separated with the & symbol", e.g. ``type=SENT&submission.id=1-000...522347562``,
# and ``id<123456`` for paging. (An RSQL-like ``==``/``;`` form is NOT what it documents.)
_FILTER_EQUALS = "="
_FILTER_AND = "&"
# ``RecipientResult`` from a tuple of its fields in order, without the keyword-argument call.
_new_result = tuple.__new__


class _Unreadable(ValueError):
    """A 2xx answer whose JSON is not what the API documents."""


def _schedule_date(when: dt.datetime) -> str:
    # The API wants yyyy-MM-ddThh:mm:ss with Z or +-hh:mm. Keep the caller's offset when it has
    # whole minutes (a historic zone may have seconds, which the format cannot carry: use UTC).
    offset = when.utcoffset()
    if offset is None or offset.seconds % 60 or offset.microseconds:
        when = when.astimezone(dt.UTC)
    return when.replace(microsecond=0).isoformat()


def _message_fields(item: Any) -> tuple[str, str, str | None, str, str | None, str]:
    """``(to, id, submission id, type, subtype, status id)`` of one ``Message`` object."""
    if not isinstance(item, dict):
        raise _Unreadable("message is not an object")
    status = item.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("type"), str):
        raise _Unreadable("message has no status.type")
    to, message_id = item.get("to"), item.get("id")
    if not isinstance(to, str) or not isinstance(message_id, str | int) or isinstance(message_id, bool):
        raise _Unreadable("message has no to/id")
    submission = item.get("submission")
    submission_id = submission.get("id") if isinstance(submission, dict) else None
    subtype = status.get("subtype")
    status_type: str = status["type"]
    status_id = status.get("id")
    return (
        to,
        str(message_id),
        str(submission_id) if submission_id not in (None, "") else None,
        status_type,
        subtype if isinstance(subtype, str) else None,
        status_id if isinstance(status_id, str) else f"{status_type}.{subtype or 'null'}",
    )


def _json_list(response: HttpResponse) -> list[Any]:
    try:
        data = load_json(decode_body(response.body))
    except ValueError:
        raise _Unreadable("body is not JSON") from None
    if not isinstance(data, list):
        raise _Unreadable("body is not a JSON array")
    return data


class BulkSmsJsonApi(BulkSmsApiBase):
    """The BulkSMS JSON REST API v1: requests and answers, no I/O.

    :param base_path: path prefix of the API on the host, e.g. ``/v1``.
    """

    api = "json"
    api_label = "BulkSMS JSON API"
    max_parts_default: int = 3  # longMessageMaxParts default
    # UNCERTAIN: the API documents no maximum for longMessageMaxParts (its example is 99);
    # 255 is the most parts a concatenation header with an 8-bit count can describe.
    max_parts_limit: int = 255
    # A string ``from`` of digits is read as INTERNATIONAL, which "has to be longer than 6 digits".
    numeric_sender_min = 7
    # Groups may be given by name ({"type": "GROUP", "name": ...}) as well as by id.
    numeric_group_ids = False
    status_page_size: int = 1000
    """``limit`` of a status query (the API's default and documented page size)."""

    def __init__(self, credentials: BulkSmsCredentials, *, base_path: str = "/v1") -> None:
        super().__init__(credentials)
        self.base_path = base_path.rstrip("/")

    # ============================================================== building requests

    def _request(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        message: OutgoingMessage | None = None,
    ) -> HttpRequest:
        return HttpRequest(
            method=method,
            path=self.base_path + path,
            json=body,
            query=dict(query or {}),
            headers=dict(_JSON_HEADERS),
            auth=BasicAuth(self._credentials.username, self._credentials.password),
            sends_message=message is not None,
            dedupe_key=message.dedupe_key if message is not None else None,
            recipients=[*message.numbers, *message.groups] if message is not None else [],
        )

    def _entry_without_extras(self, message: OutgoingMessage, info: TextInfo) -> dict[str, Any]:
        to: list[Any]
        if message.groups:
            # ``to`` is either strings or objects; once a group needs an object, numbers do too.
            to = [{"type": "INTERNATIONAL", "address": n} for n in message.numbers]
            for group in message.groups:
                # The schema types a group ``id`` as a string; a non-numeric value is a name.
                key = "id" if group.isascii() and group.isdigit() else "name"
                to.append({"type": "GROUP", key: group})
        else:
            to = list(message.numbers)
        entry: dict[str, Any] = {
            "to": to,
            "body": message.text,
            # We choose the encoding (auto-unicode=false): TEXT is only used for GSM 03.38 text,
            # which the API would otherwise silently turn into "?" where it disagrees.
            "encoding": "UNICODE" if info.encoding is Encoding.UCS2 else "TEXT",
            "longMessageMaxParts": self._text_max_parts(message),
            "deliveryReports": "ALL" if message.want_report else "NONE",
        }
        if message.sender is not None:
            entry["from"] = message.sender
        if message.client_ref is not None:
            entry["userSuppliedId"] = message.client_ref
        return entry

    def _checked(self, message: OutgoingMessage) -> TextInfo:
        if message.test_mode is not None:
            # A silently ignored test flag would text real people.
            raise SmsCapabilityError(
                self.gateway, "test_mode", "the BulkSMS JSON API has no test flag; use the EAPI connection type"
            )
        problems = self._common_problems(message)
        max_parts = self._text_max_parts(message)
        info: TextInfo | None = None
        try:
            info = check_text(message.text, unicode=message.unicode, max_parts=max_parts, gateway=self.gateway)
        except SmsValidationError as exc:
            problems += exc.problems
        own = {"to", "body", "encoding", "longMessageMaxParts", "deliveryReports"}
        own |= {"from"} if message.sender is not None else set()
        own |= {"userSuppliedId"} if message.client_ref is not None else set()
        problems += [
            Problem("extras", "clashes with a field this provider sets", k) for k in message.extras if k in own
        ]
        self._raise_problems(problems)
        assert info is not None  # no problems means check_text returned
        return info

    def check(self, message: OutgoingMessage) -> None:
        """Validate ``message`` for ``POST /messages`` before anything is sent.

        :raises SmsCapabilityError: ``test_mode`` is set (the JSON API cannot test-send).
        :raises SmsValidationError: listing every problem: recipients, text (alphabet, parts),
            sender (alphanumeric <= 11 or 7-15 digits), client_ref (<= 20), dedupe_key
            (1..2147483647), max_parts (1..255), send_at (timezone-aware), extras (strings, no
            clash with the fields this class sets).
        """
        self._checked(message)

    def send_request(self, message: OutgoingMessage) -> HttpRequest:
        """Build ``POST {base}/messages`` with one ``SubmissionEntry`` (validated first).

        Query: ``deduplication-id`` (the dedupe key), ``auto-unicode=false``, ``schedule-date``.
        """
        info = self._checked(message)
        entry = {**self._entry_without_extras(message, info), **message.extras}
        query = {"auto-unicode": "false"}
        if message.dedupe_key is not None:
            query["deduplication-id"] = str(message.dedupe_key)
        if message.send_at is not None:
            query["schedule-date"] = _schedule_date(message.send_at)
        return self._request("POST", "/messages", query=query, body=[entry], message=message)

    def status_request(self, batch_id: str, cursor: str | None = None) -> HttpRequest:
        """Build ``GET {base}/messages`` for the messages of submission ``batch_id``.

        The filter is ``submission.id=<batch_id>``, with ``&id<<cursor>`` for the next pages; the
        API sorts newest first, so each page continues with older ids. [infer] The clause syntax
        (``name=value`` joined by ``&``, ``<`` on ``id``) is the vendor's OpenAPI description of
        ``filter``; it was not tried against the live API.

        :raises SmsValidationError: an empty batch id or one containing filter syntax, or a
            non-numeric cursor.
        """
        problems: list[Problem] = []
        if not batch_id or _FILTER_SYNTAX.intersection(batch_id):
            problems.append(Problem("batch_id", "must be a BulkSMS submission id", batch_id))
        if cursor is not None and not (cursor.isascii() and cursor.isdigit()):
            problems.append(Problem("cursor", "must be a message id", cursor))
        self._raise_problems(problems)
        clauses = [f"submission.id{_FILTER_EQUALS}{batch_id}"]
        if cursor is not None:
            clauses.append(f"id<{cursor}")
        return self._request(
            "GET", "/messages", query={"filter": _FILTER_AND.join(clauses), "limit": str(self.status_page_size)}
        )

    def credits_request(self) -> HttpRequest:
        """Build ``GET {base}/profile`` (the balance is ``credits.balance``)."""
        return self._request("GET", "/profile")

    # ============================================================== parsing answers

    def _http_error(self, response: HttpResponse, operation: str) -> SmsError:
        cls = json_http_error(response.status) or SmsGatewayError
        text = f"{operation} answered HTTP {response.status}"
        try:
            problem = load_json(decode_body(response.body))
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            # Only the documented short fields, scrubbed and cut; never the raw body.
            title, detail = problem.get("title"), problem.get("detail")
            said = ": ".join(str(p) for p in (title, detail) if isinstance(p, str) and p.strip())
            if said:
                text += ": " + self.safe_text(said)
        retry_after = parse_retry_after(header(response.headers, "Retry-After"))
        return self._error(cls, text, code=response.status, retry_after=retry_after)

    def parse_send(self, response: HttpResponse, message: OutgoingMessage) -> SendResult:
        """Read the answer of ``POST /messages``: one result per created ``Message``.

        A message whose status is already FAILED (e.g. a blocked number) is a rejected recipient.

        :raises SmsGatewayError: 400 (with the API's ``detail``), 403 (insufficient credits),
            other unexpected statuses.
        :raises SmsAuthenticationError: 401.
        :raises SmsRateLimitedError: 429, with ``retry_after`` from ``Retry-After``.
        :raises SmsTransientError: 5xx (like the EAPI's "any other HTTP status is transient"; a
            502/504 from a proxy could hide an accepted submission, which is why every send
            should carry a dedupe key).
        :raises SmsAmbiguousError: a 2xx answer that is not a readable array of messages.
        """
        recipients = [*message.numbers, *message.groups]
        self._unprotected_server_error(response, message)
        if json_http_error(response.status) is not None:
            raise self._http_error(response, "send")
        try:
            results: list[RecipientResult] = []
            append = results.append  # one Message per recipient: thousands per answer
            batch_ids: list[str] = []
            # (accepted, shared status) per (status.type, status.subtype): an answer has a few.
            outcomes: dict[tuple[str, str | None], tuple[bool, DeliveryStatus]] = {}
            for item in _json_list(response):
                to, message_id, submission_id, status_type, subtype, status_id = _message_fields(item)
                outcome = outcomes.get((status_type, subtype))
                if outcome is None:
                    outcome = outcomes[status_type, subtype] = (status_type.upper() != "FAILED",
                                                                json_delivery_status(status_type, subtype))
                append(_new_result(RecipientResult, (to, outcome[0], status_id, None, message_id, submission_id,
                                                     outcome[1])))
                if submission_id and submission_id not in batch_ids:
                    batch_ids.append(submission_id)
        except _Unreadable as exc:
            raise SmsAmbiguousError(
                f"send answered HTTP {response.status} but {exc}; the messages may have been accepted",
                gateway=self.gateway,
                recipients_in_doubt=recipients,
            ) from None
        return SendResult(gateway=self.gateway, results=results, batch_ids=batch_ids)

    def parse_status(self, response: HttpResponse, batch_id: str) -> StatusPage:
        """Read one page of ``GET /messages`` into statuses.

        ``next_cursor`` is the smallest message id of a non-empty page: the API warns that a page
        may hold fewer than ``limit`` messages even when more exist, and that the only way to
        know there are no more is to ask with ``id<`` and get an empty page back. So paging ends
        on an empty page (one extra request), not on a short one.

        :raises SmsTransientError: an unreadable answer, 5xx.
        """
        operation = f"status of submission {batch_id}"
        if json_http_error(response.status) is not None:
            raise self._http_error(response, operation)
        statuses: list[MessageStatus] = []
        ids: list[int] = []
        try:
            for item in _json_list(response):
                to, message_id, submission_id, status_type, subtype, status_id = _message_fields(item)
                statuses.append(
                    MessageStatus(
                        status=json_delivery_status(status_type, subtype),
                        recipient=to,
                        message_id=message_id,
                        batch_id=submission_id or batch_id,
                        code=status_id,
                    )
                )
                if is_number(message_id):
                    ids.append(int(message_id))
        except _Unreadable as exc:
            raise SmsTransientError(f"{operation}: {exc}", gateway=self.gateway) from None
        # A page whose ids are not all numeric cannot be continued with ``id<``.
        next_cursor = str(min(ids)) if statuses and len(ids) == len(statuses) else None
        return StatusPage(statuses, next_cursor)

    def parse_credits(self, response: HttpResponse) -> float:
        """Read ``GET /profile`` into ``credits.balance``."""
        if json_http_error(response.status) is not None:
            raise self._http_error(response, "profile")
        try:
            profile = load_json(decode_body(response.body))
            balance = profile["credits"]["balance"]
            if isinstance(balance, bool) or not isinstance(balance, int | float | str):
                raise TypeError
            return float(balance)
        except (ValueError, KeyError, TypeError):
            raise SmsTransientError(
                "profile answered without a readable credits.balance", gateway=self.gateway
            ) from None
