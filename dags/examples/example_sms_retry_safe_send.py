"""Text an on-call list with task retries on: the send journal makes every retry, clear and re-run safe.

Each chunk of recipients is recorded in the send journal before its request and with its outcome
after it. A retry (or a cleared task, or a re-run of this run) reports the chunks the gateway
answered from the journal, settles a chunk whose answer was lost with the gateway (BulkSMS: its
dedupe id; NetMessenger: a report look-up of that chunk), and sends only what nobody sent yet. The
journal is a SQLite file in ``$AIRFLOW_HOME`` unless the connection ``sms_journal_default`` names
a shared database (PostgreSQL for several workers).

``text_later`` schedules a reminder two hours after the run and ``text_group`` texts a
gateway-side distribution list, with the same protection.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator

CONN_ID = os.environ.get("SMS_RETRY_EXAMPLE_CONN_ID", "netmessenger_default")
ON_CALL = [f"4477001002{i:02d}" for i in range(1, 6)]
ON_CALL_LIST = os.environ.get("SMS_RETRY_EXAMPLE_LIST", "list:On call")

with DAG(
    dag_id="example_sms_retry_safe_send",
    description="Sends with task retries: nobody texted twice, nobody skipped (send journal)",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    params={"numbers": ON_CALL},
    default_args={"retries": 3, "retry_delay": dt.timedelta(seconds=30)},
    tags=["sms", "example", "retries"],
) as dag:
    text_now = SmsSendOperator(
        task_id="text_numbers",
        sms_conn_id=CONN_ID,
        to="{{ params.numbers }}",
        message="Maintenance window starts in 15 minutes.",
        sender="Ops",
    )
    text_later = SmsSendOperator(
        task_id="text_later",
        sms_conn_id=CONN_ID,
        to="{{ params.numbers }}",
        message="Maintenance window is over.",
        sender="Ops",
        send_at="{{ (dag_run.run_after + macros.timedelta(hours=2)).isoformat() }}",
    )
    text_group = SmsGroupSendOperator(
        task_id="text_group",
        sms_conn_id=CONN_ID,
        group=ON_CALL_LIST,
        message="Maintenance window starts in 15 minutes.",
        sender="Ops",
    )
    text_now >> text_later >> text_group
