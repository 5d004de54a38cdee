"""``make e2e``: issue 10's user-facing half in a real deployment, with the simulator calling back.

* Status waits: ``e2e_receipts_status_waits`` sends on each gateway and waits with a deferrable
  ``SmsMessageStatusSensor``. Bulletin Messenger, Skycore and BulkSMS EAPI (``receipts`` on the
  ``bulksms_eapi`` connection) read the receipt store, which the simulator's status callbacks fill
  through the API server's receiver plugin; NetMessenger (no status push) asks the gateway.
* Replies: two handsets answer on BulkSMS through the simulator, one after the other
  (``/_sim/bulksms/reply``: a JSON-API webhook to the plugin), "Yes" and "STOP". The triggerer's
  reply watcher turns each stored reply into an asset event of ``sms://replies/bulksms_default``;
  the scheduler runs ``example_sms_replies``, which thanks the senders -- skipping the one who said
  STOP, reported as ``suppressed`` -- and sends that one the (transactional) opt-out confirmation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

REPLIES = "example_sms_replies"
STATUS_WAITS = "e2e_receipts_status_waits"
DAGS = Path(__file__).resolve().parent / "receipt_dags"
HAPPY, LEAVING = "447700100071", "447700100072"
THANKS = "Thanks, we got your reply and will be in touch."
BYE = "You will get no more messages from us."
# A manual run has no asset event and no replies in its conf: nothing to send.
MANUAL_STATES = {"read_replies": "success", "any_replies": "success", "any_opt_outs": "success",
                 "acknowledge": "skipped", "confirm_opt_out": "skipped"}
ENV = {"SMS_REPLY_CONN_ID": "bulksms_default", "SMS_REPLY_POLL_INTERVAL": "1"}
#: bulksms_eapi's statuses come from the receipt store (the simulator's EAPI status push fills it);
#: bulksms_default keeps asking the gateway, as the examples expect.
BULKSMS_EAPI_EXTRA = {"receipts": True}
GATEWAYS = ("bulletin", "skycore", "bulksms", "netmessenger")
FROM_STORE = {"bulletin", "skycore", "bulksms"}


def with_eapi_status_push(settings: dict[str, dict[str, str]], api_url: str,
                          secret: str) -> dict[str, dict[str, str]]:
    """The simulator's account settings plus the EAPI status push to ``bulksms_eapi``'s receiver URL."""
    from airflow_provider_sms.receipts.urls import callback_urls

    urls = callback_urls("bulksms_eapi", base=api_url, show_secret=True, conn_type="bulksms",
                         extra={"callback_secret": secret})
    push = next(u.url for u in urls if u.kind == "status")
    return {**settings, "bulksms": {**settings.get("bulksms", {}), "push_url": push}}


def reparse(api: Any) -> None:
    """Have the replies example parsed again now that it is unpaused: Airflow registers an asset
    watcher's trigger when it parses an unpaused DAG, and the e2e's DAG processor re-parses a file
    only every 5 minutes by itself."""
    token = api.call("GET", f"dags/{REPLIES}")["file_token"]
    api.call("PUT", f"parseDagFile/{token}", ok=(201,))


def send_reply(sim: Any, number: str, text: str) -> None:
    """A handset answers; the simulator's webhook reaches the plugin before ``advance`` returns."""
    sim.post("bulksms/reply", {"number": number, "text": text})
    requests.post(f"{sim.url}/_sim/advance", params={"seconds": "0"}, timeout=60).raise_for_status()


def _events(api: Any, run_id: str) -> list[dict[str, Any]]:
    """The extras of the asset events a run consumed (none yet while Airflow cannot say)."""
    return [e.get("extra") or {} for e in api.upstream_asset_events(REPLIES, run_id) or []]


def reply_runs(api: Any, wait_for: Any, sim: Any) -> list[str]:
    """The replies, one after the other, and the example's asset-triggered runs that consumed them.

    The second reply is sent once a run has taken the first: two asset events milliseconds apart can
    race Airflow's scheduler (the second then waits for a later event; see docs/opt-outs.md).
    """
    runs: list[str] = []
    for number, text in ((HAPPY, "Yes, Tuesday works"), (LEAVING, "STOP")):
        send_reply(sim, number, text)

        def find(number: str = number) -> list[str] | None:
            found = [str(r["dag_run_id"]) for r in api.runs(REPLIES) if r["run_type"] == "asset_triggered"]
            senders = {e.get("payload", {}).get("sender") for run_id in found for e in _events(api, run_id)}
            return found if number in senders else None

        runs = wait_for(f"a run of {REPLIES} triggered by the reply of {number}", find, 300, 2)
    return runs


def check(api: Any, sim: Any, run_ids: list[str], checks: Any) -> None:
    """Every run succeeded, each reply was handed over once, the yes-sayer was thanked once, the STOP
    sender not thanked but told goodbye once."""
    suppressed = 0
    store_ids: list[int] = []
    for run_id in run_ids:
        states = {t["task_id"]: t["state"] for t in api.tasks(REPLIES, run_id)}
        state = api.call("GET", f"dags/{REPLIES}/dagRuns/{quote(run_id, safe='')}")["state"]
        checks.check(state == "success" and states.get("read_replies") == "success"
                     and set(states.values()) <= {"success", "skipped"},
                     f"{REPLIES} {run_id} (asset-triggered): run {state}, tasks {states}")
        store_ids += [e["payload"]["store_id"] for e in _events(api, run_id) if e.get("from_trigger")]
        if states.get("acknowledge") == "success":
            suppressed += int(api.xcom(REPLIES, run_id, "acknowledge")["suppressed_count"])
    checks.check(bool(store_ids) and len(store_ids) == len(set(store_ids)),
                 f"{REPLIES}: each stored reply became one asset event (store ids {sorted(store_ids)})")
    received = {n: [m["message"] for m in sim.get("bulksms/received") if m["msisdn"] == n] for n in (HAPPY, LEAVING)}
    checks.check(received == {HAPPY: [THANKS], LEAVING: [BYE]},
                 f"{REPLIES}: the reply was thanked once, the STOP sender not thanked but told once {received}")
    checks.check(suppressed == 1, f"{REPLIES}: the send after the STOP reported its sender as suppressed "
                                  f"({suppressed})")


def check_manual(api: Any, run_id: str, checks: Any) -> None:
    states = {t["task_id"]: t["state"] for t in api.tasks(REPLIES, run_id)}
    checks.check(states == MANUAL_STATES, f"{REPLIES} {run_id}: a manual run without replies sends nothing {states}")


def check_status_waits(api: Any, home: Path, run_id: str, checks: Any) -> None:
    """Each gateway's deferrable wait deferred, then completed with the message delivered."""
    states = {t["task_id"]: t["state"] for t in api.tasks(STATUS_WAITS, run_id)}
    checks.check(set(states.values()) == {"success"}, f"{STATUS_WAITS} {run_id}: every task succeeded {states}")
    for gateway in GATEWAYS:
        value = api.xcom(STATUS_WAITS, run_id, f"wait_{gateway}") or {}
        folder = home / "logs" / f"dag_id={STATUS_WAITS}" / f"run_id={run_id}" / f"task_id=wait_{gateway}"
        deferred = any(folder.glob("*.trigger.*.log"))
        source = "the receipt store (simulator callbacks through the plugin)" if gateway in FROM_STORE \
            else "the gateway's status calls (it pushes no statuses)"
        checks.check(deferred and value.get("delivered") == 1 and value.get("total") == 1,
                     f"{STATUS_WAITS}: {gateway} send delivered, the deferred sensor read {source} "
                     f"(deferred: {deferred}, result {value.get('delivered')}/{value.get('total')})")
