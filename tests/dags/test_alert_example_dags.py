"""The appointment-reminder, pipeline-alert and multi-gateway report examples, run with ``dag.test()``.

Every run is a manual run without a logical date or data interval (``logical_date=None``), the way
a run triggered from the UI or the REST API starts.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from tests.conftest import REPO, bulksms_connection

EXAMPLES = REPO / "dags" / "examples"


def _load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


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
    dag = _load_dag(EXAMPLES / "example_sms_appointment_reminders.py")

    run = dag.test(logical_date=None)

    assert run.state == "success"
    tomorrow = [f"4477001000{n}" for n in (11, 12, 13, 14, 15)]
    assert [sms_simulator.bulksms.received_count(n) for n in tomorrow] == [1, 1, 1, 1, 1]
    assert sms_simulator.bulksms.received_count("447700100016") == 0  # the day after: not yet
    [ann] = sms_simulator.bulksms.received("447700100011")
    assert ann["message"] == "Reminder: your appointment at Riverside Clinic is tomorrow at 09:30. Reply CANCEL to cancel."
    out = capsys.readouterr().out
    assert "Reached 4 of 5: Ann Baker (delivered), Bilal Chaudhry (delivered)" in out
    assert "Not reached: Dev Patel (failed)" in out
