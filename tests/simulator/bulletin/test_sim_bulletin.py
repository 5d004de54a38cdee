"""The simulated Bulletin Messenger, driven over raw HTTP (no provider code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qsl

import pytest
import requests
from lxml import etree

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from airflow_provider_sms.simulator.config import BulletinAccount
from tests.simulator.bulletin.post_receiver import PostReceiver

USER, PASSWORD = "demo", "bm-demo-pass"
AUTH = (USER, PASSWORD)


@pytest.fixture
def receiver() -> Iterator[PostReceiver]:
    server = PostReceiver()
    yield server
    server.close()


def _send(sim: SimulatorServer, auth: tuple[str, str] | None = AUTH, **form: str) -> requests.Response:
    return requests.post(sim.url + "/api/3/sms/out", data=form, auth=auth, timeout=5)


def _root(answer: requests.Response) -> etree._Element:
    return etree.fromstring(answer.content)


def test_basic_and_form_authentication(sms_simulator: SimulatorServer) -> None:
    assert _send(sms_simulator, to="64211111111", body="hi").status_code == 200
    answer = _send(sms_simulator, auth=None, userId=USER, password=PASSWORD, to="64211111112", body="hi")
    assert answer.status_code == 200
    refused = _send(sms_simulator, auth=(USER, "wrong"), to="64211111113", body="hi", messageId="FebPromo")
    root = _root(refused)
    assert refused.status_code == 401
    assert (root.get("messageId"), root.get("isError"), root.get("errorCode"), root.get("errorMessage")) == (
        "FebPromo", "true", "401", "Unauthorised")
    assert _send(sms_simulator, auth=None, to="64211111113", body="hi").status_code == 401
    assert sms_simulator.bulletin.received_count("64211111113") == 0


@pytest.mark.parametrize(("form", "reason"), [
    ({"body": "hi"}, "'to'"), ({"to": "64211111111"}, "'body'"),
    ({"to": "64211111111", "body": "x" * 481}, "480"),
    ({"to": "64211111111", "body": "hi", "messageId": "m" * 37}, "messageId"),
    ({"to": "64211111111", "body": "hi", "contentType": "text/html"}, "contentType"),
    ({"to": "64211111111", "body": "Māori"}, "UTF-16"),
    ({"to": "64211111111", "body": "hi", "fragmentationLimit": "0"}, "fragmentationLimit"),
])
def test_mandatory_parameters_and_limits(sms_simulator: SimulatorServer, form: dict[str, str], reason: str) -> None:
    answer = _send(sms_simulator, **form)
    assert answer.status_code == 400 and reason in (_root(answer).get("errorMessage") or "")
    assert sms_simulator.bulletin.received() == []


def test_per_recipient_errors_inside_a_200(sms_simulator: SimulatorServer) -> None:
    sim = sms_simulator.bulletin
    sim.block("64222222221")
    sim.add_contact("Bob", "64213333333")
    sim.add_group("salesteam", ["Bob", "64214444444"])
    answer = _send(sms_simulator, to="64211111111 64222222221 salestem salesteam contact_x", body="FebPromo!",
                   messageId="FebPromo")
    root = _root(answer)
    assert answer.status_code == 200 and root.get("messageId") == "FebPromo" and root.get("isError") == "false"
    items = {r.get("msisdn"): (r.get("isError"), r.get("errorMessage")) for r in root}
    assert items["64211111111"] == ("false", None) and items["salesteam"] == ("false", None)
    assert items["64222222221"] == ("true", "Cannot deliver to 64222222221 (Number in Blocked List)")
    assert items["salestem"] == ("true", "Cannot deliver to salestem (Contact not in Address Book)")
    assert [n for n in ("64211111111", "64222222221", "64213333333", "64214444444")
            if sim.received_count(n)] == ["64211111111", "64213333333", "64214444444"]


def test_message_id_is_generated_when_absent(sms_simulator: SimulatorServer) -> None:
    root = _root(_send(sms_simulator, to="64211111111", body="hi"))
    assert len(root.get("messageId") or "") == 36


def test_daily_company_limit_is_a_403(sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(bulletin_accounts=[BulletinAccount(daily_limit=2)]))
    assert _send(sms_simulator, to="64211111111 64211111112", body="hi").status_code == 200
    answer = _send(sms_simulator, to="64211111113", body="hi")
    assert answer.status_code == 403 and "daily message limit" in (_root(answer).get("errorMessage") or "")
    sms_simulator.clock.advance(86400)
    assert _send(sms_simulator, to="64211111113", body="hi").status_code == 200


def test_utf16_content(sms_simulator: SimulatorServer) -> None:
    answer = _send(sms_simulator, to="64211111111", body="Kia ora 😀", contentType="text/plain; charset=UTF-16")
    assert answer.status_code == 200
    [got] = sms_simulator.bulletin.received()
    assert got["body"] == "Kia ora 😀" and got["utf16"] and got["parts"] == 1


def test_status_and_reply_queues_hand_each_item_out_once(sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulletin.set_outcome("64211111112", "NUR")
    _send(sms_simulator, to="64211111111 64211111112", body="hi", messageId="m1")
    poll = sms_simulator.url + "/api/1/sms/status"
    assert requests.post(poll, auth=AUTH, timeout=5).status_code == 204
    sms_simulator.clock.advance(60)
    items = []
    while (answer := requests.post(poll, auth=AUTH, timeout=5)).status_code == 200:
        items.append(dict(parse_qsl(answer.text)))
    assert answer.status_code == 204 and len(items) == 4
    assert {(i["from"], i["statusCode"]) for i in items} == {
        ("64211111111", "SNT"), ("64211111112", "SNT"), ("64211111111", "RCV"), ("64211111112", "NUR")}
    assert {i["inReplyToId"] for i in items} == {"m1"} and len({i["messageId"] for i in items}) == 4
    sms_simulator.bulletin.add_reply("64211111111", "Yes please", in_reply_to="m1")
    reply = requests.post(sms_simulator.url + "/api/1/sms/in", data=dict(zip(("userId", "password"), AUTH,
                                                                              strict=True)), timeout=5)
    assert dict(parse_qsl(reply.text))["body"] == "Yes please"
    assert requests.post(sms_simulator.url + "/api/1/sms/in", auth=AUTH, timeout=5).status_code == 204
    assert requests.post(poll, auth=("demo", "bad"), timeout=5).status_code == 401


def test_out_poll_cursor_and_sent_list(sms_simulator: SimulatorServer) -> None:
    _send(sms_simulator, to="64211111111 nobody", body="one", messageId="m1")
    out = sms_simulator.url + "/api/3/sms/out/poll"
    first = requests.get(out, auth=AUTH, timeout=5).json()
    assert [m["messageId"] for m in first] == ["m1"] and first[0]["recipients"] == "64211111111, nobody"
    assert requests.get(out, auth=AUTH, timeout=5).json() == []
    listing = requests.get(sms_simulator.url + "/api/2/sms/list", auth=AUTH, timeout=5).json()
    assert [(r["to"], r["isError"]) for r in listing[0]["recipients"]] == [("64211111111", False), ("nobody", True)]


@pytest.mark.parametrize("fmt", ["XMLv3", "FORMv1"])
def test_callbacks_are_posted_and_retried(sms_simulator: SimulatorServer, fmt: str) -> None:
    receiver = PostReceiver(fail_first=1, fail_status=503)
    try:
        account = replace(BulletinAccount(), callback_format=fmt, reply_callback_url=receiver.url + "/reply")
        sms_simulator.reset(SimulatorConfig(bulletin_accounts=[account], delivery_delay=2))
        _send(sms_simulator, to="64211111111", body="hi", messageId="m1",
              statusCallbackUrl=receiver.url + "/status?m={!messageId}&to={!recipient.msisdn}")
        sms_simulator.clock.advance(1)
        sms_simulator.bulletin.add_reply("64211111111", "Thanks <&>", in_reply_to="m1", display_name="Big Bob")
        sms_simulator.clock.advance(1)
        assert receiver.attempts == 3  # the first post was refused with 503: retried 5 minutes later
        sms_simulator.clock.advance(300)
        paths = [p for p, _, _ in receiver.received]
        assert receiver.attempts == 4
        assert paths.count("/status?m=m1&to=64211111111") == 2 and paths.count("/reply") == 1
        # The refused SNT update was retried after RCV went through: callbacks arrive out of order.
        statuses = [b for p, _, b in receiver.received if p.startswith("/status")]
        assert b"SNT" in statuses[-1] and b"RCV" in statuses[0]
        [reply] = [(t, b) for p, t, b in receiver.received if p == "/reply"]
        if fmt == "XMLv3":
            root = etree.fromstring(statuses[0])
            assert root.tag == "status-update" and root.findtext("messageId") == "m1"
            assert root.findtext("statusCode") == "RCV" and root.findtext("statusId")
            assert "xml" in reply[0] and b"<![CDATA[Thanks <&>]]>" in reply[1]
        else:
            fields = dict(parse_qsl(statuses[0].decode()))
            assert fields["inReplyToId"] == "m1" and fields["messageId"] != "m1" and fields["statusCode"] == "RCV"
            assert dict(parse_qsl(reply[1].decode()))["body"] == "Thanks <&>"
    finally:
        receiver.close()


def test_drop_after_accept_processes_the_send(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(only="/api/3/sms/out")
    with pytest.raises(requests.RequestException):
        _send(sms_simulator, to="64211111111", body="hi")
    assert sms_simulator.bulletin.received_count("64211111111") == 1
    control = requests.get(sms_simulator.url + "/_sim/bulletin/received_count?number=64211111111", timeout=5)
    assert control.json() == {"count": 1}
    assert json.loads(requests.get(sms_simulator.url + "/_sim/bulletin/requests", timeout=5).text)[0]["path"] == \
        "/api/3/sms/out"


def test_bulletin_paths_are_not_taken_for_netmessenger(sms_simulator: SimulatorServer) -> None:
    _send(sms_simulator, to="64211111111", body="hi")
    assert sms_simulator.netmessenger.requests == []
    assert [p for _, p in sms_simulator.bulletin.requests] == ["/api/3/sms/out"]


def test_control_routes_build_the_address_book(sms_simulator: SimulatorServer) -> None:
    control = sms_simulator.url + "/_sim/bulletin"
    requests.post(control + "/contacts", json={"name": "Ann", "number": "64210000001"}, timeout=5).raise_for_status()
    requests.post(control + "/groups", json={"name": "team", "members": ["Ann"]}, timeout=5).raise_for_status()
    requests.post(control + "/blocked", json={"number": "64210000009"}, timeout=5).raise_for_status()
    requests.post(control + "/outcomes", json={"number": "64210000001", "status": "EXP"}, timeout=5).raise_for_status()
    root = _root(_send(sms_simulator, to="team 64210000009", body="hi"))
    assert [r.get("isError") for r in root] == ["false", "true"]
    sms_simulator.clock.advance(60)
    [got] = requests.get(control + "/received", timeout=5).json()
    assert (got["number"], got["status"]) == ("64210000001", "EXP")
    assert requests.get(control + "/messages?user_id=nobody", timeout=5).status_code == 404
