"""The simulated Skycore API, spoken to with raw XML over loopback (no provider code involved)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer, SkycoreAccount

KEY = "sky-demo-key-0001"
API = "/API/wxml/1.3/"
A, B, C = "447700100001", "447700100002", "447700100003"


def call(server: SimulatorServer, action: str, body: str = "", *, key: str | None = KEY,
         raw: bytes | None = None) -> etree._Element:
    key_node = f"<API_KEY>{key}</API_KEY>" if key is not None else ""
    data = raw if raw is not None else f"<REQUEST><ACTION>{action}</ACTION>{key_node}{body}</REQUEST>".encode()
    answer = requests.post(server.url + API, data=data, headers={"Content-Type": "text/xml; charset=utf-8"},
                           timeout=10)
    assert answer.status_code == 200  # failures too
    return etree.fromstring(answer.content)


def code(root: etree._Element) -> str | None:
    return root.findtext("ERRORCODE") if root.findtext("STATUS") == "Failure" else None


class PostbackReceiver:
    """A loopback server recording POSTed XML bodies; the first ``fail_first`` get HTTP 500."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.fail_first = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/skycore"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def codes(self) -> list[str]:
        return [etree.fromstring(b).findtext("CODE") or "" for b in self.bodies]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[PostbackReceiver]:
    found = PostbackReceiver()
    yield found
    found.close()


def test_send_sms_and_inspection(sms_simulator: SimulatorServer) -> None:
    root = call(sms_simulator, "sendSMS", f"<TO>{A}</TO><FROM>60856</FROM><TEXT>Hi &amp; 😀</TEXT>")
    assert root.findtext("STATUS") == "Success" and root.findtext("TO") == A and root.findtext("TRACKINGID")
    got = sms_simulator.skycore.received(A)
    assert [(m["text"], m["kind"], m["status"]) for m in got] == [("Hi & 😀", "sms", "sent")]
    sms_simulator.clock.advance(10)
    assert sms_simulator.skycore.received(A)[0]["status"] == "delivered"
    assert requests.get(f"{sms_simulator.url}/_sim/skycore/received_count?number={A}", timeout=5).json() == {
        "count": 1}
    assert sms_simulator.skycore.requests == ["sendSMS"]


@pytest.mark.parametrize(("body", "expected"), [
    ("<FROM>60856</FROM><TEXT>x</TEXT>", "E201"),
    (f"<TO>{A}</TO><TEXT>x</TEXT>", "E111"),
    (f"<TO>{A}</TO><FROM>99999</FROM><TEXT>x</TEXT>", "E111"),
    (f"<TO>{A}</TO><FROM>60856</FROM>", "E712"),
    ("<TO>12ab</TO><FROM>60856</FROM><TEXT>x</TEXT>", "E110"),
    (f"<TO>{A}</TO><FROM>60856</FROM><FROM_MASK>TwelveChars!</FROM_MASK><TEXT>x</TEXT>", "E115"),
    (f"<TO>{A}</TO><FROM>60856</FROM><CAMPAIGNREF>nope</CAMPAIGNREF><TEXT>x</TEXT>", "E714"),
    (f"<TO>{A}</TO><FROM>60856</FROM><CAMPAIGNREF>1116</CAMPAIGNREF><TEXT>x</TEXT>", "E715"),
    (f"<TO>{A}</TO><FROM>60856</FROM><OPERATORID>x</OPERATORID><TEXT>x</TEXT>", "E628"),
])
def test_send_sms_insists_on_mandatory_and_valid_fields(sms_simulator: SimulatorServer, body: str,
                                                        expected: str) -> None:
    assert code(call(sms_simulator, "sendSMS", body)) == expected
    assert sms_simulator.skycore.received() == []


def test_authentication_parse_and_action_errors(sms_simulator: SimulatorServer) -> None:
    assert code(call(sms_simulator, "sendSMS", key=None)) == "E102"
    assert code(call(sms_simulator, "sendSMS", key="wrong")) == "E104"
    assert code(call(sms_simulator, "", raw=b"<REQUEST><API_KEY>x</API_KEY></REQUEST>")) == "E101"
    assert code(call(sms_simulator, "fly")) == "E101"
    assert code(call(sms_simulator, "", raw=b"<REQUEST><ACTION>sendSMS")) == "E108"
    assert code(call(sms_simulator, "", raw=b'<!DOCTYPE r [<!ENTITY e "x">]><REQUEST/>')) == "E108"
    assert code(call(sms_simulator, "", raw=b"<OTHER/>")) == "E100"
    assert code(etree.fromstring(requests.get(sms_simulator.url + API, timeout=5).content)) == "E100"


def test_ip_allow_list_and_throughput(sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(allowed_ips=("10.0.0.1",))]))
    assert code(call(sms_simulator, "getMmsIds")) == "E112"
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(throughput=3)]))
    answers = [code(call(sms_simulator, "getMmsIds")) for _ in range(5)]
    assert answers[:3] == ["E200"] * 3 and answers[3:] == ["E113", "E113"]
    sms_simulator.clock.advance(1.0)
    assert code(call(sms_simulator, "getMmsIds")) == "E200"


def test_throttle_fault_answers_e113(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle(count=1)
    assert code(call(sms_simulator, "getMmsIds")) == "E113"


SLIDES = ("<SLIDE><IMAGE><URL>https://e.com/1.jpg</URL></IMAGE><TEXT>one</TEXT></SLIDE>"
          "<SLIDE><TEXT>two</TEXT><DURATION>8</DURATION></SLIDE>"
          "<SLIDE><AUDIO><URL>https://e.com/1.mp3</URL></AUDIO></SLIDE>")


def test_saved_mms_encodes_then_sends_with_custom_text(sms_simulator: SimulatorServer,
                                                       receiver: PostbackReceiver) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=receiver.url)],
                                        skycore_encoding_delay=30))
    saved = call(sms_simulator, "saveMMS", f"<NAME>n</NAME><SUBJECT>Subj</SUBJECT>{SLIDES}")
    mms_id = saved.findtext("MMSID")
    send = f"<MMSID>{mms_id}</MMSID><TO>{A}</TO><FROM>60856</FROM>"
    assert code(call(sms_simulator, "sendSavedMMS", send)) == "E626"  # audio still encoding
    sms_simulator.clock.advance(30)
    assert "N003" in receiver.codes()
    extra = ("<CUSTOMSUBJECT>Mine</CUSTOMSUBJECT><CUSTOMTEXT><VALUE>uno</VALUE><SLIDE>1</SLIDE></CUSTOMTEXT>"
             "<DATA><FIRST_NAME>Ann</FIRST_NAME></DATA>")
    sent = call(sms_simulator, "sendSavedMMS", send + extra)
    assert sent.findtext("STATUS") == "Success" and sent.findtext("MMSID") == mms_id
    [mms] = sms_simulator.skycore.mms_received(A)
    assert (mms["subject"], mms["slides"][0]["text"], mms["data"]) == ("Mine", "uno", {"FIRST_NAME": "Ann"})
    assert len(mms["slides"]) == 3


@pytest.mark.parametrize(("body", "expected"), [
    (f"<SUBJECT>s</SUBJECT>{SLIDES}", "E301"),
    (f"<NAME>n</NAME>{SLIDES}", "E303"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT>", "E302"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT>" + "<SLIDE><TEXT>x</TEXT></SLIDE>" * 9, "E223"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE></SLIDE>", "E311"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE><TEXT>" + "x" * 501 + "</TEXT></SLIDE>", "E225"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE><VIDEO><URL>https://e/v</URL></VIDEO>"
     "<AUDIO><URL>https://e/a</URL></AUDIO></SLIDE>", "E224"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE><IMAGE><URL>e/i</URL></IMAGE></SLIDE>", "E312"),
    ("<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE><TEXT>x</TEXT><DURATION>90</DURATION></SLIDE>", "E230"),
])
def test_save_mms_limits(sms_simulator: SimulatorServer, body: str, expected: str) -> None:
    assert code(call(sms_simulator, "saveMMS", body)) == expected


def test_send_saved_mms_errors(sms_simulator: SimulatorServer) -> None:
    assert code(call(sms_simulator, "sendSavedMMS", f"<TO>{A}</TO><FROM>60856</FROM>")) == "E620"
    assert code(call(sms_simulator, "sendSavedMMS", "<MMSID>1</MMSID><FROM>60856</FROM>")) == "E621"
    assert code(call(sms_simulator, "sendSavedMMS", f"<MMSID>999</MMSID><TO>{A}</TO><FROM>60856</FROM>")) == "E241"
    assert code(call(sms_simulator, "sendSavedMMSCampaign", "<MMSID>1</MMSID>")) == "E624"


def test_campaigns_subscribers_and_campaign_sends(sms_simulator: SimulatorServer,
                                                  receiver: PostbackReceiver) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=receiver.url)]))
    for number in (A, B):
        root = call(sms_simulator, "subscribe", f"<CAMPAIGNID>1116</CAMPAIGNID><MOBILE>{number}</MOBILE>"
                                                "<DATA><FIRST_NAME>Jo</FIRST_NAME><SUBSCRIBERREF>r1</SUBSCRIBERREF>"
                                                "</DATA><NOTIFY>no</NOTIFY>")
        assert root.findtext("MOBILE") == number
    assert code(call(sms_simulator, "subscribe", f"<CAMPAIGNID>9</CAMPAIGNID><MOBILE>{C}</MOBILE>")) == "E903"
    assert code(call(sms_simulator, "subscribe", "<CAMPAIGNID>1116</CAMPAIGNID><MOBILE>x</MOBILE>")) == "E902"
    assert code(call(sms_simulator, "subscribe", f"<MOBILE>{C}</MOBILE>")) == "E901"
    assert code(call(sms_simulator, "unsubscribe", f"<CAMPAIGNID>1116</CAMPAIGNID><MOBILE>{C}</MOBILE>")) == "E904"
    call(sms_simulator, "unsubscribe", f"<CAMPAIGNID>1116</CAMPAIGNID><MOBILE>{B}</MOBILE>")
    assert [s["number"] for s in sms_simulator.skycore.subscribers("1116")] == [A]
    saved = call(sms_simulator, "saveMMS", "<NAME>n</NAME><SUBJECT>s</SUBJECT><SLIDE><TEXT>t</TEXT></SLIDE>")
    root = call(sms_simulator, "sendSavedMMSCampaign",
                f"<MMSID>{saved.findtext('MMSID')}</MMSID><TOCAMPAIGN>1116</TOCAMPAIGN>")
    assert root.findtext("SCHEDULEDID")
    assert sms_simulator.skycore.received_count(A, "mms") == 1 and sms_simulator.skycore.received_count(B) == 0
    by_ref = call(sms_simulator, "sendMessageBySubscriberRef",
                  "<SUBSCRIBERREF>r1</SUBSCRIBERREF><CAMPAIGNREF>1116</CAMPAIGNREF><TEXT>hello</TEXT>")
    assert [s.findtext("TO") for s in by_ref.findall("SUBSCRIBER")] == [A]
    assert code(call(sms_simulator, "sendMessageBySubscriberRef",
                     "<SUBSCRIBERREF>zz</SUBSCRIBERREF><CAMPAIGNREF>1116</CAMPAIGNREF><TEXT>x</TEXT>")) == "E715"
    sms_simulator.clock.advance(0)
    assert receiver.codes().count("N301") == 2 and receiver.codes().count("N302") == 1


def test_postbacks_retry_five_minutes_later_up_to_five_times(sms_simulator: SimulatorServer,
                                                            receiver: PostbackReceiver) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=receiver.url)],
                                        delivery_delay=5))
    receiver.fail_first = 2
    call(sms_simulator, "sendSMS", f"<TO>{A}</TO><FROM>60856</FROM><TEXT>x</TEXT>")
    sms_simulator.clock.advance(0)   # N201 tried once: HTTP 500
    assert receiver.bodies == []
    sms_simulator.clock.advance(10)  # N202 due: fails too; N201 waits for its 5-minute retry
    assert receiver.bodies == []
    sms_simulator.clock.advance(300)
    assert sorted(receiver.codes()) == ["N201", "N202"]
    dlr = etree.fromstring(receiver.bodies[receiver.codes().index("N202")])
    assert (dlr.tag, dlr.findtext("ORIGIN"), dlr.findtext("TO"), dlr.findtext("STATUS")) == (
        "POSTBACK", "SMS_MT", A, "Message Sent/Delivered")
    log = {p["code"]: p for p in sms_simulator.skycore.postback_log()}
    assert log["N201"]["attempts"] == 2 and log["N201"]["history"][0] == "HTTP 500"
    receiver.fail_first = 100
    call(sms_simulator, "sendSMS", f"<TO>{B}</TO><FROM>60856</FROM><TEXT>x</TEXT>")
    for _ in range(8):
        sms_simulator.clock.advance(300)
    attempts = [p["attempts"] for p in sms_simulator.skycore.postback_log() if not p["delivered"]]
    assert attempts == [6, 6]  # the first try and 5 retries, then given up


def test_old_notification_generation(sms_simulator: SimulatorServer, receiver: PostbackReceiver) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=receiver.url)],
                                        skycore_postback_generation="notification"))
    call(sms_simulator, "sendSMS", f"<TO>{A}</TO><FROM>60856</FROM><TEXT>x</TEXT>")
    sms_simulator.clock.advance(0)
    root = etree.fromstring(receiver.bodies[0])
    assert root.tag == "NOTIFICATION" and root.get("ID") and root.findtext("BODY/TO") == A
    assert root.find("BODY/STATUS").get("TEXT") == "Message Sent"


def test_statistics_report_link_and_daily_limit(sms_simulator: SimulatorServer) -> None:
    call(sms_simulator, "sendSMS", f"<TO>{A}</TO><FROM>60856</FROM><TEXT>stat me</TEXT>")
    dates = "<START_DATE>2000-01-01 00:00:00</START_DATE><END_DATE>2100-01-01 00:00:00</END_DATE>"
    root = call(sms_simulator, "getSendingStatistics", dates)
    report = etree.fromstring(requests.get(root.findtext("URL"), timeout=5).content)
    assert [(t.get("to"), t.get("body")) for t in report.iter("TEXT")] == [(A, "stat me")]
    assert code(call(sms_simulator, "getSendingStatus", "<END_DATE>2000-01-01 00:00:00</END_DATE>")) == "E506"
    assert code(call(sms_simulator, "getSendingStatistics", "<START_DATE>2000-01-01 00:00:00</START_DATE>"
                                                            "<END_DATE>1999-01-01 00:00:00</END_DATE>")) == "E508"
    sms_simulator.reset(SimulatorConfig(skycore_statistics_per_day=1))
    assert call(sms_simulator, "getSendingStatistics", dates).findtext("STATUS") == "Success"
    assert code(call(sms_simulator, "getSendingStatistics", dates)) == "E510"


def test_create_user_and_mms_ids(sms_simulator: SimulatorServer) -> None:
    root = call(sms_simulator, "createUser", "<NEWUSER>john</NEWUSER><NEWPASS>john_pass</NEWPASS>")
    assert root.findtext("USERNAME") == "john" and root.findtext("API_KEY")
    assert code(call(sms_simulator, "createUser", "<NEWUSER>john</NEWUSER><NEWPASS>x</NEWPASS>")) == "E151"
    assert code(call(sms_simulator, "createUser", "<NEWUSER>ann</NEWUSER>")) == "E153"
    assert sms_simulator.skycore.users() == ["john"]
    assert code(call(sms_simulator, "getMmsIds")) == "E200"


def test_older_form_field_request_style(sms_simulator: SimulatorServer) -> None:
    xml = f"<REQUEST><ACTION>sendSMS</ACTION><API_KEY>{KEY}</API_KEY><TO>{A}</TO><FROM>60856</FROM><TEXT>f</TEXT>" \
          "</REQUEST>"
    answer = requests.post(sms_simulator.url + API + "index.php", data={"xml": xml}, timeout=5)
    assert etree.fromstring(answer.content).findtext("STATUS") == "Success"


_SLIDE = "<SLIDE><TEXT>hi</TEXT></SLIDE>"
# Per action: its mandatory elements (element, the E-code for it missing), and the rest of a valid request.
_MANDATORY: dict[str, tuple[list[tuple[str, str]], str]] = {
    "saveMMS": ([("<NAME>n</NAME>", "E301"), ("<SUBJECT>s</SUBJECT>", "E303"), (_SLIDE, "E302")], ""),
    "sendMMS": ([(f"<TO>{A}</TO>", "E621")], f"<FROM>60856</FROM><NAME>n</NAME><SUBJECT>s</SUBJECT>{_SLIDE}"),
    "sendSavedMMS": ([("<MMSID>1</MMSID>", "E620"), (f"<TO>{A}</TO>", "E621")], "<FROM>60856</FROM>"),
    "sendSavedMMSCampaign": ([("<MMSID>1</MMSID>", "E620"), ("<TOCAMPAIGN>1116</TOCAMPAIGN>", "E624")], ""),
    "sendMessageBySubscriberRef": ([("<SUBSCRIBERREF>r1</SUBSCRIBERREF>", "E201"),
                                    ("<CAMPAIGNREF>1116</CAMPAIGNREF>", "E714"), ("<TEXT>x</TEXT>", "E712")], ""),
    "subscribe": ([("<CAMPAIGNID>1116</CAMPAIGNID>", "E901"), (f"<MOBILE>{A}</MOBILE>", "E902")], ""),
    "unsubscribe": ([("<CAMPAIGNID>1116</CAMPAIGNID>", "E901"), (f"<MOBILE>{A}</MOBILE>", "E902")], ""),
    "getSendingStatistics": ([("<START_DATE>2026-11-01 00:00:00</START_DATE>", "E506"),
                              ("<END_DATE>2026-11-02 00:00:00</END_DATE>", "E507")], ""),
    "createUser": ([("<NEWUSER>u</NEWUSER>", "E152"), ("<NEWPASS>p</NEWPASS>", "E153")], ""),
}


@pytest.mark.parametrize(("action", "left_out"), [(action, index) for action, (needed, _) in _MANDATORY.items()
                                                  for index in range(len(needed))])
def test_every_action_insists_on_its_mandatory_elements(sms_simulator: SimulatorServer, action: str,
                                                        left_out: int) -> None:
    # Issue 7's rule for every gateway: what the documents make mandatory, the simulator insists on.
    needed, rest = _MANDATORY[action]
    body = "".join(element for index, (element, _) in enumerate(needed) if index != left_out) + rest
    assert code(call(sms_simulator, action, body)) == needed[left_out][1]
    assert sms_simulator.skycore.received() == [] and sms_simulator.skycore.saved_mms() == []
