"""e2e only: a send and a deferrable delivery wait on each gateway, the statuses coming from where the
hook says (``SmsHook.status_source``): Bulletin Messenger, Skycore and BulkSMS EAPI (``receipts`` set on
the e2e connection ``bulksms_eapi``) from the receipt store the simulator's callbacks fill through the API server's
receiver plugin; NetMessenger, which pushes no statuses, from its status calls."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor

TARGETS = {  # gateway: (connection, number)
    "bulletin": ("bulletin_messenger_default", "+64211000201"),
    "skycore": ("skycore_default", "+12025550201"),
    "bulksms": ("bulksms_eapi", "+447700100201"),
    "netmessenger": ("netmessenger_default", "+447700100202"),
}

with DAG(dag_id="e2e_receipts_status_waits", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
         catchup=False, tags=["e2e"]) as dag:
    for gateway, (conn_id, number) in TARGETS.items():
        send = SmsSendOperator(task_id=f"send_{gateway}", sms_conn_id=conn_id, to=[number], sender="Receipts",
                               message=f"Delivery receipt check via {gateway}")
        send >> SmsMessageStatusSensor(task_id=f"wait_{gateway}", sms_conn_id=conn_id, messages=send.output,
                                       deferrable=True, poke_interval=2, timeout=600)
