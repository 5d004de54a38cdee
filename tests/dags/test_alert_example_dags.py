"""The appointment-reminder, pipeline-alert and multi-gateway report examples, run with ``dag.test()``.

Every run is a manual run without a logical date or data interval (``logical_date=None``), the way
a run triggered from the UI or the REST API starts.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from tests.conftest import DAG_TEST_PASSES_EXCEPTION, REPO, bulksms_connection, load_example_dag

EXAMPLES = REPO / "dags" / "examples"


def write_appointments(path: Path) -> None:
    """The sample file with its dates moved to tomorrow (and one row to the day after)."""
    tomorrow = dt.datetime.now(ZoneInfo("Europe/London")).date() + dt.timedelta(days=1)
    with (EXAMPLES / "data" / "appointments.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = min(dt.date.fromisoformat(r["starts_at"][:10]) for r in rows)
    for row in rows:
        day = tomorrow + (dt.date.fromisoformat(row["starts_at"][:10]) - first)
        row["starts_at"] = f"{day.isoformat()}{row['starts_at'][10:]}"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_appointment_reminders(airflow_db: None, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sms_simulator.reset(SimulatorConfig(delivery_delay=0.5))
    sms_simulator.bulksms.set_outcome("447700100014", 51)  # Dev's phone is off
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
    write_appointments(tmp_path / "appointments.csv")
    monkeypatch.setenv("SMS_APPOINTMENTS_CSV", str(tmp_path / "appointments.csv"))
    dag = load_example_dag(EXAMPLES / "example_sms_appointment_reminders.py")

    run = dag.test(logical_date=None)

    assert run.state == "success"
    tomorrow = [f"4477001000{n}" for n in (11, 12, 13, 14, 15)]
    assert [sms_simulator.bulksms.received_count(n) for n in tomorrow] == [1, 1, 1, 1, 1]
    assert sms_simulator.bulksms.received_count("447700100016") == 0  # the day after: not yet
    [ann] = sms_simulator.bulksms.received("447700100011")
    assert ann["message"] == ("Reminder: your appointment at Riverside Clinic is tomorrow at 09:30. "
                              "Reply CANCEL to cancel.")
    out = capsys.readouterr().out
    assert "Reached 4 of 5: Ann Baker (delivered), Bilal Chaudhry (delivered)" in out
    assert "Not reached: Dev Patel (failed)" in out


def _seed_yesterday(server: SimulatorServer, sent: int) -> None:
    """``sent`` NetMessenger messages sent yesterday at noon UTC."""
    noon = dt.datetime.combine(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    server.netmessenger.seed_messages(sent, 447700300001, noon.timestamp(), body="Yesterday")
    server.clock.advance(600)


@pytest.mark.parametrize("target", ["local path", "object storage URL"])
def test_reports_from_every_gateway_with_asset_events(
        target: str, airflow_db: None, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "eapi"))
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path) if target == "local path" else f"file://{tmp_path}")
    _seed_yesterday(sms_simulator, 30)
    dag = load_example_dag(EXAMPLES / "example_sms_reports_all_gateways.py")

    run = dag.test(logical_date=None)

    assert run.state == "success"
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    nm = {p.name for p in (tmp_path / "netmessenger_default" / day).glob("*.csv")}
    assert {"Messages.csv", "FailedMessages.csv", "MessagesWithBodies.csv"} <= nm
    with (tmp_path / "netmessenger_default" / day / "Messages.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 30
    # BulkSMS EAPI: the inbox needs no window; delivery reports need batch ids, so they are skipped.
    assert {p.name for p in (tmp_path / "bulksms_default" / day).glob("*.csv")} == {"inbox.csv"}
    events = _asset_events(run.run_id)
    assert {e["conn_id"] for e in events} == {"bulksms_default", "netmessenger_default"}
    [bulksms] = [e for e in events if e["conn_id"] == "bulksms_default"]
    assert bulksms["day"] == day and list(bulksms["skipped"]) == ["delivery"]


def _asset_events(run_id: str) -> list[dict[str, Any]]:
    """The extras of the asset events ``run_id`` recorded for the report assets, from the metadata DB."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                               .where(AssetModel.name.like("sms_reports_%"), AssetEvent.source_run_id == run_id)).all()
    return [dict(row[0]) for row in rows]


def _report_files(folder: Path, sent: int, failed: int) -> None:
    folder.mkdir(parents=True)
    for name, rows in (("Messages.csv", sent), ("FailedMessages.csv", failed)):
        (folder / name).write_text("MessageID,Destination\n" + "".join(f"{i},4477\n" for i in range(rows)))


@pytest.mark.parametrize(("failed", "texts_on_call"), [(3, 1), (1, 0)])
def test_pipeline_alert(failed: int, texts_on_call: int, airflow_db: None, sms_simulator: SimulatorServer,
                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    # The alerting gateway is down (nothing listens on its port): the notifier falls back to NetMessenger.
    down = json.loads(bulksms_connection(sms_simulator, "json", retries=0))
    down["host"] = "http://127.0.0.1:9"
    monkeypatch.setenv("AIRFLOW_CONN_SMS_ALERTS_DOWN", json.dumps(down))
    monkeypatch.setenv("SMS_ALERT_CONN_ID", "sms_alerts_down")
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    _report_files(tmp_path / "netmessenger_default" / day, sent=20, failed=failed)
    dag = load_example_dag(EXAMPLES / "example_sms_pipeline_alert.py")

    run = dag.test(logical_date=None)

    assert run.state == "success"
    on_call = ["447700100021", "447700100022"]
    qa = [sms_simulator.bulksms.received(n) for n in on_call]
    assert [len(r) for r in qa] == [texts_on_call] * 2
    if texts_on_call:
        assert qa[0][0]["message"] == f"SMS delivery failures on {day}: 3 of 20 (15%), above 10%."
    alerts = [sms_simulator.netmessenger.received(n) for n in on_call]
    assert [len(a) for a in alerts] == [1, 1]  # once, after the retry, through the fallback
    text = alerts[0][0]["body"]
    assert text.startswith("Airflow: task load_to_warehouse in DAG example_sms_pipeline_alert failed (try 2 of 2)")
    if DAG_TEST_PASSES_EXCEPTION:
        assert text.endswith(f": RuntimeError: warehouse load of {day} failed: connection refused by db-1")
    else:
        assert text.endswith(f", run {run.run_id}.")
    logged = caplog.text + capsys.readouterr().out
    assert "SMS alert needed a fallback: sms_alerts_down (bulksms" in logged
