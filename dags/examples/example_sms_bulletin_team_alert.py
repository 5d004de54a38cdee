"""Bulletin Messenger: text on-call numbers and an address-book group in one send, then the team, then a report.

Messenger takes numbers and address-book names in one ``to``; names are written ``group:Name`` or
``contact:Name`` so a mistyped number is never sent as a name. A recipient the gateway refuses
inside its answer (here a number on the account's blocked list) is reported per recipient; with
``allow_partial_failure=True`` the run goes on. The sent-messages list ends up as a CSV report.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator

CONN_ID = os.environ.get("SMS_BULLETIN_CONN_ID", "bulletin_messenger_default")
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable
ON_CALL = ["+64 21 100 0001", "021 100 0002", "64211000003", "64229999999", "group:oncall-managers"]

with DAG(
    dag_id="example_sms_bulletin_team_alert",
    description="Bulletin Messenger: numbers and an address-book group in one send, a group send, the sent list",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=5)},
    tags=["sms", "example", "bulletin"],
) as dag:
    alert = SmsSendOperator(
        task_id="alert_on_call",
        sms_conn_id=CONN_ID,
        to=ON_CALL,
        message="Kia ora: the nightly load failed (run {{ run_id }}). Reply ACK to take it.",
        sender="Pipeline",
        allow_partial_failure=True,  # the blocked number is reported, the others are texted
    )
    team = SmsGroupSendOperator(
        task_id="tell_the_team",
        sms_conn_id=CONN_ID,
        group="group:data-team",
        message="Heads up: the on-call engineer is looking at the nightly load.",
    )
    sent_report = SmsReportOperator(
        task_id="sent_report",
        sms_conn_id=CONN_ID,
        report="sent",
        output_path=REPORT_DIR + "/bulletin-sent-{{ dag_run.run_after.strftime('%Y%m%dT%H%M%S') }}.csv",
        allow_empty_window=True,  # the sent list is the account's recent messages: it takes no window
    )
    alert >> team >> sent_report
