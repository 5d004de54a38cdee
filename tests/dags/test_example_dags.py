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


def test_nightly_reports_dag_writes_dated_files(airflow_db: None, sms_simulator: SimulatorServer,
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import datetime as dt

    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    yesterday_noon = dt.datetime.combine(yesterday, dt.time(12), tzinfo=dt.UTC)
    sms_simulator.netmessenger.seed_messages(40, 447700300001, yesterday_noon.timestamp(), body="Yesterday")
    sms_simulator.netmessenger.seed_messages(5, 447700300101, dt.datetime.now(dt.UTC).timestamp(), body="Today")
    sms_simulator.clock.advance(600)
    dag = _load_dag(EXAMPLES / "example_sms_nightly_reports.py")

    run = dag.test()

    assert run.state == "success"
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    folder = tmp_path / "netmessenger" / day
    files = {p.name for p in folder.glob("*.csv")}
    assert files == {f"{r}.csv" for r in ("Messages", "MessagesWithBodies", "FailedMessages", "InboundMessages",
                                          "Usage", "BackgroundSends")}
    with (folder / "Messages.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40  # yesterday's only


def test_group_campaign_dag(airflow_db: None, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Path) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    sms_simulator.reset(SimulatorConfig(delivery_delay=0.5, netmessenger_background_delay=1.0))
    dag = _load_dag(EXAMPLES / "example_sms_group_campaign.py")

    run = dag.test()

    assert run.state == "success"
    assert len(sms_simulator.netmessenger.groups()["Volunteers"]) == 300
    assert len(sms_simulator.netmessenger.received()) == 300
    [rejects] = tmp_path.glob("volunteers-rejects-*.csv")
    assert len(rejects.read_text().splitlines()) == 3  # header + the two bad rows


def test_skycore_mms_dag(airflow_db: None, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                         tmp_path: Path) -> None:
    from tests.conftest import skycore_connection

    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    dag = _load_dag(EXAMPLES / "example_sms_skycore_mms.py")

    run = dag.test()

    assert run.state == "success"
    subscribers = ["447700300101", "447700300102", "447700300103"]
    assert [s["number"] for s in sms_simulator.skycore.subscribers("1116")] == subscribers
    assert [sms_simulator.skycore.received_count(n, "sms") for n in subscribers] == [1, 0, 0]
    assert [sms_simulator.skycore.received_count(n, "mms") for n in subscribers] == [1, 1, 1]
    assert all(len(m["slides"]) == 3 for m in sms_simulator.skycore.mms_received())
    [rejects] = tmp_path.glob("skycore-rejects-*.csv")
    assert len(rejects.read_text().splitlines()) == 2  # header + the bad number
    [stats] = (tmp_path / "skycore").glob("statistics-*.csv")
    with stats.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["kind"], r["to"]) for r in rows) == sorted(
        [("sms", "447700300101")] + [("mms", n) for n in subscribers])


def test_bulletin_team_alert_dag(airflow_db: None, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    import json

    from tests.bulletin.conftest import bulletin_connection

    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    sms_simulator.bulletin.load_address_book(json.loads((EXAMPLES / "data" / "bulletin_address_book.json").read_text()))
    dag = _load_dag(EXAMPLES / "example_sms_bulletin_team_alert.py")

    run = dag.test()

    assert run.state == "success"
    counts = {n: sms_simulator.bulletin.received_count(n) for n in
              ("64211000001", "64211000002", "64211000003", "64229999999", "64211000011", "64211000012",
               "64211000013")}
    # 64211000001 is on call and in the data team: one text from each send.
    assert counts == {"64211000001": 2, "64211000002": 1, "64211000003": 1, "64229999999": 0, "64211000011": 1,
                      "64211000012": 1, "64211000013": 1}
    [report] = tmp_path.glob("bulletin-sent-*.csv")
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["recipient"]: r["error"] for r in rows}["64229999999"].endswith("(Number in Blocked List)")
    assert len(rows) == 6  # five recipients as addressed, then the group
