"""Skycore postbacks of both generations: the vendor's examples and every code the reference lists."""

from __future__ import annotations

import pytest

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.gateways.skycore import POSTBACK_CODES, SkycorePostbackError, parse_postback

SMS_DLR = """<?xml version='1.0'?>
<POSTBACK>
  <ORIGIN>SMS_MT</ORIGIN>
  <CODE>N202</CODE>
  <STATUS>Message Sent/Delivered</STATUS>
  <FROM>00000</FROM>
  <TO>10000000000</TO>
  <TRACKINGID>xxxxxxxxxxxx</TRACKINGID>
  <SPID>0001470</SPID>
  <TIMESTAMP>2013-11-05T05:41:15-05:00</TIMESTAMP>
  <AGGREGATORID>11529-64807-97508-73852-97658</AGGREGATORID>
</POSTBACK>"""

SMS_MO = """<POSTBACK>
  <ORIGIN>SMS_MO</ORIGIN>
  <CODE>N211</CODE>
  <FROM>10000000000</FROM>
  <TO>00000</TO>
  <TEXT>STOP</TEXT>
  <RECEIVED>2011-09-28T17:31:02-04:00</RECEIVED>
  <TRANSACTIONID>511XG-02294-192SA-482H8</TRANSACTIONID>
</POSTBACK>"""

OLD_MMS_DLR = """<NOTIFICATION ID="326" CREATED="2011-08-02 07:20:52.332193-04">
    <ORIGIN>MMS_MT</ORIGIN>
    <CODE>N102</CODE>
    <BODY>
        <HISTORYID>249687</HISTORYID>
        <MMSID>35674</MMSID>
        <TO>16501234123</TO>
        <TRACKINGID>MMS_12346</TRACKINGID>
        <SPID>000189</SPID>
        <HANDSET>motol7c</HANDSET>
        <STATUS CELLY="20" PROVIDER="1000" TEXT="Retrieved" DESCRIPTION="" />
        <TIMESTAMP>2011-08-02 07:20:49-04</TIMESTAMP>
    </BODY>
</NOTIFICATION>"""

OLD_SUB = """<NOTIFICATION id="325" created="2011-01-01 20:09:12.975911-04 ">
    <ORIGIN>SUB</ORIGIN>
    <CODE>N301</CODE>
    <BODY><MOBILE>16502426055</MOBILE><CAMPAIGNID>1116</CAMPAIGNID></BODY>
</NOTIFICATION>"""

OLD_ENCODING = """<NOTIFICATION ID="325" CREATED="2011-01-01 20:09:12.975911-04">
    <ORIGIN>MMS_MT</ORIGIN><CODE>E002</CODE>
    <BODY><MMSID>35674</MMSID><AUDIONAME>sample.mp3</AUDIONAME></BODY>
</NOTIFICATION>"""

MMS_MO_13 = """<POSTBACK><NOTIFICATION ID="9" CREATED="2012-01-01 10:00:00-04">
  <ORIGIN>MMS_MO</ORIGIN><CODE>N401</CODE>
  <BODY><FROM>15551230000</FROM><TO>60856</TO><KEYWORD>PIC</KEYWORD><TRACKINGID>T9</TRACKINGID>
    <CONTENT><FILE>https://h/a.jpg</FILE><FILE>https://h/b.txt</FILE></CONTENT></BODY>
</NOTIFICATION></POSTBACK>"""


def test_current_sms_delivery_receipt() -> None:
    postback = parse_postback(SMS_DLR)
    assert (postback.generation, postback.origin, postback.code) == ("postback", "SMS_MT", "N202")
    assert (postback.to, postback.tracking_id, postback.get("spid")) == ("10000000000", "xxxxxxxxxxxx", "0001470")
    status = postback.message_status()
    assert status is not None
    assert (status.status, status.message_id, status.recipient) == (DeliveryStatus.DELIVERED, "xxxxxxxxxxxx",
                                                                    "10000000000")


def test_current_inbound_sms_is_not_a_receipt() -> None:
    postback = parse_postback(SMS_MO.encode())
    assert (postback.origin, postback.code, postback.get("TEXT")) == ("SMS_MO", "N211", "STOP")
    assert postback.message_status() is None and postback.meaning == "SMS received"


def test_old_mms_receipt_reads_status_attributes() -> None:
    postback = parse_postback(OLD_MMS_DLR)
    assert (postback.generation, postback.notification_id, postback.created) == (
        "notification", "326", "2011-08-02 07:20:52.332193-04")
    assert postback.get("MMSID") == "35674" and postback.status_attributes["CELLY"] == "20"
    assert postback.status_text == "Retrieved"
    assert postback.delivery_status is DeliveryStatus.DELIVERED


def test_old_subscription_encoding_and_wrapped_inbound_mms() -> None:
    sub = parse_postback(OLD_SUB)
    assert (sub.origin, sub.code, sub.to, sub.get("CAMPAIGNID")) == ("SUB", "N301", "16502426055", "1116")
    assert sub.notification_id == "325"  # lower-case attribute names are read too
    encoding = parse_postback(OLD_ENCODING)
    assert (encoding.code, encoding.get("AUDIONAME"), encoding.delivery_status) == ("E002", "sample.mp3", None)
    inbound = parse_postback(MMS_MO_13)
    assert (inbound.origin, inbound.code, inbound.generation) == ("MMS_MO", "N401", "notification")
    assert inbound.files == ("https://h/a.jpg", "https://h/b.txt")


def _current(code: str, origin: str, status: str) -> str:
    return (f"<POSTBACK><ORIGIN>{origin}</ORIGIN><CODE>{code}</CODE><STATUS>{status}</STATUS>"
            "<TO>15551234567</TO><TRACKINGID>T1</TRACKINGID></POSTBACK>")


def _old(code: str, origin: str, status: str) -> str:
    return (f'<NOTIFICATION ID="1" CREATED="x"><ORIGIN>{origin}</ORIGIN><CODE>{code}</CODE><BODY>'
            f'<TO>15551234567</TO><TRACKINGID>T1</TRACKINGID><STATUS PROTOCOL="4" STATUS="0" TEXT="{status}"/>'
            "</BODY></NOTIFICATION>")


@pytest.mark.parametrize("generation", [_current, _old])
@pytest.mark.parametrize(("code", "status_text", "expected"), [
    ("N201", "Message Sent", DeliveryStatus.SENT),
    ("N202", "Message Sent/Delivered", DeliveryStatus.DELIVERED),
    ("E201", "Message Failed", DeliveryStatus.FAILED),
    ("E202", "Message Sent/Failed", DeliveryStatus.FAILED),
    ("E202", "Message Sent/Expired", DeliveryStatus.EXPIRED),
    ("E202", "Message Sent/NotSupported", DeliveryStatus.FAILED),
    ("N101", "Message Sent", DeliveryStatus.SENT),
    ("N102", "Message Sent/Delivered", DeliveryStatus.DELIVERED),
    ("N102", "Message Sent/Expired", DeliveryStatus.EXPIRED),
    ("N102", "Message Sent/Rejected", DeliveryStatus.REJECTED),
    ("N103", "Expired", DeliveryStatus.EXPIRED),
    ("E101", "Message Failed", DeliveryStatus.FAILED),
    ("E102", "Rejected", DeliveryStatus.REJECTED),
])
def test_receipts_of_both_generations(generation: object, code: str, status_text: str,
                                      expected: DeliveryStatus) -> None:
    origin = POSTBACK_CODES[code].origin
    postback = parse_postback(generation(code, origin, status_text))  # type: ignore[operator]
    assert postback.delivery_status is expected
    assert postback.tracking_id == "T1" and postback.status_text == status_text


@pytest.mark.parametrize("code", ["N211", "N401", "N301", "N302", "N003", "E002", "E003", "E004", "N013", "E999"])
@pytest.mark.parametrize("generation", [_current, _old])
def test_events_that_are_not_receipts(code: str, generation: object) -> None:
    postback = parse_postback(generation(code, POSTBACK_CODES[code].origin, "x"))  # type: ignore[operator]
    assert postback.code == code and postback.delivery_status is None and postback.message_status() is None


def test_unknown_code_is_kept_not_guessed() -> None:
    postback = parse_postback(_current("N999", "SMS_MT", "x"))
    assert postback.meaning == "undocumented postback code" and postback.delivery_status is None


@pytest.mark.parametrize("body", [
    b"", b"<POSTBACK>", b"<RESPONSE><ORIGIN>SMS_MT</ORIGIN><CODE>N201</CODE></RESPONSE>",
    b"<POSTBACK><ORIGIN>SMS_MT</ORIGIN></POSTBACK>",
    b'<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><POSTBACK><ORIGIN>&x;</ORIGIN></POSTBACK>',
    b"<POSTBACK>" + b"<X>y</X>" * 40_000 + b"</POSTBACK>",
])
def test_bad_postbacks_raise_our_error(body: bytes) -> None:
    with pytest.raises(SkycorePostbackError):
        parse_postback(body)
