"""Pipeline-triggered alert: when fresh delivery reports land, check the failure rate and text on-call.

Scheduled on the asset the nightly extraction (``example_sms_reports_all_gateways``) updates for
one NetMessenger connection. The check reads that day's ``Messages`` and ``FailedMessages`` files
(the day and paths come from the triggering asset event; a manual run without one checks
yesterday, counted from ``run_after``) and texts the on-call list when more than
``max_failure_rate`` of the messages failed.

``load_to_warehouse`` is made to fail (param ``simulate_load_failure``) to show the notifier:
no text while the retry is pending, then one text with the default message (DAG, task, run, try
2 of 2, the error's first line), sent through ``SMS_ALERT_CONN_ID`` or, when that gateway fails or
is down, through the fallback connections. The run itself succeeds: ``publish_status`` runs
whatever happened upstream.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, Asset, get_current_context, task

from airflow_provider_sms.notifications.sms import SmsNotifier
from airflow_provider_sms.operators.send import SmsSendOperator

SOURCE_CONN_ID = os.environ.get("SMS_QUALITY_SOURCE_CONN_ID", "netmessenger_default")
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable
SEND_CONN_ID = os.environ.get("SMS_EXAMPLE_CONN_ID", "bulksms_default")
ALERT_CONN_ID = os.environ.get("SMS_ALERT_CONN_ID", "bulksms_default")
FALLBACK_CONN_IDS = [c for c in os.environ.get("SMS_ALERT_FALLBACK_CONN_IDS", "netmessenger_default").split(",") if c]
ON_CALL = ["+44 7700 100021", "+44 7700 100022"]

# The asset example_sms_reports_all_gateways.report_asset() updates for this connection (same name and URI).
SOURCE = Asset(name=f"sms_reports_{SOURCE_CONN_ID}", uri=f"sms-reports://{SOURCE_CONN_ID}")


def _rows(path: str) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


with DAG(
    dag_id="example_sms_pipeline_alert",
    description="Data-quality check on fresh delivery reports; texts on-call when breached",
    schedule=[SOURCE],
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    params={"max_failure_rate": 0.10, "simulate_load_failure": True},
    tags=["sms", "example", "alerts"],
) as dag:

    @task
    def check_failure_rate() -> dict[str, Any]:
        """Share of yesterday's messages that failed, from the files the asset event names."""
        context = get_current_context()
        events = context["triggering_asset_events"].get(SOURCE) or []
        if events:
            day = events[-1].extra["day"]
        else:  # manual run: no event, no data interval; the day before run_after
            day = (context["dag_run"].run_after.astimezone(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
        folder = f"{REPORT_DIR.rstrip('/')}/{SOURCE_CONN_ID}/{day}"
        sent, failed = _rows(f"{folder}/Messages.csv"), _rows(f"{folder}/FailedMessages.csv")
        rate = failed / sent if sent else 0.0
        limit = float(context["params"]["max_failure_rate"])
        return {"day": day, "sent": sent, "failed": failed, "rate": round(rate, 3), "breached": rate > limit,
                "text": f"SMS delivery failures on {day}: {failed} of {sent} ({rate:.0%}), above {limit:.0%}."}

    @task.short_circuit
    def breached(check: dict[str, Any]) -> bool:
        return bool(check["breached"])

    @task(retries=1, retry_delay=dt.timedelta(0), on_failure_callback=SmsNotifier(
        sms_conn_id=ALERT_CONN_ID, fallback_conn_ids=FALLBACK_CONN_IDS, to=ON_CALL, sender="Alerts"))
    def load_to_warehouse(check: dict[str, Any]) -> None:
        if get_current_context()["params"]["simulate_load_failure"]:
            raise RuntimeError(f"warehouse load of {check['day']} failed: connection refused by db-1\n(details)")

    @task(trigger_rule="all_done")
    def publish_status() -> str:
        return "checked"

    check = check_failure_rate()
    text_on_call = SmsSendOperator(
        task_id="text_on_call", sms_conn_id=SEND_CONN_ID, to=ON_CALL, sender="DataQA",
        message="{{ ti.xcom_pull(task_ids='check_failure_rate')['text'] }}",
    )
    # Task outputs are XComArgs when the DAG is built, hence the ignores on the typed task calls.
    breached(check) >> text_on_call  # type: ignore[arg-type]
    load_to_warehouse(check) >> publish_status()  # type: ignore[arg-type]
