"""SkycoreHook against the simulator over loopback: sends, MMS, subscriptions, statistics, errors, pacing."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MediaKind, MmsContent, MmsMessage, Slide
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsCapabilityError,
    SmsConfigurationError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.hooks.skycore import SkycoreHook
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer, SkycoreAccount
from tests.conftest import SKY_KEY, skycore_connection

A, B, C = "447700100001", "447700100002", "447700100003"


def _hook(conn_id: str = "skycore_default") -> SkycoreHook:
    hook = get_sms_hook(conn_id)
    assert isinstance(hook, SkycoreHook)
    return hook


def test_send_one_number(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    assert hook.max_recipients_per_request == 1
    result = hook.send(OutgoingMessage("Hello <you> & 😀", numbers=[A], max_parts=2))
    [sent] = sms_simulator.skycore.received(A)
    assert [(r.recipient, r.accepted, r.message_id) for r in result.results] == [(A, True, sent["tracking_id"])]
    assert sent["text"] == "Hello <you> & 😀" and sent["sender"] == "60856"


def test_alphanumeric_sender_is_a_mask_over_the_short_code(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    _hook().send(OutgoingMessage("Hi", numbers=[A], sender="Shop"))
    [sent] = sms_simulator.skycore.received(A)
    assert (sent["sender"], sent["mask"]) == ("60856", "Shop")


def test_rejected_number_is_a_result_not_an_error(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=(B,))]))
    result = _hook().send(OutgoingMessage("Hi", numbers=[B]))
    assert [(r.recipient, r.accepted, r.code) for r in result.results] == [(B, False, "E114")]


def test_ip_not_allow_listed_fails_after_one_request(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(allowed_ips=("192.0.2.1",))]))
    hook = _hook()
    with pytest.raises(SmsConfigurationError, match="allow-list"):
        hook.send(OutgoingMessage("Hi", numbers=[A]))
    assert sms_simulator.skycore.requests == ["sendSMS"]  # never retried
    ok, message = hook.test_connection()
    assert not ok and "allow-list" in message


def test_bad_key_is_never_shown(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    secret = "sky-wrong-key-Zq94711"
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator).replace(SKY_KEY, secret))
    caplog.set_level(logging.DEBUG)
    hook = _hook()
    with pytest.raises(SmsAuthenticationError) as exc:
        hook.send(OutgoingMessage("Hi", numbers=[A]))
    ok, message = hook.test_connection()
    assert not ok and sms_simulator.skycore.requests == ["sendSMS", "getMmsIds"]
    assert "POST" in caplog.text
    for text in (str(exc.value), repr(exc.value), message, caplog.text, repr(hook.api), repr(hook.settings)):
        assert secret not in text
    assert all(not names for _, _, names in sms_simulator.url_params)  # nothing in any URL


def test_test_connection_sends_nothing(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    ok, message = _hook().test_connection()
    assert ok and "allow-list accepted" in message
    assert sms_simulator.skycore.requests == ["getMmsIds"] and sms_simulator.skycore.received() == []


def test_throttling_is_retried_with_back_off(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle(count=2)
    result = _hook().send(OutgoingMessage("Hi", numbers=[A]))
    assert result.results[0].accepted
    assert sms_simulator.skycore.received_count(A) == 1
    sms_simulator.faults.throttle(count=10)
    with pytest.raises(SmsRateLimitedError):
        _hook().send(OutgoingMessage("Hi", numbers=[B]))
    assert sms_simulator.skycore.received_count(B) == 0


def test_lost_answer_is_ambiguous_and_not_repeated(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=1)
    with pytest.raises(SmsAmbiguousError) as exc:
        _hook().send(OutgoingMessage("Hi", numbers=[A]))
    assert exc.value.recipients_in_doubt == [A]
    assert sms_simulator.skycore.received_count(A) == 1


def test_pacing_keeps_under_the_account_throughput(sms_simulator: SimulatorServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(throughput=5)]))
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, messages_per_second=5))
    hook = _hook()
    waited: list[float] = []
    offset = sms_simulator.clock.offset

    def virtual_sleep(seconds: float) -> None:  # waiting moves the simulator's clock: no real sleep
        waited.append(seconds)
        sms_simulator.clock.advance(seconds)

    hook._sleep = virtual_sleep
    hook._clock = lambda: sms_simulator.clock.offset - offset
    numbers = [f"4477001001{i:02d}" for i in range(20)]
    for number in numbers:
        hook.send(OutgoingMessage("Paced", numbers=[number]))
    assert sms_simulator.skycore.requests == ["sendSMS"] * 20  # no E113, so no retries
    assert sum(sms_simulator.skycore.received_count(n) for n in numbers) == 20
    assert sum(waited) == pytest.approx(19 / 5)


def test_pacing_setting_is_checked(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, messages_per_second="0"))
    with pytest.raises(SmsConfigurationError, match="messages_per_second"):
        _hook().prepare()


def test_mms_saved_then_sent_with_tracking_ids(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    content = MmsContent("promo", [Slide({MediaKind.IMAGE: "https://e.com/a.jpg"}, "A"), Slide(text="B")],
                         subject="Promo", fallback_text="See https://e.com")
    hook.check_mms_content(content)
    mms_id = hook.save_mms(content)
    result = hook.send_mms(MmsMessage(mms_id=mms_id, numbers=[A], custom_texts={2: "b!"}))
    [got] = sms_simulator.skycore.mms_received(A)
    assert result.results[0].message_id == got["tracking_id"]
    assert [s.get("text") for s in got["slides"]] == ["A", "b!"]


def test_mms_with_audio_waits_for_encoding(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    waited: list[float] = []

    def virtual_sleep(seconds: float) -> None:
        waited.append(seconds)
        sms_simulator.clock.advance(seconds)

    hook._sleep = virtual_sleep
    hook._clock = lambda: sms_simulator.clock.offset
    mms_id = hook.save_mms(MmsContent("a", [Slide({MediaKind.AUDIO: "https://e.com/a.mp3"})], subject="s"))
    result = hook.send_mms(MmsMessage(mms_id=mms_id, numbers=[A]))  # encoding takes 30 virtual seconds
    assert result.results[0].accepted and waited == [5, 10, 20]
    assert sms_simulator.skycore.received_count(A, "mms") == 1


def test_mms_encoding_wait_gives_up(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_encoding_delay=10_000))
    hook = _hook()
    hook._sleep = sms_simulator.clock.advance
    hook._clock = lambda: sms_simulator.clock.offset
    mms_id = hook.save_mms(MmsContent("a", [Slide({MediaKind.VIDEO: "https://e.com/a.mp4"})], subject="s"))
    with pytest.raises(SmsTransientError, match="encoding in progress"):
        hook.send_mms(MmsMessage(mms_id=mms_id, numbers=[A]))
    assert 540 <= sms_simulator.clock.offset <= 600 and sms_simulator.skycore.received() == []


def test_subscribe_unsubscribe_and_refusals(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    hook.subscribe(A, "1116", {"FIRST_NAME": "Jo"})
    assert [s["number"] for s in sms_simulator.skycore.subscribers("1116")] == [A]
    hook.unsubscribe(A, "1116")
    assert sms_simulator.skycore.subscribers("1116") == []
    with pytest.raises(SmsValidationError, match="E904"):
        hook.unsubscribe(A, "1116")
    with pytest.raises(SmsValidationError, match="campaign"):
        hook.subscribe(A)  # no campaign given and none on the connection


def test_statistics_report_streams(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    for number in (A, B):
        hook.send(OutgoingMessage(f"to {number}", numbers=[number]))
    now = dt.datetime.now(dt.UTC)
    header, rows = hook.iter_report("sending_statistics", start=now - dt.timedelta(hours=1),
                                    end=now + dt.timedelta(hours=1))
    table = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(t["to"], t["body"], t["status"]) for t in table] == [(A, f"to {A}", "ACK"), (B, f"to {B}", "ACK")]
    with pytest.raises(SmsValidationError, match="unknown report"):
        hook.iter_report("delivery")


def test_the_report_download_keeps_the_connections_caps(sms_simulator: SimulatorServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The report link points elsewhere: its download gets the connection's line cap and deadlines too.
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, max_line_bytes=20))
    hook = _hook()
    hook.send(OutgoingMessage(f"to {A}", numbers=[A]))
    now = dt.datetime.now(dt.UTC)

    def read() -> None:
        _header, rows = hook.iter_report("sending_statistics", start=now - dt.timedelta(hours=1),
                                         end=now + dt.timedelta(hours=1))
        list(rows)

    with pytest.raises(SmsGatewayError, match="line longer than 20 bytes"):
        read()


def test_create_user_keeps_no_secret(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    assert hook.create_sub_account("child", "child-pass-123") is None
    assert sms_simulator.skycore.users() == ["child"]
    with pytest.raises(SmsValidationError, match="only a username"):
        hook.create_sub_account("x", "y", email="a@b")


def test_other_gateways_refuse_mms(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    hook = get_sms_hook("netmessenger_default")
    with pytest.raises(SmsCapabilityError, match="MMS"):
        hook.send_mms(MmsMessage(mms_id="1", numbers=[A]))


def test_connection_settings(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", json.dumps({"conn_type": "skycore", "password": "k-12345"}))
    hook = _hook()
    assert hook.base_url() == "https://secure.skycore.com" and hook.api.path == "/API/wxml/1.3/"
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", json.dumps({
        "conn_type": "skycore", "host": "https://api.example.com/API/wxml/1.3/index.php", "password": "k-12345"}))
    assert _hook().api.path == "/API/wxml/1.3/index.php"
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", json.dumps({"conn_type": "skycore"}))
    with pytest.raises(SmsConfigurationError, match="API key"):
        _hook().prepare()


def test_notifier_sends_one_request_per_number(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    from airflow_provider_sms.notifications.sms import SmsNotifier

    SmsNotifier(sms_conn_id=sky_conn, to=[A, B], message="Task failed: " + "x" * 300).notify({})
    assert [sms_simulator.skycore.received_count(n) for n in (A, B, C)] == [1, 1, 0]
    assert len(sms_simulator.skycore.received(A)[0]["text"]) <= 459  # cut to the alert's three parts


def test_connection_form_and_provider_info() -> None:
    from airflow_provider_sms.get_provider_info import get_provider_info

    assert "get_ui_field_behaviour" in SkycoreHook.__dict__
    behaviour = SkycoreHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == {"host": "API URL", "password": "API key", "port": "Port"}
    assert "login" in behaviour["hidden_fields"]
    [info] = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "skycore"]
    assert info["hook-class-name"] == "airflow_provider_sms.hooks.skycore.SkycoreHook"
    assert {"short_code", "operator_id", "campaign_ref", "sender_mask", "messages_per_second"} <= set(
        info["conn-fields"])


def test_report_link_is_followed_only_over_https_from_an_https_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", json.dumps({"conn_type": "skycore", "password": "k-12345"}))
    hook = _hook()
    with pytest.raises(SmsConfigurationError, match="https"):
        hook._report_download("http://reports.example.com/r.xml")
    with pytest.raises(SmsConfigurationError, match="https"):
        hook._report_download("file:///etc/passwd")
    transport, request = hook._report_download("https://reports.example.com/r.xml?x=1")
    assert (transport.base_url, request.method, request.path) == ("https://reports.example.com", "GET", "/r.xml?x=1")
    assert request.content is None and request.form is None  # no credentials go to the link
    transport.close()
