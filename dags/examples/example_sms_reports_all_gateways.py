"""Nightly report extraction from every configured gateway, each connection's files an asset outlet.

For each connection in ``SMS_REPORT_CONN_IDS`` (comma-separated; default ``bulksms_default,
netmessenger_default``, any gateway type) one task pulls every report the gateway offers for
yesterday into ``<SMS_REPORT_DIR>/<conn_id>/<day>/<report>.csv`` (a local path, or an object-storage
URL such as ``s3://bucket/sms``) and records an event on the asset ``sms_reports_<conn_id>``
naming the day and the files, so DAGs scheduled on that asset (``example_sms_pipeline_alert``)
run when it is fresh.

"Yesterday" is the UTC day before the run's ``run_after``, given to the reports as an explicit
``start``/``end``: every run has ``run_after``, while a manual run has no data interval. Reports
that need more than a time window (BulkSMS delivery reports need batch ids) are skipped and listed
in the asset event.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, Asset, get_current_context, task

CONN_IDS = [c.strip() for c in os.environ.get("SMS_REPORT_CONN_IDS", "bulksms_default,netmessenger_default").split(",")
            if c.strip()]
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable


def report_asset(conn_id: str) -> Asset:
    """The asset a connection's nightly files update (import it to schedule a DAG on them)."""
    return Asset(name=f"sms_reports_{conn_id}", uri=f"sms-reports://{conn_id}")


def yesterday(run_after: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day before ``run_after``, as ``[start, end)``."""
    day = run_after.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def extract(conn_id: str) -> dict[str, Any]:
    """Write each of the gateway's reports for yesterday; returns what was written and skipped."""
    from airflow_provider_sms.exceptions import SmsCapabilityError, SmsValidationError
    from airflow_provider_sms.hooks.base import get_sms_hook
    from airflow_provider_sms.operators.reports import write_csv

    context = get_current_context()
    start, end = yesterday(context["dag_run"].run_after)
    folder = f"{REPORT_DIR.rstrip('/')}/{conn_id}/{start.date().isoformat()}"
    hook = get_sms_hook(conn_id)
    files: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for kind in hook.report_kinds():
        try:
            header, rows = hook.iter_report(kind, start=start, end=end)
        except (SmsValidationError, SmsCapabilityError) as error:
            skipped[kind] = str(error)
            continue
        files[f"{folder}/{kind}.csv"] = write_csv(f"{folder}/{kind}.csv", header, rows)
    summary: dict[str, Any] = {"conn_id": conn_id, "gateway": hook.gateway, "day": start.date().isoformat(),
                               "files": files, "skipped": skipped}
    context["outlet_events"][report_asset(conn_id)].extra = summary
    return summary


with DAG(
    dag_id="example_sms_reports_all_gateways",
    description="Yesterday's reports from every configured gateway to dated CSV files, as asset events",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    tags=["sms", "example", "reports"],
) as dag:
    for conn_id in CONN_IDS:
        task(task_id=f"extract_{conn_id}", outlets=[report_asset(conn_id)])(extract)(conn_id)
