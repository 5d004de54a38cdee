"""Bulletin Messenger callbacks (seed 004): XMLv3 and FORMv1 replies and statuses, every status code."""

from __future__ import annotations

import contextlib
import random

import pytest

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import SmsError, SmsGatewayError
from airflow_provider_sms.gateways.bulletin import (
    STATUS_CODES,
    BulletinApi,
    delivery_status,
    parse_reply_callback,
    parse_status_callback,
)
from airflow_provider_sms.gateways.http import HttpResponse

# Seed 004, as printed (the status example's declaration carries escaped quotes).
SEED_REPLY = b"""<?xml version="1.0" ?>
<inbound-message messageId="FebPromo" receivedDate="2012-03-20T01:36:00Z">
   <recipient displayName="Big Bob" msisdn="6421333333">
      <body><![CDATA[Thanks for that]]></body>
   </recipient>
</inbound-message>"""
SEED_STATUS = b"""<?xml version=\\"1.0\\" ?>
<status-update>
    <messageId>summerpromo76</messageId>
    <to>4040</to>
    <from>021333333</from>
    <statusCode>RCV</statusCode>
    <statusDate>2012-03-20T01:36:00Z</statusDate>
    <statusId>9182</statusId>
    <error></error>
</status-update>"""


def test_seed_xmlv3_status() -> None:
    update = parse_status_callback(SEED_STATUS)
    assert (update.message_id, update.status_id, update.handset, update.to) == ("summerpromo76", "9182",
                                                                              "021333333", "4040")
    assert update.status is DeliveryStatus.DELIVERED and update.status_date == "2012-03-20T01:36:00Z"
    assert update.to_message_status().message_id == "summerpromo76"


def test_seed_xmlv3_reply() -> None:
    reply = parse_reply_callback(SEED_REPLY)
    assert (reply.in_reply_to, reply.handset, reply.display_name, reply.body, reply.received_date) == (
        "FebPromo", "6421333333", "Big Bob", "Thanks for that", "2012-03-20T01:36:00Z")


def test_formv1_status_message_id_is_the_status_id() -> None:
    # The trap: in FORMv1, messageId is the status update's id and inReplyToId the message's.
    body = b"to=4040&statusCode=RCV&from=021333333&messageId=9182&inReplyToId=summerpromo76&error="
    update = parse_status_callback(body)
    assert update.message_id == "summerpromo76" and update.status_id == "9182"
    assert parse_status_callback(body, "FORMv1") == update


def test_formv1_reply() -> None:
    reply = parse_reply_callback(b"messageId=abc&to=4040&from=6421333333&inReplyToId=FebPromo&body=Thanks+%F0%9F%91%8D")
    assert (reply.in_reply_to, reply.reply_id, reply.handset, reply.body) == ("FebPromo", "abc", "6421333333",
                                                                              "Thanks 👍")


@pytest.mark.parametrize(("code", "status", "final"), [
    ("SNT", DeliveryStatus.SENT, False), ("RCV", DeliveryStatus.DELIVERED, True),
    ("NUR", DeliveryStatus.FAILED, True), ("NRCV", DeliveryStatus.FAILED, True), ("NRC", DeliveryStatus.FAILED, True),
    ("EXP", DeliveryStatus.EXPIRED, True), ("ERR", DeliveryStatus.FAILED, True), ("INF", DeliveryStatus.FAILED, True),
])
def test_every_status_code(code: str, status: DeliveryStatus, final: bool) -> None:
    assert delivery_status(code).status is status and status.is_final is final
    xml = f"<status-update><messageId>m</messageId><statusCode>{code.lower()}</statusCode></status-update>"
    assert parse_status_callback(xml.encode()).status is status
    assert parse_status_callback(f"messageId=1&inReplyToId=m&statusCode={code}".encode()).status is status


def test_every_documented_code_is_tested_and_unknown_codes_are_kept() -> None:
    assert set(STATUS_CODES) == {"SNT", "RCV", "NUR", "NRCV", "NRC", "EXP", "ERR", "INF"}
    unknown = delivery_status("ZZZ")
    assert unknown.code == "ZZZ" and unknown.status is DeliveryStatus.UNKNOWN


@pytest.mark.parametrize("body", [
    b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><status-update><statusCode>&a;</statusCode></status-update>",
    b"<status-update><statusCode>RCV</statusCode>",  # truncated (only the root may be left open... not here)
    b"<inbound-message messageId='x'/>",
    b"<other/>",
    b"x" * 200_000,
    b"statusCode=",
])
def test_hostile_or_broken_callbacks_raise_our_error(body: bytes) -> None:
    with pytest.raises(SmsGatewayError):
        parse_status_callback(body) if b"inbound" not in body else parse_reply_callback(body)


def test_parsers_raise_only_our_errors_on_random_input() -> None:
    """Robustness (no Hypothesis on this branch): random bytes and truncations of real documents."""
    rng = random.Random(8)
    api = BulletinApi("u", "p")
    from airflow_provider_sms.core.message import OutgoingMessage

    message = OutgoingMessage("x", numbers=["64211111111"])
    seeds = [SEED_REPLY, SEED_STATUS, b"messageId=1&statusCode=RCV&inReplyToId=m",
             b'<outbound-message-delivery messageId="m" isError="false"><recipient msisdn="64211111111" '
             b'isError="true" errorCode="403" errorMessage="x"/></outbound-message-delivery>']
    samples = [s[:cut] for s in seeds for cut in range(0, len(s), 7)]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(300)]
    parsers = [parse_status_callback, parse_reply_callback,
               lambda b: api.parse_send(HttpResponse(200, b), message, "m"),
               lambda b: api.parse_status_poll(HttpResponse(200, b)),
               lambda b: api.parse_reply_poll(HttpResponse(200, b)),
               lambda b: api.parse_out_poll(HttpResponse(200, b)),
               lambda b: list(api.sent_items(b.decode("latin-1").splitlines()))]
    for sample in samples:
        for parse in parsers:
            with contextlib.suppress(SmsError):  # anything else fails the test
                parse(sample)
