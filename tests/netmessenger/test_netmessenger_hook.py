"""NetMessengerHook against the simulator: every action over loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsGatewayError,
    SmsValidationError,
)
from airflow_provider_sms.hooks.base import MessageRef, get_sms_hook
from airflow_provider_sms.hooks.netmessenger import NetMessengerHook
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import NM_TOKEN, netmessenger_connection

A, B, C = "447700100001", "447700100002", "447700100003"


def _hook(conn_id: str = "netmessenger_default") -> NetMessengerHook:
    hook = get_sms_hook(conn_id)
    assert isinstance(hook, NetMessengerHook)
    return hook


def test_send_to_numbers_and_status(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    result = hook.send(OutgoingMessage("Hello", numbers=[A, B], sender="Airflow"))
    assert [r.recipient for r in result.accepted] == [A, B]
    ids = [r.message_id for r in result.results]
    assert all(ids) and len(set(ids)) == 2
    assert sms_simulator.netmessenger.received_count(A) == 1
    assert hook.message_status(str(ids[0])).status in (DeliveryStatus.PENDING, DeliveryStatus.SENT)
    sms_simulator.clock.advance(600)
    statuses = hook.get_statuses([MessageRef(message_id=str(i)) for i in ids])
    assert {s.status for s in statuses} == {DeliveryStatus.DELIVERED}
    assert {s.status for s in asyncio.run(hook.aget_statuses([MessageRef(message_id=str(ids[0]))]))} == {
        DeliveryStatus.DELIVERED}


def test_many_statuses_come_from_one_report(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    numbers = [f"4477001000{i:02d}" for i in range(1, 31)]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    result = hook.send(OutgoingMessage("Many", numbers=numbers, sender="Airflow"))
    sms_simulator.clock.advance(600)
    before = len(sms_simulator.netmessenger.requests)
    statuses = hook.get_statuses([MessageRef(message_id=r.message_id) for r in result.results], since=since)
    assert len(sms_simulator.netmessenger.requests) - before == 1
    assert len(statuses) == 30 and {s.status for s in statuses} == {DeliveryStatus.DELIVERED}


def test_invalid_destination_is_rejected_per_recipient(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.blacklist(B)
    result = _hook().send(OutgoingMessage("Hi", numbers=[A, B], sender="Airflow"))
    assert [r.recipient for r in result.accepted] == [A]
    assert [(r.recipient, r.code) for r in result.rejected] == [(B, "-412")]


def test_bad_token_is_an_authentication_error(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    secret = "nm-wrong-token-123456789"
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator).replace(NM_TOKEN, secret))
    caplog.set_level(logging.DEBUG)
    hook = _hook()
    with pytest.raises(SmsAuthenticationError) as exc:
        hook.get_credits()
    ok, message = hook.test_connection()
    assert not ok
    assert "POST" in caplog.text  # the calls were logged: the checks below can bite
    for text in (str(exc.value), repr(exc.value), message, caplog.text, repr(hook.api)):
        assert secret not in text
    assert all(secret not in str(r) for r in sms_simulator.netmessenger.requests)
    assert sms_simulator.url_params and all(not names for _, _, names in sms_simulator.url_params)


def test_credits_and_test_connection(nm_conn: str) -> None:
    hook = _hook()
    before = hook.get_credits()
    hook.send(OutgoingMessage("x", numbers=[A], sender="Airflow"))
    assert hook.get_credits() == before - 1
    assert hook.test_connection()[0]


def test_lost_send_answer_is_not_resent(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=1)
    with pytest.raises(SmsAmbiguousError) as exc:
        _hook().send(OutgoingMessage("once", numbers=[A, B], sender="Airflow"))
    assert exc.value.recipients_in_doubt == [A, B]
    assert sms_simulator.netmessenger.received_count(A) == 1


def test_maintenance_is_retried(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle(count=1)  # NetMessenger: -511 System down for maintenance
    assert _hook().get_credits() > 0


def test_find_sent_reads_documented_reports_by_number_sender_and_time(nm_conn: str,
                                                                     sms_simulator: SimulatorServer) -> None:
    from airflow_provider_sms.simulator import SimulatorConfig
    from airflow_provider_sms.simulator.netmessenger.reports import DOCUMENTED_REPORT_TYPES

    sms_simulator.reset(SimulatorConfig(netmessenger_report_types=DOCUMENTED_REPORT_TYPES))
    hook = _hook()
    hook.send(OutgoingMessage("Pipeline done", numbers=[C], sender="Other"))  # another sender
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    hook.send(OutgoingMessage("Pipeline done", numbers=[A, B], sender="Airflow"))
    chunk = OutgoingMessage("Pipeline done", numbers=[A, B, C], sender="Airflow")
    assert hook.find_sent(chunk, since) == {A, B}
    assert [a for _, _, a in sms_simulator.netmessenger.requests][-2:] == ["Report", "Report"]  # Messages, Outbox
    # Messages sent before the chunk's intent time belong to another send.
    sms_simulator.clock.advance(600)
    assert hook.find_sent(chunk, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)) == set()


def test_find_sent_finds_scheduled_messages_in_the_outbox(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    hook.send(OutgoingMessage("Later", numbers=[A], sender="Airflow", send_at=when))
    hook.send(OutgoingMessage("Later", numbers=[B], sender="Airflow", send_at=when + dt.timedelta(hours=1)))
    chunk = OutgoingMessage("Later", numbers=[A, B], sender="Airflow", send_at=when)
    assert hook.find_sent(chunk, since) == {A}  # B's message is scheduled for another time


def test_find_sent_compares_text_tolerantly_where_a_report_has_bodies(sms_simulator: SimulatorServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, sent_lookup_reports="MessagesWithBodies"))
    hook = _hook()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    hook.send(OutgoingMessage("Line one\r\nline two ", numbers=[A], sender="Airflow"))
    hook.send(OutgoingMessage("Something else", numbers=[B], sender="Airflow"))
    chunk = OutgoingMessage("Line one\nline two", numbers=[A, B], sender="Airflow")
    assert hook.find_sent(chunk, since) == {A}
    assert hook.already_sent([A, B], "Something else", since) == {B}


def test_find_sent_with_a_report_type_the_gateway_refuses(sms_simulator: SimulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_sms.exceptions import SmsConfigurationError
    from airflow_provider_sms.simulator import SimulatorConfig
    from airflow_provider_sms.simulator.netmessenger.reports import DOCUMENTED_REPORT_TYPES

    sms_simulator.reset(SimulatorConfig(netmessenger_report_types=DOCUMENTED_REPORT_TYPES))
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, sent_lookup_reports="MessagesWithBodies"))
    chunk = OutgoingMessage("x", numbers=[A], sender="Airflow")
    with pytest.raises(SmsConfigurationError, match=r"MessagesWithBodies.*-601.*sent_lookup_reports"):
        _hook().find_sent(chunk, dt.datetime.now(dt.UTC))
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, sent_lookup_reports="Messages,Nope"))
    with pytest.raises(SmsConfigurationError, match="sent_lookup_reports must name report types"):
        _hook().find_sent(chunk, dt.datetime.now(dt.UTC))


def test_group_sends_cannot_be_looked_up(nm_conn: str) -> None:
    from airflow_provider_sms.exceptions import SmsCapabilityError

    with pytest.raises(SmsCapabilityError, match="group or list"):
        _hook().find_sent(OutgoingMessage("x", groups=["list:Staff"], sender="Airflow"), dt.datetime.now(dt.UTC))


def test_scheduled_send_and_cancel(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    result = hook.send(OutgoingMessage("Later", numbers=[A], sender="Airflow", send_at=when))
    message_id = str(result.results[0].message_id)
    hook.cancel(message_id)
    sms_simulator.clock.advance(3 * 3600)
    assert sms_simulator.netmessenger.received(A) == []
    with pytest.raises(SmsGatewayError, match=r"-503|Unknown Message ID"):
        hook.cancel(message_id)


def test_group_send_runs_in_the_background(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    members = [{"name": f"Member {i}", "number": f"447700{100000 + i}", "groups": ["Big"]} for i in range(1000)]
    sms_simulator.netmessenger.add_contacts(members)
    hook = _hook()
    result = hook.send(OutgoingMessage("To the group", groups=["group:Big"], sender="Airflow"))
    [bg_id] = result.background_send_ids
    assert not hook.background_send(bg_id).finished
    sms_simulator.clock.advance(3600)
    answer = hook.background_send(bg_id)
    assert answer.finished and len(answer.messages) == 1000
    assert asyncio.run(hook.abackground_send(bg_id)).finished


def test_reports_stream_as_csv(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    hook.send(OutgoingMessage("Report me", numbers=[A, B], sender="Airflow"))
    sms_simulator.clock.advance(600)
    header, rows = hook.iter_report("Messages", start=start, end=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    table = [dict(zip(header, row, strict=False)) for row in rows]
    assert {"MessageID", "Destination", "Status"} <= set(header)
    assert sorted(r["Destination"] for r in table) == [A, B]
    with pytest.raises(SmsValidationError, match="unknown report"):
        hook.iter_report("NoSuchReport")


def test_contacts_groups_and_cleanup(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    result = hook.import_contacts([{"name": "Ann", "number": A}, {"name": "Bob", "number": B}], group="Team")
    assert result.counts["success"] == 2
    again = hook.import_contacts([{"name": "Ann", "number": A}], group="Team")
    assert again.counts["success"] == 0 and again.counts["duplicate_number"] + again.counts["duplicate_name"] == 1
    header, rows = hook.iter_report("contacts")
    assert len(list(rows)) == 2 and header
    hook.empty_group("Team")
    assert sms_simulator.netmessenger.groups().get("Team", []) == []
    hook.delete_group("Team")
    assert "Team" not in sms_simulator.netmessenger.groups()
    hook.delete_all_contacts()
    assert sms_simulator.netmessenger.contacts() == []


def test_child_accounts_and_credit_moves(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    hook.create_sub_account("child1", "Ch1ld-Passw0rd!", first_name="C", last_name="One", email="c@example.org")
    assert [u["username"] for u in sms_simulator.netmessenger.child_users()] == ["child1"]
    before = hook.get_credits()
    hook.transfer_credits("child1", 50)
    assert hook.get_credits() == before - 50
    with pytest.raises(SmsGatewayError):
        hook.transfer_credits("nobody", 5)


def test_groups_listing_inbound_report_and_delete_all_groups(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    hook.import_contacts([{"name": "Ann", "number": A, "group1": "Red"}, {"name": "Bob", "number": B,
                                                                          "group1": "Blue"}])
    header, rows = hook.iter_report("groups")
    names_at = [h.lower() for h in header].index("name")
    assert sorted(r[names_at] for r in rows) == ["Blue", "Red"]
    sms_simulator.netmessenger.add_inbound(C, A, "STOP")
    now = dt.datetime.now(dt.UTC)
    header, rows = hook.iter_report("InboundMessages", start=now - dt.timedelta(hours=1),
                                    end=now + dt.timedelta(hours=1))
    assert [dict(zip(header, r, strict=False)).get("Message") for r in rows] == ["STOP"]
    hook.delete_all_groups()
    assert sms_simulator.netmessenger.groups() == {}


def test_async_statuses_of_many_messages_use_one_report(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook()
    numbers = [f"4477001000{i:02d}" for i in range(1, 21)]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    result = hook.send(OutgoingMessage("Many", numbers=numbers, sender="Airflow"))
    sms_simulator.clock.advance(600)
    before = len(sms_simulator.netmessenger.requests)
    refs = [MessageRef(message_id=r.message_id) for r in result.results]
    statuses = asyncio.run(hook.aget_statuses(refs, since))
    assert len(sms_simulator.netmessenger.requests) - before == 1
    assert {s.status for s in statuses} == {DeliveryStatus.DELIVERED}
