"""A big send for the Celery deployment test: 2,400 recipients through BulkSMS, one try at a time.

``scripts/e2e/multi_worker.py`` SIGKILLs the Celery worker running the first try in the middle of
the send; Airflow then fails that try (no heartbeat) and retries it on the other worker, which reads
the send journal (PostgreSQL, the ``sms_journal_default`` connection) to send only what the first
try did not. Chunks of 100 (the connection's ``max_recipients_per_request``) make 24 requests.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_sms.operators.send import SmsSendOperator

RECIPIENTS = [f"447712{300000 + i}" for i in range(2400)]

with DAG(
    dag_id="e2e_celery_big_send",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["e2e"],
) as dag:
    SmsSendOperator(
        task_id="text_everyone",
        sms_conn_id="bulksms_default",
        # Written in E.164 and in order, as from an ordered query: the send reads the list where it
        # stands (E164Digits), so the retry after the SIGKILL goes through that path.
        to=[f"+{number}" for number in RECIPIENTS],
        message="Polling stations are open until 22:00 today.",
        sender="Elections",
        xcom_results="summary",
        retries=2,
        retry_delay=dt.timedelta(seconds=2),
    )
