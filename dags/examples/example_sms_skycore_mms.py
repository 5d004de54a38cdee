"""Skycore: subscribe people to a campaign, text one of them, send the campaign a three-slide MMS,
and pull the account's sending statistics.

Skycore takes one recipient per request and throttles per account (E113): the connection's
``messages_per_second`` paces requests, and throttled calls are retried with back-off. Skycore has
no duplicate suppression, so a retried send task refuses to send again rather than text twice
(``retries=0`` here makes that explicit).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.operators.mms import MmsSendOperator
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsSendOperator

CONN_ID = os.environ.get("SMS_SKYCORE_CONN_ID", "skycore_default")
CAMPAIGN = os.environ.get("SMS_SKYCORE_CAMPAIGN", "1116")
SUBSCRIBERS = Path(__file__).parent / "data" / "skycore_subscribers.csv"
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable

with DAG(
    dag_id="example_sms_skycore_mms",
    description="Skycore: campaign subscriptions, an SMS, a three-slide MMS to the campaign, sending statistics",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 0},
    tags=["sms", "mms", "example", "skycore"],
) as dag:
    subscribe = SmsContactImportOperator(
        task_id="subscribe_to_campaign",
        sms_conn_id=CONN_ID,
        source=str(SUBSCRIBERS),
        columns={"name": "Full name", "number": "Mobile", "email": "Email"},
        group=CAMPAIGN,  # on Skycore the "group" of an import is the campaign subscribed to
        rejects_path=REPORT_DIR + "/skycore-rejects-{{ run_id | replace(':', '-') }}.csv",
    )
    welcome = SmsSendOperator(
        task_id="text_the_organiser",
        sms_conn_id=CONN_ID,
        to=["07700 300101"],
        message="Spring campaign starts now: 3 subscribers are about to get the MMS.",
        sender="Garden",  # an alphanumeric mask over the connection's short code
    )
    mms = MmsSendOperator(
        task_id="send_spring_mms",
        sms_conn_id=CONN_ID,
        campaign=CAMPAIGN,
        subject="Spring sale",
        fallback_text="Our spring sale has started: https://example.com/spring",
        slides=[
            {"image": "https://example.com/spring/flowers.jpg", "text": "Spring is here"},
            {"text": "20% off everything until Sunday", "duration": 8},
            {"image": "https://example.com/spring/map.png", "text": "Find us at the market"},
        ],
    )
    statistics = SmsReportOperator(
        task_id="sending_statistics",
        sms_conn_id=CONN_ID,
        report="sending_statistics",
        # Manual runs have no data interval: bound the report by the run's own time.
        start="{{ (dag_run.run_after - macros.timedelta(hours=1)).isoformat() }}",
        end="{{ (dag_run.run_after + macros.timedelta(hours=1)).isoformat() }}",
        output_path=REPORT_DIR + "/skycore/statistics-{{ run_id | replace(':', '-') }}.csv",
    )
    subscribe >> welcome >> mms >> statistics
