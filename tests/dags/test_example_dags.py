"""The example DAGs run end to end with ``dag.test()`` against the simulator (needs a migrated SQLite DB)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from tests.conftest import REPO, bulksms_connection
from tests.conftest import load_example_dag as _load_dag

EXAMPLES = REPO / "dags" / "examples"


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


NIGHTLY_REPORTS = ("Messages", "MessagesWithBodies", "FailedMessages", "InboundMessages", "Usage", "BackgroundSends")


def _seed_days(sms_simulator: SimulatorServer, counts: dict[int, int]) -> dt.datetime:
    """``counts[n]`` messages sent at noon n days ago; returns today's midnight (UTC)."""
    today = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    for days_ago, count in counts.items():
        noon = today - dt.timedelta(days=days_ago) + dt.timedelta(hours=12)
        sms_simulator.netmessenger.seed_messages(count, 447700300001 + 1000 * days_ago, noon.timestamp(),
                                                 body=f"{days_ago} days ago")
    sms_simulator.clock.advance(600)
    return today


def _report_rows(folder: Path) -> int:
    assert {p.name for p in folder.glob("*.csv")} == {f"{r}.csv" for r in NIGHTLY_REPORTS}
    with (folder / "Messages.csv").open(newline="") as handle:
        return len(list(csv.DictReader(handle)))


@pytest.mark.parametrize(("kind", "logical_days_ago", "covered_days_ago", "rows"), [
    ("manual run: no logical date, no data interval", None, 1, 40),
    ("run for today (zero-width @daily interval, as the scheduler makes it)", 0, 1, 40),
    ("run for a past date (as a backfill makes it)", 3, 4, 7),
])
def test_nightly_reports_dag_covers_the_day_before(airflow_db: None, sms_simulator: SimulatorServer,
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str,
                                                   logical_days_ago: int | None, covered_days_ago: int,
                                                   rows: int) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    monkeypatch.setenv("SMS_REPORT_DIR", str(tmp_path))
    today = _seed_days(sms_simulator, {0: 5, 1: 40, 4: 7, 5: 3})
    dag = _load_dag(EXAMPLES / "example_sms_nightly_reports.py")
    logical = None if logical_days_ago is None else today - dt.timedelta(days=logical_days_ago)

    run = dag.test(logical_date=logical)

    assert run.state == "success", kind
    covered = (today - dt.timedelta(days=covered_days_ago)).date().isoformat()
    assert [p.name for p in (tmp_path / "netmessenger").iterdir()] == [covered]
    assert _report_rows(tmp_path / "netmessenger" / covered) == rows


def test_report_dag_with_a_real_data_interval(airflow_db: None, sms_simulator: SimulatorServer,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``create_cron_data_intervals=True`` style schedules keep their interval as the window."""
    from airflow.sdk import DAG

    from airflow_provider_sms.operators.reports import SmsReportOperator
    from tests.conftest import netmessenger_connection

    try:
        from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable
    except ImportError:  # Airflow 3.1
        from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    today = _seed_days(sms_simulator, {1: 40, 3: 9, 4: 7})
    # dag.test() needs a dag_id that the DAG folder serializes; the in-memory DAG below is what runs.
    with DAG(dag_id="example_sms_nightly_reports", schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
             start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as dag:
        SmsReportOperator(task_id="pull_messages", sms_conn_id="netmessenger_default", report="Messages",
                          output_path=str(tmp_path / "{window_start:%Y-%m-%d}.csv"))

    run = dag.test(logical_date=today - dt.timedelta(days=2))  # interval: [D-3, D-2)

    assert run.state == "success"
    [written] = tmp_path.glob("*.csv")
    assert written.name == f"{(today - dt.timedelta(days=3)).date().isoformat()}.csv"
    assert len(written.read_text().splitlines()) == 1 + 9


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


def test_replies_dag_thanks_senders_and_honours_stop(airflow_db: None, sms_simulator: SimulatorServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from airflow_provider_sms.core.receipts import ReplyEvent
    from airflow_provider_sms.receipts.store import ReceiptStore

    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
    monkeypatch.setenv("SMS_REPLY_POLL_INTERVAL", "0.01")
    happy, leaving = "447700100061", "447700100062"
    store = ReceiptStore.from_conn_id()  # as the callback receiver stores them
    for n, (sender, text) in enumerate([(happy, "Yes, Tuesday works"), (leaving, "STOP")]):
        store.record_reply(ReplyEvent(gateway="bulksms", conn_id="bulksms_default", event_id=f"in-{n}",
                                      sender=sender, recipient="447700900000", text=text,
                                      received_at=dt.datetime.now(dt.UTC)))
    dag = _load_dag(EXAMPLES / "example_sms_replies.py")
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers  # the asset's watcher, as the triggerer runs it

    async def events() -> list[dict[str, object]]:
        stream = watcher.trigger.run()
        return [(await asyncio.wait_for(stream.__anext__(), timeout=10)).payload for _ in range(2)]

    payloads = asyncio.run(events())
    assert [(p["sender"], p["opt_out"]) for p in payloads] == [(happy, False), (leaving, True)]

    run = dag.test(run_conf={"replies": payloads})

    assert run.state == "success"
    got = {n: [m["message"] for m in sms_simulator.bulksms.received(n)] for n in (happy, leaving)}
    assert got == {happy: ["Thanks, we got your reply and will be in touch."],
                   leaving: ["You will get no more messages from us."]}  # not thanked: opted out
