"""The example DAGs run end to end with ``dag.test()`` against the simulator (needs a migrated SQLite DB)."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from tests.conftest import REPO, bulksms_connection

EXAMPLES = REPO / "dags" / "examples"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   env=os.environ.copy(), timeout=300)


def _load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_notification_dag_end_to_end(airflow_db: None, sms_simulator: SimulatorServer,
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sms_simulator.reset(SimulatorConfig(delivery_delay=0.5))
    sms_simulator.bulksms.set_outcome("447700100003", 51)
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    dag = _load_dag(EXAMPLES / "example_sms_notification.py")

    run = dag.test()

    assert run.state == "success"
    numbers = ["447700100001", "447700100002", "447700100003", "447700100004"]
    assert [sms_simulator.bulksms.received_count(n) for n in numbers] == [1, 1, 1, 1]
    reports = list(tmp_path.glob("delivery-*.csv"))
    assert len(reports) == 1
    with reports[0].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["msisdn"]: r["status"] for r in rows} == {
        "447700100001": "delivered", "447700100002": "delivered", "447700100003": "failed",
        "447700100004": "delivered"}
