"""``make e2e``: inbound replies through the receiver plugin, the reply watcher and the replies example.

The script plays the gateway: it posts a BulkSMS JSON-API webhook with two received messages (a
"yes" and a "STOP") to the callback URL of ``bulksms_default`` on the real API server (the
provider's plugin). The receiver stores them; the triggerer's reply watcher turns each into an
asset event of ``sms://replies/bulksms_default``; the scheduler runs ``example_sms_replies``, which
thanks the senders -- skipping the one who said STOP, reported as ``suppressed`` -- and sends that
one the (transactional) opt-out confirmation.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import quote

import requests

REPLIES = "example_sms_replies"
CALLBACK_SECRET = "e2e-cb-" + secrets.token_hex(12)
HAPPY, LEAVING = "447700100071", "447700100072"
THANKS = "Thanks, we got your reply and will be in touch."
BYE = "You will get no more messages from us."
# A manual run has no asset event and no replies in its conf: nothing to send.
MANUAL_STATES = {"read_replies": "success", "any_replies": "success", "any_opt_outs": "success",
                 "acknowledge": "skipped", "confirm_opt_out": "skipped"}
ENV = {"SMS_REPLY_CONN_ID": "bulksms_default", "SMS_REPLY_POLL_INTERVAL": "1"}


def webhook_url(api_url: str, extra: dict[str, Any]) -> str:
    """The receiver's BulkSMS webhook URL for ``bulksms_default`` (as ``sms-callback-url`` prints it)."""
    from airflow_provider_sms.receipts.urls import callback_urls

    urls = callback_urls("bulksms_default", base=api_url, show_secret=True, conn_type="bulksms", extra=extra)
    return next(u.url for u in urls if u.kind == "webhook")


def post_replies(api_url: str, extra: dict[str, Any]) -> None:
    """Post the two received messages as BulkSMS would, with the connection's callback secret."""
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    body = [{"id": f"e2e-in-{secrets.token_hex(4)}", "type": "RECEIVED", "from": number, "to": "447700900000",
             "body": text, "receivedAt": now} for number, text in ((HAPPY, "Yes, Tuesday works"), (LEAVING, "STOP"))]
    answer = requests.post(webhook_url(api_url, extra), json=body, timeout=30)
    if answer.status_code != 200:
        raise RuntimeError(f"the receiver answered the webhook with HTTP {answer.status_code}")
    wrong = requests.post(webhook_url(api_url, {**extra, "callback_secret": "not-the-secret-0123456789"}),
                          json=body, timeout=30)
    if wrong.status_code not in (401, 403):
        raise RuntimeError(f"the receiver answered a wrong secret with HTTP {wrong.status_code}")


def check(api: Any, sim: Any, run_ids: list[str], checks: Any) -> None:
    """Every run succeeded, the yes-sayer was thanked once, the STOP sender only told goodbye."""
    suppressed = 0
    for run_id in run_ids:
        states = {t["task_id"]: t["state"] for t in api.tasks(REPLIES, run_id)}
        state = api.call("GET", f"dags/{REPLIES}/dagRuns/{quote(run_id, safe='')}")["state"]
        checks.check(state == "success" and states.get("read_replies") == "success"
                     and set(states.values()) <= {"success", "skipped"},
                     f"{REPLIES} {run_id} (asset-triggered): run {state}, tasks {states}")
        if states.get("acknowledge") == "success":
            suppressed += int(api.xcom(REPLIES, run_id, "acknowledge")["suppressed_count"])
    received = {n: [m["message"] for m in sim.get("bulksms/received") if m["msisdn"] == n] for n in (HAPPY, LEAVING)}
    checks.check(received == {HAPPY: [THANKS], LEAVING: [BYE]},
                 f"{REPLIES}: the reply was thanked once, the STOP sender not thanked but told once {received}")
    checks.check(suppressed == 1, f"{REPLIES}: the send after the STOP reported its sender as suppressed "
                                  f"({suppressed})")


def check_manual(api: Any, run_id: str, checks: Any) -> None:
    states = {t["task_id"]: t["state"] for t in api.tasks(REPLIES, run_id)}
    checks.check(states == MANUAL_STATES, f"{REPLIES} {run_id}: a manual run without replies sends nothing {states}")
