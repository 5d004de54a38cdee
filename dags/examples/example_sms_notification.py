"""Scheduled notification: check credits, text a list of people, wait for delivery, pull the delivery report.

Runs against the local simulator in the demo (``make demo``) and in the test suite; point the
``bulksms_default`` connection at a real account to use it for real.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_sms.operators.credits import SmsCreditCheckOperator
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor

CONN_ID = os.environ.get("SMS_EXAMPLE_CONN_ID", "bulksms_default")
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable
ON_CALL = ["+44 7700 100001", "07700 100002", "+44 (0)7700 100003", "447700100004"]

with DAG(
    dag_id="example_sms_notification",
    description="Morning notification by SMS, with delivery tracking and a delivery report",
    schedule="0 8 * * 1-5",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=5)},
    tags=["sms", "example"],
) as dag:
    check_credits = SmsCreditCheckOperator(
        task_id="check_credits",
        sms_conn_id=CONN_ID,
        min_credits=len(ON_CALL),
    )
    send = SmsSendOperator(
        task_id="send",
        sms_conn_id=CONN_ID,
        to=ON_CALL,
        message="Good morning: the overnight pipeline finished (run {{ run_id }}).",
        sender="Pipeline",
        allow_partial_failure=False,
    )
    wait_for_delivery = SmsMessageStatusSensor(
        task_id="wait_for_delivery",
        sms_conn_id=CONN_ID,
        messages=send.output,
        success_when="all_final",  # report failed deliveries without failing the run
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    delivery_report = SmsReportOperator(
        task_id="delivery_report",
        sms_conn_id=CONN_ID,
        report="delivery",
        batch_ids=send.output,
        output_path=REPORT_DIR + "/delivery-{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S') }}.csv",
    )

    check_credits >> send >> wait_for_delivery >> delivery_report
