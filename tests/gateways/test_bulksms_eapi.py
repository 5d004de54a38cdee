"""BulkSMS EAPI protocol: request building, answer parsing, validation and secret hygiene.

Answer bodies marked "verbatim" are the vendor's or a client library's examples, copied exactly
(reference/gateways.md 2.4-2.9 and 5.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus
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
from airflow_provider_sms.gateways.bulksms import BulkSmsCredentials, BulkSmsEapi, InboundMessage, ReportRow
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse

USERNAME = "acme-ops-7731"
PASSWORD = "Pw!zq8-UNIQUE-SECRET-4f2e"
D = DeliveryStatus


@pytest.fixture
def api() -> BulkSmsEapi:
    return BulkSmsEapi(BulkSmsCredentials(USERNAME, PASSWORD))


def ok(body: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    raw = body.encode("iso-8859-1") if isinstance(body, str) else body
    return HttpResponse(status, raw, dict(headers or {}))


def msg(text: str = "Hi Mom & Dad", **kwargs: object) -> OutgoingMessage:
    kwargs.setdefault("numbers", ["447700900001", "447700900002"])
    return OutgoingMessage(text, **kwargs)  # type: ignore[arg-type]


def form(request: HttpRequest) -> dict[str, str]:
    assert request.form is not None
    return dict(request.form)


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        assert PASSWORD not in str(text)


def assert_request_clean(request: HttpRequest) -> None:
    assert PASSWORD not in request.path
    assert USERNAME not in request.path
    assert all(PASSWORD not in k and PASSWORD not in v for k, v in request.query.items())
    assert_no_secret(repr(request), request.headers)


def problems_of(excinfo: pytest.ExceptionInfo[SmsValidationError]) -> list[tuple[str, int | None]]:
    return [(p.field, p.index) for p in excinfo.value.problems]


# =========================================================================== send_sms request


def test_send_request_shape(api: BulkSmsEapi) -> None:
    request = api.send_request(msg())
    assert request.method == "POST"
    assert request.path == "/eapi/submission/send_sms/2/2.0"
    assert request.charset == "iso-8859-1"
    assert request.form is not None
    assert list(request.form) == [
        ("username", USERNAME),
        ("password", PASSWORD),
        ("msisdn", "447700900001,447700900002"),
        ("message", "Hi Mom & Dad"),
        ("want_report", "1"),
    ]
    assert request.query == {}
    assert request.json is None
    assert request.auth is None
    assert request.sends_message is True
    assert request.dedupe_key is None
    assert list(request.recipients) == ["447700900001", "447700900002"]
    assert_request_clean(request)


def test_base_path_is_configurable() -> None:
    api = BulkSmsEapi(BulkSmsCredentials(USERNAME, PASSWORD), base_path="/custom/eapi/")
    assert api.send_request(msg()).path == "/custom/eapi/submission/send_sms/2/2.0"
    assert api.credits_request().path == "/custom/eapi/user/get_credits/1/1.1"


def test_api_repr_hides_password(api: BulkSmsEapi) -> None:
    assert_no_secret(repr(api), repr(BulkSmsCredentials(USERNAME, PASSWORD)))


def test_all_options_in_order(api: BulkSmsEapi) -> None:
    message = msg(
        "x" * 200,
        sender="Acme",
        want_report=False,
        max_parts=3,
        dedupe_key=2_147_483_647,
        send_at=dt.datetime(2030, 1, 1, 2, 0, 0, 999_999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        client_ref="order-12345",
        extras={"routing_group": "3", "msg_class": "0"},
    )
    request = api.send_request(message)
    assert request.form is not None
    assert [k for k, _ in request.form] == [
        "username",
        "password",
        "msisdn",
        "message",
        "sender",
        "repliable",
        "want_report",
        "allow_concat_text_sms",
        "concat_text_sms_max_parts",
        "stop_dup_id",
        "send_time_unixtime",
        "source_id",
        "routing_group",
        "msg_class",
    ]
    fields = form(request)
    assert fields["repliable"] == "0"
    assert fields["want_report"] == "0"
    assert fields["allow_concat_text_sms"] == "1"
    assert fields["concat_text_sms_max_parts"] == "3"
    assert fields["stop_dup_id"] == "2147483647"
    assert fields["send_time_unixtime"] == "1893456000"  # 2030-01-01T00:00:00Z, fraction dropped
    assert fields["source_id"] == "order-12345"
    assert fields["routing_group"] == "3"
    assert request.dedupe_key == 2_147_483_647


@pytest.mark.parametrize(
    ("text", "max_parts", "concat"),
    [
        ("a" * 160, None, None),
        ("a" * 160, 5, None),
        ("a" * 161, 2, "2"),
        ("a" * 306, 2, "2"),
        ("{" * 80, None, None),  # 160 septets: extension characters count two
        ("a" * 1000, 127, "127"),
    ],
)
def test_concat_params_only_when_needed(api: BulkSmsEapi, text: str, max_parts: int | None, concat: str | None) -> None:
    fields = form(api.send_request(msg(text, max_parts=max_parts)))
    assert fields.get("concat_text_sms_max_parts") == concat
    assert fields.get("allow_concat_text_sms") == ("1" if concat else None)
    assert "dca" not in fields


def test_long_text_needs_max_parts(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match="at most 1 is allowed"):
        api.send_request(msg("a" * 161))
    with pytest.raises(SmsValidationError, match="needs 3 GSM-7 parts"):
        api.send_request(msg("a" * 307, max_parts=2))


def test_latin1_gsm_text_goes_as_7bit_latin1(api: BulkSmsEapi) -> None:
    text = "Café £5 ÄÖÜ ¿¡ [x] ~{}^\\|"
    fields = form(api.send_request(msg(text)))
    assert fields["message"] == text
    assert "dca" not in fields
    text.encode("iso-8859-1")  # the transport will be able to encode it


@pytest.mark.parametrize(
    ("text", "hex_body"),
    [
        ("€5", "20AC0035"),
        ("ΔΣ", "039403A3"),
        ("Price € ok", "005000720069006300650020" + "20AC" + "0020006F006B"),
    ],
)
def test_gsm_text_outside_latin1_goes_as_16bit(api: BulkSmsEapi, text: str, hex_body: str) -> None:
    fields = form(api.send_request(msg(text)))
    assert fields["dca"] == "16bit"
    assert fields["message"] == hex_body


def test_gsm_text_outside_latin1_gets_the_ucs2_limit(api: BulkSmsEapi) -> None:
    api.send_request(msg("€" * 70))
    with pytest.raises(SmsValidationError, match="at most 70"):
        api.send_request(msg("€" * 71, max_parts=5))


def test_gsm_text_outside_latin1_refused_when_unicode_false(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match=r"'€'.*16-bit") as excinfo:
        api.send_request(msg("Only €5", unicode=False))
    assert problems_of(excinfo) == [("message", None)]


def test_unicode_text_goes_as_16bit_hex(api: BulkSmsEapi) -> None:
    fields = form(api.send_request(msg("Привет 😀")))
    assert fields["dca"] == "16bit"
    assert fields["message"] == "041F04400438043204350442" + "0020" + "D83DDE00"
    assert "allow_concat_text_sms" not in fields


def test_forced_unicode(api: BulkSmsEapi) -> None:
    fields = form(api.send_request(msg("Hi", unicode=True)))
    assert (fields["dca"], fields["message"]) == ("16bit", "00480069")


def test_non_gsm_text_refused_when_unicode_false(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match=r"not in the GSM 03\.38 alphabet"):
        api.send_request(msg("Привет", unicode=False))


def test_unicode_longer_than_one_message_names_the_limit(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match=r"does not concatenate unicode.*at most 70") as excinfo:
        api.send_request(msg("Я" * 71, max_parts=3))
    assert problems_of(excinfo) == [("message", None)]


def test_unicode_concat_when_enabled() -> None:
    api = BulkSmsEapi(BulkSmsCredentials(USERNAME, PASSWORD), unicode_concat=True)
    fields = form(api.send_request(msg("Я" * 71, max_parts=3)))
    assert fields["dca"] == "16bit"
    assert fields["allow_concat_text_sms"] == "1"
    assert fields["concat_text_sms_max_parts"] == "3"
    with pytest.raises(SmsValidationError, match="needs 4 UCS-2 parts"):
        api.send_request(msg("Я" * 202, max_parts=3))


def test_groups_go_as_dest_group_id(api: BulkSmsEapi) -> None:
    request = api.send_request(OutgoingMessage("Hello", groups=["12", "345"]))
    fields = form(request)
    assert fields["dest_group_id"] == "12,345"
    assert "msisdn" not in fields
    assert list(request.recipients) == ["12", "345"]


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("Acme", True),
        ("ABCDEFGHIJK", True),  # 11
        ("ABCDEFGHIJKL", False),  # 12
        ("Acme Ltd 12", True),
        ("447700900123", True),  # numeric, longer than 11
        ("123456789012345", True),  # 15 digits
        ("1234567890123456", False),  # 16 digits
        ("+447700900123", True),
        ("", False),
        ("Acme\n", False),
        ("Ωmega", False),  # not ISO-8859-1
    ],
)
def test_sender_rules(api: BulkSmsEapi, sender: str, valid: bool) -> None:
    if valid:
        fields = form(api.send_request(msg(sender=sender)))
        assert (fields["sender"], fields["repliable"]) == (sender, "0")
    else:
        with pytest.raises(SmsValidationError) as excinfo:
            api.check(msg(sender=sender))
        assert problems_of(excinfo) == [("sender", None)]


@pytest.mark.parametrize(
    ("client_ref", "valid"),
    [("a" * 20, True), ("inv-2024/07#3", True), ("a" * 21, False), ("", False), ("a\tb", False)],
)
def test_client_ref_rules(api: BulkSmsEapi, client_ref: str, valid: bool) -> None:
    if valid:
        assert form(api.send_request(msg(client_ref=client_ref)))["source_id"] == client_ref
    else:
        with pytest.raises(SmsValidationError) as excinfo:
            api.check(msg(client_ref=client_ref))
        assert problems_of(excinfo) == [("client_ref", None)]


@pytest.mark.parametrize(("key", "valid"), [(1, True), (2_147_483_647, True), (0, False), (-5, False), (2**31, False)])
def test_dedupe_key_range(api: BulkSmsEapi, key: int, valid: bool) -> None:
    if valid:
        request = api.send_request(msg(dedupe_key=key))
        assert form(request)["stop_dup_id"] == str(key)
        assert request.dedupe_key == key
        assert request.replay_safe
    else:
        with pytest.raises(SmsValidationError, match="dedupe_key"):
            api.check(msg(dedupe_key=key))


def test_without_dedupe_key_a_send_is_not_replay_safe(api: BulkSmsEapi) -> None:
    request = api.send_request(msg())
    assert "stop_dup_id" not in form(request)
    assert not request.replay_safe


@pytest.mark.parametrize(("max_parts", "valid"), [(1, True), (127, True), (0, False), (128, False), (-1, False)])
def test_max_parts_range(api: BulkSmsEapi, max_parts: int, valid: bool) -> None:
    message = msg(max_parts=max_parts)
    if valid:
        api.check(message)
    else:
        with pytest.raises(SmsValidationError, match="between 1 and 127"):
            api.check(message)


def test_send_at_is_utc_epoch_seconds(api: BulkSmsEapi) -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    fields = form(api.send_request(msg(send_at=dt.datetime(2030, 1, 1, 9, 0, tzinfo=tokyo))))
    assert fields["send_time_unixtime"] == "1893456000"
    assert "send_time" not in fields


def test_naive_send_at_is_refused(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match="timezone-aware"):
        api.check(msg(send_at=dt.datetime(2030, 1, 1)))


@pytest.mark.parametrize(("mode", "flag"), [("succeed", "test_always_succeed"), ("fail", "test_always_fail")])
def test_test_mode_flags(api: BulkSmsEapi, mode: str, flag: str) -> None:
    request = api.send_request(msg(test_mode=mode))
    fields = form(request)
    assert fields[flag] == "1"
    assert {"test_always_succeed", "test_always_fail"} & set(fields) == {flag}
    assert request.sends_message is False  # nobody is texted in test mode


def test_bad_test_mode(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match="test_mode"):
        api.check(msg(test_mode="maybe"))


@pytest.mark.parametrize("key", ["username", "password", "msisdn", "message", "want_report", "batch_data"])
def test_extras_may_not_override_our_fields(api: BulkSmsEapi, key: str) -> None:
    with pytest.raises(SmsValidationError, match="clashes") as excinfo:
        api.check(msg(extras={key: "x"}))
    assert_no_secret(excinfo.value)


def test_extras_may_set_repliable_without_sender(api: BulkSmsEapi) -> None:
    assert form(api.send_request(msg(extras={"repliable": "1"})))["repliable"] == "1"
    with pytest.raises(SmsValidationError, match="clashes"):
        api.check(msg(sender="Acme", extras={"repliable": "1"}))


def test_extras_must_be_strings(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match="must be a string"):
        api.check(msg(extras={"routing_group": 3}))


def test_recipient_problems(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError, match="at least one number or group"):
        api.check(OutgoingMessage("Hi"))
    with pytest.raises(SmsValidationError) as excinfo:
        api.check(OutgoingMessage("Hi", numbers=["4477", "+4478", "4477", "44 79"]))
    assert problems_of(excinfo) == [("numbers", 1), ("numbers", 2), ("numbers", 3)]
    with pytest.raises(SmsValidationError, match="numbers or groups in one request, not both"):
        api.check(OutgoingMessage("Hi", numbers=["4477"], groups=["12"]))


def test_every_problem_is_listed_at_once(api: BulkSmsEapi) -> None:
    message = OutgoingMessage(
        "a" * 400,
        numbers=["44770090001x"],
        sender="WayTooLongSender",
        client_ref="r" * 25,
        max_parts=2,
        dedupe_key=0,
    )
    with pytest.raises(SmsValidationError) as excinfo:
        api.send_request(message)
    fields = [f for f, _ in problems_of(excinfo)]
    assert fields == ["numbers", "sender", "client_ref", "dedupe_key", "message"]
    assert "5 invalid input problems, nothing was sent" in str(excinfo.value)
    assert excinfo.value.gateway == "bulksms"

    with pytest.raises(SmsValidationError) as excinfo:
        api.check(OutgoingMessage("Hi", groups=["12", "Everyone"], max_parts=500))
    assert problems_of(excinfo) == [("groups", 1), ("max_parts", None)]
    assert "numeric group ids" in str(excinfo.value)


# =========================================================================== send_sms answers


@pytest.mark.parametrize(
    ("body", "batch_id"),
    [
        ("0|IN_PROGRESS|12345678", "12345678"),  # verbatim
        ("0|IN_PROGRESS|4712345678", "4712345678"),  # verbatim
        ("0|IN_PROGRESS|", None),  # verbatim: batch id empty
        ("0|IN_PROGRESS", None),  # batch id missing
        ("0|IN_PROGRESS|30430\n", "30430"),
        ("  0|IN_PROGRESS|30430  \r\n", "30430"),
    ],
)
def test_parse_send_accepted(api: BulkSmsEapi, body: str, batch_id: str | None) -> None:
    message = msg()
    result = api.parse_send(ok(body), message)
    assert result.gateway == "bulksms"
    assert result.batch_ids == ([batch_id] if batch_id else [])
    assert [r.recipient for r in result.results] == list(message.numbers)
    for r in result.results:
        assert r.accepted
        assert (r.code, r.text, r.batch_id, r.status) == ("0", "IN_PROGRESS", batch_id, D.PENDING)
    assert result.rejected == []


def test_parse_send_scheduled(api: BulkSmsEapi) -> None:
    result = api.parse_send(ok("1|SCHEDULED|987"), OutgoingMessage("Hi", groups=["12", "13"]))
    assert [(r.recipient, r.code, r.status, r.batch_id) for r in result.results] == [
        ("12", "1", D.SCHEDULED, "987"),
        ("13", "1", D.SCHEDULED, "987"),
    ]
    assert result.batch_ids == ["987"]


@pytest.mark.parametrize(
    ("code", "error", "retryable"),
    [
        (22, SmsGatewayError, False),
        (23, SmsAuthenticationError, False),
        (24, SmsGatewayError, False),
        (25, SmsGatewayError, False),
        (26, SmsTransientError, True),
        (27, SmsGatewayError, False),
        (28, SmsTransientError, True),
        (40, SmsRateLimitedError, True),
        (201, SmsGatewayError, False),
        (99, SmsGatewayError, False),
        (1000, SmsGatewayError, False),
    ],
)
def test_parse_send_error_codes(api: BulkSmsEapi, code: int, error: type[SmsError], retryable: bool) -> None:
    with pytest.raises(error) as excinfo:
        api.parse_send(ok(f"{code}|SOME_DESCRIPTION|"), msg())
    assert type(excinfo.value) is error
    assert excinfo.value.code == code
    assert excinfo.value.retryable is retryable
    assert excinfo.value.gateway == "bulksms"
    assert "SOME_DESCRIPTION" in str(excinfo.value)
    assert f"gateway code {code}" in str(excinfo.value)


def test_parse_send_vendor_error_examples(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsGatewayError, match="INTERNAL_FATAL_ERROR"):
        api.parse_send(ok("22|INTERNAL_FATAL_ERROR|71070172"), msg())  # verbatim
    with pytest.raises(SmsAuthenticationError, match=r"invalid credentials \(username was: XXXXXXX\)"):
        api.parse_send(ok("23|invalid credentials (username was: XXXXXXX)|\n"), msg())  # verbatim


def test_error_text_is_scrubbed_and_truncated(api: BulkSmsEapi) -> None:
    body = f"23|invalid credentials (username was: {USERNAME}, password {PASSWORD}) " + "z" * 500 + "|"
    with pytest.raises(SmsAuthenticationError) as excinfo:
        api.parse_send(ok(body), msg())
    text = str(excinfo.value)
    assert PASSWORD not in text
    assert USERNAME not in text
    assert PASSWORD not in repr(excinfo.value)
    assert "username was: ***, password ***" in text
    assert "z" * 300 not in text
    assert len(excinfo.value.message) < 260


def test_password_half_at_the_cut_does_not_leak(api: BulkSmsEapi) -> None:
    description = "x" * 190 + PASSWORD
    with pytest.raises(SmsGatewayError) as excinfo:
        api.parse_send(ok(f"22|{description}|"), msg())
    assert PASSWORD[:8] not in str(excinfo.value)


@pytest.mark.parametrize("status", [201, 301, 400, 401, 404, 500, 502, 503, 504])
def test_parse_send_non_200_is_transient(api: BulkSmsEapi, status: int) -> None:
    with pytest.raises(SmsTransientError, match=f"HTTP {status}") as excinfo:
        api.parse_send(ok(f"<html>{PASSWORD}</html>", status=status), msg(dedupe_key=7))
    assert excinfo.value.retryable
    assert_no_secret(excinfo.value, repr(excinfo.value))


def test_parse_send_non_200_honours_retry_after(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsTransientError) as excinfo:
        api.parse_send(ok("", status=503, headers={"retry-after": "120"}), msg(dedupe_key=7))
    assert excinfo.value.retry_after == 120.0


@pytest.mark.parametrize("body", ["", "\n", "<html>Bad gateway</html>", "OK", "|0|x", f"oops {PASSWORD}"])
def test_parse_send_unreadable_200_is_ambiguous(api: BulkSmsEapi, body: str) -> None:
    with pytest.raises(SmsAmbiguousError) as excinfo:
        api.parse_send(ok(body), msg())
    assert excinfo.value.recipients_in_doubt == ["447700900001", "447700900002"]
    assert "447700900001" in str(excinfo.value)
    assert not isinstance(excinfo.value, SmsRetryableError)
    assert_no_secret(excinfo.value)


def test_parse_send_latin1_answer(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsGatewayError, match="données"):
        api.parse_send(ok("24|données invalides|".encode("iso-8859-1")), msg())


# =========================================================================== get_report


def test_status_request(api: BulkSmsEapi) -> None:
    request = api.status_request("12345678")
    assert request.method == "POST"
    assert request.path == "/eapi/status_reports/get_report/2/2.0"
    assert request.charset == "iso-8859-1"
    assert list(request.form or []) == [("username", USERNAME), ("password", PASSWORD), ("batch_id", "12345678")]
    assert request.sends_message is False
    assert_request_clean(request)
    assert api.status_request("12345678", cursor="ignored").form == request.form


def test_report_request_with_options(api: BulkSmsEapi) -> None:
    request = api.report_request("77", optional_fields=["source_id", "body"], msisdn="447700900001")
    assert list(request.form or [])[2:] == [
        ("batch_id", "77"),
        ("msisdn", "447700900001"),
        ("optional_fields", "source_id,body"),
    ]


def test_report_request_problems(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsValidationError) as excinfo:
        api.report_request("abc", optional_fields=["body", "colour", "body"], msisdn="+44")
    assert problems_of(excinfo) == [
        ("batch_id", None),
        ("msisdn", None),
        ("optional_fields", 1),
        ("optional_fields", 2),
    ]
    with pytest.raises(SmsValidationError):
        api.status_request("0")


@pytest.mark.parametrize(
    "body",
    [
        "0|Returns to follow\n\n1212121|11\n1212122|12\n",  # verbatim (anlutro fixture)
        "0|Results to follow\n\n1212121|11\n1212122|12\n",  # older pages, smslib
        "0|Results to follow\r\n\r\n1212121|11\r\n1212122|12",
        "0|anything at all\n1212121|11\n1212122|12\n",
    ],
)
def test_parse_status_fixture(api: BulkSmsEapi, body: str) -> None:
    page = api.parse_status(ok(body), "555")
    assert page.next_cursor is None
    assert [(s.recipient, s.code, s.status, s.batch_id) for s in page.statuses] == [
        ("1212121", "11", D.DELIVERED, "555"),
        ("1212122", "12", D.SENT, "555"),
    ]
    assert page.statuses[0].text == "Delivered to mobile"
    assert page.statuses[0].key == "555:1212121"
    assert not page.statuses[1].status.is_final


@pytest.mark.parametrize("body", ["0|Returns to follow\n\n\n", "0|Returns to follow\n\n", "0|Returns to follow"])
def test_parse_status_empty_report(api: BulkSmsEapi, body: str) -> None:
    assert api.parse_status(ok(body), "555").statuses == []  # first: verbatim


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("22|Internal fatal error", SmsGatewayError),
        ("23|invalid credentials (username was: XXXXXXX)|\n", SmsAuthenticationError),
        ("24|Data validation failed: batch_id", SmsGatewayError),
        ("40|Temporarily unavailable", SmsRateLimitedError),
        ("1|Scheduled", SmsGatewayError),
    ],
)
def test_parse_status_error_codes(api: BulkSmsEapi, body: str, error: type[SmsError]) -> None:
    with pytest.raises(error) as excinfo:
        api.parse_status(ok(body), "555")
    assert type(excinfo.value) is error
    assert "batch 555" in str(excinfo.value)


@pytest.mark.parametrize("body", ["", "Results to follow\n\n1|11", "<html>"])
def test_parse_status_unreadable_is_transient(api: BulkSmsEapi, body: str) -> None:
    with pytest.raises(SmsTransientError):
        api.parse_status(ok(body), "555")


def test_parse_status_http_error_is_transient(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsTransientError, match="HTTP 502"):
        api.parse_status(ok("", status=502), "555")


REPORT_CODES = [
    0, 10, 11, 12, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 40,
    50, 51, 52, 53, 54, 55, 56, 57, 60, 61, 62, 63, 64, 70, 201,
]  # fmt: skip


def test_every_report_code_in_one_report(api: BulkSmsEapi) -> None:
    lines = ["0|Returns to follow", ""] + [f"4477009{code:05d}|{code}" for code in REPORT_CODES]
    rows = list(api.iter_report_lines(lines, "9"))
    assert [r.status_code for r in rows] == REPORT_CODES
    expected = {0: D.PENDING, 10: D.SENT, 11: D.DELIVERED, 12: D.SENT, 29: D.CANCELLED, 30: D.UNKNOWN}
    expected |= {53: D.EXPIRED, 70: D.UNKNOWN} | dict.fromkeys(range(60, 65), D.PENDING)
    for row in rows:
        assert row.status is expected.get(row.status_code, D.FAILED), row


def test_report_line_with_non_numeric_code_reads_as_70(api: BulkSmsEapi) -> None:
    (row,) = api.iter_report_lines(["0|Returns to follow", "", "447700900001|DELIVRD"], "9")
    assert (row.status_code, row.status) == (70, D.UNKNOWN)
    assert row.to_message_status("9").text == "Unknown upstream status"


def test_iter_report_lines_streams_file_lines_with_optional_fields(api: BulkSmsEapi) -> None:
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in [
            "0|Returns to follow\n",
            "\n",
            "447700900001|11|2024-01-02 10:00:00|Hello|ref-1\n",
            "447700900002|53|2024-01-02 10:01:00|a|b|c|ref-2\r\n",
            "447700900003|0\n",
        ]:
            consumed.append(line)
            yield line

    rows = api.iter_report_lines(lines(), "42", ["completed_time", "body", "source_id"])
    first = next(rows)
    assert len(consumed) == 3  # streaming: nothing read ahead
    assert first == ReportRow(
        "447700900001",
        11,
        D.DELIVERED,
        {"completed_time": "2024-01-02 10:00:00", "body": "Hello", "source_id": "ref-1"},
    )
    second, third = list(rows)
    assert second.fields == {"completed_time": "2024-01-02 10:01:00", "body": "a|b|c", "source_id": "ref-2"}
    assert second.status is D.EXPIRED
    assert third.fields == {}
    status = second.to_message_status("42")
    assert (status.recipient, status.batch_id, status.code, status.status) == ("447700900002", "42", "53", D.EXPIRED)


def test_iter_report_lines_raises_on_error_status_line(api: BulkSmsEapi) -> None:
    rows = api.iter_report_lines(iter(["23|invalid credentials|", ""]), "42")
    with pytest.raises(SmsAuthenticationError):
        next(rows)


def test_iter_report_lines_empty_input(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsTransientError, match="unreadable status line"):
        list(api.iter_report_lines([], "42"))


def test_iter_report_lines_malformed_row(api: BulkSmsEapi) -> None:
    with pytest.raises(SmsTransientError, match="line 3"):
        list(api.iter_report_lines(["0|Returns to follow", "", "447700900001"], "42"))


# =========================================================================== credits, quote


def test_credits_request(api: BulkSmsEapi) -> None:
    request = api.credits_request()
    assert (request.method, request.path, request.charset) == ("POST", "/eapi/user/get_credits/1/1.1", "iso-8859-1")
    assert list(request.form or []) == [("username", USERNAME), ("password", PASSWORD)]
    assert_request_clean(request)


@pytest.mark.parametrize(("body", "balance"), [("0|2101.15", 2101.15), ("0|2101.15\n", 2101.15), ("0|0.00", 0.0)])
def test_parse_credits(api: BulkSmsEapi, body: str, balance: float) -> None:
    assert api.parse_credits(ok(body)) == balance  # first: verbatim


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (ok("23|invalid credentials|"), SmsAuthenticationError),
        (ok("40|Temporarily unavailable"), SmsRateLimitedError),
        (ok("0|lots"), SmsTransientError),
        (ok("2101.15"), SmsTransientError),  # v1.0 answer without a status code
        (ok("", status=500), SmsTransientError),
    ],
)
def test_parse_credits_errors(api: BulkSmsEapi, response: HttpResponse, error: type[SmsError]) -> None:
    with pytest.raises(error):
        api.parse_credits(response)


def test_quote_request_has_no_dedupe_id_nor_test_flags(api: BulkSmsEapi) -> None:
    message = msg(dedupe_key=77, test_mode="succeed", extras={"routing_group": "2"})
    request = api.quote_request(message)
    fields = form(request)
    assert request.path == "/eapi/submission/quote_sms/2/2.0"
    assert request.sends_message is False
    assert request.dedupe_key is None
    assert "stop_dup_id" not in fields
    assert "test_always_succeed" not in fields
    assert fields["routing_group"] == "2"
    assert list(fields)[:4] == ["username", "password", "msisdn", "message"]


def test_parse_quote(api: BulkSmsEapi) -> None:
    assert api.parse_quote(ok("0|Quotation issued|12.5")) == 12.5  # verbatim
    with pytest.raises(SmsGatewayError):
        api.parse_quote(ok("25|Insufficient credits|"))
    with pytest.raises(SmsTransientError):
        api.parse_quote(ok("0|Quotation issued|"))


# =========================================================================== send_batch


def test_batch_request_matches_client_fixture(api: BulkSmsEapi) -> None:
    defaults = OutgoingMessage("", want_report=False, dedupe_key=5, test_mode="fail")
    request = api.batch_request([("4917610908093", "TestText")], defaults)
    assert request.path == "/eapi/submission/send_batch/1/1.0"
    assert request.charset == "iso-8859-1"
    assert list(request.form or []) == [
        ("username", USERNAME),
        ("password", PASSWORD),
        ("batch_data", 'msisdn,message\n"4917610908093","TestText"'),  # verbatim (anlutro)
        ("want_report", "0"),
        ("stop_dup_id", "5"),
        ("test_always_fail", "1"),
    ]
    assert list(request.recipients) == ["4917610908093"]
    assert_request_clean(request)


def test_batch_escaping(api: BulkSmsEapi) -> None:
    rows = [("111111111", 'Say "hi"'), ("333333333", "line1\nline2"), ("444", "C:\\")]
    data = form(api.batch_request(rows, OutgoingMessage("", max_parts=2)))["batch_data"]
    assert data == 'msisdn,message\n"111111111","Say \\"hi\\""\n"333333333","line1\\\nline2"\n"444","C:\\\\"'


def test_batch_sends_all_rows_16bit_when_one_needs_it(api: BulkSmsEapi) -> None:
    rows = [("111", "Hi"), ("222", "Привет")]
    fields = form(api.batch_request(rows, OutgoingMessage("")))
    assert fields["dca"] == "16bit"
    assert fields["batch_data"] == 'msisdn,message\n"111","00480069"\n"222","041F04400438043204350442"'


def test_batch_concat_from_the_longest_row(api: BulkSmsEapi) -> None:
    fields = form(api.batch_request([("111", "a"), ("222", "b" * 200)], OutgoingMessage("", max_parts=4)))
    assert (fields["allow_concat_text_sms"], fields["concat_text_sms_max_parts"]) == ("1", "4")


def test_batch_problems_name_the_rows(api: BulkSmsEapi) -> None:
    rows = [("111", "ok"), ("22x", "ok"), ("333", "a" * 200), ("444", "")]
    with pytest.raises(SmsValidationError) as excinfo:
        api.batch_request(rows, OutgoingMessage("", numbers=["1"], sender="TooLongSender1"))
    assert problems_of(excinfo) == [("sender", None), ("recipients", None), ("rows", 1), ("rows", 2), ("rows", 3)]
    with pytest.raises(SmsValidationError, match="at least one row"):
        api.batch_request([], OutgoingMessage(""))


def test_parse_batch(api: BulkSmsEapi) -> None:
    result = api.parse_batch(ok("0|IN_PROGRESS|4712345678"), [("111", "a"), ("222", "b")])
    assert [r.recipient for r in result.accepted] == ["111", "222"]
    assert result.batch_ids == ["4712345678"]
    with pytest.raises(SmsGatewayError, match="Maximum batch size"):
        api.parse_batch(ok("201|Maximum batch size exceeded|"), [("111", "a")])


# =========================================================================== get_inbox


def test_inbox_request(api: BulkSmsEapi) -> None:
    request = api.inbox_request(0)
    assert request.path == "/eapi/reception/get_inbox/1/1.1"
    assert list(request.form or []) == [("username", USERNAME), ("password", PASSWORD), ("last_retrieved_id", "0")]
    assert_request_clean(request)
    with pytest.raises(SmsValidationError):
        api.inbox_request(-1)


def test_parse_inbox_v10_example(api: BulkSmsEapi) -> None:
    body = "0|records to follow|3\n19|4412312345|Hi there|2004-01-20 16:06:40|44771234567|0\n"  # verbatim
    assert api.parse_inbox(ok(body)) == [
        InboundMessage(19, "4412312345", "Hi there", "2004-01-20 16:06:40", "44771234567", None, None)
    ]


def test_parse_inbox_v11(api: BulkSmsEapi) -> None:
    body = (
        "0|records to follow|4\n"
        "20|4412312345|Hi there|2004-01-20 16:06:40|44771234567|0|7bit\n"
        "21|4412312345|a|b\\nc|2004-01-20 16:07:00|44771234567|30430|7bit\n"
        "22|4412312345|0041004200D8|2004-01-20 16:08:00|44771234567|0|16bit\n"
        "23|4412312345|x|y|2004-01-20 16:09:00|44771234567|0\n"
    )
    messages = api.parse_inbox(ok(body))
    assert [m.msg_id for m in messages] == [20, 21, 22, 23]
    assert messages[0].encoding == "7bit"
    assert messages[1].message == "a|b\nc"
    assert messages[1].referring_batch_id == "30430"
    assert (messages[2].message, messages[2].encoding) == ("ABØ", "16bit")
    assert (messages[3].message, messages[3].encoding) == ("x|y", None)


def test_parse_inbox_empty_and_errors(api: BulkSmsEapi) -> None:
    assert api.parse_inbox(ok("0|records to follow|0\n")) == []
    with pytest.raises(SmsRateLimitedError):
        api.parse_inbox(ok("40|Temporarily unavailable|"))
    with pytest.raises(SmsAuthenticationError):
        api.parse_inbox(ok("23|invalid credentials|"))
    with pytest.raises(SmsTransientError, match="line 2"):
        api.parse_inbox(ok("0|records to follow|1\nnot a record\n"))


# =========================================================================== secrets everywhere


def test_no_request_carries_the_password_outside_the_form(api: BulkSmsEapi) -> None:
    message = msg(sender="Acme", dedupe_key=3, client_ref="r1")
    requests = [
        api.send_request(message),
        api.quote_request(message),
        api.batch_request([("111", "a")], OutgoingMessage("")),
        api.status_request("1"),
        api.report_request("1", ["body"]),
        api.credits_request(),
        api.inbox_request(5),
    ]
    for request in requests:
        assert_request_clean(request)
        assert request.form is not None
        assert request.form[:2] == [("username", USERNAME), ("password", PASSWORD)]
        assert [k for k, _ in request.form].count("password") == 1
        assert request.method == "POST"


@pytest.mark.parametrize("code", [22, 23, 24, 25, 26, 27, 28, 40, 201, 77])
def test_no_error_text_carries_the_password(api: BulkSmsEapi, code: int) -> None:
    body = f"{code}|echo {USERNAME}:{PASSWORD}|"
    calls: list[Callable[[], object]] = [
        lambda: api.parse_send(ok(body), msg()),
        lambda: api.parse_batch(ok(body), [("1", "a")]),
        lambda: api.parse_status(ok(body), "1"),
        lambda: api.parse_credits(ok(body)),
        lambda: api.parse_quote(ok(body)),
        lambda: api.parse_inbox(ok(body)),
    ]
    for call in calls:
        with pytest.raises(SmsError) as excinfo:
            call()
        assert_no_secret(str(excinfo.value), repr(excinfo.value), excinfo.value.message, excinfo.value.args)
        assert USERNAME not in str(excinfo.value)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_error_to_a_send_without_dedupe_id_is_ambiguous(api: BulkSmsEapi, status: int) -> None:
    from airflow_provider_sms.exceptions import SmsAmbiguousError

    with pytest.raises(SmsAmbiguousError) as excinfo:
        api.parse_send(ok("", status=status), msg())
    assert excinfo.value.recipients_in_doubt == ["447700900001", "447700900002"]
    assert not excinfo.value.retryable


def test_validity_is_a_capability_error_naming_the_gateway(api: BulkSmsEapi) -> None:
    # send_sms has no validity parameter (seed 001): refuse rather than silently ignore it.
    with pytest.raises(SmsCapabilityError, match="gateway 'bulksms' does not support validity"):
        api.send_request(msg(validity=3600))
    with pytest.raises(SmsCapabilityError, match="validity"):
        api.batch_request([("447700900001", "Hi")], msg(validity=60))
