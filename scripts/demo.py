"""The demo: run the example DAGs against the local gateway simulator and show what happened.

Run with ``make demo``. It needs no gateway account and no network: the simulator listens on
127.0.0.1, the example DAGs' connections point at it, and each DAG runs with ``dag.test()``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "dags" / "examples"
HOME = REPO / ".demo-airflow"

os.environ["AIRFLOW_HOME"] = str(HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(EXAMPLES)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"  # quiet: no executor warnings when dag.test() runs
# A fixed key: the replies example's asset watcher is stored encrypted, and the next demo reads it back.
os.environ.setdefault("AIRFLOW__CORE__FERNET_KEY", "ZGVtby1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMhISE=")
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
os.environ.setdefault("SMS_REPORT_DIR", tempfile.mkdtemp(prefix="sms-demo-reports-"))
REPORTS = Path(os.environ["SMS_REPORT_DIR"])

FAILING_NUMBER = "447700100003"  # the simulator is told this handset is off, to show a failed delivery


def _load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _connect(server: Any) -> None:
    """Point the example DAGs' connections at the simulator's demo accounts."""
    account = server.config.bulksms_accounts[0]
    os.environ["AIRFLOW_CONN_BULKSMS_DEFAULT"] = json.dumps({
        "conn_type": "bulksms", "host": server.url, "login": account.username, "password": account.password,
        "extra": {"api": "json", "default_region": "GB"},
    })
    bulletin = server.config.bulletin_accounts[0]
    os.environ["AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT"] = json.dumps({
        "conn_type": "bulletin_messenger", "host": server.url, "login": bulletin.user_id,
        "password": bulletin.password, "extra": {"default_region": "NZ"},
    })
    os.environ["AIRFLOW_CONN_NETMESSENGER_DEFAULT"] = json.dumps({
        "conn_type": "netmessenger", "host": server.url, "password": server.config.netmessenger_accounts[0].token,
        "extra": {"default_region": "GB"},
    })
    os.environ["AIRFLOW_CONN_SKYCORE_DEFAULT"] = json.dumps({
        "conn_type": "skycore", "host": server.url + "/API/wxml/1.3/",
        "password": server.config.skycore_accounts[0].api_key,
        "extra": {"default_region": "GB", "short_code": "60856", "messages_per_second": 20},
    })


def _prepare_alert_examples(server: Any) -> None:
    """Inputs of the reminder and alert examples: tomorrow's appointments, a gateway that is down."""
    import csv

    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with (EXAMPLES / "data" / "appointments.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = min(dt.date.fromisoformat(r["starts_at"][:10]) for r in rows)
    for row in rows:
        day = tomorrow + (dt.date.fromisoformat(row["starts_at"][:10]) - first)
        row["starts_at"] = day.isoformat() + row["starts_at"][10:]
    target = REPORTS / "appointments.csv"
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.environ["SMS_APPOINTMENTS_CSV"] = str(target)
    server.bulksms.set_outcome("447700100014", 51)  # one patient's phone is off: the summary shows it
    # The pipeline alert's first gateway is down (nothing listens there), to show the fallback.
    account = server.config.bulksms_accounts[0]
    os.environ["AIRFLOW_CONN_SMS_ALERTS_DOWN"] = json.dumps({
        "conn_type": "bulksms", "host": "http://127.0.0.1:9", "login": account.username,
        "password": account.password, "extra": {"api": "json", "retries": 0}})
    os.environ["SMS_ALERT_CONN_ID"] = "sms_alerts_down"


REPLIES = [("447700100061", "Yes, Tuesday works"), ("447700100062", "STOP")]


def _replies_conf() -> dict[str, Any]:
    """Two replies stored as the callback receiver stores them, and the payloads the reply watcher
    makes of them: the replies example's run takes them from its conf (``dag.test()`` has no asset event)."""
    import uuid

    from airflow_provider_sms.core.receipts import ReplyEvent
    from airflow_provider_sms.receipts.store import ReceiptStore
    from airflow_provider_sms.triggers.replies import reply_payload

    store = ReceiptStore.from_conn_id()
    before = store.last_cursor("replies")
    for sender, text in REPLIES:
        store.record_reply(ReplyEvent(gateway="bulksms", conn_id="bulksms_default", event_id=uuid.uuid4().hex,
                                      sender=sender, recipient="447700900000", text=text,
                                      received_at=dt.datetime.now(dt.UTC)))
    return {"replies": [reply_payload(i, reply) for i, reply in store.replies_after(before, 10)]}


def _run_conf(dag_id: str) -> dict[str, Any] | None:
    return _replies_conf() if dag_id == "example_sms_replies" else None


def _run_order(path: Path) -> tuple[bool, str]:
    # DAGs scheduled on assets run after the DAGs that produce them.
    return ("pipeline_alert" in path.stem, path.stem)


def main() -> int:
    import warnings

    from airflow_provider_sms.gateways.bulksms.codes import eapi_message_status
    from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # Airflow's own, not the demo's

    HOME.mkdir(exist_ok=True)
    print("Preparing Airflow's metadata database (SQLite) ...", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)

    config = SimulatorConfig(delivery_delay=2.0, netmessenger_background_delay=3.0)
    with SimulatorServer(config) as server:
        _connect(server)
        _prepare_alert_examples(server)
        server.bulksms.set_outcome(FAILING_NUMBER, 51)
        server.netmessenger.add_list("On call", [f"4477001002{i:02d}" for i in range(1, 6)])  # retry example
        yesterday_noon = dt.datetime.combine(dt.date.today() - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
        server.netmessenger.seed_messages(25, 447700400001, yesterday_noon.timestamp(), body="Yesterday's reminder")
        server.bulletin.load_address_book(json.loads((EXAMPLES / "data" / "bulletin_address_book.json").read_text()))
        print(f"Gateway simulator listening on {server.url}\n", flush=True)
        failures = 0
        for path in sorted(EXAMPLES.glob("example_*.py"), key=_run_order):
            dag = _load_dag(path)
            print(f"== {dag.dag_id}: {dag.description}", flush=True)
            run = dag.test(run_conf=_run_conf(dag.dag_id))
            print(f"   run {run.run_id}: {run.state}", flush=True)
            failures += run.state != "success"
        bulksms = server.bulksms.received()
        netmessenger = server.netmessenger.received()
        skycore = server.skycore.received()
        bulletin = server.bulletin.received()
        bulletin_sends = server.bulletin.messages()

    print("\nBulkSMS: what each simulated handset received, and the message's final status:")
    print(f"  {'number':<14} {'final status':<28} {'sender':<10} message")
    for item in bulksms:
        status = f"{eapi_message_status(item['status']).meaning} ({item['status']})"
        print(f"  {item['msisdn']:<14} {status:<28} {item['sender'] or '':<10} {item['message']}")
    campaign = [item for item in netmessenger if item["source"] not in ("Seed", "Alerts")]
    print(f"\nNetMessenger: {len(campaign)} campaign messages (first 5 shown; plus {len(netmessenger) - len(campaign)} "
          "seeded yesterday for the nightly reports), final statuses:")
    for item in campaign[:5]:
        print(f"  {item['number']:<14} {item['status']:<12} {item['source']:<10} {item['body']}")
    counts = Counter(str(item["status"]) for item in campaign)
    print("  statuses: " + ", ".join(f"{word} {n}" for word, n in sorted(counts.items())))
    print("\nSkycore: what each simulated handset received (SMS and MMS):")
    for item in skycore:
        what = f"MMS {item['subject']!r}, {len(item['slides'])} slides" if item["kind"] == "mms" else item["text"]
        sender = item["mask"] or item["sender"]
        print(f"  {item['number']:<14} {item['status']:<12} {sender:<10} {what}")
    alerts = [item for item in netmessenger if item["source"] == "Alerts"]
    print(f"\nAlerts sent by SmsNotifier through the fallback gateway (NetMessenger): {len(alerts)}")
    for item in alerts:
        print(f"  {item['number']:<14} {item['body']}")
    print("\nBulletin Messenger: each send's recipients as addressed, and what each handset received:")
    for sent in bulletin_sends:
        outcome = ", ".join(f"{r['to']} ({r['error'] or 'ok'})" for r in sent["recipients"])
        print(f"  {sent['message_id']}: {outcome}")
    for item in bulletin:
        print(f"  {item['number']:<14} {item['status']:<6} {item['body']}")
    print(f"\nReports written under {REPORTS}:")
    for report in sorted(REPORTS.rglob("*.csv")):
        lines = report.read_text().splitlines()
        print(f"  {report.relative_to(REPORTS)}: {max(len(lines) - 1, 0)} rows")
        if report.name.startswith("delivery-"):
            print("    " + "\n    ".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
