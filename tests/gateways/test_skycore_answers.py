"""Skycore answers: the vendor's example documents, every E-code of the table, hostile and broken answers."""

from __future__ import annotations

import pytest

from airflow_provider_sms.core.contacts import ImportOutcome
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MmsMessage
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.gateways.skycore import ERROR_CODES, SkycoreApi, error_code
from tests.hostile import wire_forms

KEY = "k3y-Secret-123456"
HOSTILE_KEY = 'k3y&<w/rd +%?#"\\é-Zq9'
A = "15551234888"
API = SkycoreApi(KEY, short_code="60856")
SMS = OutgoingMessage("Hi", numbers=[A])


def _ok(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status, body.encode("utf-8"))


def _failure(code: str, info: str = "vendor text", to: str | None = A) -> HttpResponse:
    to_node = f"<TO>{to}</TO>" if to else ""
    return _ok(f"<RESPONSE><STATUS>Failure</STATUS><ERRORCODE>{code}</ERRORCODE>"
               f"<ERRORINFO>{info}</ERRORINFO>{to_node}</RESPONSE>")


def test_send_sms_success_from_the_vendor_example() -> None:
    body = ("<RESPONSE>\n  <STATUS>Success</STATUS>\n  <TRACKINGID>U01TXzc2Nzg2Nw==</TRACKINGID>\n"
            f"  <TO>{A}</TO>\n</RESPONSE>")
    result = API.parse_send(_ok(body), SMS)
    assert [(r.recipient, r.accepted, r.message_id) for r in result.results] == [(A, True, "U01TXzc2Nzg2Nw==")]


def test_billing_failure_from_the_vendor_example_is_raised() -> None:
    with pytest.raises(SmsGatewayError, match="billing") as exc:
        API.parse_send(_failure("E713", "There is billing problem on your account"), SMS)
    assert exc.value.code == "E713"


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_error_code_maps_onto_the_error_tree(code: str) -> None:
    entry = ERROR_CODES[code]
    if entry.scope == "recipient":
        result = API.parse_send(_failure(code), SMS)
        assert [(r.recipient, r.accepted, r.code, r.status) for r in result.results] == [
            (A, False, code, DeliveryStatus.REJECTED)]
        assert entry.meaning in str(result.results[0].text)
        return
    with pytest.raises(SmsError) as exc:
        API.parse_send(_failure(code), SMS)
    assert type(exc.value) is entry.error
    assert exc.value.code == code
    assert entry.meaning in str(exc.value)
    if entry.field:
        assert entry.field in str(exc.value)  # validation codes name the field


@pytest.mark.parametrize(("code", "kind"), [
    ("E113", SmsRateLimitedError), ("E106", SmsRateLimitedError), ("E120", SmsRateLimitedError),
    ("E510", SmsRateLimitedError), ("E503", SmsTransientError), ("E626", SmsTransientError),
    ("E351", SmsTransientError), ("E112", SmsConfigurationError), ("E104", SmsAuthenticationError),
    ("E102", SmsAuthenticationError), ("E111", SmsConfigurationError), ("E714", SmsConfigurationError),
    ("E712", SmsValidationError), ("E303", SmsValidationError),
])
def test_the_classes_that_decide_retries(code: str, kind: type[SmsError]) -> None:
    assert error_code(code).error is kind
    assert error_code(code).retryable == issubclass(kind, (SmsRateLimitedError, SmsTransientError))


def test_ip_allow_list_error_says_so() -> None:
    with pytest.raises(SmsConfigurationError, match="IP address is not on the account's API allow-list"):
        API.parse_send(_failure("E112", "IP not whitelisted"), SMS)


def test_undocumented_code_is_a_gateway_refusal() -> None:
    assert error_code("e777").error is SmsGatewayError
    with pytest.raises(SmsGatewayError, match="undocumented"):
        API.parse_send(_failure("E777"), SMS)


def test_error_text_is_scrubbed_of_the_key_and_cut_short() -> None:
    with pytest.raises(SmsError) as exc:
        API.parse_send(_failure("E104", f"bad key {KEY} " + "x" * 500), SMS)
    assert KEY not in str(exc.value) and KEY not in repr(exc.value)
    assert len(str(exc.value)) < 400


@pytest.mark.parametrize("body", [
    b"", b"not xml", b"<RESPONSE><STATUS>Success</STATUS>", b"<HTML>oops</HTML>",
    b"<RESPONSE><STATUS>Maybe</STATUS></RESPONSE>", b"<RESPONSE><STATUS>Success</STATUS></RESPONSE>",
    b'<!DOCTYPE r [<!ENTITY e "x">]><RESPONSE><STATUS>&e;</STATUS></RESPONSE>',
])
def test_unreadable_answer_to_a_send_is_ambiguous(body: bytes) -> None:
    with pytest.raises(SmsAmbiguousError) as exc:
        API.parse_send(HttpResponse(200, body), SMS)
    assert exc.value.recipients_in_doubt == [A]


def test_unreadable_answer_to_a_read_is_transient() -> None:
    with pytest.raises(SmsTransientError):
        API.parse_mms_ids(HttpResponse(200, b"<garbage"))


@pytest.mark.parametrize(("status", "kind"), [
    (429, SmsRateLimitedError), (503, SmsAmbiguousError), (500, SmsAmbiguousError), (502, SmsAmbiguousError),
    (401, SmsAuthenticationError), (403, SmsAuthenticationError), (404, SmsGatewayError),
])
def test_http_errors_on_a_send(status: int, kind: type[SmsError]) -> None:
    with pytest.raises(kind):
        API.parse_send(HttpResponse(status, b"", {"Retry-After": "3"}), SMS)


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_on_a_read_is_transient(status: int) -> None:
    with pytest.raises(SmsTransientError):
        API.parse_mms_ids(HttpResponse(status, b""))


def test_save_mms_and_mms_ids() -> None:
    assert API.parse_save_mms(_ok("<RESPONSE><STATUS>Success</STATUS><MMSID>35674</MMSID></RESPONSE>")) == "35674"
    with pytest.raises(SmsConfigurationError, match="short"):
        API.parse_save_mms(_failure("E111", "Invalid shortcode", None))
    assert API.parse_mms_ids(_ok("<RESPONSE><STATUS>Success</STATUS><MMSIDS>10011,10234,10634</MMSIDS>"
                                 "</RESPONSE>")) == ["10011", "10234", "10634"]
    assert API.parse_mms_ids(_failure("E200", "No MMS Templates were created in this account.", None)) == []


def test_send_saved_mms_with_sending_blocks() -> None:
    body = ("<RESPONSE><STATUS>Success</STATUS><MMSID>35674</MMSID>"
            "<SENDING><TRACKINGID>MMS_12346</TRACKINGID><TO>16501234123</TO></SENDING>"
            "<SENDING><ERRORCODE>E715</ERRORCODE><TO>16501234124</TO>"
            "<ERRORINFO>Number is not subscribed in this campaign</ERRORINFO></SENDING></RESPONSE>")
    result = API.parse_mms_send(_ok(body), MmsMessage(mms_id="35674", numbers=["16501234123"]))
    assert [(r.recipient, r.accepted, r.message_id, r.code) for r in result.results] == [
        ("16501234123", True, "MMS_12346", None), ("16501234124", False, None, "E715")]


def test_send_saved_mms_flat_answer_and_campaign_answer() -> None:
    flat = "<RESPONSE><STATUS>Success</STATUS><MMSID>1</MMSID><TRACKINGID>T1</TRACKINGID><TO>1555</TO></RESPONSE>"
    result = API.parse_mms_send(_ok(flat), MmsMessage(mms_id="1", numbers=[A]))
    assert [(r.recipient, r.message_id) for r in result.results] == [(A, "T1")]
    campaign = "<RESPONSE><STATUS>Success</STATUS><MMSID>35674</MMSID><SCHEDULEDID>12346</SCHEDULEDID></RESPONSE>"
    result = API.parse_mms_send(_ok(campaign), MmsMessage(mms_id="35674", campaign="332"))
    assert result.batch_ids == ["12346"]
    assert [(r.recipient, r.batch_id) for r in result.results] == [("campaign:332", "12346")]
    with pytest.raises(SmsConfigurationError, match="campaign"):
        API.parse_mms_send(_failure("E714", "Missing/Invalid CampaignID", None), MmsMessage(mms_id="1", campaign="9"))


def test_subscriber_ref_answer_has_one_result_per_subscriber() -> None:
    body = ("<RESPONSE><STATUS>Success</STATUS><SUBSCRIBERREF>r1</SUBSCRIBERREF><CAMPAIGNREF>C</CAMPAIGNREF>"
            "<SUBSCRIBER><STATUS>Success</STATUS><TRACKINGID>T1</TRACKINGID><TO>1555000001</TO><FROM>60856</FROM>"
            "<STATUSDETAILS>MMS request accepted and queued for delivery</STATUSDETAILS></SUBSCRIBER>"
            "<SUBSCRIBER><STATUS>Failure</STATUS><ERRORCODE>E114</ERRORCODE><TO>1555000002</TO></SUBSCRIBER>"
            "</RESPONSE>")
    result = API.parse_send(_ok(body), OutgoingMessage("Hi", groups=["r1"]))
    assert [(r.recipient, r.accepted, r.message_id, r.batch_id) for r in result.results] == [
        ("1555000001", True, "T1", "r1"), ("1555000002", False, None, "r1")]


def test_subscription_answers_become_import_lines() -> None:
    ok = "<RESPONSE><STATUS>Success</STATUS><CAMPAIGNID>1116</CAMPAIGNID><MOBILE>16502426055</MOBILE></RESPONSE>"
    assert API.parse_subscription(_ok(ok), "subscribe", 3).outcome is ImportOutcome.SUCCESS
    line = API.parse_subscription(_failure("E902", "Invalid mobile", None), "subscribe", 4)
    assert (line.line, line.outcome, line.result) == (4, ImportOutcome.FAILED, "E902")
    with pytest.raises(SmsConfigurationError):
        API.parse_subscription(_failure("E112", "ip", None), "subscribe", 1)
    with pytest.raises(SmsRateLimitedError):
        API.parse_subscription(_failure("E113", "slow", None), "subscribe", 1)


def test_create_user_answer_keeps_no_secret() -> None:
    body = ("<RESPONSE><STATUS>Success</STATUS><USERNAME>john</USERNAME>"
            "<PASSWORD>42363deef6129efa1dc0a54b26cf1426</PASSWORD><API_KEY>umfKkSLCDKI9yJ5b7fDBk5I8EQaoq88l</API_KEY>"
            "</RESPONSE>")
    assert API.parse_create_user(_ok(body), "john_pass") == "john"
    with pytest.raises(SmsGatewayError, match="already exists") as exc:
        API.parse_create_user(_failure("E151", "'john_pass' already exists. Duplicate username", None), "john_pass")
    assert "john_pass" not in str(exc.value)


def test_statistics_link_and_streamed_report() -> None:
    link = API.parse_statistics_link(_ok("<RESPONSE><STATUS>Success</STATUS>"
                                         "<URL>https://secure.skycore.com/reports/x.xml</URL></RESPONSE>"))
    assert link == "https://secure.skycore.com/reports/x.xml"
    odd = API.parse_statistics_link(_ok("<RESPONSE><STATUS>Success</STATUS>"
                                        "<REPORTFILE>https://h/r.xml</REPORTFILE></RESPONSE>"))
    assert odd == "https://h/r.xml"
    with pytest.raises(SmsGatewayError, match="link"):
        API.parse_statistics_link(_ok("<RESPONSE><STATUS>Success</STATUS></RESPONSE>"))
    report = """<?xml version="1.0"?>
<RESPONSE>
 <BATCHES>
  <BATCH id="21896" from="60856" campaignid="1442" campaignname="MyCampaign" body="Sample SMS for Campaign">
   <TEXT id="455110" to="11112233444"><ACK gw="10" net="0" time="t1"/><DLR gw="20" net="0" time="t2"/></TEXT>
  </BATCH>
 </BATCHES>
 <SENDING_LIST>
  <CONTENT id="455043" carrier="All Carriers" to="48111222333" delivery="xhtml" contentid="39755"
   contentname="Flowers" from="+447624805892">
   <MSG_STATUS><INQUE time="a"/><INIT gw="0" net="0" time="b"/><ERROR info="delivery failure" time="c"/></MSG_STATUS>
  </CONTENT>
  <TEXT id="150283" to="11112233444" text="Hello &amp; bye"><ACK gw="10" net="0" time="t3"/></TEXT>
 </SENDING_LIST>
</RESPONSE>"""
    header, rows = API.open_statistics(iter(report.splitlines()))
    table = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(t["section"], t["kind"], t["id"], t["to"], t["status"]) for t in table] == [
        ("BATCHES", "sms", "455110", "11112233444", "DLR"),
        ("SENDING_LIST", "mms", "455043", "48111222333", "ERROR"),
        ("SENDING_LIST", "sms", "150283", "11112233444", "ACK")]
    assert (table[0]["group_id"], table[0]["campaign_id"], table[0]["body"]) == ("21896", "1442",
                                                                                  "Sample SMS for Campaign")
    assert table[2]["body"] == "Hello & bye"
    with pytest.raises(SmsGatewayError):
        list(API.open_statistics(iter(["<RESPONSE><TEXT id='1'>", "</BROKEN>"]))[1])
    with pytest.raises(SmsGatewayError, match="DTD"):
        list(API.open_statistics(iter(['<!DOCTYPE x [<!ENTITY a "b">]>', "<RESPONSE/>"]))[1])


@pytest.mark.parametrize("form", sorted((name, value) for name, value in wire_forms("", HOSTILE_KEY).items()
                                         if not name.startswith("basic")), ids=lambda f: f[0])  # key in the body only
def test_an_echoed_key_is_scrubbed_in_every_encoding(form: tuple[str, str]) -> None:
    # A gateway that repeats the request in ERRORINFO shows the key however the request carried it.
    api = SkycoreApi(HOSTILE_KEY, short_code="60856")
    echo = f"you sent API_KEY={form[1]} and more"
    escaped = echo.replace("&", "&amp;").replace("<", "&lt;")
    for error_code_ in ("E102", "E999"):
        with pytest.raises(SmsError) as exc:
            api.parse_mms_ids(_failure(error_code_, escaped, None))
        assert form[1] not in str(exc.value) and "***" in str(exc.value), str(exc.value)
