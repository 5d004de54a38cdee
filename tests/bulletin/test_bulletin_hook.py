"""BulletinMessengerHook against the simulator: connection test, queues, callbacks, secrets."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.exceptions import SmsAuthenticationError, SmsConfigurationError, SmsGatewayError
from airflow_provider_sms.gateways.bulletin import parse_reply_callback, parse_status_callback
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.hooks.bulletin import BulletinMessengerHook
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from airflow_provider_sms.simulator.config import DEFAULT_BULLETIN_PASSWORD, BulletinAccount
from tests.bulletin.conftest import bulletin_connection
from tests.simulator.bulletin.post_receiver import PostReceiver


def _hook(conn: str) -> BulletinMessengerHook:
    hook = get_sms_hook(conn)
    assert isinstance(hook, BulletinMessengerHook)
    return hook


def test_connection_type_and_test_connection(bm_conn: str, sms_simulator: SimulatorServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _hook(bm_conn)
    assert hook.conn_type == "bulletin_messenger" and hook.default_conn_name == bm_conn
    assert Capability.SENT_LOOKUP in hook.capabilities and Capability.DEDUPE not in hook.capabilities
    ok, text = hook.test_connection()
    assert ok and "nothing was sent" in text
    assert [p for _, p in sms_simulator.bulletin.requests] == ["/api/2/sms/list"]  # reads, takes nothing
    wrong = bulletin_connection(sms_simulator).replace(DEFAULT_BULLETIN_PASSWORD, "not-the-password")
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", wrong)
    ok, text = _hook(bm_conn).test_connection()
    assert not ok and "401" in text and "not-the-password" not in text


def test_default_host_and_pasted_api_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT",
                       '{"conn_type": "bulletin_messenger", "login": "u", "password": "p"}')
    assert BulletinMessengerHook().base_url() == "https://www.bulletinmessenger.net"
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT",
                       '{"conn_type": "bulletin_messenger", "host": "https://h.example/api/3/sms/out", '
                       '"login": "u", "password": "p"}')
    assert BulletinMessengerHook().base_url() == "https://h.example"


def test_draining_iterators_hand_over_every_item(bm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook(bm_conn)
    sent = hook.send(OutgoingMessage("hi", numbers=["64211111111", "64211111112"], dedupe_key=7))
    sms_simulator.clock.advance(60)
    first = list(hook.iter_status_updates(limit=1))
    rest = list(hook.iter_status_updates())
    updates = first + rest
    assert len(updates) == 4 and len({u.status_id for u in updates}) == 4  # none lost by the limit
    assert {u.message_id for u in updates} == {sent.batch_ids[0]}
    assert sorted(u.status_code for u in updates) == ["RCV", "RCV", "SNT", "SNT"]
    assert list(hook.iter_status_updates()) == []
    sms_simulator.bulletin.add_reply("64211111111", "Stop", in_reply_to=sent.batch_ids[0])
    [reply] = hook.iter_replies()
    assert (reply.handset, reply.body, reply.in_reply_to) == ("64211111111", "Stop", sent.batch_ids[0])
    [out] = hook.iter_sent_since_last_poll()
    assert out.message_id == sent.batch_ids[0] and list(hook.iter_sent_since_last_poll()) == []


def test_taking_stops_when_the_consumer_stops(bm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook(bm_conn)
    hook.send(OutgoingMessage("hi", numbers=["64211111111", "64211111112"]))
    sms_simulator.clock.advance(60)
    before = len(sms_simulator.bulletin.requests)
    stream = hook.iter_status_updates()
    next(stream)
    stream.close()
    assert len(sms_simulator.bulletin.requests) - before == 1  # nothing taken that was not handed over
    assert len(list(hook.iter_status_updates())) == 3


@pytest.mark.parametrize("fmt", ["XMLv3", "FORMv1"])
def test_callbacks_posted_by_the_gateway_parse(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                               fmt: str) -> None:
    receiver = PostReceiver()
    try:
        sms_simulator.reset(SimulatorConfig(bulletin_accounts=[replace(BulletinAccount(), callback_format=fmt)]))
        monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(
            sms_simulator, status_callback_url=receiver.url + "/status", reply_callback_url=receiver.url + "/reply"))
        hook = _hook("bulletin_messenger_default")
        sent = hook.send(OutgoingMessage("hi", numbers=["64211111111"], dedupe_key=99))
        message_id = sent.batch_ids[0]
        sms_simulator.bulletin.add_reply("64211111111", "Thanks", in_reply_to=message_id)
        sms_simulator.clock.advance(60)
        statuses = [parse_status_callback(b) for p, _, b in receiver.received if p == "/status"]
        assert [(s.message_id, s.handset, s.status_code) for s in statuses] == [
            (message_id, "64211111111", "SNT"), (message_id, "64211111111", "RCV")]
        assert all(s.status_id and s.status_id != message_id for s in statuses)
        [reply] = [parse_reply_callback(b) for p, _, b in receiver.received if p == "/reply"]
        assert (reply.in_reply_to, reply.body) == (message_id, "Thanks")
    finally:
        receiver.close()


def test_form_auth_against_the_simulator(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator,
                                                                                       auth_in_form=True))
    result = _hook("bulletin_messenger_default").send(OutgoingMessage("hi", numbers=["64211111111"]))
    assert result.accepted and sms_simulator.bulletin.received_count("64211111111") == 1


def test_daily_limit_is_reported_as_such(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sms_simulator.reset(SimulatorConfig(bulletin_accounts=[BulletinAccount(daily_limit=1)]))
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    hook = _hook("bulletin_messenger_default")
    with pytest.raises(SmsGatewayError, match="daily message limit") as caught:
        hook.send(OutgoingMessage("hi", numbers=["64211111111", "64211111112"]))
    assert not isinstance(caught.value, SmsAuthenticationError)
    assert sms_simulator.bulletin.received() == []


def test_password_never_in_urls_logs_or_errors(bm_conn: str, sms_simulator: SimulatorServer,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hook = _hook(bm_conn)
    hook.send(OutgoingMessage("hi", numbers=["64211111111"], groups=["contact:nobody"]))
    list(hook.iter_status_updates())
    list(hook.iter_sent())
    hook.test_connection()
    assert all(not names for method, path, names in sms_simulator.url_params if path.startswith("/api/"))
    assert DEFAULT_BULLETIN_PASSWORD not in caplog.text
    assert DEFAULT_BULLETIN_PASSWORD not in repr(hook.api) and DEFAULT_BULLETIN_PASSWORD not in repr(hook.settings)


@pytest.mark.parametrize(("extra", "named"), [
    ({"status_callback_url": {"url": "https://a.example"}}, "extra 'status_callback_url' must be an http(s) URL"),
    ({"reply_callback_url": "javascript:alert(1)"}, "extra 'reply_callback_url'"),
    ({"status_callback_url": "https://hooks.example.com/sms status"}, "extra 'status_callback_url'"),
    ({"status_callback_url": "/sms-callbacks/status"}, "extra 'status_callback_url'"),
    ({"status_callback_param": "status Url"}, "extra 'status_callback_param' must be a parameter name"),
    ({"reply_callback_param": 7}, "extra 'reply_callback_param'"),
])
def test_bad_callback_extras_are_configuration_errors_before_sending(
        extra: dict[str, object], named: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator, **extra))
    with pytest.raises(SmsConfigurationError, match=re.escape(named)):
        _hook("bulletin_messenger_default").send(OutgoingMessage("Hi", numbers=["64211111111"]))
    assert sms_simulator.bulletin.requests == []


def test_the_hook_scrubs_the_callback_secret_from_gateway_text(sms_simulator: SimulatorServer,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "cb-Secret-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(
        sms_simulator, callback_secret=secret, status_callback_url=f"https://af.example.com/s?secret={secret}"))
    api = _hook("bulletin_messenger_default").api
    assert api._safe(f"bad url https://af.example.com/s?secret={secret}") == "bad url https://af.example.com/s?secret=***"
