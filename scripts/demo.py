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
    os.environ["AIRFLOW_CONN_NETMESSENGER_DEFAULT"] = json.dumps({
        "conn_type": "netmessenger", "host": server.url, "password": server.config.netmessenger_accounts[0].token,
        "extra": {"default_region": "GB"},
    })


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
        server.bulksms.set_outcome(FAILING_NUMBER, 51)
        server.netmessenger.add_list("On call", [f"4477001002{i:02d}" for i in range(1, 6)])  # retry example
        yesterday_noon = dt.datetime.combine(dt.date.today() - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
        server.netmessenger.seed_messages(25, 447700400001, yesterday_noon.timestamp(), body="Yesterday's reminder")
        print(f"Gateway simulator listening on {server.url}\n", flush=True)
        failures = 0
        for path in sorted(EXAMPLES.glob("example_*.py")):
            dag = _load_dag(path)
            print(f"== {dag.dag_id}: {dag.description}", flush=True)
            run = dag.test()
            print(f"   run {run.run_id}: {run.state}", flush=True)
            failures += run.state != "success"
        bulksms = server.bulksms.received()
        netmessenger = server.netmessenger.received()

    print("\nBulkSMS: what each simulated handset received, and the message's final status:")
    print(f"  {'number':<14} {'final status':<28} {'sender':<10} message")
    for item in bulksms:
        status = f"{eapi_message_status(item['status']).meaning} ({item['status']})"
        print(f"  {item['msisdn']:<14} {status:<28} {item['sender'] or '':<10} {item['message']}")
    campaign = [item for item in netmessenger if item["source"] != "Seed"]
    print(f"\nNetMessenger: {len(campaign)} campaign messages (first 5 shown; plus {len(netmessenger) - len(campaign)} "
          "seeded yesterday for the nightly reports), final statuses:")
    for item in campaign[:5]:
        print(f"  {item['number']:<14} {item['status']:<12} {item['source']:<10} {item['body']}")
    counts = Counter(str(item["status"]) for item in campaign)
    print("  statuses: " + ", ".join(f"{word} {n}" for word, n in sorted(counts.items())))
    print(f"\nReports written under {REPORTS}:")
    for report in sorted(REPORTS.rglob("*.csv")):
        lines = report.read_text().splitlines()
        print(f"  {report.relative_to(REPORTS)}: {max(len(lines) - 1, 0)} rows")
        if report.name.startswith("delivery-"):
            print("    " + "\n    ".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
