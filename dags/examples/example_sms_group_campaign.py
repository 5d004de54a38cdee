"""Import volunteers from a CSV file into a group, text the group, and wait for the background send.

NetMessenger runs sends to groups of more than 200 contacts in the background; the sensor waits
for that send to finish and returns every message's status.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow.sdk import DAG

from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator
from airflow_provider_sms.sensors.background_send import SmsBackgroundSendSensor

CONN_ID = os.environ.get("SMS_NETMESSENGER_CONN_ID", "netmessenger_default")
CONTACTS = Path(__file__).parent / "data" / "volunteers.csv"
REPORT_DIR = os.environ.get("SMS_REPORT_DIR", "/tmp/sms-reports")  # noqa: S108 - example default, overridable

with DAG(
    dag_id="example_sms_group_campaign",
    description="Contact import, then a group send run in the background by the gateway",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["sms", "example", "contacts"],
) as dag:
    import_contacts = SmsContactImportOperator(
        task_id="import_contacts",
        sms_conn_id=CONN_ID,
        source=str(CONTACTS),
        columns={"name": "Full name", "number": "Mobile", "email": "Email"},
        group="Volunteers",
        duplicates="ignore",  # a retried import finds the rows it already loaded as duplicates
        chunk_size=100,
        rejects_path=REPORT_DIR + "/volunteers-rejects-{{ run_id | replace(':', '-') }}.csv",
    )
    send = SmsGroupSendOperator(
        task_id="text_volunteers",
        sms_conn_id=CONN_ID,
        group="group:Volunteers",
        message="Thanks for signing up! Briefing on Saturday at 10:00.",
        sender="Volunteers",
    )
    wait = SmsBackgroundSendSensor(
        task_id="wait_for_background_send",
        sms_conn_id=CONN_ID,
        background_send_id=send.output,
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    import_contacts >> send >> wait
