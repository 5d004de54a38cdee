"""The notifier where Airflow really calls it: task, retry and DAG callbacks of ``dag.test()`` runs.

Every run here is a manual run with no logical date and no data interval (``logical_date=None``),
as a run triggered from the UI or the REST API is.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_sms.notifications.sms import SmsNotifier
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import DAG_TEST_PASSES_EXCEPTION, PASSWORD, REPO, bulksms_connection, netmessenger_connection
from tests.notifications.notifier_dags import build_dag, write_dag_file

A, B = "447700100001", "447700100002"
EXAMPLES = REPO / "dags" / "examples"
WRONG_PASSWORD = "not-the-right-secret-42"


@pytest.fixture
def dag_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAG bundle of its own for this test's DAG files (``dag.test()`` only runs DAGs it can parse)."""
    folder = tmp_path / "dags"
    folder.mkdir()
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([
        {"name": "dags-folder", "classpath": local, "kwargs": {"path": str(EXAMPLES)}},
        {"name": f"notifier-tests-{folder.parent.name}", "classpath": local, "kwargs": {"path": str(folder)}},
    ]))
    return folder


def _run(folder: Path, dag_id: str, **callbacks: Any) -> Any:
    write_dag_file(folder, dag_id)
    return build_dag(dag_id, **callbacks).test(logical_date=None)


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    return caplog.text + capsys.readouterr().out  # task logs go through structlog to stdout


def test_fatal_error_falls_back_with_default_message_once(
        airflow_db: None, dag_folder: Path, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    # The first gateway refuses the credentials (a fatal error); the second is a different gateway.
    broken = json.loads(bulksms_connection(sms_simulator, "json"))
    broken["password"] = WRONG_PASSWORD
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_PRIMARY", json.dumps(broken))
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_BACKUP", netmessenger_connection(sms_simulator))

    def on_call() -> SmsNotifier:
        return SmsNotifier(sms_conn_id="alerts_primary", fallback_conn_ids=["alerts_backup"], to=["07700 100001"],
                           sender="Alerts", ui_base_url="https://airflow.example.com/")

    run = _run(dag_folder, "notify_fallback",
               task_callbacks=[on_call(), on_call()],  # the failure callback fires twice
               retry_callbacks=[on_call()],  # final_failure_only: no text for try 1 of 2
               dag_callbacks=[SmsNotifier(sms_conn_id="alerts_backup", to=[B], sender="Alerts",
                                          message="{{ ds }}: the nightly DAG failed")])

    assert run.state == "failed"
    assert sms_simulator.bulksms.received() == []
    [alert] = sms_simulator.netmessenger.received(A)
    text = alert["body"]
    assert text.startswith("Airflow: task load in DAG notify_fallback failed (try 2 of 2), run manual__")
    if DAG_TEST_PASSES_EXCEPTION:
        assert "), run manual__" in text and ": ValueError: boom: disk full https://" in text
    else:
        assert f"(try 2 of 2), run {run.run_id}. https://" in text
    assert "second line" not in text
    assert text.endswith(f"https://airflow.example.com/dags/notify_fallback/runs/{quote(run.run_id, safe='')}"
                         "/tasks/load")
    # {{ ds }} cannot render on a run without a logical date: the default message goes instead.
    [dag_alert] = sms_simulator.netmessenger.received(B)
    assert dag_alert["body"] == f"Airflow: DAG notify_fallback failed, run {run.run_id} (task_failure, task load)."
    logged = _logged(caplog, capsys)
    assert "alerts_primary (bulksms, code" in logged and "needed a fallback" in logged
    assert "delivered through alerts_backup (netmessenger)" in logged
    assert "could not be rendered" in logged
    assert WRONG_PASSWORD not in logged and PASSWORD not in logged


def test_gateway_down_falls_back_and_total_failure_is_logged(
        airflow_db: None, dag_folder: Path, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_PRIMARY", netmessenger_connection(sms_simulator, retries=1))
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_BACKUP", bulksms_connection(sms_simulator, "eapi", retries=1))
    sms_simulator.faults.http_error(503, count=1000, only="/api")  # NetMessenger is down

    every_try = SmsNotifier(sms_conn_id="alerts_primary", fallback_conn_ids=["alerts_backup"], to=[A],
                            sender="Alerts", final_failure_only=False)
    nowhere = SmsNotifier(sms_conn_id="alerts_primary", to=[B], sender="Alerts", message="only NetMessenger")
    run = _run(dag_folder, "notify_down", task_callbacks=[every_try, nowhere], retry_callbacks=[every_try])

    assert run.state == "failed"
    assert sms_simulator.netmessenger.received() == []
    texts = [m["message"] for m in sms_simulator.bulksms.received(A)]
    assert len(texts) == 2  # final_failure_only=False: the retried try texts too
    assert "failed, will retry (try 1 of 2)" in texts[0] and "failed (try 2 of 2)" in texts[1]
    assert sms_simulator.bulksms.received(B) == []
    logged = _logged(caplog, capsys)
    assert "SMS alert not sent to ['447700100002']: alerts_primary (netmessenger, code 503)" in logged
    assert "nm-demo-token" not in logged


def test_quiet_hours_hold_drop_and_urgent(
        airflow_db: None, dag_folder: Path, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
    zone = "Asia/Tokyo"
    # Quiet from one hour before to two hours after the real time (Tokyo), so the hold lands in the future.
    real = dt.datetime.now(ZoneInfo(zone))
    window = ((real - dt.timedelta(hours=1)).strftime("%H:%M"), (real + dt.timedelta(hours=2)).strftime("%H:%M"))

    def quiet(number: str, **kwargs: Any) -> SmsNotifier:
        return SmsNotifier(sms_conn_id="bulksms_default", to=[number], quiet_hours=window,
                           quiet_hours_time_zone=zone, clock=lambda: real, **kwargs)

    run = _run(dag_folder, "notify_quiet", task_callbacks=[
        quiet(A, quiet_hours_action="hold"), quiet(B, quiet_hours_action="drop"),
        quiet("447700100005", quiet_hours_action="drop", urgent=True)])

    assert run.state == "failed"
    assert sms_simulator.bulksms.received(A) == []  # held ...
    [held] = sms_simulator.bulksms.received(A, include_scheduled=True)
    window_end = dt.datetime.combine(real.date(), dt.time.fromisoformat(window[1]), tzinfo=ZoneInfo(zone))
    if window_end <= real:
        window_end += dt.timedelta(days=1)
    assert abs(held["received_at"] - window_end.timestamp()) < 2  # ... until the window ends
    assert sms_simulator.bulksms.received(B, include_scheduled=True) == []  # dropped
    assert sms_simulator.bulksms.received_count("447700100005") == 1  # urgent: now
    logged = _logged(caplog, capsys)
    assert "held for the end of quiet hours" in logged and "SMS alert dropped: quiet hours" in logged
