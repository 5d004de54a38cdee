"""Scheduled notifications: appointment reminders from a CSV, one mapped send per time slot.

Every evening the DAG reads the appointments file, picks the ones on the next day, groups people
with the same clinic and time into one batch (one text each), sends each batch as a mapped
``SmsSendOperator`` task, waits for delivery in the triggerer (a deferrable mapped sensor), and
ends with a summary of who was reached and who was not.

"The next day" is counted from the run's ``run_after``, which every run has; a manual run (no
logical date, no data interval) reminds the same people a scheduled run at that moment would.
The file path comes from the ``SMS_APPOINTMENTS_CSV`` environment variable (default: the sample in
``data/``); the connection from ``SMS_EXAMPLE_CONN_ID`` (default ``bulksms_default``).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor

CONN_ID = os.environ.get("SMS_EXAMPLE_CONN_ID", "bulksms_default")
APPOINTMENTS = os.environ.get("SMS_APPOINTMENTS_CSV", str(Path(__file__).parent / "data" / "appointments.csv"))
LOCAL_ZONE = ZoneInfo("Europe/London")  # the clinics' wall clock: appointment times in the file are local

with DAG(
    dag_id="example_sms_appointment_reminders",
    description="Appointment reminders from a CSV: mapped sends per time slot, deferred delivery wait, summary",
    schedule="0 18 * * *",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["sms", "example"],
) as dag:

    @task
    def tomorrows_appointments() -> list[dict[str, str]]:
        """The appointments on the day after the run (local time), read from the CSV."""
        run_after = get_current_context()["dag_run"].run_after
        tomorrow = run_after.astimezone(LOCAL_ZONE).date() + dt.timedelta(days=1)
        with open(APPOINTMENTS, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return [row for row in rows if dt.datetime.fromisoformat(row["starts_at"]).date() == tomorrow]

    @task
    def batches(appointments: list[dict[str, str]]) -> list[dict[str, Any]]:
        """One send per clinic and time: everyone in a slot gets the same text."""
        slots: dict[tuple[str, str], list[str]] = defaultdict(list)
        for row in appointments:
            slots[(row["clinic"], row["starts_at"])].append(row["number"])
        return [
            {"to": numbers,
             "message": f"Reminder: your appointment at {clinic} is tomorrow at {starts_at[11:16]}. "
                        "Reply CANCEL to cancel."}
            for (clinic, starts_at), numbers in sorted(slots.items())
        ]

    @task
    def summary(appointments: list[dict[str, str]], outcomes: list[dict[str, Any]]) -> dict[str, list[str]]:
        """Who was reached and who was not, by name."""
        from airflow_provider_sms.core.recipients import normalise_numbers

        status = {s["recipient"]: s["status"] for outcome in outcomes for s in outcome["statuses"]}
        reached: list[str] = []
        missed: list[str] = []
        for row in appointments:
            [number] = normalise_numbers([row["number"]], "GB")
            (reached if status.get(number) == "delivered" else missed).append(
                f"{row['name']} ({status.get(number, 'not sent')})")
        print(f"Reached {len(reached)} of {len(appointments)}: {', '.join(reached) or 'nobody'}")
        if missed:
            print(f"Not reached: {', '.join(missed)}")
        return {"reached": reached, "not_reached": missed}

    # Task outputs are XComArgs when the DAG is built, hence the ignores on the typed task calls.
    appointments = tomorrows_appointments()
    send = SmsSendOperator.partial(
        task_id="send_reminders", sms_conn_id=CONN_ID, sender="Clinic",
    ).expand_kwargs(batches(appointments))  # type: ignore[arg-type]
    wait = SmsMessageStatusSensor.partial(
        task_id="wait_for_delivery", sms_conn_id=CONN_ID, success_when="all_final", deferrable=True,
        poke_interval=1, timeout=3600,
    ).expand(messages=send.output)
    summary(appointments, wait.output)  # type: ignore[arg-type]
