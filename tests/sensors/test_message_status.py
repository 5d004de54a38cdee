"""SmsMessageStatusSensor (poke and deferrable) and its trigger, against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException, TaskDeferred

from airflow_provider_sms.core.status_wait import StatusTally
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
from airflow_provider_sms.simulator import SimulatorServer
from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger
from tests.operators.helpers import context, first_event_once_logged

A, B = "447700100001", "447700100002"


def _send(conn_id: str, numbers: list[str]) -> dict[str, Any]:
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=numbers, message="watch me")
    return op.execute(context())


def _sensor(conn_id: str, sent: Any, **kwargs: Any) -> SmsMessageStatusSensor:
    return SmsMessageStatusSensor(task_id="wait", sms_conn_id=conn_id, messages=sent, poke_interval=0.01,
                                  timeout=60, **kwargs)


def test_poke_waits_then_returns_statuses(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    sent = _send(bulksms_conn, [A, B])
    sensor = _sensor(bulksms_conn, sent)
    assert not sensor.poke(context()).is_done
    sms_simulator.clock.advance(60)
    result = sensor.poke(context())
    assert result.is_done
    value = result.xcom_value
    assert value["delivered"] == 2 and value["total"] == 2
    assert {s["recipient"]: s["status"] for s in value["statuses"]} == {A: "delivered", B: "delivered"}
    status_calls = [p for m, p in sms_simulator.bulksms.requests if "status_reports" in p or m == "GET"]
    # One status call per batch and poke, not one per message. JSON: the first poke's listing ends
    # on an empty page; the second asks for the pending messages' id range only, no empty page.
    assert len(status_calls) == (2 if api == "eapi" else 3)
    assert value["statuses_complete"] is True and value["pending"] == 0
    assert value["counts"] == {"delivered": 2}


def test_one_status_call_per_batch(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    sent = _send(bulksms_conn, [f"4477001000{i:02d}" for i in range(1, 41)])
    before = len(sms_simulator.bulksms.requests)
    _sensor(bulksms_conn, sent).poke(context())
    status_calls = len(sms_simulator.bulksms.requests) - before
    assert status_calls == (1 if api == "eapi" else 2)  # JSON pages end on an empty page


@pytest.mark.parametrize(
    ("on_failed", "expected"),
    [("fail", AirflowFailException), ("skip", AirflowSkipException), ("continue", None)],
)
def test_failed_delivery_policy(bulksms_conn: str, sms_simulator: SimulatorServer, on_failed: str,
                                expected: type[Exception] | None) -> None:
    sms_simulator.bulksms.set_outcome(B, 51)
    sent = _send(bulksms_conn, [A, B])
    sms_simulator.clock.advance(60)
    sensor = _sensor(bulksms_conn, sent, on_failed_delivery=on_failed)
    if expected is None:
        value = sensor.poke(context()).xcom_value
        assert value["failed"] == 1 and value["delivered"] == 1
    else:
        with pytest.raises(expected, match="1 messages were not delivered: 447700100002: failed"):
            sensor.poke(context())


def test_all_final_accepts_failures(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.set_outcome(B, 53)
    sent = _send(bulksms_conn, [A, B])
    sms_simulator.clock.advance(60)
    value = _sensor(bulksms_conn, sent, success_when="all_final").poke(context()).xcom_value
    assert sorted(s["status"] for s in value["statuses"]) == ["delivered", "expired"]


def test_deferrable_runs_to_completion(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sent = _send(bulksms_conn, [A, B])
    sensor = _sensor(bulksms_conn, sent, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, SmsMessageStatusTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_sms.triggers.message_status.SmsMessageStatusTrigger"
    rebuilt = SmsMessageStatusTrigger(**kwargs)  # what the triggerer does
    sms_simulator.clock.advance(60)

    async def first_event() -> Any:
        return await rebuilt.run().__anext__()

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=30))
    assert event.payload["status"] == "done"
    value = getattr(sensor, deferred.value.method_name)(context(), event=event.payload)
    assert value["delivered"] == 2


def test_deferrable_returns_at_once_when_already_final(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sent = _send(bulksms_conn, [A])
    sms_simulator.clock.advance(60)
    value = _sensor(bulksms_conn, sent, deferrable=True).execute(context())
    assert value["delivered"] == 1


def test_trigger_polls_until_final(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    sent = _send(bulksms_conn, [A])
    trigger = SmsMessageStatusTrigger(sms_conn_id=bulksms_conn, refs=[{"batch_id": sent["batch_ids"][0]}],
                                      poll_interval=0.01)

    async def scenario() -> Any:
        run = trigger.run().__anext__()
        task = asyncio.ensure_future(run)
        await asyncio.sleep(0.1)
        assert not task.done()  # still pending: nothing is final yet
        sms_simulator.clock.advance(60)
        return await asyncio.wait_for(task, timeout=30)

    event = asyncio.run(scenario())
    tally = StatusTally.unpack(event.payload["tally"])
    assert [s.status.value for s in tally.statuses()] == ["delivered"]


def test_later_polls_ask_only_about_pending_messages(bulksms_conn: str, sms_simulator: SimulatorServer,
                                                    api: str) -> None:
    early = _send(bulksms_conn, [A])
    sms_simulator.clock.advance(60)  # A is final
    late = _send(bulksms_conn, [B])
    sensor = _sensor(bulksms_conn, {"batch_ids": [*early["batch_ids"], *late["batch_ids"]]}, deferrable=True)
    before = len(sms_simulator.bulksms.requests)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    first = len(sms_simulator.bulksms.requests) - before
    assert first == (2 if api == "eapi" else 4)  # both batches (JSON: a page and an empty page each)
    _, kwargs = deferred.value.trigger.serialize()
    trigger = SmsMessageStatusTrigger(**kwargs)

    async def poll_until_done() -> Any:
        from airflow_provider_sms.hooks.base import get_sms_hook

        hook = get_sms_hook(bulksms_conn)
        async with hook.async_session() as transport:
            assert await trigger.poll_once(hook) is None  # B is still pending
            sms_simulator.clock.advance(60)
            done = await trigger.poll_once(hook)
            return done, transport.clients_opened

    before = len(sms_simulator.bulksms.requests)
    payload, clients = asyncio.run(poll_until_done())
    asked = sms_simulator.bulksms.requests[before:]
    assert len(asked) == 2 and clients == 1  # one request per poll, for B's batch only, on one client
    value = sensor.execute_complete(context(), event={"status": "done", **payload})
    assert value["delivered"] == 2 and value["total"] == 2
    assert {s["recipient"] for s in value["statuses"]} == {A, B}


def test_an_event_from_an_older_trigger_is_still_read(bulksms_conn: str) -> None:
    statuses = [{"status": "delivered", "recipient": A, "message_id": "1", "batch_id": "9", "code": "11",
                 "text": None, "final": True}]
    value = _sensor(bulksms_conn, {"batch_ids": ["9"]}).execute_complete(
        context(), event={"status": "done", "statuses": statuses})
    assert value["delivered"] == 1 and value["statuses"][0]["recipient"] == A


def test_trigger_reports_errors(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NOT_SMS", '{"conn_type": "http", "host": "http://127.0.0.1:9"}')
    trigger = SmsMessageStatusTrigger(sms_conn_id="not_sms", refs=[{"batch_id": "1"}], poll_interval=0.01)
    event = asyncio.run(trigger.run().__anext__())
    assert event.payload["status"] == "error" and "not an SMS gateway" in event.payload["message"]
    sensor = _sensor("not_sms", {"batch_ids": ["1"]})
    with pytest.raises(AirflowFailException, match="not an SMS gateway"):
        sensor.execute_complete(context(), event=event.payload)


def test_needs_something_to_watch() -> None:
    with pytest.raises(AirflowFailException, match="no messages to watch"):
        SmsMessageStatusSensor(task_id="w", sms_conn_id="x").poke(context())


def test_each_poke_logs_progress_and_the_end_names_failed_recipients(
        bulksms_conn: str, sms_simulator: SimulatorServer, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    sms_simulator.bulksms.set_outcome(B, 51)
    sensor = _sensor(bulksms_conn, _send(bulksms_conn, [A, B]), success_when="all_final")
    assert not sensor.poke(context()).is_done
    first = capsys.readouterr().out + caplog.text
    assert "2 messages: 2 pending, 0 delivered, 0 failed" in first
    sms_simulator.clock.advance(60)
    assert sensor.poke(context()).is_done
    last = capsys.readouterr().out + caplog.text
    assert "2 messages: 0 pending, 1 delivered, 1 failed (first: 447700100002: failed" in last
    assert "1 of 2 messages failed: 447700100002: failed" in last


def test_each_trigger_poll_logs_progress_and_the_resumed_sensor_names_failed_recipients(
        bulksms_conn: str, sms_simulator: SimulatorServer, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue 14: after a sensor resumed, nothing in its log said how many were delivered or failed."""
    import logging

    sms_simulator.bulksms.set_outcome(B, 51)
    sensor = _sensor(bulksms_conn, _send(bulksms_conn, [A, B]), success_when="all_final", deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = SmsMessageStatusTrigger(**deferred.value.trigger.serialize()[1])  # what the triggerer does
    with caplog.at_level(logging.INFO, logger="airflow_provider_sms.triggers.message_status"):
        event = first_event_once_logged(trigger, lambda: caplog.text, "pending",
                                        lambda: sms_simulator.clock.advance(60))
    polls = caplog.text
    assert "2 messages: 2 pending, 0 delivered, 0 failed" in polls
    assert "2 messages: 0 pending, 1 delivered, 1 failed (first: 447700100002: failed" in polls
    capsys.readouterr()
    caplog.clear()
    value = getattr(sensor, deferred.value.method_name)(context(), event=event.payload)  # the sensor resumes
    assert (value["delivered"], value["failed"]) == (1, 1)
    resumed = capsys.readouterr().out + caplog.text
    assert "2 messages: 0 pending, 1 delivered, 1 failed" in resumed
    assert "1 of 2 messages failed: 447700100002: failed" in resumed


def test_trigger_survives_a_failing_connection_lookup_after_a_triggerer_restart(
        bulksms_conn: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 3.1's triggerer can fail overlapping connection requests ("Response read out of order")
    when a new triggerer starts every waiting trigger at once: the wait must not fail because of it,
    and the set-ups of triggers in one triggerer take turns."""
    from airflow.providers.common.compat import connection as compat_connection

    from airflow_provider_sms.triggers import base as trigger_base

    real = compat_connection.get_async_connection
    calls = {"total": 0, "in_flight": 0, "most_in_flight": 0}

    async def flaky(conn_id: str) -> Any:
        calls["total"] += 1
        calls["in_flight"] += 1
        calls["most_in_flight"] = max(calls["most_in_flight"], calls["in_flight"])
        try:
            await asyncio.sleep(0.01)
            if calls["total"] <= 2:
                raise RuntimeError("Response read out of order! Got frame.id=7, expect_id=6")
            return await real(conn_id)
        finally:
            calls["in_flight"] -= 1

    monkeypatch.setattr(compat_connection, "get_async_connection", flaky)
    monkeypatch.setattr(trigger_base, "SETUP_BACKOFF_SECONDS", 0.01)
    sent = _send(bulksms_conn, [A, B])
    sms_simulator.clock.advance(60)
    triggers = [SmsMessageStatusTrigger(sms_conn_id=bulksms_conn, refs=[{"batch_id": batch}], poll_interval=0.01)
                for batch in sent["batch_ids"] * 3]

    async def restart() -> list[Any]:
        return await asyncio.gather(*(t.run().__anext__() for t in triggers))

    events = asyncio.run(restart())
    assert [e.payload["status"] for e in events] == ["done"] * len(triggers)
    assert calls["total"] == len(triggers) + 2
    assert calls["most_in_flight"] == 1


def test_trigger_gives_up_when_the_connection_lookup_keeps_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.common.compat import connection as compat_connection

    from airflow_provider_sms.triggers import base as trigger_base

    async def broken(conn_id: str) -> Any:
        raise RuntimeError("supervisor gone")

    monkeypatch.setattr(compat_connection, "get_async_connection", broken)
    monkeypatch.setattr(trigger_base, "SETUP_BACKOFF_SECONDS", 0.0)
    trigger = SmsMessageStatusTrigger(sms_conn_id="whatever", refs=[{"batch_id": "1"}], poll_interval=0.01)
    with pytest.raises(RuntimeError, match="supervisor gone"):
        asyncio.run(trigger.run().__anext__())


def test_error_backoff_doubles_up_to_a_minute() -> None:
    from airflow_provider_sms.triggers.base import error_backoff

    assert [error_backoff(1, n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert error_backoff(120, 3) == 120  # never shorter than the poll interval itself


def test_trigger_rides_out_a_gateway_outage_and_gives_up_on_a_lasting_one(
        bulksms_conn: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_sms.triggers import base as trigger_base

    waits: list[float] = []

    async def recorded_pause(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(trigger_base, "_pause", recorded_pause)
    sent = _send(bulksms_conn, [A])
    sms_simulator.clock.advance(60)
    trigger = SmsMessageStatusTrigger(sms_conn_id=bulksms_conn, refs=[{"batch_id": sent["batch_ids"][0]}],
                                      poll_interval=1, max_consecutive_errors=5)
    from airflow_provider_sms.transport import RetryPolicy

    # four failed polls (each one call tried max_attempts times), then the gateway is back
    sms_simulator.faults.http_error(status=503, count=4 * RetryPolicy().max_attempts)
    event = asyncio.run(trigger.run().__anext__())
    assert event.payload["status"] == "done"
    assert waits[:4] == [1, 2, 4, 8]

    waits.clear()
    sms_simulator.faults.http_error(status=503, count=1000)
    trigger = SmsMessageStatusTrigger(sms_conn_id=bulksms_conn, refs=[{"batch_id": sent["batch_ids"][0]}],
                                      poll_interval=1, max_consecutive_errors=5)
    event = asyncio.run(trigger.run().__anext__())
    assert event.payload["status"] == "error" and event.payload["retryable"] is True
    assert waits == [1, 2, 4, 8]


def test_a_deferred_sensor_s_trigger_first_polls_after_the_resume_guard(
        bulksms_conn: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trigger that fires within a second or two of the deferral races Airflow's bookkeeping (the
    executor reports the deferring process's end while the task is queued to resume, and the try
    fails): the trigger a sensor defers to waits RESUME_GUARD_SECONDS before its first poll."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_sms.sensors import base as sensor_base
    from airflow_provider_sms.triggers import base as trigger_base

    monkeypatch.setattr(sensor_base, "RESUME_GUARD_SECONDS", 10.0)
    sent = _send(bulksms_conn, [A])
    with pytest.raises(TaskDeferred) as deferred:
        _sensor(bulksms_conn, sent, deferrable=True).execute(context())
    _classpath, kwargs = deferred.value.trigger.serialize()
    assert kwargs["first_poll_after"] == 10.0
    rebuilt = SmsMessageStatusTrigger(**kwargs)  # what the triggerer does
    polls_before_first_wait: list[int] = []
    waits: list[float] = []

    async def recorded_pause(seconds: float) -> None:
        if not waits:
            polls_before_first_wait.append(len(sms_simulator.bulksms.requests))
        waits.append(seconds)
        sms_simulator.clock.advance(60)  # the messages are final by the first poll

    monkeypatch.setattr(trigger_base, "_pause", recorded_pause)
    requests_at_deferral = len(sms_simulator.bulksms.requests)
    event = asyncio.run(rebuilt.run().__anext__())
    assert waits[0] == 10.0
    assert polls_before_first_wait == [requests_at_deferral]  # nothing asked before the guard passed
    assert event.payload["status"] == "done"
