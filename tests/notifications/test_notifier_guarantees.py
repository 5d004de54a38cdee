"""Repeat alerts across processes, the time bound, the deadline-alert path, credentials in logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_sms.notifications import sms
from airflow_provider_sms.notifications.sms import SmsNotifier
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import PASSWORD, bulksms_connection, netmessenger_connection

A = "447700100001"


def _context(try_number: int = 2) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="etl", task_id="load", run_id="manual__7", map_index=-1, try_number=try_number,
                         max_tries=1, state="failed")
    return {"ti": ti, "exception": ValueError("bad row 17")}


@pytest.mark.parametrize("kind", ["bulksms-json", "bulksms-eapi", "netmessenger"])
def test_second_process_does_not_text_again(kind: str, sms_simulator: SimulatorServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # NetMessenger's documented reports carry no text, so only a look-up in a report with bodies
    # can tell this alert from another one (see the test below for the documented reports).
    conn = (netmessenger_connection(sms_simulator, sent_lookup_reports="MessagesWithBodies")
            if kind == "netmessenger" else bulksms_connection(sms_simulator, kind.split("-")[1]))
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", conn)
    notifier = SmsNotifier(sms_conn_id="alerts", to=[A], sender="Alerts")
    notifier(_context())
    sms._REPEATS.clear()  # as if the second firing ran in another process (worker, then DAG processor)
    sms_simulator.clock.advance(5)
    notifier(_context())
    received = (sms_simulator.netmessenger.received_count(A) if kind == "netmessenger"
                else sms_simulator.bulksms.received_count(A))
    assert received == 1
    notifier(_context(try_number=3))  # a new failure (re-run) is a new alert
    sms_simulator.clock.advance(5)
    received = (sms_simulator.netmessenger.received_count(A) if kind == "netmessenger"
                else sms_simulator.bulksms.received_count(A))
    assert received == 2


def test_number_only_lookup_never_swallows_a_new_alert(sms_simulator: SimulatorServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The documented NetMessenger reports (Messages, Outbox) have no message text: an earlier
    # alert to the same number must not pass for this one.
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", netmessenger_connection(sms_simulator))
    notifier = SmsNotifier(sms_conn_id="alerts", to=[A], sender="Alerts")
    notifier(_context(try_number=2))
    sms_simulator.clock.advance(5)
    notifier(_context(try_number=3))
    assert sms_simulator.netmessenger.received_count(A) == 2


def test_hung_gateway_cannot_hang_the_callback(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", bulksms_connection(sms_simulator, "json", timeout=30))
    sms_simulator.faults.latency(3.0, count=1)
    started = time.monotonic()
    SmsNotifier(sms_conn_id="alerts", to=[A], timeout=0.5)(_context())
    assert time.monotonic() - started < 2.0
    logged = caplog.text + capsys.readouterr().out
    assert "not confirmed within 0.5s" in logged


def test_deadline_alert_is_awaited_from_the_triggerer(sms_simulator: SimulatorServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", netmessenger_connection(sms_simulator))
    context = {"dag_run": {"dag_id": "etl", "run_id": "manual__9", "logical_date": None},
               "deadline": {"id": "d1", "deadline_time": "2026-11-29T04:00:00+00:00"}}

    async def fire() -> None:
        # How AsyncCallback runs it: built with the kwargs plus context=, then awaited.
        await SmsNotifier(sms_conn_id="alerts", to=[A], sender="Alerts", context=context)

    asyncio.run(fire())
    [received] = sms_simulator.netmessenger.received(A)
    assert received["body"] == "Airflow: DAG etl missed its deadline (2026-11-29T04:00:00+00:00), run manual__9."


def test_every_connection_failing_logs_codes_and_recipients_not_credentials(
        sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = json.loads(bulksms_connection(sms_simulator, "eapi"))
    bad["password"] = "wrong-" + PASSWORD
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", json.dumps(bad))
    caplog.set_level(logging.INFO)
    SmsNotifier(sms_conn_id="alerts", fallback_conn_ids=["no_such_connection"], to=[A])(_context())
    logged = caplog.text + capsys.readouterr().out
    assert f"SMS alert not sent to ['{A}']: alerts (bulksms, code 23)" in logged
    assert "no_such_connection (?, code -)" in logged
    assert PASSWORD not in logged
