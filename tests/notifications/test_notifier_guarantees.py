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
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import PASSWORD, bulksms_connection, netmessenger_connection, skycore_connection

A = "447700100001"


def _context(try_number: int = 2) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="etl", task_id="load", run_id="manual__7", map_index=-1, try_number=try_number,
                         max_tries=1, state="failed")
    return {"ti": ti, "exception": ValueError("bad row 17")}


@pytest.mark.parametrize("kind", ["bulksms-json", "bulksms-eapi", "netmessenger", "bulletin"])
def test_second_process_does_not_text_again(kind: str, sms_simulator: SimulatorServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # NetMessenger's documented reports carry no text, so only a look-up in a report with bodies
    # can tell this alert from another one (see the test below for the documented reports).
    # Bulletin's sent list carries the text: the look-up needs no setting.
    conn = {"netmessenger": lambda: netmessenger_connection(sms_simulator, sent_lookup_reports="MessagesWithBodies"),
            "bulletin": lambda: bulletin_connection(sms_simulator)}.get(
        kind, lambda: bulksms_connection(sms_simulator, kind.split("-")[1]))()
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS", conn)
    gateway = getattr(sms_simulator, kind.split("-")[0])
    notifier = SmsNotifier(sms_conn_id="alerts", to=[f"+{A}"], sender="Alerts")
    notifier(_context())
    sms._REPEATS.clear()  # as if the second firing ran in another process (worker, then DAG processor)
    sms_simulator.clock.advance(5)
    notifier(_context())
    assert gateway.received_count(A) == 1
    notifier(_context(try_number=3))  # a new failure (re-run) is a new alert
    sms_simulator.clock.advance(5)
    assert gateway.received_count(A) == 2


@pytest.mark.parametrize("broken", ["skycore", "bulletin"])
def test_fallback_between_skycore_and_bulletin(broken: str, sms_simulator: SimulatorServer,
                                               monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # The other two gateways in either order: Skycore refusing a wrong API key (fatal), Bulletin down.
    monkeypatch.setenv("AIRFLOW_CONN_SKY", skycore_connection(sms_simulator))
    monkeypatch.setenv("AIRFLOW_CONN_BM", bulletin_connection(sms_simulator))
    if broken == "skycore":
        bad = json.loads(skycore_connection(sms_simulator))
        bad["password"] = "wrong-key-0000"
        monkeypatch.setenv("AIRFLOW_CONN_SKY", json.dumps(bad))
        first, second = "sky", "bm"
    else:
        sms_simulator.faults.http_error(status=503, count=20, only="/api/3/sms/out")
        first, second = "bm", "sky"
    caplog.set_level(logging.INFO)
    SmsNotifier(sms_conn_id=first, fallback_conn_ids=[second], to=[f"+{A}"], sender="Alerts")(_context())
    delivered_by = sms_simulator.bulletin if second == "bm" else sms_simulator.skycore
    assert delivered_by.received_count(A) == 1
    assert sms_simulator.bulletin.received_count(A) + sms_simulator.skycore.received_count(A) == 1
    logged = caplog.text + capsys.readouterr().out
    gateway = "bulletin" if second == "bm" else "skycore"
    assert f"SMS alert delivered through {second} ({gateway})" in logged
    assert f"SMS alert needed a fallback: {first} ({broken}, code " in logged
    assert "wrong-key-0000" not in logged


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
