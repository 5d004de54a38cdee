"""BulkSMS JSON REST API v1 protocol: request shapes, answer parsing, HTTP statuses, secrets.

Message and error bodies follow the vendor's OpenAPI document (``Message``, ``Error`` schemas).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SendResult
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsCapabilityError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsRetryableError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.bulksms import BulkSmsCredentials, BulkSmsJsonApi, StatusPage
from airflow_provider_sms.gateways.bulksms.common import parse_retry_after
from airflow_provider_sms.gateways.http import BasicAuth, HttpRequest, HttpResponse

USERNAME = "acme-ops-7731"
PASSWORD = "Pw!zq8-UNIQUE-SECRET-4f2e"
D = DeliveryStatus


@pytest.fixture
def api() -> BulkSmsJsonApi:
    return BulkSmsJsonApi(BulkSmsCredentials(USERNAME, PASSWORD))


def answer(status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, raw, dict(headers or {}))


def message_obj(
    to: str,
    message_id: str,
    status_type: str,
    subtype: str | None = None,
    submission: str = "2-00000000000150946378",
) -> dict[str, Any]:
    """A ``Message`` as the API returns it (shape of the OpenAPI schema)."""
    return {
        "id": message_id,
        "type": "SENT",
        "from": "",
        "to": to,
        "body": "Hello World!",
        "encoding": "TEXT",
        "protocolId": 0,
        "messageClass": 2,
        "submission": {"id": submission, "date": "2019-01-17T15:54:22Z"},
        "status": {"id": f"{status_type}.{subtype or 'null'}", "type": status_type, "subtype": subtype},
        "relatedSentMessageId": None,
        "userSuppliedId": None,
        "numberOfParts": None,
        "creditCost": None,
    }


def msg(text: str = "Hello World!", **kwargs: Any) -> OutgoingMessage:
    kwargs.setdefault("numbers", ["27821234567", "27821234568"])
    return OutgoingMessage(text, **kwargs)


def assert_request_clean(request: HttpRequest) -> None:
    assert PASSWORD not in request.path
    assert USERNAME not in request.path
    assert all(PASSWORD not in k and PASSWORD not in v for k, v in request.query.items())
    assert PASSWORD not in repr(request)
    assert PASSWORD not in json.dumps(request.json)
    assert all(PASSWORD not in v for v in request.headers.values())
    assert request.form is None


# =========================================================================== send request


def test_send_request_shape(api: BulkSmsJsonApi) -> None:
    request = api.send_request(msg())
    assert request.method == "POST"
    assert request.path == "/v1/messages"
    assert request.auth == BasicAuth(USERNAME, PASSWORD)
    assert request.headers["Content-Type"] == "application/json"
    assert request.query == {"auto-unicode": "false"}
    assert request.json == [
        {
            "to": ["27821234567", "27821234568"],
            "body": "Hello World!",
            "encoding": "TEXT",
            "longMessageMaxParts": 3,
            "deliveryReports": "ALL",
        }
    ]
    assert request.sends_message is True
    assert request.dedupe_key is None
    assert not request.replay_safe
    assert list(request.recipients) == ["27821234567", "27821234568"]
    assert_request_clean(request)


def test_send_request_with_every_option(api: BulkSmsJsonApi) -> None:
    message = msg(
        "Dobrá práce! Jak se máš?",
        sender="Acme",
        want_report=False,
        max_parts=10,
        dedupe_key=123456,
        send_at=dt.datetime(2019, 2, 18, 13, 0, 0, 500, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        client_ref="submission-12765",
        extras={"routingGroup": "PREMIUM"},
    )
    request = api.send_request(message)
    assert request.query == {
        "auto-unicode": "false",
        "deduplication-id": "123456",
        "schedule-date": "2019-02-18T13:00:00+02:00",
    }
    assert request.json == [
        {
            "to": ["27821234567", "27821234568"],
            "body": "Dobrá práce! Jak se máš?",
            "encoding": "UNICODE",
            "longMessageMaxParts": 10,
            "deliveryReports": "NONE",
            "from": "Acme",
            "userSuppliedId": "submission-12765",
            "routingGroup": "PREMIUM",
        }
    ]
    assert request.dedupe_key == 123456
    assert request.replay_safe


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (dt.datetime(2030, 1, 1, tzinfo=dt.UTC), "2030-01-01T00:00:00+00:00"),
        (
            dt.datetime(2030, 1, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            "2030-01-01T05:30:00+05:30",
        ),
        (dt.datetime(2030, 1, 1, 0, 0, 10, tzinfo=dt.timezone(dt.timedelta(seconds=10))), "2030-01-01T00:00:00+00:00"),
    ],
)
def test_schedule_date_has_an_offset(api: BulkSmsJsonApi, when: dt.datetime, expected: str) -> None:
    assert api.send_request(msg(send_at=when)).query["schedule-date"] == expected


def test_groups_become_group_objects(api: BulkSmsJsonApi) -> None:
    request = api.send_request(OutgoingMessage("Hi", numbers=["27821234567"], groups=["42", "Everyone"]))
    assert request.json[0]["to"] == [
        {"type": "INTERNATIONAL", "address": "27821234567"},
        {"type": "GROUP", "id": "42"},
        {"type": "GROUP", "name": "Everyone"},
    ]
    assert list(request.recipients) == ["27821234567", "42", "Everyone"]


def test_gsm_extension_text_stays_text(api: BulkSmsJsonApi) -> None:
    entry = api.send_request(msg("Price €5 [ΔΣ]")).json[0]
    assert (entry["encoding"], entry["body"]) == ("TEXT", "Price €5 [ΔΣ]")


def test_forced_unicode(api: BulkSmsJsonApi) -> None:
    assert api.send_request(msg("Hi", unicode=True)).json[0]["encoding"] == "UNICODE"


def test_max_parts_default_and_limits(api: BulkSmsJsonApi) -> None:
    api.check(msg("a" * 459))  # 3 parts of 153
    with pytest.raises(SmsValidationError, match="at most 3 are allowed"):
        api.check(msg("a" * 460))
    assert api.send_request(msg("a" * 460, max_parts=255)).json[0]["longMessageMaxParts"] == 255
    with pytest.raises(SmsValidationError, match="between 1 and 255"):
        api.check(msg(max_parts=256))


def test_test_mode_is_a_capability_error(api: BulkSmsJsonApi) -> None:
    with pytest.raises(SmsCapabilityError) as excinfo:
        api.send_request(msg(test_mode="succeed"))
    assert excinfo.value.capability == "test_mode"
    assert "bulksms" in str(excinfo.value)


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("Acme", True),
        ("ABCDEFGHIJK", True),
        ("ABCDEFGHIJKL", False),
        ("1234567", True),  # INTERNATIONAL must be longer than 6 digits
        ("123456", False),
        ("+27821234567", True),
        ("123456789012345", True),
        ("1234567890123456", False),
    ],
)
def test_sender_rules(api: BulkSmsJsonApi, sender: str, valid: bool) -> None:
    if valid:
        assert api.send_request(msg(sender=sender)).json[0]["from"] == sender
    else:
        with pytest.raises(SmsValidationError, match="sender"):
            api.check(msg(sender=sender))


@pytest.mark.parametrize("key", ["to", "body", "encoding", "longMessageMaxParts", "deliveryReports"])
def test_extras_may_not_override_our_fields(api: BulkSmsJsonApi, key: str) -> None:
    with pytest.raises(SmsValidationError, match="clashes"):
        api.check(msg(extras={key: "x"}))


def test_every_problem_is_listed_at_once(api: BulkSmsJsonApi) -> None:
    message = OutgoingMessage(
        "Привет" * 40,
        numbers=["2782x"],
        groups=[" "],
        sender="WayTooLongSender",
        client_ref="c" * 21,
        dedupe_key=2**31,
        unicode=False,
        send_at=dt.datetime(2030, 1, 1),
    )
    with pytest.raises(SmsValidationError) as excinfo:
        api.send_request(message)
    assert [p.field for p in excinfo.value.problems] == [
        "numbers",
        "groups",
        "sender",
        "client_ref",
        "dedupe_key",
        "send_at",
        "message",
        "message",
    ]
    assert PASSWORD not in str(excinfo.value)


# =========================================================================== send answers


def test_parse_send_201(api: BulkSmsJsonApi) -> None:
    body = [
        message_obj("27821234567", "4026279617", "ACCEPTED"),
        message_obj("27821234568", "4026279618", "FAILED", "BLOCKED"),
        message_obj("27821234569", "4026279619", "SCHEDULED", submission="2-0002"),
    ]
    result = api.parse_send(answer(201, body), msg())
    assert result.gateway == "bulksms"
    assert result.batch_ids == ["2-00000000000150946378", "2-0002"]
    assert [(r.recipient, r.accepted, r.message_id, r.batch_id, r.status, r.code) for r in result.results] == [
        ("27821234567", True, "4026279617", "2-00000000000150946378", D.PENDING, "ACCEPTED.null"),
        ("27821234568", False, "4026279618", "2-00000000000150946378", D.FAILED, "FAILED.BLOCKED"),
        ("27821234569", True, "4026279619", "2-0002", D.SCHEDULED, "SCHEDULED.null"),
    ]
    assert result.to_dict()["message_ids"] == ["4026279617", "4026279619"]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{}", b'{"id": "1"}', b"[1]", b'[{"id": "1", "to": "2782"}]', b"[{}]"],
)
def test_parse_send_unreadable_2xx_is_ambiguous(api: BulkSmsJsonApi, body: bytes) -> None:
    with pytest.raises(SmsAmbiguousError) as excinfo:
        api.parse_send(answer(201, body), msg(groups=["42"]))
    assert excinfo.value.recipients_in_doubt == ["27821234567", "27821234568", "42"]
    assert not isinstance(excinfo.value, SmsRetryableError)


ERROR_STATUSES: list[tuple[int, type[SmsError]]] = [
    (400, SmsGatewayError),
    (401, SmsAuthenticationError),
    (403, SmsGatewayError),
    (404, SmsGatewayError),
    (405, SmsGatewayError),
    (429, SmsRateLimitedError),
    (500, SmsTransientError),
    (502, SmsTransientError),
    (503, SmsTransientError),
    (504, SmsTransientError),
]


@pytest.mark.parametrize(("status", "error"), ERROR_STATUSES)
def test_parse_send_http_errors(api: BulkSmsJsonApi, status: int, error: type[SmsError]) -> None:
    body = {"type": "https://developer.bulksms.com/json/v1/errors#x", "title": "Some Title", "status": status}
    with pytest.raises(error) as excinfo:
        api.parse_send(answer(status, body), msg(dedupe_key=7))
    assert type(excinfo.value) is error
    assert excinfo.value.code == status
    assert f"HTTP {status}" in str(excinfo.value)
    assert "Some Title" in str(excinfo.value)


def test_parse_send_400_carries_the_detail(api: BulkSmsJsonApi) -> None:
    body = {
        "type": "https://developer.bulksms.com/json/v1/errors#validation",
        "title": "Bad Request",
        "status": 400,
        "detail": "Message body must not be empty " + "x" * 400,
    }
    with pytest.raises(SmsGatewayError, match="Bad Request: Message body must not be empty") as excinfo:
        api.parse_send(answer(400, body), msg())
    assert "x" * 250 not in str(excinfo.value)


def test_parse_send_403_insufficient_credits_example(api: BulkSmsJsonApi) -> None:
    body = {  # the OpenAPI example of the "credits" response
        "status": 403,
        "title": "Insufficient Credits",
        "type": "https://developer.bulksms.com/json/v1/errors#insufficient-credits",
    }
    with pytest.raises(SmsGatewayError, match="Insufficient Credits"):
        api.parse_send(answer(403, body), msg())


@pytest.mark.parametrize(("value", "seconds"), [("30", 30.0), (" 7 ", 7.0), ("soon", None)])
def test_parse_send_429_retry_after(api: BulkSmsJsonApi, value: str, seconds: float | None) -> None:
    with pytest.raises(SmsRateLimitedError) as excinfo:
        api.parse_send(answer(429, b"", {"Retry-After": value}), msg())
    assert excinfo.value.retry_after == seconds
    assert excinfo.value.retryable


def test_retry_after_http_date() -> None:
    now = dt.datetime(2015, 10, 21, 7, 28, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None


def test_error_bodies_are_never_copied_whole(api: BulkSmsJsonApi) -> None:
    html = f"<html><body>Bad gateway {PASSWORD} {'y' * 1000}</body></html>".encode()
    with pytest.raises(SmsTransientError) as excinfo:
        api.parse_send(answer(502, html), msg(dedupe_key=7))
    assert "<html>" not in str(excinfo.value)
    assert PASSWORD not in str(excinfo.value)


# =========================================================================== statuses


def test_status_request(api: BulkSmsJsonApi) -> None:
    request = api.status_request("2-00000000000150946378")
    assert request.method == "GET"
    assert request.path == "/v1/messages"
    assert request.query == {"filter": "submission.id=2-00000000000150946378", "limit": "1000"}
    assert request.auth == BasicAuth(USERNAME, PASSWORD)
    assert request.json is None
    assert request.sends_message is False
    assert_request_clean(request)
    assert api.status_request("2-1", cursor="4026279617").query["filter"] == "submission.id=2-1&id<4026279617"


@pytest.mark.parametrize(("batch_id", "cursor"), [("", None), ("2-1&type=SENT", None), ("2-1", "abc"), ("a=b", "1")])
def test_status_request_problems(api: BulkSmsJsonApi, batch_id: str, cursor: str | None) -> None:
    with pytest.raises(SmsValidationError):
        api.status_request(batch_id, cursor)


def test_parse_status_page(api: BulkSmsJsonApi) -> None:
    body = [
        message_obj("27821234567", "4026279619", "DELIVERED"),
        message_obj("27821234568", "4026279618", "FAILED", "EXPIRED"),
        message_obj("27821234569", "4026279617", "SENT"),
    ]
    page = api.parse_status(answer(200, body), "2-00000000000150946378")
    assert isinstance(page, StatusPage)
    assert [(s.recipient, s.message_id, s.status, s.code, s.batch_id) for s in page.statuses] == [
        ("27821234567", "4026279619", D.DELIVERED, "DELIVERED.null", "2-00000000000150946378"),
        ("27821234568", "4026279618", D.EXPIRED, "FAILED.EXPIRED", "2-00000000000150946378"),
        ("27821234569", "4026279617", D.SENT, "SENT.null", "2-00000000000150946378"),
    ]
    assert page.statuses[0].key == "4026279619"
    assert page.next_cursor == "4026279617"  # the oldest id: the next page continues below it


def test_parse_status_empty_page_ends_paging(api: BulkSmsJsonApi) -> None:
    assert api.parse_status(answer(200, []), "2-1") == StatusPage([], None)


STATUS_TYPES = [
    ("ACCEPTED", None, D.PENDING),
    ("SCHEDULED", None, D.SCHEDULED),
    ("SENT", None, D.SENT),
    ("DELIVERED", None, D.DELIVERED),
    ("UNKNOWN", None, D.UNKNOWN),
    ("FAILED", "EXPIRED", D.EXPIRED),
    ("FAILED", "HANDSET_ERROR", D.FAILED),
    ("FAILED", "BLOCKED", D.FAILED),
    ("FAILED", "NOT_SENT", D.FAILED),
]


@pytest.mark.parametrize(("status_type", "subtype", "status"), STATUS_TYPES)
def test_parse_status_every_type(
    api: BulkSmsJsonApi, status_type: str, subtype: str | None, status: DeliveryStatus
) -> None:
    page = api.parse_status(answer(200, [message_obj("2782", "1", status_type, subtype)]), "2-1")
    assert page.statuses[0].status is status
    assert page.statuses[0].code == f"{status_type}.{subtype or 'null'}"


def test_parse_status_without_status_id_builds_one(api: BulkSmsJsonApi) -> None:
    item = message_obj("2782", "1", "SENT")
    del item["status"]["id"], item["submission"]
    (status,) = api.parse_status(answer(200, [item]), "2-1").statuses
    assert (status.code, status.batch_id) == ("SENT.null", "2-1")


@pytest.mark.parametrize(("status", "error"), ERROR_STATUSES)
def test_parse_status_http_errors(api: BulkSmsJsonApi, status: int, error: type[SmsError]) -> None:
    with pytest.raises(error):
        api.parse_status(answer(status, {"title": "x", "status": status}), "2-1")


@pytest.mark.parametrize("body", [b"", b"{}", b"[null]"])
def test_parse_status_unreadable_is_transient(api: BulkSmsJsonApi, body: bytes) -> None:
    with pytest.raises(SmsTransientError):
        api.parse_status(answer(200, body), "2-1")


# =========================================================================== credits


def test_credits_request(api: BulkSmsJsonApi) -> None:
    request = api.credits_request()
    assert (request.method, request.path, request.query) == ("GET", "/v1/profile", {})
    assert request.auth == BasicAuth(USERNAME, PASSWORD)
    assert_request_clean(request)


def test_parse_credits(api: BulkSmsJsonApi) -> None:
    profile = {
        "id": "123",
        "username": USERNAME,
        "created": "2017-01-01T10:00:00Z",
        "credits": {"balance": 2101.15, "isTransferAllowed": False, "limit": 0},
        "quota": {"size": 100, "remaining": 99},
    }
    assert api.parse_credits(answer(200, profile)) == 2101.15


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (answer(200, {"credits": {}}), SmsTransientError),
        (answer(200, b"nope"), SmsTransientError),
        (answer(200, {"credits": {"balance": True}}), SmsTransientError),
        (answer(401, {"title": "Unauthorized", "status": 401}), SmsAuthenticationError),
        (answer(503, b""), SmsTransientError),
    ],
)
def test_parse_credits_errors(api: BulkSmsJsonApi, response: HttpResponse, error: type[SmsError]) -> None:
    with pytest.raises(error):
        api.parse_credits(response)


# =========================================================================== secrets


@pytest.mark.parametrize(("status", "error"), ERROR_STATUSES)
def test_no_error_text_carries_the_password(api: BulkSmsJsonApi, status: int, error: type[SmsError]) -> None:
    body = {"title": f"Denied for {USERNAME}", "status": status, "detail": f"password {PASSWORD} is wrong"}
    calls: list[Callable[[], object]] = [
        lambda: api.parse_send(answer(status, body), msg(dedupe_key=7)),
        lambda: api.parse_status(answer(status, body), "2-1"),
        lambda: api.parse_credits(answer(status, body)),
    ]
    for call in calls:
        with pytest.raises(error) as excinfo:
            call()
        for text in (str(excinfo.value), repr(excinfo.value), excinfo.value.message):
            assert PASSWORD not in text
            assert USERNAME not in text
        assert "password *** is wrong" in str(excinfo.value)


def test_api_repr_hides_password(api: BulkSmsJsonApi) -> None:
    assert PASSWORD not in repr(api)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_error_to_a_send_without_dedupe_id_is_ambiguous(api: BulkSmsJsonApi, status: int) -> None:
    from airflow_provider_sms.exceptions import SmsAmbiguousError

    with pytest.raises(SmsAmbiguousError) as excinfo:
        api.parse_send(answer(status, b""), msg())
    assert excinfo.value.recipients_in_doubt == ["27821234567", "27821234568"]


def test_validity_is_a_capability_error_naming_the_gateway(api: BulkSmsJsonApi) -> None:
    # SubmissionEntry has no validity field: ignoring it would deliver after the caller's deadline.
    with pytest.raises(SmsCapabilityError, match="gateway 'bulksms' does not support validity") as excinfo:
        api.send_request(msg(validity=3600))
    assert excinfo.value.capability == "validity"


def _parse_send_item_by_item(api: BulkSmsJsonApi, body: list[Any]) -> SendResult:
    """The answer read as ``parse_send`` did before it cached outcomes: one status look-up and one
    keyword-argument ``RecipientResult`` per message."""
    from airflow_provider_sms.gateways.bulksms.codes import json_delivery_status
    from airflow_provider_sms.gateways.bulksms.json_api import _message_fields

    results, batch_ids = [], []
    for item in body:
        to, message_id, submission_id, status_type, subtype, status_id = _message_fields(item)
        results.append(RecipientResult(recipient=to, accepted=status_type.upper() != "FAILED", code=status_id,
                                       message_id=message_id, batch_id=submission_id,
                                       status=json_delivery_status(status_type, subtype)))
        if submission_id and submission_id not in batch_ids:
            batch_ids.append(submission_id)
    return SendResult(gateway=api.gateway, results=results, batch_ids=batch_ids)


_types = st.sampled_from(["ACCEPTED", "accepted", "SCHEDULED", "SENT", "DELIVERED", "FAILED", "failed", "UNKNOWN",
                          "NEW_TYPE", ""])
_subtypes = st.one_of(st.none(), st.sampled_from(["EXPIRED", "expired", "BLOCKED", "HANDSET_ERROR", "NOT_SENT",
                                                  "OTHER", ""]), st.integers(0, 3), st.lists(st.none(), max_size=1))
_status_ids = st.one_of(st.none(), st.text(max_size=6), st.integers(0, 3))
_messages = st.fixed_dictionaries({
    "to": st.text("0123456789", min_size=1, max_size=15),
    "id": st.one_of(st.text("0123456789", min_size=1, max_size=8), st.integers(1, 10**9)),
    "status": st.fixed_dictionaries({"type": _types, "subtype": _subtypes, "id": _status_ids}),
    "submission": st.one_of(st.none(), st.fixed_dictionaries({"id": st.one_of(st.none(), st.just(""),
                                                                             st.sampled_from(["2-1", "2-2", "7"]),
                                                                             st.integers(1, 3))})),
})


@settings(max_examples=200, deadline=None)
@given(body=st.lists(_messages, max_size=30))
def test_parse_send_reads_every_message_as_one_at_a_time(body: list[dict[str, Any]]) -> None:
    api = BulkSmsJsonApi(BulkSmsCredentials("user", "pass"))
    parsed = api.parse_send(answer(201, body), msg())
    expected = _parse_send_item_by_item(api, body)
    assert parsed == expected
    assert all(type(r) is RecipientResult for r in parsed.results)
