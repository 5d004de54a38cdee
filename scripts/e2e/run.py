"""``make e2e``: the example DAGs in a real Airflow deployment, as a user runs them.

Starts the gateway simulator and Airflow's API server, scheduler, DAG processor and triggerer
(LocalExecutor, SQLite) from the given virtualenv on loopback ports, then:

* sets up the simulated accounts the examples expect (NetMessenger messages seeded on past days and an
  "On call" list, handsets that are off, the Bulletin address book and blocked number) and writes the
  appointments file (tomorrow's and today's appointments);
* creates a connection for each of the four gateways (and a down one for the pipeline alert's
  fallback) through the REST API and calls the connection-test endpoint for each (success, and the
  gateway's refusal on a wrong password);
* lets the scheduler make each time-scheduled example DAG's latest run, triggers every example DAG
  manually (no logical date, no data interval), the nightly report for a past date, with a real
  data interval and as a backfill, the group campaign once more with a logical date, and the
  pipeline alert manually once the reports DAG has written its files (its asset events trigger it
  too);
* SIGKILLs the triggerer while the notification DAG's sensor is deferred and starts a new one;
* asserts every task's final state (the pipeline alert's load fails on purpose and its notifier
  texts on-call through the fallback once per run), the report windows and row counts, what each
  simulated handset received on every gateway, and that a canary DAG with the old
  undefined-variable template fails;
* has the simulator call back into the API server's receiver plugin (statuses of the examples'
  sends, a reply on each gateway, a forged callback) and checks the receipts store (``receipts.py``);
* scans every task log and every Airflow process's output for the four connections' secrets and the
  callback secret (plain, URL-encoded, base64, and as HTTP Basic credentials).

Everything it started is stopped, also on failure; the last lines say where the logs are.
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import replies
from deployment import Api, Deployment, copy_tree, wait_for
from receipts import account_settings, check_callbacks, check_statuses

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "dags" / "examples"
CANARY = Path(__file__).resolve().parent / "canary_dags"

NOTIFICATION = "example_sms_notification"
NIGHTLY = "example_sms_nightly_reports"
CAMPAIGN = "example_sms_group_campaign"
APPOINTMENTS = "example_sms_appointment_reminders"
REPORTS_ALL = "example_sms_reports_all_gateways"
PIPELINE = "example_sms_pipeline_alert"
BULLETIN = "example_sms_bulletin_team_alert"
SKYCORE = "example_sms_skycore_mms"
RETRY_SAFE = "example_sms_retry_safe_send"
REPORT_CONN_IDS = ["bulksms_default", "netmessenger_default", "bulletin_messenger_default", "skycore_default"]
SCHEDULED = (NOTIFICATION, NIGHTLY, APPOINTMENTS, REPORTS_ALL)  # time-scheduled: the scheduler makes a run
CANARY_DAG = "e2e_canary_undefined_interval"
ON_CALL = ["447700100001", "447700100002", "447700100003", "447700100004"]
FAILING = "447700100003"  # the simulator says this handset is off: the sensor's log must name it
FINAL = {"success", "failed", "upstream_failed", "skipped", "removed"}
SEEDED = {1: 25, 4: 7, 5: 3, 6: 2}  # messages sent at noon n days ago, for the nightly report windows
# Tasks that fail on purpose: the pipeline alert's load fails twice to show the notifier (its run succeeds).
EXPECTED_FAILURES = {PIPELINE: {"load_to_warehouse"}}
PIPELINE_STATES = {"check_failure_rate": "success", "breached": "success", "load_to_warehouse": "failed",
                   "publish_status": "success"}  # text_on_call: success when the rate was breached, else skipped
PIPELINE_ON_CALL = ["447700100021", "447700100022"]
FAILING_PATIENTS = {"447700100014", "447700100714"}  # their phones are off: the reminders' summary names them
LONDON = ZoneInfo("Europe/London")
RETRY_ON_CALL = [f"4477001002{i:02d}" for i in range(1, 6)]
BULLETIN_COUNTS = {"64211000001": 2, "64211000002": 1, "64211000003": 1, "64229999999": 0, "64211000011": 1,
                   "64211000012": 1, "64211000013": 1}  # 64211000001 is on call and in the data team
SKYCORE_SUBSCRIBERS = ["447700300101", "447700300102", "447700300103"]


class Checks:
    """Collects failed checks instead of stopping at the first, so one run shows every problem."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed = 0

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failures.append(what)
            print(f"  FAIL {what}", flush=True)
        return ok

    def finish(self, title: str, started: float, error: BaseException | None) -> int:
        """Print the tally and every failure, re-raise an interrupt; the exit status."""
        minutes = (time.monotonic() - started) / 60
        print(f"{title}: {self.passed} checks passed, {len(self.failures)} failed, {minutes:.1f} min")
        for failure in self.failures:
            print(f"  FAILED: {failure}")
        if error is not None and not isinstance(error, Exception):
            raise error
        return 1 if self.failures else 0


def _log(text: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- the simulator -----------------------------------------------------------------------------


class Simulator:
    """The gateway simulator as its own process (as a user runs it: the console command)."""

    def __init__(self, venv: Path, log: Path, secrets_: dict[str, str],
                 settings: dict[str, dict[str, str]] | None = None) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(venv / "bin" / "python"), "-m", "airflow_provider_sms.simulator", "--port", "0",
                 # Long enough that, on a loaded CI machine, the sensors still find messages pending
                 # and defer (the triggerer is killed while one is deferred).
                 "--delivery-delay", "40", "--background-delay", "8", "--credits", "100000",
                 "--password", secrets_["bulksms"], "--netmessenger-token", secrets_["netmessenger"],
                 "--bulletin-password", secrets_["bulletin_messenger"],
                 "--skycore-api-key", secrets_["skycore"], "--account-settings", json.dumps(settings or {})],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.url: str = wait_for("the simulator", self._url, 60, 0.2)

    def _url(self) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the simulator exited; see {self.log}")
        first = self.log.read_text().splitlines()[:1]
        return first[0].rsplit(" ", 1)[1] if first and "listening on" in first[0] else None

    def get(self, path: str, **params: str) -> Any:
        answer = requests.get(f"{self.url}/_sim/{path}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = requests.post(f"{self.url}/_sim/{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


# -- secrets -------------------------------------------------------------------------------------


def secret_forms(login: str, secret: str) -> dict[str, str]:
    """The ways a secret could leak: as is, URL-encoded, base64, and inside an HTTP Basic header."""
    return {
        "plain": secret,
        "url-encoded": quote(secret, safe=""),
        "base64": base64.b64encode(secret.encode()).decode().rstrip("="),
        "basic-auth": base64.b64encode(f"{login}:{secret}".encode()).decode().rstrip("="),
    }


def scan_for_secrets(files: Iterable[Path], forms: dict[str, str]) -> list[str]:
    """``file: form`` for every file holding one of ``forms``."""
    found = []
    for path in files:
        text = path.read_text(errors="replace")
        found += [f"{path}: {name}" for name, value in forms.items() if value in text]
    return found


def fresh_secrets(out: Path) -> tuple[dict[str, str], dict[str, str]]:
    """New random credentials for the four gateways and the callback URLs, and every form of them the log scan looks for
    (checked first: the scan finds a planted Basic header of each)."""
    secrets_ = {"bulksms": "e2e-bulk-" + secrets.token_hex(10), "netmessenger": "e2e-nm-" + secrets.token_hex(10),
                "bulletin_messenger": "e2e-bm-" + secrets.token_hex(10), "skycore": "e2e-sky-" + secrets.token_hex(10),
                "callback": "e2e-cb-" + secrets.token_hex(12)}
    logins = {"bulksms": "demo", "netmessenger": "demo", "bulletin_messenger": "demo", "skycore": "", "callback": ""}
    forms = {f"{gateway} {k}": v for gateway, secret in secrets_.items()
             for k, v in secret_forms(logins[gateway], secret).items()}
    probe = out / "scan-probe.txt"
    for gateway, secret in secrets_.items():
        probe.write_text("Authorization: Basic " + secret_forms(logins[gateway], secret)["basic-auth"])
        assert scan_for_secrets([probe], forms), f"the secret scan misses a Basic header of {gateway}"
    probe.unlink()
    return secrets_, forms


# -- the scenario ---------------------------------------------------------------------------------


def _connections(sim_url: str, port: int, secrets_: dict[str, str]) -> dict[str, dict[str, Any]]:
    extra = {"default_region": "GB", "retry_backoff": 0.2, "callback_secret": secrets_["callback"]}
    password, token = secrets_["bulksms"], secrets_["netmessenger"]
    return {
        "bulksms_default": {"conn_type": "bulksms", "host": sim_url, "port": port, "login": "demo",
                            "password": password, "extra": json.dumps({**extra, "api": "json"})},
        "bulksms_eapi": {"conn_type": "bulksms", "host": sim_url, "port": port, "login": "demo",
                         "password": password,
                         "extra": json.dumps({**extra, "api": "eapi", **replies.BULKSMS_EAPI_EXTRA})},
        "netmessenger_default": {"conn_type": "netmessenger", "host": sim_url, "port": port, "password": token,
                                 "extra": json.dumps(extra)},
        "bulletin_messenger_default": {"conn_type": "bulletin_messenger", "host": sim_url, "login": "demo",
                                       "password": secrets_["bulletin_messenger"],
                                       "extra": json.dumps({**extra, "default_region": "NZ"})},
        "skycore_default": {"conn_type": "skycore", "host": sim_url + "/API/wxml/1.3/",
                            "password": secrets_["skycore"],
                            "extra": json.dumps({**extra, "short_code": "60856", "messages_per_second": 20})},
    }


def _down_connection(secrets_: dict[str, str]) -> dict[str, Any]:
    """The pipeline alert's first alerting gateway: nothing listens there, so the notifier falls back."""
    return {"conn_type": "bulksms", "host": "http://127.0.0.1:9", "login": "demo", "password": secrets_["bulksms"],
            "extra": json.dumps({"api": "json", "retries": 0, "default_region": "GB"})}


# What a successful connection test says: the account was read (BulkSMS and NetMessenger report the
# credit balance; Bulletin Messenger reads the sent list, Skycore the saved MMS).
TEST_SUCCESS = {"bulksms": "credit balance", "netmessenger": "credit balance",
                "bulletin_messenger": "Connected to Bulletin Messenger",
                "skycore": "API key and IP allow-list accepted"}


# The name a gateway's errors start with, where it differs from the connection type.
GATEWAY_NAMES = {"bulletin_messenger": "bulletin"}


def gateway_prefix(conn_type: str) -> str:
    """``[gateway]``: how the provider's errors for a connection type start."""
    return f"[{GATEWAY_NAMES.get(conn_type, conn_type)}]"


def test_connections(api: Api, connections: dict[str, dict[str, Any]], checks: Checks) -> None:
    for conn_id, body in connections.items():
        api.call("POST", "connections", json={"connection_id": conn_id, **body})
        result = api.call("POST", "connections/test", json={"connection_id": conn_id, **body})
        checks.check(result["status"] is True and TEST_SUCCESS[body["conn_type"]] in result["message"],
                     f"connection test {conn_id} ({body['conn_type']}): {result['message']}")
        wrong = {**body, "password": "not-the-password-" + secrets.token_hex(4)}
        refused = api.call("POST", "connections/test", json={"connection_id": conn_id + "_wrong", **wrong})
        gateway_said = refused["message"].startswith(gateway_prefix(body["conn_type"])) and any(
            word in refused["message"].lower() for word in ("auth", "password", "api key"))
        checks.check(refused["status"] is False and gateway_said,
                     f"connection test {conn_id} with a wrong password fails: {refused['message']}")


def _midnight(days_ago: int) -> dt.datetime:
    today = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    return today - dt.timedelta(days=days_ago)


BAD = {"failed", "up_for_retry", "upstream_failed"}


def _wait_runs_final(api: Api, deployment: Deployment, dag_runs: dict[str, list[str]], timeout: float) -> None:
    """Wait until every run is final; stop at once when a task of a run meant to succeed fails or retries
    (the examples' retry delays would otherwise hide a failure for minutes). Tasks that fail on purpose
    (``EXPECTED_FAILURES``) are checked afterwards."""

    def all_final() -> bool | None:
        deployment.check_alive()
        done = True
        for dag_id, run_ids in dag_runs.items():
            states = {r["dag_run_id"]: r["state"] for r in api.runs(dag_id)}
            allowed = EXPECTED_FAILURES.get(dag_id, set())
            for run_id in run_ids:
                if dag_id != CANARY_DAG and states.get(run_id) != "success":
                    bad = {t["task_id"]: t["state"] for t in api.tasks(dag_id, run_id)
                           if t["state"] in BAD and t["task_id"] not in allowed}
                    if bad:
                        raise RuntimeError(f"{dag_id} {run_id}: tasks did not succeed: {bad}; the end of their "
                                           f"logs:\n{_log_tails(deployment, dag_id, run_id, set(bad))}")
                done = done and states.get(run_id) in ("success", "failed")
        return True if done else None

    wait_for(f"runs to finish: {dag_runs}", all_final, timeout, 3)


def _log_tails(deployment: Deployment, dag_id: str, run_id: str, task_ids: set[str], lines: int = 15) -> str:
    """The last lines of every log (tries and triggers) of ``task_ids`` in a run, so a failure in CI can be
    understood from the CI output alone."""
    run_dir = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    parts = []
    for task_id in sorted(task_ids):
        for path in sorted((run_dir / f"task_id={task_id}").rglob("*.log*")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.relative_to(run_dir)}\n" + "\n".join(line[:400] for line in tail))
    return "\n".join(parts) or f"(no logs under {run_dir})"


def _asset_triggered_runs(api: Api, events: int, dag_id: str = PIPELINE) -> list[str]:
    """A DAG's asset-triggered runs, once they have consumed ``events`` asset events."""

    def find() -> list[str] | None:
        runs = [str(r["dag_run_id"]) for r in api.runs(dag_id) if r["run_type"] == "asset_triggered"]
        consumed_by_run = [api.upstream_asset_events(dag_id, run_id) for run_id in runs]
        if any(events_ is None for events_ in consumed_by_run):
            return None  # a run created by an event has not started yet: ask again
        consumed = sum(len(events_ or []) for events_ in consumed_by_run)
        if consumed > events:
            raise RuntimeError(f"{dag_id}: {consumed} asset events consumed, only {events} expected")
        return runs if consumed == events else None

    return wait_for(f"{dag_id} runs triggered by {events} asset events", find, 300, 3)


def _scheduled_run(api: Api, dag_id: str) -> str:
    def find() -> str | None:
        runs = [r for r in api.runs(dag_id) if r["run_type"] == "scheduled"]
        return str(runs[0]["dag_run_id"]) if runs else None

    return wait_for(f"the scheduler's run of {dag_id}", find, 240, 3)


def _kill_triggerer_while_deferred(api: Api, deployment: Deployment, run_id: str) -> dt.datetime:
    def deferred() -> bool | None:
        states = {t["task_id"]: t["state"] for t in api.tasks(NOTIFICATION, run_id)}
        if states.get("wait_for_delivery") in FINAL:
            raise RuntimeError(f"wait_for_delivery finished before it was deferred: {states}")
        return True if states.get("wait_for_delivery") == "deferred" else None

    wait_for("the notification sensor to defer", deferred, 240, 1)
    _log("sensor deferred: SIGKILL the triggerer, start a new one")
    deployment.kill("triggerer", signal.SIGKILL)
    killed_at = dt.datetime.now(dt.UTC)
    time.sleep(2)
    deployment.start("triggerer", "triggerer")
    return killed_at


def _trigger_started_after(home: Path, run_id: str, moment: dt.datetime) -> bool:
    """Did a triggerer start the sensor's trigger after ``moment`` (the new triggerer, not the killed one)?"""
    folder = home / "logs" / f"dag_id={NOTIFICATION}" / f"run_id={run_id}" / "task_id=wait_for_delivery"
    for path in folder.glob("*.trigger.*.log"):
        for line in path.read_text(errors="replace").splitlines():
            event = json.loads(line) if line.startswith("{") else {}
            if str(event.get("event", "")).endswith("starting") and \
                    dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")) > moment:
                return True
    return False


def _check_run(api: Api, dag_id: str, run_id: str, expected: str, checks: Checks) -> dict[str, str]:
    states = {t["task_id"]: t["state"] for t in api.tasks(dag_id, run_id)}
    wanted = {task: expected for task in states} if expected == "success" else None
    if wanted is not None:
        checks.check(states == wanted and bool(states), f"{dag_id} {run_id}: every task succeeded {states}")
    return states


def _check_reports(api: Api, run_id: str, days_ago: int, checks: Checks) -> None:
    covered = _midnight(days_ago)
    value = api.xcom(NIGHTLY, run_id, "pull_messages")
    rows = SEEDED.get(days_ago, 0)
    checks.check(value["window_start"] == covered.isoformat() and value["rows"] == rows
                 and f"/netmessenger/{covered.date().isoformat()}/" in value["path"],
                 f"{NIGHTLY} {run_id}: Messages report covers {covered.date()} with {rows} rows "
                 f"(got {value['window_start']}, {value['rows']} rows, {value['path']})")


def _backfill(api: Api, from_days_ago: int, to_days_ago: int) -> list[tuple[str, int]]:
    """Backfill the nightly reports; ``(run_id, days_ago of the day it covers)`` of each run."""
    body = {"dag_id": NIGHTLY, "from_date": _midnight(from_days_ago).isoformat(),
            "to_date": _midnight(to_days_ago).isoformat(), "max_active_runs": 2}

    def create() -> bool | None:
        # SQLite: the API answers 503 ("Database is locked") while the scheduler writes; nothing was created.
        answer = api.session.post(f"{api.url}/api/v2/backfills", json=body, timeout=60)
        if answer.status_code == 503:
            return None
        if not answer.ok:
            raise RuntimeError(f"POST backfills: HTTP {answer.status_code}: {answer.text[:300]}")
        return True

    wait_for("the backfill to be accepted", create, 120, 3)

    def created() -> list[tuple[str, int]] | None:
        runs = [r for r in api.runs(NIGHTLY) if r["run_type"] == "backfill"]
        today = _midnight(0)
        return [(str(r["dag_run_id"]), (today - dt.datetime.fromisoformat(r["logical_date"])).days + 1)
                for r in runs] or None

    return wait_for("the backfill's runs", created, 120, 2)


def _task_log(home: Path, dag_id: str, run_id: str, task_id: str) -> str:
    folder = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    return "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))


def _uk(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return "44" + digits[1:] if digits.startswith("0") else digits


def write_appointments(path: Path) -> list[tuple[str, str, dt.date]]:
    """The sample appointments moved so its first day is tomorrow (London), plus a copy of that day's rows
    (other numbers) the day before, which a scheduled run made before today's 18:00 reminds.
    Returns ``(name, number, day)`` of every row."""
    with (EXAMPLES / "data" / "appointments.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = min(dt.date.fromisoformat(r["starts_at"][:10]) for r in rows)
    tomorrow = dt.datetime.now(LONDON).date() + dt.timedelta(days=1)
    written: list[dict[str, str]] = []
    for row in rows:
        offset = dt.date.fromisoformat(row["starts_at"][:10]) - first
        written.append({**row, "starts_at": (tomorrow + offset).isoformat() + row["starts_at"][10:]})
        if not offset:
            number = _uk(row["number"])
            written.append({**row, "number": "+" + number[:9] + "7" + number[10:],
                            "starts_at": (tomorrow - dt.timedelta(days=1)).isoformat() + row["starts_at"][10:]})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(written)
    return [(r["name"], _uk(r["number"]), dt.date.fromisoformat(r["starts_at"][:10])) for r in written]


def prepare_simulator(sim: Simulator) -> None:
    """What the examples expect of the gateway accounts, set through the simulator's control routes."""
    for days_ago, count in SEEDED.items():
        noon = _midnight(days_ago) + dt.timedelta(hours=12)
        sim.post("netmessenger/seed", {"count": count, "start_number": 447700500001 + 1000 * days_ago,
                                       "sent_at": noon.timestamp()})
    for number in (FAILING, *sorted(FAILING_PATIENTS)):
        sim.post("bulksms/outcomes", {"msisdn": number, "status": 51})
    book = json.loads((EXAMPLES / "data" / "bulletin_address_book.json").read_text())
    for name, number in book["contacts"].items():
        sim.post("bulletin/contacts", {"name": name, "number": number})
    for name, members in book["groups"].items():
        sim.post("bulletin/groups", {"name": name, "members": members})
    for number in book["blocked"]:
        sim.post("bulletin/blocked", {"number": number})
    sim.post("netmessenger/lists", {"name": "On call", "numbers": RETRY_ON_CALL})


def _run(api: Api, dag_id: str, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = api.call("GET", f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
    return run


def check_appointments(api: Api, sim: Simulator, run_ids: list[str], rows: list[tuple[str, str, dt.date]],
                       checks: Checks) -> None:
    days = []
    for run_id in run_ids:
        run_after = dt.datetime.fromisoformat(_run(api, APPOINTMENTS, run_id)["run_after"].replace("Z", "+00:00"))
        day = run_after.astimezone(LONDON).date() + dt.timedelta(days=1)
        days.append(day)
        due = [(name, number) for name, number, when in rows if when == day]
        summary = api.xcom(APPOINTMENTS, run_id, "summary")
        reached = sorted(f"{n} (delivered)" for n, number in due if number not in FAILING_PATIENTS)
        missed = sorted(f"{n} (failed)" for n, number in due if number in FAILING_PATIENTS)
        checks.check(bool(due) and sorted(summary["reached"]) == reached and sorted(summary["not_reached"]) == missed,
                     f"{APPOINTMENTS} {run_id}: the summary of {day} names who was reached {summary}")
    received = [m for m in sim.get("bulksms/received") if m["message"].startswith("Reminder: your appointment")]
    expected = {number: days.count(when) for _, number, when in rows}
    got = {number: sum(1 for m in received if m["msisdn"] == number) for number in expected}
    checks.check(got == expected, f"{APPOINTMENTS}: each patient reminded once per run covering the day before "
                                  f"their appointment {got}")


def check_pipeline_alert(api: Api, sim: Simulator, home: Path, run_ids: list[str], checks: Checks) -> None:
    alerts = sim.get("netmessenger/received")
    qa = [m for m in sim.get("bulksms/received") if m["msisdn"] in PIPELINE_ON_CALL]
    breached_runs = 0
    for run_id in run_ids:
        check = api.xcom(PIPELINE, run_id, "check_failure_rate")
        breached_runs += bool(check["breached"])
        wanted = {**PIPELINE_STATES, "text_on_call": "success" if check["breached"] else "skipped"}
        states = {t["task_id"]: t["state"] for t in api.tasks(PIPELINE, run_id)}
        state = _run(api, PIPELINE, run_id)["state"]
        checks.check(state == "success" and states == wanted,
                     f"{PIPELINE} {run_id}: run {state}, the load failed on purpose, the rest as wanted {states}")
        yesterday = (_midnight(1)).date().isoformat()
        checks.check(check["day"] == yesterday and check["sent"] == SEEDED[1],
                     f"{PIPELINE} {run_id}: checked {yesterday}'s {SEEDED[1]} messages: {check}")
        texts = [[m["body"] for m in alerts if m["number"] == n and f"run {run_id}" in m["body"]]
                 for n in PIPELINE_ON_CALL]
        checks.check([len(t) for t in texts] == [1, 1] and all(
            t[0].startswith(f"Airflow: task load_to_warehouse in DAG {PIPELINE} failed (try 2 of 2)") for t in texts),
                     f"{PIPELINE} {run_id}: on-call texted once, after the retry, through the fallback {texts}")
        log = _task_log(home, PIPELINE, run_id, "load_to_warehouse")
        checks.check("SMS alert needed a fallback: sms_alerts_down" in log,
                     f"{PIPELINE} {run_id}: the task log says the alert needed the fallback")
    checks.check(len(qa) == 2 * breached_runs,
                 f"{PIPELINE}: on-call texted by the quality check once per breached run ({breached_runs}): {len(qa)}")


def check_reports_all(api: Api, run_ids: list[str], checks: Checks) -> None:
    yesterday = _midnight(1).date().isoformat()
    for run_id in run_ids:
        for conn_id in REPORT_CONN_IDS:
            value = api.xcom(REPORTS_ALL, run_id, f"extract_{conn_id}")
            written = {Path(p).name: n for p, n in value["files"].items()}
            what = (f"{REPORTS_ALL} {run_id}: yesterday's reports of {conn_id}: {written}, "
                    f"skipped {list(value['skipped'])}")
            ok = value["day"] == yesterday and value["conn_id"] == conn_id and bool(written or value["skipped"])
            if conn_id == "netmessenger_default":
                ok = ok and written.get("Messages.csv") == SEEDED[1]
            elif conn_id == "bulksms_default":  # JSON API: delivery reports need batch ids, nothing else is offered
                ok = ok and list(value["skipped"]) == ["delivery"]
            else:  # one report each: Bulletin's sent list, Skycore's sending statistics
                ok = ok and len(written) + len(value["skipped"]) == 1
            checks.check(ok, what)


def check_other_gateways(sim: Simulator, reports: Path, checks: Checks) -> None:
    counts = {n: sim.get("bulletin/received_count", number=n)["count"] for n in BULLETIN_COUNTS}
    checks.check(counts == BULLETIN_COUNTS, f"{BULLETIN}: texts per handset {counts}")
    sent = sorted(reports.glob("bulletin-sent-*.csv"))
    rows = list(csv.DictReader(sent[0].open(newline=""))) if len(sent) == 1 else []
    # The account's sent list also holds the receipts check's message (e2e_receipts_status_waits).
    rows = [r for r in rows if not r["body"].startswith("Delivery receipt check")]
    blocked = {r["recipient"]: r["error"] for r in rows}.get("64229999999", "")
    checks.check(len(rows) == 6 and blocked.endswith("(Number in Blocked List)"),
                 f"{BULLETIN}: the sent report lists 6 recipients, the blocked one with its error ({sent})")
    sms = [len(sim.get("skycore/received", number=n, kind="sms")) for n in SKYCORE_SUBSCRIBERS]
    mms = sim.get("skycore/mms_received")
    per_number = [sum(1 for m in mms if m["number"] == n) for n in SKYCORE_SUBSCRIBERS]
    checks.check(sms == [1, 0, 0] and per_number == [1, 1, 1] and all(len(m["slides"]) == 3 for m in mms),
                 f"{SKYCORE}: the organiser texted once, each subscriber one 3-slide MMS (SMS {sms}, MMS {per_number})")
    subscribed = [s["number"] for s in sim.get("skycore/subscribers", campaign="1116")]
    checks.check(subscribed == SKYCORE_SUBSCRIBERS, f"{SKYCORE}: subscribers of campaign 1116 {subscribed}")
    now = [sum(1 for m in sim.get("netmessenger/received", number=n)
               if m["body"] == "Maintenance window starts in 15 minutes.") for n in RETRY_ON_CALL]
    later = [sum(1 for m in sim.get("netmessenger/received", number=n, include_scheduled="1")
                 if m["body"] == "Maintenance window is over.") for n in RETRY_ON_CALL]
    checks.check(now == [2] * 5 and later == [1] * 5,
                 f"{RETRY_SAFE}: each on-call number texted once directly and once through the list {now}, "
                 f"one reminder scheduled {later}")


def scenario(deployment: Deployment, sim: Simulator, forms: dict[str, str], secrets_: dict[str, str],
             appointments: list[tuple[str, str, dt.date]], checks: Checks) -> None:
    prepare_simulator(sim)
    with deployment.running("api-server", "scheduler", "dag-processor", "triggerer") as api:
        _log(f"Airflow API server up at {deployment.url}")
        test_connections(api, _connections(sim.url, deployment.port, secrets_), checks)
        check_callbacks(deployment, sim, secrets_["callback"], checks)
        api.call("POST", "connections", json={"connection_id": "sms_alerts_down", **_down_connection(secrets_)})
        examples = {path.stem for path in EXAMPLES.glob("example_*.py")}
        wanted = examples | {CANARY_DAG, replies.STATUS_WAITS}
        wait_for("the DAG processor to parse the example DAGs", lambda: wanted <= api.dag_ids() or None, 240, 3)
        _log("DAGs parsed; unpausing them (the scheduler makes the latest scheduled runs), manual runs")
        for dag_id in sorted(wanted):
            api.call("PATCH", f"dags/{dag_id}", json={"is_paused": False})
        replies.reparse(api)  # its reply watcher starts once the unpaused DAG is parsed
        # The pipeline alert reads the files the reports DAG writes: its manual run comes after them.
        first = sorted(wanted - {PIPELINE})
        manual = {}
        for dag_id in first:  # one at a time: a burst of writes can stall the API server on SQLite
            manual[dag_id] = api.trigger(dag_id)
            time.sleep(1)
        past = api.trigger(NIGHTLY, _midnight(3).isoformat())
        # A real data interval (4 days ago) that is not the day before the logical date, so the
        # check tells the interval from the fallback of an empty one (which would cover yesterday).
        real_interval = api.trigger(NIGHTLY, (_midnight(0) + dt.timedelta(hours=2)).isoformat(),
                                    data_interval=(_midnight(4).isoformat(), _midnight(3).isoformat()))
        killed_at = _kill_triggerer_while_deferred(api, deployment, manual[NOTIFICATION])
        scheduled = {dag_id: _scheduled_run(api, dag_id) for dag_id in SCHEDULED}
        runs = {dag_id: [manual[dag_id]] for dag_id in first}
        for dag_id in SCHEDULED:
            runs[dag_id].append(scheduled[dag_id])
        runs[NIGHTLY] += [past, real_interval]
        _wait_runs_final(api, deployment, runs, 900)
        _log("first wave final; the group campaign again with a logical date, a backfill, the pipeline alert")
        again = api.trigger(CAMPAIGN, dt.datetime.now(dt.UTC).isoformat())
        backfill = _backfill(api, 5, 4)
        alert_manual = api.trigger(PIPELINE)
        alert_runs = [alert_manual, *_asset_triggered_runs(api, len(runs[REPORTS_ALL]))]
        _wait_runs_final(api, deployment, {CAMPAIGN: [again], NIGHTLY: [r for r, _ in backfill],
                                           PIPELINE: alert_runs}, 600)
        runs[CAMPAIGN].append(again)
        runs[NIGHTLY] += [r for r, _ in backfill]
        runs[PIPELINE] = alert_runs

        _log("replies on BulkSMS (simulator -> plugin -> store -> watcher -> asset events -> the replies DAG)")
        status_waits = manual[replies.STATUS_WAITS]
        reply_runs = replies.reply_runs(api, wait_for, sim)
        _wait_runs_final(api, deployment, {replies.REPLIES: reply_runs, replies.STATUS_WAITS: [status_waits]}, 300)
        replies.check(api, sim, reply_runs, checks)
        replies.check_status_waits(api, deployment.home, status_waits, checks)

        for dag_id in sorted(examples - {PIPELINE, replies.REPLIES}):
            for run_id in runs[dag_id]:
                _check_run(api, dag_id, run_id, "success", checks)
        replies.check_manual(api, manual[replies.REPLIES], checks)
        check_pipeline_alert(api, sim, deployment.home, runs[PIPELINE], checks)
        checks.check(_trigger_started_after(deployment.home, manual[NOTIFICATION], killed_at),
                     "after the triggerer was SIGKILLed while the sensor was deferred, a new triggerer ran its "
                     "trigger to the end")
        canary = _check_run(api, CANARY_DAG, manual[CANARY_DAG], "failed", checks)
        checks.check(canary.get("pull_messages") == "failed",
                     f"the canary DAG (old undefined-variable template) fails on a manual trigger: {canary}")
        canary_log = _task_log(deployment.home, CANARY_DAG, manual[CANARY_DAG], "pull_messages")
        checks.check("data_interval_start" in canary_log, "the canary's task log names the undefined variable")

        _check_reports(api, manual[NIGHTLY], 1, checks)
        _check_reports(api, scheduled[NIGHTLY], 1, checks)
        _check_reports(api, past, 4, checks)
        _check_reports(api, real_interval, 4, checks)
        checks.check(len(backfill) == 2, f"the backfill of 2 days made 2 runs: {backfill}")
        for run_id, covered_days_ago in backfill:
            _check_reports(api, run_id, covered_days_ago, checks)
        check_reports_all(api, runs[REPORTS_ALL], checks)
        check_appointments(api, sim, runs[APPOINTMENTS], appointments, checks)
        check_other_gateways(sim, Path(deployment.extra_env["SMS_REPORT_DIR"]), checks)
        check_statuses(deployment, checks)

        received = sim.get("bulksms/received")
        for run_id in runs[NOTIFICATION]:
            per_number = [sum(1 for m in received if m["msisdn"] == n and run_id in m["message"]) for n in ON_CALL]
            checks.check(per_number == [1, 1, 1, 1], f"{NOTIFICATION} {run_id}: each on-call number texted once "
                                                     f"{per_number}")
            sensor_log = _task_log(deployment.home, NOTIFICATION, run_id, "wait_for_delivery")
            checks.check("4 messages: " in sensor_log and f"1 of 4 messages failed: {FAILING}" in sensor_log,
                         f"{NOTIFICATION} {run_id}: the sensor logs progress and names the failed recipient")
        volunteers = sim.get("netmessenger/received")
        counts: dict[str, int] = {}
        for message in (m for m in volunteers if m["body"].startswith("Thanks for signing up")):
            counts[message["number"]] = counts.get(message["number"], 0) + 1
        checks.check(len(counts) == 300 and set(counts.values()) == {2},
                     f"{CAMPAIGN}: 300 volunteers, each texted once per run (2 runs): "
                     f"{len(counts)} numbers, texts per number {sorted(set(counts.values()))}")
    # The processes are stopped: their output is complete.
    task_logs = sorted((deployment.home / "logs").rglob("*.log"))
    process_logs = sorted(deployment.logs.glob("*.log"))
    checks.check(len(task_logs) >= 30, f"{len(task_logs)} task logs written")
    leaks = scan_for_secrets([*task_logs, *process_logs], forms)
    checks.check(not leaks, f"no secret in {len(task_logs)} task logs and {len(process_logs)} process logs "
                            f"{leaks[:5]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=REPO / ".venv", help="virtualenv with Airflow and the provider")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default .e2e/<venv name>)")
    args = parser.parse_args(argv)
    venv = args.venv.resolve()
    out = (args.out or REPO / ".e2e" / venv.name.lstrip(".")).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.monotonic()
    checks = Checks()
    secrets_, forms = fresh_secrets(out)

    home = out / "airflow"
    dags = home / "dags"
    copy_tree(EXAMPLES, dags)
    copy_tree(CANARY, dags)
    copy_tree(replies.DAGS, dags)
    (out / "reports").mkdir()
    appointments = write_appointments(out / "appointments.csv")
    deployment = Deployment(venv=venv, home=home, dags_folder=dags,
                            extra_env={"SMS_REPORT_DIR": str(out / "reports"),
                                       "SMS_APPOINTMENTS_CSV": str(out / "appointments.csv"),
                                       "SMS_ALERT_CONN_ID": "sms_alerts_down",
                                       "SMS_REPORT_CONN_IDS": ",".join(REPORT_CONN_IDS), **replies.ENV})
    settings = replies.with_eapi_status_push(account_settings(deployment.url, secrets_["callback"]), deployment.url,
                                             secrets_["callback"])
    sim = Simulator(venv, out / "simulator.log", secrets_, settings)
    error: BaseException | None = None
    try:
        scenario(deployment, sim, forms, secrets_, appointments, checks)
    except BaseException as exc:  # report, then still stop everything and print where the logs are
        error = exc
        checks.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        deployment.stop_all()
        sim.stop()
    print(f"\nlogs: task logs {home / 'logs'}, Airflow processes {deployment.logs}, simulator {sim.log}")
    return checks.finish(f"e2e ({venv.name})", started, error)


if __name__ == "__main__":
    sys.exit(main())
