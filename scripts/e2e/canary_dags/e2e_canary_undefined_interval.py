"""A DAG that must FAIL on a manual trigger: the nightly report example as it was before issue 14.

The end-to-end test triggers it manually and expects the run to fail (Airflow 3 manual runs have
no data interval, so ``data_interval_start`` is undefined). It proves the test notices an example
DAG that fails on a manual trigger, instead of only ever seeing green runs.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_sms.operators.reports import SmsReportOperator

with DAG(
    dag_id="e2e_canary_undefined_interval",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["e2e"],
) as dag:
    SmsReportOperator(
        task_id="pull_messages",
        sms_conn_id="netmessenger_default",
        report="Messages",
        output_path=os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - test default
        + "/canary/{{ data_interval_start | ds }}/Messages.csv",
    )
