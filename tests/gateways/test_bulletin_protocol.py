"""Bulletin Messenger protocol: requests, the send answer (seed 000's exact examples), polling answers."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qsl

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
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.bulletin import BulletinApi, iter_json_array, message_id_for, wire_name
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.transport import encode_request
from tests.hostile import wire_forms

# Seed 000, byte for byte as printed (neither document closes its root element).
SEED_AUTH_ERROR = (b'<?xml version="1.0" ?>\n'
                   b'<outbound-message-delivery messageId="FebPromo" isError="true" errorCode="401" '
                   b'errorMessage="Unauthorised">')
SEED_PARTIAL = b"""<?xml version="1.0"?>
<outbound-message-delivery messageId="FebPromo" isError="false">
  <recipient msisdn="64211111111" isError="false"/>
  <recipient msisdn="64211111112" isError="false"/>
  <recipient msisdn="64222222221" isError="true" errorCode="403" errorMessage="Cannot deliver to 64222222221 (Number in Blocked List)"/>
  <recipient msisdn="salestem" isError="true" errorCode="403" errorMessage="Cannot deliver to salestem (Contact not in Address Book)"/>"""  # noqa: E501

PASSWORD = "s3cret-Pa55"
API = BulletinApi("acme", PASSWORD)
SEED_MESSAGE = OutgoingMessage("February promo", numbers=["64211111111", "64211111112", "64222222221"],
                               groups=["group:salestem"], dedupe_key=1234)


def _form(api: BulletinApi, message: OutgoingMessage) -> dict[str, str]:
    request = api.send_request(message)
    wire = encode_request("https://www.bulletinmessenger.net", request)
    assert wire.content is not None
    return dict(parse_qsl(wire.content.decode("ascii"), keep_blank_values=True))


def test_seed_partial_failure_reports_every_recipient() -> None:
    result = API.parse_send(HttpResponse(200, SEED_PARTIAL), SEED_MESSAGE, "FebPromo")
    summary = [(r.recipient, r.accepted, r.code, r.status) for r in result.results]
    assert summary == [
        ("64211111111", True, None, DeliveryStatus.PENDING),
        ("64211111112", True, None, DeliveryStatus.PENDING),
        ("64222222221", False, "403", DeliveryStatus.REJECTED),
        ("group:salestem", False, "403", DeliveryStatus.REJECTED),
    ]
    assert result.results[3].text == "Cannot deliver to salestem (Contact not in Address Book)"
    assert result.results[2].text == "Cannot deliver to 64222222221 (Number in Blocked List)"
    assert result.batch_ids == ["FebPromo"] and {r.message_id for r in result.results} == {"FebPromo"}


@pytest.mark.parametrize("status", [200, 401])
def test_seed_request_level_error_is_an_authentication_error(status: int) -> None:
    with pytest.raises(SmsAuthenticationError, match="Unauthorised") as caught:
        API.parse_send(HttpResponse(status, SEED_AUTH_ERROR), SEED_MESSAGE, "FebPromo")
    assert caught.value.code == 401


def test_http_codes_map_onto_the_error_tree() -> None:
    def send(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        API.parse_send(HttpResponse(status, body, headers or {}), SEED_MESSAGE, "m1")

    with pytest.raises(SmsGatewayError, match=r"HTTP 400 \(Bad request") as bad:
        send(400, b"Bad request: missing body")
    assert bad.value.code == 400 and not isinstance(bad.value, SmsAuthenticationError)
    with pytest.raises(SmsAuthenticationError):
        send(401)
    limit = (b'<?xml version="1.0"?><outbound-message-delivery messageId="m1" isError="true" errorCode="403" '
             b'errorMessage="Company daily message limit of 500 exceeded"/>')
    with pytest.raises(SmsGatewayError, match="daily message limit is reached") as daily:
        send(403, limit)
    assert not isinstance(daily.value, SmsAuthenticationError)
    with pytest.raises(SmsGatewayError, match="address-book restrictions"):
        send(403, b"Forbidden")
    with pytest.raises(SmsAmbiguousError, match="may or may not") as doubt:
        send(500)
    assert doubt.value.recipients_in_doubt == [*SEED_MESSAGE.numbers, *SEED_MESSAGE.groups]
    with pytest.raises(SmsRateLimitedError) as slow:
        send(429, headers={"Retry-After": "7"})
    assert slow.value.retry_after == 7
    accepted = API.parse_send(HttpResponse(204, b""), SEED_MESSAGE, "m1")  # the /api/1 answer
    assert all(r.accepted for r in accepted.results)


def test_unreadable_200_is_ambiguous_never_a_success() -> None:
    for body in (b"", b"<html>oops</html>", b"<outbound-message-delivery", b"\xff\xfe"):
        with pytest.raises(SmsAmbiguousError):
            API.parse_send(HttpResponse(200, body), SEED_MESSAGE, "m1")


def test_group_members_and_unitemised_recipients() -> None:
    body = (b'<outbound-message-delivery messageId="m" isError="false">'
            b'<recipient msisdn="64210000001" isError="false"/></outbound-message-delivery>')
    message = OutgoingMessage("x", numbers=["64211111111"], groups=["group:Team"])
    result = API.parse_send(HttpResponse(200, body), message, "m")
    assert [(r.recipient, r.accepted) for r in result.results] == [
        ("64211111111", True), ("group:Team", True), ("64210000001", True)]
    assert result.results[0].text == "accepted (not itemised in the answer)"


def test_send_request_wire_contract() -> None:
    request = API.send_request(SEED_MESSAGE)
    assert request.method == "POST" and request.path == "/api/3/sms/out" and not request.query
    assert request.sends_message and request.dedupe_key is None  # never replayed after a lost answer
    form = _form(API, SEED_MESSAGE)
    assert form == {"to": "64211111111 64211111112 64222222221 salestem", "body": "February promo",
                    "messageId": message_id_for(1234)}
    wire = encode_request("https://x", request)
    assert wire.auth == ("acme", PASSWORD)  # Basic header only: not in the form, not in the URL
    assert PASSWORD not in wire.url and PASSWORD.encode() not in (wire.content or b"")
    assert "charset=utf-8" in wire.headers["Content-Type"]


def test_unicode_selects_utf16_and_the_form_stays_utf8() -> None:
    message = OutgoingMessage("Kia ora Māori", numbers=["64211111111"], sender="Airflow", max_parts=2,
                              dedupe_key=9)
    form = _form(API, message)
    assert form["contentType"] == "text/plain; charset=UTF-16"
    assert form["from"] == "Airflow" and form["fragmentationLimit"] == "2" and form["body"] == "Kia ora Māori"
    wire = encode_request("https://x", API.send_request(message))
    assert "Ma%CC%84ori" in (wire.content or b"").decode() or "M%C4%81ori" in (wire.content or b"").decode()
    assert "contentType" not in _form(API, OutgoingMessage("Plain", numbers=["64211111111"]))


def test_form_auth_and_callback_parameters_are_configurable() -> None:
    api = BulletinApi("acme", PASSWORD, auth_in_form=True, reply_callback_url="https://h/reply",
                      status_callback_url="https://h/status?m={!messageId}", status_callback_param="statusUrl")
    request = api.send_request(SEED_MESSAGE)
    assert request.auth is None
    form = _form(api, SEED_MESSAGE)
    assert form["userId"] == "acme" and form["password"] == PASSWORD
    assert form["callbackUrl"] == "https://h/reply" and form["statusUrl"] == "https://h/status?m={!messageId}"
    get = api.list_request()  # a GET carries credentials in the Basic header, never in the URL
    assert get.method == "GET" and get.auth is not None and not get.form


def test_message_id_is_derived_from_the_dedupe_key() -> None:
    assert message_id_for(2_147_483_647) == message_id_for(2_147_483_647)
    assert len(message_id_for(2_147_483_647)) <= 36
    assert message_id_for(None, "my-ref") == "my-ref"
    assert len(message_id_for(None)) <= 36 and message_id_for(None) != message_id_for(None)


def test_checks_list_every_problem() -> None:
    message = OutgoingMessage("x" * 481, numbers=["0211111111", "64211111111", "64211111111"],
                              groups=["group:", "contact:Big Bob", "group:123"], sender="A much too long sender",
                              max_parts=9, extras={"to": "1"})
    with pytest.raises(SmsValidationError) as caught:
        API.check(message)
    reasons = str(caught.value)
    for expected in ("leading zeros", "duplicate recipient", "must not be empty", "cannot carry a name with spaces",
                     "read as a number", "at most 11 characters", "between 1 and 8", "at most 480 characters",
                     "clashes with a parameter"):
        assert expected in reasons
    with pytest.raises(SmsCapabilityError):
        API.check(OutgoingMessage("x", numbers=["64211111111"], test_mode="succeed"))
    scheduled = OutgoingMessage("x", numbers=["64211111111"], send_at=dt.datetime.now(dt.UTC))
    with pytest.raises(SmsValidationError, match="no scheduled sends"):
        API.check(scheduled)


def test_wire_name_strips_prefixes_only() -> None:
    assert [wire_name(x) for x in ("group:Sales", "Contact:Big", "Sales", "list:x")] == ["Sales", "Big", "Sales",
                                                                                         "list:x"]


def test_status_and_reply_polls() -> None:
    body = b"messageId=55&to=4040&from=6421333333&statusCode=nrcv&inReplyToId=airflow-1&error=Handset+off"
    update = API.parse_status_poll(HttpResponse(200, body))
    assert update is not None
    assert (update.status_id, update.message_id, update.status_code, update.status) == (
        "55", "airflow-1", "NRCV", DeliveryStatus.FAILED)
    assert API.parse_status_poll(HttpResponse(204, b"")) is None
    reply = API.parse_reply_poll(HttpResponse(200, b"messageId=r1&to=4040&from=6421&inReplyToId=m1&body=Yes+please"))
    assert reply is not None and (reply.handset, reply.body, reply.in_reply_to) == ("6421", "Yes please", "m1")
    assert API.parse_reply_poll(HttpResponse(204, b"")) is None
    with pytest.raises(SmsAuthenticationError):
        API.parse_status_poll(HttpResponse(401, b""))
    with pytest.raises(SmsTransientError):
        API.parse_reply_poll(HttpResponse(500, b""))
    with pytest.raises(SmsGatewayError, match="without statusCode"):
        API.parse_status_poll(HttpResponse(200, b"messageId=1"))


def test_out_poll_and_sent_list() -> None:
    data = [{"messageId": "m1", "body": "Hi", "recipientCount": 9, "recipients": "Bob, Mary + 7 others",
             "messageDate": "2017-05-16T01:23:04.417Z", "statusCode": "RCV"}]
    [sent] = API.parse_out_poll(HttpResponse(200, json.dumps(data).encode()))
    assert (sent.message_id, sent.recipient_count, sent.recipients) == ("m1", 9, "Bob, Mary + 7 others")
    listing = [{"messageId": "m1", "body": "Hi", "messageDate": "2026-01-01T00:00:00Z",
                "recipients": [{"to": "6421", "statusCode": "RCV"},
                               {"to": "salestem", "isError": True, "errorMessage": "Contact not in Address Book"}]},
               {"messageId": "m2", "body": "Yo", "msisdn": "6422"}]
    text = json.dumps(listing, indent=1)
    items = list(API.sent_items(text.splitlines()))
    assert [(i.message_id, i.recipient, i.rejected) for i in items] == [
        ("m1", "6421", False), ("m1", "salestem", True), ("m2", "6422", False)]


@pytest.mark.parametrize("pieces", [["[]"], ["[", "]"], ['[{"a": 1}', ',{"a": 2}]'], ['[1,', '2, 3]']])
def test_json_array_reader_handles_any_split(pieces: list[str]) -> None:
    joined = json.loads("\n".join(pieces))
    assert list(iter_json_array(pieces)) == joined


@pytest.mark.parametrize("pieces", [["{}"], ['[{"a": 1}'], ["[1,,]"], ["[1 2]"], ["nope"], [], ["[", "{"],
                                    ["[" * 100_000 + "]" * 100_000]])  # deeper than the decoder's recursion
def test_json_array_reader_refuses_broken_lists(pieces: list[str]) -> None:
    with pytest.raises(SmsTransientError):
        list(iter_json_array(pieces))


def test_basic_header_is_the_only_place_of_the_password() -> None:
    for request in (API.send_request(SEED_MESSAGE), API.status_poll_request(), API.reply_poll_request(),
                    API.out_poll_request(), API.list_request()):
        wire = encode_request("https://www.bulletinmessenger.net", request)
        secret_b64 = base64.b64encode(PASSWORD.encode()).decode()
        assert PASSWORD not in wire.url and secret_b64 not in wire.url
        assert PASSWORD.encode() not in (wire.content or b"")
        assert PASSWORD not in repr(request) and PASSWORD not in repr(API)


HOSTILE_PASSWORD = 'p@ss w/rd&=+%?#"\\é-Zq9'


@pytest.mark.parametrize("auth_in_form", [False, True])
@pytest.mark.parametrize("form", sorted(wire_forms("acme", HOSTILE_PASSWORD).items()), ids=lambda f: f[0])
def test_an_echoed_password_is_scrubbed_in_every_encoding(form: tuple[str, str], auth_in_form: bool) -> None:
    # A gateway repeating the request (Basic header, form fields) in its error text shows the
    # password encoded: in a status line, a root errorMessage and a recipient's errorMessage.
    api = BulletinApi("acme", HOSTILE_PASSWORD, auth_in_form=auth_in_form)
    echo = f"you sent {form[1]} back"
    attr = echo.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    for answer in (HttpResponse(400, echo.encode()),
                   HttpResponse(200, f'<outbound-message-delivery isError="true" errorCode="400" '
                                     f'errorMessage="{attr}"/>'.encode()),
                   HttpResponse(200, f'<outbound-message-delivery><recipient msisdn="64211111111" isError="true" '
                                     f'errorMessage="{attr}"/></outbound-message-delivery>'.encode())):
        try:
            result = api.parse_send(answer, SEED_MESSAGE, "m1")
            shown = repr(result.to_dict())
        except SmsError as error:
            shown = str(error)
        assert form[1] not in shown and "***" in shown, shown


def test_the_callback_urls_secret_is_scrubbed_from_echoes() -> None:
    secret = "cb-Secret-0123456789"
    url = f"https://airflow.example.com/sms-callbacks/bulletin/bm/status?secret={secret}"
    api = BulletinApi("acme", PASSWORD, status_callback_url=url, other_secrets=[secret])
    echo = f"bad statusCallbackUrl {url}".replace("&", "&amp;")
    answer = HttpResponse(200, f'<outbound-message-delivery><recipient msisdn="64211111111" isError="true" '
                               f'errorMessage="{echo}"/></outbound-message-delivery>'.encode())
    shown = repr(api.parse_send(answer, SEED_MESSAGE, "m1").to_dict())
    assert secret not in shown and "secret=***" in shown
    with pytest.raises(SmsError) as exc:
        api.parse_send(HttpResponse(400, echo.encode()), SEED_MESSAGE, "m1")
    assert secret not in str(exc.value)
