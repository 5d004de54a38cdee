"""BulkSmsHook against the simulator over loopback, on both BulkSMS APIs."""

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
    SmsCapabilityError,
    SmsGatewayError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.hooks.base import MessageRef, get_sms_hook
from airflow_provider_sms.hooks.bulksms import BulkSmsHook
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import PASSWORD, bulksms_connection

A, B, C = "447700100001", "447700100002", "447700100003"


def _hook(conn_id: str) -> BulkSmsHook:
    hook = get_sms_hook(conn_id)
    assert isinstance(hook, BulkSmsHook)
    return hook


def test_send_reaches_each_recipient_once(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook(bulksms_conn)
    result = hook.send(OutgoingMessage("Hello from Airflow", numbers=[A, B], sender="Airflow", dedupe_key=11))
    assert [r.recipient for r in result.accepted] == [A, B]
    assert len(result.batch_ids) == 1 and all(r.batch_id == result.batch_ids[0] for r in result.results)
    for number in (A, B):
        received = sms_simulator.bulksms.received(number)
        assert len(received) == 1
        assert received[0]["message"] == "Hello from Airflow" and received[0]["sender"] == "Airflow"
    assert sms_simulator.bulksms.received(C) == []


def test_statuses_move_to_final(bulksms_conn: str, api: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.set_outcome(B, 51)
    hook = _hook(bulksms_conn)
    result = hook.send(OutgoingMessage("status check", numbers=[A, B]))
    refs = [MessageRef(batch_id=result.batch_ids[0])]
    before = {s.recipient: s.status for s in hook.get_statuses(refs)}
    # EAPI code 0 "in progress" is pending; the JSON API says ACCEPTED only in the submission
    # answer, and a later read of a message in progress says SENT.
    still = DeliveryStatus.PENDING if api == "eapi" else DeliveryStatus.SENT
    assert before == {A: still, B: still}
    sms_simulator.clock.advance(60)
    after = {s.recipient: s.status for s in hook.get_statuses(refs)}
    assert after == {A: DeliveryStatus.DELIVERED, B: DeliveryStatus.FAILED}
    asynchronous = asyncio.run(hook.aget_statuses(refs))
    assert {s.recipient: s.status for s in asynchronous} == after


def test_credits_go_down_and_test_connection(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook(bulksms_conn)
    before = hook.get_credits()
    hook.send(OutgoingMessage("x" * 200, numbers=[A, B], max_parts=2))  # 2 parts x 2 recipients
    assert hook.get_credits() == pytest.approx(before - 4)
    ok, message = hook.test_connection()
    assert ok and "credit balance" in message


def test_wrong_password_fails_without_leaking_it(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                                 api: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Sup3r-Secret-Value-987"
    conn = bulksms_connection(sms_simulator, api).replace(PASSWORD, secret)
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", conn)
    hook = _hook("bulksms_default")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SmsAuthenticationError) as exc:
        hook.send(OutgoingMessage("hi", numbers=[A]))
    ok, message = hook.test_connection()
    assert not ok
    assert "POST" in caplog.text  # the calls were logged: the checks below can bite
    for text in (str(exc.value), repr(exc.value), message, caplog.text, repr(hook.settings), repr(hook.api)):
        assert secret not in text
    assert len(sms_simulator.bulksms.requests) == 2  # auth failures are not retried
    assert sms_simulator.bulksms.received(A) == []


def test_credentials_never_in_a_url_and_sends_are_posts(bulksms_conn: str, sms_simulator: SimulatorServer,
                                                        api: str) -> None:
    hook = _hook(bulksms_conn)
    result = hook.send(OutgoingMessage("hi", numbers=[A]))
    hook.get_statuses([MessageRef(batch_id=result.batch_ids[0])])
    hook.get_credits()
    seen = sms_simulator.url_params
    assert len(seen) >= 3
    for method, path, query_names in seen:
        assert not {n.lower() for n in query_names} & {"username", "password"}, (path, query_names)
        if api == "eapi" or (path.endswith("/messages") and method != "GET"):
            assert method == "POST"
    if api == "json":
        assert any(names for _, _, names in seen)  # the status GET does carry a query: the check can bite


def test_transient_errors_are_retried(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=503, count=2)
    result = _hook(bulksms_conn).send(OutgoingMessage("retry me", numbers=[A], dedupe_key=5))
    assert result.accepted and sms_simulator.bulksms.received_count(A) == 1


def test_throttling_is_retried(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    sms_simulator.faults.throttle(count=1)
    hook = _hook(bulksms_conn)
    waits: list[float] = []
    now = [0.0]

    def virtual_sleep(seconds: float) -> None:  # the shared back-off waits on the hook's clock: no real sleep
        waits.append(seconds)
        now[0] += seconds

    hook._sleep, hook._clock = virtual_sleep, lambda: now[0]
    result = hook.send(OutgoingMessage("slow down", numbers=[A], dedupe_key=6))
    assert result.accepted and sms_simulator.bulksms.received_count(A) == 1
    assert hook.pacer.throttles == 1  # every request of the hook holds for the back-off
    if api == "json":
        assert len(waits) == 1 and waits[0] >= 1  # the simulator's Retry-After: 1 is honoured


def test_transient_errors_give_up_after_the_budget(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=502, count=10)
    with pytest.raises(SmsTransientError):
        _hook(bulksms_conn).send(OutgoingMessage("never", numbers=[A], dedupe_key=7))
    assert len(sms_simulator.bulksms.requests) == 4  # the first try and 3 retries, then it gives up
    assert sms_simulator.faults.active()[0]["count"] == 6


def test_fatal_errors_are_not_retried(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                      api: str) -> None:
    from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig

    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount("demo", PASSWORD, credits=1.0)]))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, api))
    with pytest.raises(SmsGatewayError):
        _hook("bulksms_default").send(OutgoingMessage("too poor", numbers=[A, B]))
    assert len(sms_simulator.bulksms.requests) == 1
    assert sms_simulator.bulksms.received(A) == []


def test_dropped_answer_is_resent_under_the_same_dedupe_id(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=1)
    result = _hook(bulksms_conn).send(OutgoingMessage("exactly once", numbers=[A, B], dedupe_key=4242))
    assert [r.recipient for r in result.accepted] == [A, B]
    assert len(sms_simulator.bulksms.requests) == 2  # the lost answer, then the deduplicated repeat
    assert sms_simulator.bulksms.received_count(A) == 1
    assert sms_simulator.bulksms.received_count(B) == 1


def test_dropped_answer_without_dedupe_id_fails_loudly(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=1)
    with pytest.raises(SmsAmbiguousError) as exc:
        _hook(bulksms_conn).send(OutgoingMessage("maybe", numbers=[A, B]))
    assert exc.value.recipients_in_doubt == [A, B]
    assert len(sms_simulator.bulksms.requests) == 1  # not re-sent blindly
    assert sms_simulator.bulksms.received_count(A) == 1


def test_group_send(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.add_group(7, "oncall", [A, C])
    result = _hook(bulksms_conn).send(OutgoingMessage("to the group", groups=["7"]))
    assert result.accepted and result.batch_ids
    assert sms_simulator.bulksms.received_count(A) == 1 and sms_simulator.bulksms.received_count(C) == 1
    assert sms_simulator.bulksms.received_count(B) == 0


def test_scheduled_send(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    result = _hook(bulksms_conn).send(OutgoingMessage("later", numbers=[A], send_at=when))
    assert [r.status for r in result.results] == [DeliveryStatus.SCHEDULED]
    assert len(sms_simulator.bulksms.received(A, include_scheduled=True)) == 1
    assert sms_simulator.bulksms.received(A) == []  # not sent before its time
    sms_simulator.clock.advance(86_400 + 60)
    assert sms_simulator.bulksms.received_count(A) == 1


def test_validation_lists_every_problem_before_sending(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    hook = _hook(bulksms_conn)
    message = OutgoingMessage("x" * 1000, numbers=[A], sender="A-very-long-sender-id",
                              send_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with pytest.raises(SmsValidationError) as exc:
        hook.check_message(message)
    fields = {p.field for p in exc.value.problems}
    assert {"message", "sender", "send_at"} <= fields
    assert sms_simulator.bulksms.requests == []


def test_test_mode_only_on_eapi(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    hook = _hook(bulksms_conn)
    message = OutgoingMessage("dry run", numbers=[A], test_mode="succeed")
    if api == "json":
        with pytest.raises(SmsCapabilityError, match="test-mode sends"):
            hook.check_message(message)
        return
    hook.check_message(message)
    assert hook.send(message).accepted
    assert sms_simulator.bulksms.received(A) == []


def test_delivery_report_rows(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    hook = _hook(bulksms_conn)
    batch = hook.send(OutgoingMessage("report me", numbers=[A, B])).batch_ids[0]
    sms_simulator.clock.advance(60)
    header, rows = hook.iter_report("delivery", batch_ids=[batch])
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert sorted(r["msisdn"] for r in table) == [A, B]
    assert {r["status"] for r in table} == {"delivered"}
    assert all(r["batch_id"] == batch for r in table)


def test_inbox_report_is_eapi_only(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    hook = _hook(bulksms_conn)
    if api == "json":
        with pytest.raises(SmsCapabilityError):
            hook.iter_report("inbox")
        return
    sms_simulator.bulksms.add_inbound("447700100009", "447700000000", "STOP")
    header, rows = hook.iter_report("inbox")
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["sender"], r["message"]) for r in table] == [("447700100009", "STOP")]


def test_quote_is_eapi_only(bulksms_conn: str, api: str) -> None:
    hook = _hook(bulksms_conn)
    message = OutgoingMessage("how much", numbers=[A, B])
    if api == "json":
        with pytest.raises(SmsCapabilityError, match="quote"):
            hook.quote(message)
    else:
        assert hook.quote(message) == pytest.approx(2.0)
