"""Nightly report extraction: yesterday's NetMessenger reports, each written to a dated CSV file.

Each report covers the day before the run: the scheduled run at midnight of day D (whose data
interval Airflow 3 makes zero-width by default), a backfill or a run triggered for D, and a
manual run during day D all pull day D-1 into a folder named after D-1 (see
``airflow_provider_sms.operators.report_window``). Pass ``start``/``end`` for another window.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_sms.operators.reports import SmsReportOperator

CONN_ID = os.environ.get("SMS_NETMESSENGER_CONN_ID", "netmessenger_default")
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable
REPORTS = ["Messages", "MessagesWithBodies", "FailedMessages", "InboundMessages", "Usage", "BackgroundSends"]

with DAG(
    dag_id="example_sms_nightly_reports",
    description="Yesterday's NetMessenger reports to dated CSV files",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
    tags=["sms", "example", "reports"],
) as dag:
    for report in REPORTS:
        SmsReportOperator(
            task_id=f"pull_{report.lower()}",
            sms_conn_id=CONN_ID,
            report=report,
            output_path=REPORT_DIR + "/netmessenger/{window_start:%Y-%m-%d}/" + report + ".csv",
        )
