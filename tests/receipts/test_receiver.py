"""The callback receiver over a real loopback socket: every gateway's documented callbacks, and refusals."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.receipts.serve import ReceiverServer
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.receipts.urls import callback_urls
from tests.gateways.test_bulletin_callbacks import SEED_REPLY, SEED_STATUS
from tests.gateways.test_skycore_postbacks import SMS_MO
from tests.receipts.conftest import SECRET, gateway_connections

BULLETIN_STATUS_XML, BULLETIN_REPLY_XML = SEED_STATUS, SEED_REPLY  # the vendor's samples (seed 004)
SKYCORE_DLR = b"""<?xml version='1.0'?>
<POSTBACK>
  <ORIGIN>SMS_MT</ORIGIN>
  <CODE>N202</CODE>
  <STATUS>Message Sent/Delivered</STATUS>
  <FROM>00000</FROM>
  <TO>10000000000</TO>
  <TRACKINGID>trk-0001</TRACKINGID>
  <SPID>0001470</SPID>
  <TIMESTAMP>2013-11-05T05:41:15-05:00</TIMESTAMP>
</POSTBACK>"""
SKYCORE_MO = SMS_MO.encode()  # the vendor's sample
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
XML = {"Content-Type": "text/xml; charset=utf-8"}


def url(receiver: ReceiverServer, conn_id: str, kind: str, secret: str | None = SECRET) -> str:
    """The receiver URL the helper prints for ``conn_id``'s ``kind`` callback (with ``secret``)."""
    [found] = [u for u in callback_urls(conn_id, base=receiver.url, show_secret=True) if u.kind == kind]
    return found.url if secret == SECRET else found.url.replace(SECRET, secret or "")


def store() -> ReceiptStore:
    return ReceiptStore.from_conn_id(None)


def test_bulletin_status_callbacks_in_both_formats(receiver: ReceiverServer) -> None:
    assert requests.post(url(receiver, "bulletin_default", "status"), data=BULLETIN_STATUS_XML, headers=XML,
                         timeout=10).status_code == 200
    form = urlencode({"messageId": "9183", "to": "4040", "from": "021444444", "statusCode": "NUR",
                      "inReplyToId": "summerpromo76", "error": "blocked"})
    assert requests.post(url(receiver, "bulletin_default", "status"), data=form, headers=FORM,
                         timeout=10).status_code == 200
    found = store().recipient_statuses("bulletin", "bulletin_default", ["summerpromo76"])
    delivered, failed = found[("summerpromo76", "021333333")], found[("summerpromo76", "021444444")]
    assert (delivered.event_id, delivered.state, delivered.occurred_at) == (
        "9182", DeliveryStatus.DELIVERED, dt.datetime(2012, 3, 20, 1, 36, tzinfo=dt.UTC))
    assert (failed.event_id, failed.state, failed.detail) == ("9183", DeliveryStatus.FAILED, "blocked")


def test_bulletin_replies_in_both_formats(receiver: ReceiverServer) -> None:
    assert requests.post(url(receiver, "bulletin_default", "reply"), data=BULLETIN_REPLY_XML, headers=XML,
                         timeout=10).status_code == 200
    form = urlencode({"messageId": "r-77", "to": "4040", "from": "6421555555", "inReplyToId": "", "body": "STOP"})
    assert requests.post(url(receiver, "bulletin_default", "reply"), data=form, headers=FORM,
                         timeout=10).status_code == 200
    [(_, xml_reply), (_, form_reply)] = store().replies_after(0)
    assert (xml_reply.sender, xml_reply.text, xml_reply.in_reply_to) == ("6421333333", "Thanks for that", "FebPromo")
    assert xml_reply.event_id.startswith("h:")  # XMLv3 replies carry no id: a digest of their fields
    assert (form_reply.event_id, form_reply.sender, form_reply.recipient, form_reply.in_reply_to) == (
        "r-77", "6421555555", "4040", None)


def test_bulksms_eapi_pushes(receiver: ReceiverServer) -> None:
    status = requests.get(url(receiver, "bulksms_default", "status"), params={
        "msisdn": "447700900001", "batch_id": "4242", "status": "11", "completed_time": "24-01-31 12:00:00",
        "source_id": "job-1", "msg_id": "99"}, timeout=10)
    assert (status.status_code, status.text) == (200, "OK")  # BulkSMS wants a body of at least one character
    inbound = requests.get(url(receiver, "bulksms_default", "inbound"), params={
        "msisdn": "447700000000", "sender": "447700900001", "message": "00480069002120AC", "dca": "16bit",
        "msg_id": "5001", "referring_batch_id": "4242"}, timeout=10)
    assert inbound.status_code == 200
    [(_, reply)] = store().replies_after(0)
    assert (reply.event_id, reply.sender, reply.text, reply.in_reply_to) == (
        "5001", "447700900001", "Hi!\u20ac", "4242")
    event = store().recipient_statuses("bulksms", "bulksms_default", ["4242"])[("4242", "447700900001")]
    assert (event.event_id, event.state, event.occurred_at.year) == ("99:11", DeliveryStatus.DELIVERED, 2024)


def test_bulksms_json_webhook(receiver: ReceiverServer) -> None:
    body = [{"id": "m-1", "type": "SENT", "to": "447700900001", "status": {"id": "DELIVERED.null",
                                                                            "type": "DELIVERED", "subtype": None}},
            {"id": "m-2", "type": "SENT", "to": "447700900002",
             "status": {"id": "FAILED.EXPIRED", "type": "FAILED", "subtype": "EXPIRED"}},
            {"id": "in-1", "type": "RECEIVED", "from": "447700900001", "to": "447700000000", "body": "yes",
             "relatedSentMessageId": "m-1"}]
    assert requests.post(url(receiver, "bulksms_default", "webhook"), json=body, timeout=10).status_code == 200
    found = store().statuses("bulksms", "bulksms_default", ["m-1", "m-2"])
    assert {k: v.state for k, v in found.items()} == {"m-1": DeliveryStatus.DELIVERED, "m-2": DeliveryStatus.EXPIRED}
    [(_, reply)] = store().replies_after(0)
    assert (reply.event_id, reply.text, reply.in_reply_to) == ("in-1", "yes", "m-1")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_netmessenger_inbound_forwarding_with_auth_as_secret(receiver: ReceiverServer, method: str) -> None:
    fields = {"source": "447700900003", "dest": "447786200000", "msg": "Yes please", "id": "nm-1",
              "receivedts": "2026-07-01 09:30:00"}
    target = url(receiver, "netmessenger_default", "inbound")
    assert "auth=" in target and "secret=" not in target
    if method == "GET":
        answer = requests.get(target, params=fields, timeout=10)
    else:  # the auth pass-through travels in the form, like every other field
        answer = requests.post(target.split("?")[0], data={**fields, "auth": SECRET}, timeout=10)
    assert answer.status_code == 200
    [(_, reply)] = store().replies_after(0)
    # Europe/London is on summer time in July: 09:30 local is 08:30 UTC.
    assert (reply.sender, reply.text, reply.received_at.hour) == ("447700900003", "Yes please", 8)


def test_skycore_postbacks(receiver: ReceiverServer) -> None:
    target = url(receiver, "skycore_default", "postback")
    for body in (SKYCORE_DLR, SKYCORE_MO, b"<POSTBACK><ORIGIN>SUB</ORIGIN><CODE>N301</CODE><MOBILE>1</MOBILE>"
                                          b"</POSTBACK>"):
        assert requests.post(target, data=body, headers=XML, timeout=10).status_code == 200
    event = store().statuses("skycore", "skycore_default", ["trk-0001"])["trk-0001"]
    assert (event.event_id, event.state, event.recipient) == ("trk-0001:N202", DeliveryStatus.DELIVERED, "10000000000")
    [(_, reply)] = store().replies_after(0)
    assert (reply.event_id, reply.text) == ("511XG-02294-192SA-482H8", "STOP")
    assert store().counts() == {"statuses": 1, "replies": 1}  # the subscription postback is acknowledged only


def test_the_same_callback_three_times_is_stored_once(receiver: ReceiverServer) -> None:
    for _ in range(3):
        assert requests.post(url(receiver, "skycore_default", "postback"), data=SKYCORE_MO, headers=XML,
                             timeout=10).status_code == 200
        assert requests.post(url(receiver, "bulletin_default", "reply"), data=BULLETIN_REPLY_XML, headers=XML,
                             timeout=10).status_code == 200
    assert store().counts() == {"statuses": 0, "replies": 2}


@pytest.mark.parametrize("secret", ["", "wrong-secret-wrong-secret", SECRET[:-1], SECRET + "x", SECRET.upper()])
def test_a_wrong_secret_is_refused_and_nothing_stored(receiver: ReceiverServer, secret: str) -> None:
    answer = requests.post(url(receiver, "skycore_default", "postback", secret), data=SKYCORE_MO, headers=XML,
                           timeout=10)
    assert (answer.status_code, answer.content) == (401, b"")
    assert store().counts() == {"statuses": 0, "replies": 0}


def test_unknown_or_foreign_connections_are_refused_alike(receiver: ReceiverServer) -> None:
    skycore = url(receiver, "skycore_default", "postback")
    for target in (skycore.replace("skycore_default", "nobody"),  # no such connection
                   skycore.replace("/skycore/skycore_default/", "/skycore/bulksms_default/"),  # another gateway's
                   skycore.split("?")[0]):  # no secret at all
        answer = requests.post(target, data=SKYCORE_MO, headers=XML, timeout=10)
        assert (answer.status_code, answer.content) == (401, b"")
    assert store().counts()["replies"] == 0


def test_the_allow_list_refuses_other_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_connections(monkeypatch, callback_allowed_ips="203.0.113.0/24, 198.51.100.7")
    with ReceiverServer() as server:
        answer = requests.post(url(server, "skycore_default", "postback"), data=SKYCORE_MO, headers=XML, timeout=10)
    assert (answer.status_code, answer.content) == (403, b"")
    gateway_connections(monkeypatch, callback_allowed_ips="203.0.113.0/24,127.0.0.0/8")
    with ReceiverServer() as server:
        assert requests.post(url(server, "skycore_default", "postback"), data=SKYCORE_MO, headers=XML,
                             timeout=10).status_code == 200
    gateway_connections(monkeypatch, callback_allowed_ips="127.0.0.1, not-an-address")  # unreadable: nobody
    with ReceiverServer() as server:
        assert requests.post(url(server, "skycore_default", "postback"), data=SKYCORE_MO, headers=XML,
                             timeout=10).status_code == 403
    assert store().counts()["replies"] == 1


def test_a_short_secret_disables_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_connections(monkeypatch, callback_secret="short")
    with ReceiverServer() as server:
        answer = requests.post(f"{server.url}/sms-callbacks/skycore/skycore_default/postback?secret=short",
                               data=SKYCORE_MO, headers=XML, timeout=10)
    assert answer.status_code == 401


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<POSTBACK><ORIGIN>SMS_MO</ORIGIN><CODE>N211</CODE><FROM>1</FROM><TEXT>&lol4;</TEXT></POSTBACK>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<status-update><messageId>m</messageId><statusCode>RCV</statusCode><statusId>&xxe;</statusId></status-update>"""


@pytest.mark.parametrize(("conn_id", "kind", "body", "status"), [
    ("skycore_default", "postback", BILLION_LAUGHS, 400),
    ("bulletin_default", "status", EXTERNAL_ENTITY, 400),
    ("bulletin_default", "reply", b"<inbound-message><recipient/>", 400),
    ("skycore_default", "postback", b"<POSTBACK>" * 50_000, 413),
    ("bulksms_default", "webhook", b"[" * 600_000 + b"]" * 600_000, 413),
    ("bulksms_default", "webhook", b"[" * 100_000 + b"]" * 100_000, 400),
    ("bulletin_default", "status", b"\xff\xfe\x00garbage", 400),
])
def test_malformed_and_hostile_bodies_are_refused_without_harm(receiver: ReceiverServer, conn_id: str, kind: str,
                                                                 body: bytes, status: int) -> None:
    answer = requests.post(url(receiver, conn_id, kind), data=body, headers=XML, timeout=30)
    assert (answer.status_code, answer.content) == (status, b"")
    assert store().counts() == {"statuses": 0, "replies": 0}
    # The receiver still serves.
    assert requests.post(url(receiver, "skycore_default", "postback"), data=SKYCORE_MO, headers=XML,
                         timeout=10).status_code == 200


def test_a_huge_body_without_a_length_is_cut_off(receiver: ReceiverServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(1000):  # 10 MB, chunked: no Content-Length to refuse up front
            yield b"x" * 10_000

    answer = requests.post(url(receiver, "skycore_default", "postback"), data=chunks(), headers=XML, timeout=30)
    assert answer.status_code == 413


def test_no_secret_in_logs_or_answers(receiver: ReceiverServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    targets = [u.url for u in callback_urls("skycore_default", base=receiver.url, show_secret=True)]
    requests.post(targets[0], data=SKYCORE_MO, headers=XML, timeout=10)
    requests.post(targets[0], data=b"<broken", headers=XML, timeout=10)
    requests.post(targets[0].replace(SECRET, SECRET[::-1]), data=SKYCORE_MO, headers=XML, timeout=10)
    nm = url(receiver, "netmessenger_default", "inbound")
    requests.post(nm.split("?")[0], data={"auth": SECRET, "source": "1", "id": "x", "msg": "hi"}, timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) == 4 and any("secret=%2A%2A%2A" in line or "secret=***" in line for line in access)
    # The receiver's side only: urllib3 here is the calling gateway, which knows the URL.
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]
    text = "\n".join(r.getMessage() for r in ours) + json.dumps([r.args for r in ours], default=str)
    assert SECRET not in text and SECRET[::-1] not in text


def test_callback_urls_mask_the_secret_unless_asked(receiver: ReceiverServer) -> None:
    masked = callback_urls("bulksms_default", base="https://airflow.example.com/")
    assert [u.kind for u in masked] == ["status", "inbound", "webhook"]
    assert masked[0].url == "https://airflow.example.com/sms-callbacks/bulksms/bulksms_default/status?secret=***"
    assert all(SECRET not in u.line() for u in masked)
    shown = callback_urls("bulksms_default", base="https://airflow.example.com", show_secret=True)
    assert shown[0].url.endswith(f"?secret={SECRET}")


def test_extras_that_are_not_json_refuse_every_callback_and_say_why(monkeypatch: pytest.MonkeyPatch,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    from airflow.providers.common.compat.sdk import BaseHook
    from airflow.sdk import Connection

    from airflow_provider_sms.receipts.settings import connection_settings

    broken = Connection(conn_id="skycore_default", conn_type="skycore", password="k",
                        extra='{"callback_secret": "' + "s" * 20 + '",')  # cut off: not JSON
    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: broken))
    with caplog.at_level("WARNING"):
        assert connection_settings("skycore_default") is None
    assert "connection 'skycore_default': extras are not valid JSON" in caplog.text
    assert "s" * 20 not in caplog.text
