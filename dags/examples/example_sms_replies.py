"""Reply-triggered DAG: runs when someone answers a text, thanks them, and honours STOP.

Scheduled on the asset ``sms://replies/<conn_id>`` (``sms_reply_asset``): every reply the callback
receiver (or a poller, ``SmsReceiptPollOperator``) stores for the connection becomes an asset event
through the triggerer's reply watcher, and each event starts (or joins) a run of this DAG. The reply
is in the event's ``extra["payload"]``: sender, text, time, the message it answers, ``opt_out``.

* ``acknowledge`` texts every sender back with the default ``honour_opt_outs=True``: whoever replied
  with a stop word (STOP, UNSUBSCRIBE, ...) is already on the suppression list and is skipped,
  reported as ``suppressed``;
* ``confirm_opt_out`` tells those who opted out that they will get nothing more: a transactional
  message, sent with ``honour_opt_outs=False``.

A manual run has no asset event: it takes the replies from its conf (``{"replies": [payload, ...]}``).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, get_current_context, task

from airflow_provider_sms.assets import sms_reply_asset
from airflow_provider_sms.operators.send import SmsSendOperator

CONN_ID = os.environ.get("SMS_REPLY_CONN_ID", "bulksms_default")
REPLIES = sms_reply_asset(CONN_ID, poll_interval=float(os.environ.get("SMS_REPLY_POLL_INTERVAL", "5")))

with DAG(
    dag_id="example_sms_replies",
    description="Runs on inbound SMS replies: thanks the sender, confirms opt-outs",
    schedule=[REPLIES],
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    params={"replies": []},
    tags=["sms", "example", "replies"],
) as dag:

    @task
    def read_replies() -> dict[str, list[str]]:
        """The replies of the triggering asset events (or the manual run's conf), split by opt-out."""
        context = get_current_context()
        events = context["triggering_asset_events"].get(REPLIES) or []
        replies: list[dict[str, Any]] = [e.extra["payload"] for e in events if "payload" in (e.extra or {})]
        if not events:
            replies = list(context["params"]["replies"])
        for reply in replies:
            print(f"reply #{reply.get('store_id')} from {reply['sender']}: {reply['text']!r}")
        return {"senders": list(dict.fromkeys(r["sender"] for r in replies)),
                "opted_out": list(dict.fromkeys(r["sender"] for r in replies if r.get("opt_out")))}

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def any_replies(replies: dict[str, list[str]]) -> bool:
        return bool(replies["senders"])

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def any_opt_outs(replies: dict[str, list[str]]) -> bool:
        return bool(replies["opted_out"])

    replies = read_replies()
    acknowledge = SmsSendOperator(
        task_id="acknowledge",
        sms_conn_id=CONN_ID,
        to="{{ ti.xcom_pull(task_ids='read_replies')['senders'] }}",
        message="Thanks, we got your reply and will be in touch.",
        sender="Support",
    )
    confirm_opt_out = SmsSendOperator(
        task_id="confirm_opt_out",
        sms_conn_id=CONN_ID,
        to="{{ ti.xcom_pull(task_ids='read_replies')['opted_out'] }}",
        message="You will get no more messages from us.",
        sender="Support",
        honour_opt_outs=False,  # transactional: the confirmation itself must reach them
    )
    # Task outputs are XComArgs when the DAG is built, hence the ignores on the typed task calls.
    any_replies(replies) >> acknowledge  # type: ignore[arg-type]
    any_opt_outs(replies) >> confirm_opt_out  # type: ignore[arg-type]
