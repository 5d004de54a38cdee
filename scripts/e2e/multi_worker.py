"""``make e2e``, multi-worker part: the provider on a CeleryExecutor deployment with two workers.

Starts, from the given virtualenv and on loopback ports: PostgreSQL (the ``pgserver`` wheel's
binaries, as the journal tests do) holding Airflow's metadata DB, the Celery result backend and the
send journal; Redis (the distribution's ``redis-server``, see ``scripts/install-redis.sh``) as the
Celery broker; the gateway simulator; Airflow's API server, scheduler, DAG processor and triggerer;
and two ``airflow celery worker`` processes with distinct Celery hostnames (``worker-a``,
``worker-b``), each recording its own name as the ``hostname`` of the task tries it runs. Then:

* a big send (``celery_dags/e2e_celery_big_send.py``: 2,400 recipients, BulkSMS JSON, 24 requests
  of 100 slowed down by the simulator) is triggered; once the simulator has texted some of them the
  worker running the first try is SIGKILLed (its whole process group: worker, task supervisor and
  task), Airflow fails the try when its heartbeat stops and retries it on the other worker, which
  reads the journal and sends only what the first try did not (the chunk in doubt under its dedupe
  id); the killed worker is started again;
* the group campaign example runs on the two workers (contact import, group send, deferred sensor);
* checks: the first try ran on one worker and failed, the retry on the other and succeeded; every
  recipient's handset received the text exactly once (counted through the simulator's ``/_sim/``
  routes); each volunteer was texted once; no secret in any task log or process output.

The figures (recipients, texts per recipient, the worker of each try) are printed and written to
``.e2e/celery/figures.json``. Everything started is stopped, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from deployment import Api, Deployment, copy_tree, free_port, wait_for
from run import (
    CAMPAIGN,
    EXAMPLES,
    Checks,
    Simulator,
    _connections,
    _log,
    _wait_runs_final,
    fresh_secrets,
    scan_for_secrets,
)

from tests.journal.postgres import PostgresServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIG_SEND = "e2e_celery_big_send"
BIG_TASK = "text_everyone"
RECIPIENTS = [f"447712{300000 + i}" for i in range(2400)]  # as in celery_dags/e2e_celery_big_send.py
CHUNK = 100
KILL_AFTER = 300  # texts the simulator has received before the first try's worker is killed
WORKERS = ("worker-a", "worker-b")
GATEWAY_LATENCY = 0.5  # s per BulkSMS request, so the first try is still sending when it is killed


class Redis:
    """A throw-away Redis server on a free loopback port (no persistence), the Celery broker."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/install-redis.sh")
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = folder / "redis.log"
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(folder), "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("Redis", self._pong, 30, 0.2)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _pong(self) -> bool | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.log}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return True if conn.recv(16).startswith(b"+PONG") else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def celery_env(postgres: PostgresServer, redis: Redis, reports: Path) -> dict[str, str]:
    """What turns the LocalExecutor deployment of ``deployment.py`` into a Celery one."""
    metadata = f"postgresql+psycopg2://postgres@127.0.0.1:{postgres.port}/airflow"
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CELERY__BROKER_URL": redis.url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        # A try whose worker died is failed (and retried) after 20 s without a heartbeat (default 300 s).
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "SMS_REPORT_DIR": str(reports),
    }


def start_worker(deployment: Deployment, name: str) -> None:
    """``airflow celery worker`` as ``name``: its own Celery hostname, log-server port and try hostname."""
    deployment.start(name, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "2",
                     env={"E2E_WORKER_NAME": name, "PYTHONPATH": str(HERE / "worker_name"),
                          "AIRFLOW__CORE__HOSTNAME_CALLABLE": "e2e_worker_name.hostname",
                          "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())})
    log = deployment.logs / f"{name}.log"
    start = deployment.starts[name]

    def ready() -> bool | None:
        deployment.check_alive()
        text = log.read_text(errors="replace").split(f"===== start {start} of {name}:")[-1]
        return True if f"{name}@" in text and " ready." in text else None

    wait_for(f"Celery worker {name}", ready, 180, 1)


def journal_resume(log: str) -> dict[str, int] | None:
    """What a retry's log says it found in the send journal: recipients accepted by the earlier try,
    chunks left in doubt (to settle under their dedupe ids), recipients never sent."""
    found = re.search(r"(\d+) recipients already accepted by an earlier try .*?, (\d+) chunks to settle, "
                      r"(\d+) recipients to send", log)
    return {"accepted_earlier": int(found[1]), "chunks_in_doubt": int(found[2]),
            "never_sent": int(found[3])} if found else None


def tries(api: Api, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
    """Every try of a task instance (try number, state, hostname), oldest first."""
    found = api.call("GET", f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/tries")
    return sorted(found["task_instances"], key=lambda t: int(t["try_number"]))


def send_requests(sim: Simulator) -> list[dict[str, str]]:
    """The BulkSMS JSON send requests the simulator has answered."""
    return [r for r in sim.get("bulksms/requests") if r["method"] == "POST" and r["path"] == "/v1/messages"]


def tries_in_worker_logs(deployment: Deployment, dag_id: str, task_id: str) -> dict[int, list[str]]:
    """Which worker's own log says it executed each try of a task (Celery's side of the story)."""
    found: dict[int, list[str]] = {}
    for name in WORKERS:
        for line in (deployment.logs / f"{name}.log").read_text(errors="replace").splitlines():
            if "Executing workload in Celery" in line and f"task_id='{task_id}', dag_id='{dag_id}'" in line:
                number = re.search(r"try_number=(\d+)", line)
                if number:
                    found.setdefault(int(number[1]), []).append(name)
    return found


def _task_log_of_try(deployment: Deployment, run_id: str, try_number: int) -> str:
    folder = deployment.home / "logs" / f"dag_id={BIG_SEND}" / f"run_id={run_id}" / f"task_id={BIG_TASK}"
    path = folder / f"attempt={try_number}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def texts_per_number(sim: Simulator, gateway: str, key: str, text: str) -> Counter[str]:
    """How many copies of ``text`` each simulated handset received."""
    return Counter(m[key] for m in sim.get(f"{gateway}/received") if m.get("message", m.get("body")) == text)


def big_send(api: Api, deployment: Deployment, sim: Simulator, checks: Checks) -> dict[str, Any]:
    """Trigger the big send, SIGKILL the worker of its first try mid-send, let the other worker retry it."""
    sim.post("faults", {"fault": "latency", "seconds": GATEWAY_LATENCY, "only": "/v1/messages"})
    run_id = api.trigger(BIG_SEND)

    def first_try_mid_send() -> str | None:
        deployment.check_alive()
        sent = len(sim.get("bulksms/received"))
        found = tries(api, BIG_SEND, run_id, BIG_TASK)
        if any(t["state"] in ("success", "failed", "up_for_retry") for t in found):
            raise RuntimeError(f"the big send's first try ended before it could be killed: {found[0]['state']}; "
                               "see its task log")
        running = [t for t in found if t["state"] == "running"]
        if sent >= KILL_AFTER and running and running[0]["hostname"] in WORKERS:
            return str(running[0]["hostname"])
        if sent >= len(RECIPIENTS):
            raise RuntimeError("the big send finished before its worker could be killed")
        return None

    victim = wait_for("the big send's first try to be mid-send", first_try_mid_send, 300, 0.3)
    # The whole tree, as when the worker's machine dies (the task runs in a process group of its own).
    killed = deployment.kill(victim)
    sent_at_kill = len(sim.get("bulksms/received"))
    requests_at_kill = len(send_requests(sim))
    _log(f"SIGKILLed {victim} and its {killed - 1} child processes with {sent_at_kill} of {len(RECIPIENTS)} "
         f"recipients texted")

    def retry_started() -> str | None:
        deployment.check_alive()
        later = [t for t in tries(api, BIG_SEND, run_id, BIG_TASK) if int(t["try_number"]) > 1]
        return str(later[0]["hostname"]) if later and later[0]["state"] == "running" else None

    # Nothing reaches the gateway between the kill and the retry: the first try is really dead.
    sent_before_retry = len(sim.get("bulksms/received"))
    retried_on = wait_for("the big send's retry to start", retry_started, 300, 1)
    checks.check(sent_at_kill == sent_before_retry < len(RECIPIENTS),
                 f"the first try died mid-send: {sent_at_kill} of {len(RECIPIENTS)} texted when it was killed, "
                 f"{sent_before_retry} before the retry started")
    _log(f"retry running on {retried_on}; starting {victim} again")
    start_worker(deployment, victim)

    def finished() -> str | None:
        deployment.check_alive()
        state = api.call("GET", f"dags/{BIG_SEND}/dagRuns/{quote(run_id, safe='')}")["state"]
        return str(state) if state in ("success", "failed") else None

    state = wait_for("the big send's run to finish", finished, 600, 2)
    all_tries = tries(api, BIG_SEND, run_id, BIG_TASK)
    summary = api.xcom(BIG_SEND, run_id, BIG_TASK) if state == "success" else None
    per_number = texts_per_number(sim, "bulksms", "msisdn", "Polling stations are open until 22:00 today.")
    histogram = Counter(per_number.get(n, 0) for n in RECIPIENTS)
    resumed = journal_resume(_task_log_of_try(deployment, run_id, 2))
    figures = {"run_id": run_id, "state": state, "recipients": len(RECIPIENTS),
               "texted_when_killed": sent_at_kill, "killed_worker": victim,
               "tries": [{"try": t["try_number"], "worker": t["hostname"], "state": t["state"]} for t in all_tries],
               "texts_per_recipient": {str(k): v for k, v in sorted(histogram.items())},
               "texts_to_other_numbers": sum(c for n, c in per_number.items() if n not in set(RECIPIENTS)),
               "send_requests_before_kill": requests_at_kill, "send_requests": len(send_requests(sim)),
               "retry_found_in_journal": resumed, "summary": summary}
    figures["tries_in_worker_logs"] = tries_in_worker_logs(deployment, BIG_SEND, BIG_TASK)
    first, *rest = all_tries
    checks.check(figures["tries_in_worker_logs"] == {int(t["try_number"]): [t["hostname"]] for t in all_tries},
                 f"{BIG_SEND}: the Celery workers' own logs agree on who ran each try "
                 f"{figures['tries_in_worker_logs']}")
    checks.check(state == "success", f"{BIG_SEND}: the run succeeded ({state})")
    checks.check(first["hostname"] == victim and first["state"] == "failed",
                 f"{BIG_SEND}: try 1 ran on {first['hostname']} (killed: {victim}) and failed ({first['state']})")
    checks.check(len(rest) == 1 and rest[0]["hostname"] not in (victim, None) and rest[0]["state"] == "success",
                 f"{BIG_SEND}: the retry ran on the other worker and succeeded "
                 f"{[(t['try_number'], t['hostname'], t['state']) for t in rest]}")
    checks.check(resumed is not None and 0 < resumed["accepted_earlier"] < len(RECIPIENTS) and len(RECIPIENTS) ==
                 resumed["accepted_earlier"] + CHUNK * resumed["chunks_in_doubt"] + resumed["never_sent"],
                 f"{BIG_SEND}: the retry read the first try's chunks from the journal in PostgreSQL and sent only "
                 f"the rest {resumed}")
    checks.check(histogram == Counter({1: len(RECIPIENTS)}) and not figures["texts_to_other_numbers"],
                 f"{BIG_SEND}: each of the {len(RECIPIENTS)} recipients texted exactly once across both workers "
                 f"(texts per recipient: {figures['texts_per_recipient']})")
    return figures


def group_campaign(api: Api, deployment: Deployment, sim: Simulator, checks: Checks) -> dict[str, Any]:
    """The group campaign example on the two workers: import, group send, deferred sensor."""
    run_id = api.trigger(CAMPAIGN)
    _wait_runs_final(api, deployment, {CAMPAIGN: [run_id]}, 600)
    states = {t["task_id"]: t for t in api.tasks(CAMPAIGN, run_id)}
    per_number = texts_per_number(sim, "netmessenger", "number",
                                  "Thanks for signing up! Briefing on Saturday at 10:00.")
    figures = {"run_id": run_id, "volunteers_texted": len(per_number),
               "texts_per_volunteer": {str(k): v for k, v in sorted(Counter(per_number.values()).items())},
               "tasks": {task: {"state": t["state"], "worker": t["hostname"], "try": t["try_number"]}
                         for task, t in states.items()}}
    checks.check(bool(states) and all(t["state"] == "success" for t in states.values()),
                 f"{CAMPAIGN}: every task succeeded on the Celery workers {figures['tasks']}")
    checks.check(len(per_number) == 300 and set(per_number.values()) == {1},
                 f"{CAMPAIGN}: 300 volunteers, each texted once {figures['texts_per_volunteer']}")
    return figures


def scenario(deployment: Deployment, sim: Simulator, secrets_: dict[str, str], journal_port: int,
             checks: Checks, figures: dict[str, Any]) -> None:
    with deployment.running("api-server", "scheduler", "dag-processor", "triggerer") as api:
        _log(f"Airflow API server up at {deployment.url}; starting the Celery workers")
        for name in WORKERS:
            start_worker(deployment, name)
        connections = _connections(sim.url, deployment.port, secrets_)
        bulksms = connections["bulksms_default"]
        bulksms["extra"] = json.dumps({**json.loads(bulksms["extra"]), "max_recipients_per_request": CHUNK})
        journal = {"conn_type": "postgres", "host": "127.0.0.1", "port": journal_port, "login": "postgres",
                   "schema": "sms_journal"}
        for conn_id, body in {"bulksms_default": bulksms, "netmessenger_default": connections["netmessenger_default"],
                              "sms_journal_default": journal}.items():
            api.call("POST", "connections", json={"connection_id": conn_id, **body})
        wanted = {BIG_SEND, CAMPAIGN}
        wait_for("the DAG processor to parse the DAGs", lambda: wanted <= api.dag_ids() or None, 240, 3)
        for dag_id in sorted(wanted):
            api.call("PATCH", f"dags/{dag_id}", json={"is_paused": False})
        figures["big_send"] = big_send(api, deployment, sim, checks)
        figures["group_campaign"] = group_campaign(api, deployment, sim, checks)


def print_figures(figures: dict[str, Any]) -> None:
    print("\nCelery deployment figures (two workers, journal in PostgreSQL):")
    big, campaign = figures.get("big_send"), figures.get("group_campaign")
    if big:
        _print_big_send(big)
    if campaign:
        print(f"  group campaign: {campaign['volunteers_texted']} volunteers, texts per volunteer "
              f"(texts: volunteers): {campaign['texts_per_volunteer']}")
        for task, t in campaign["tasks"].items():
            print(f"    {task}: {t['worker']}, try {t['try']}, {t['state']}")


def _print_big_send(big: dict[str, Any]) -> None:
    print(f"  big send: {big['recipients']} recipients; {big['texted_when_killed']} texted "
          f"({big['send_requests_before_kill']} send requests) when {big['killed_worker']} was SIGKILLed; "
          f"the retry found in the journal: {big['retry_found_in_journal']}; "
          f"{big['send_requests']} send requests in all")
    for t in big["tries"]:
        print(f"    try {t['try']}: {t['worker']}, {t['state']}")
    print(f"    texts delivered per recipient (texts: recipients): {big['texts_per_recipient']}")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops what it started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=REPO / ".venv", help="virtualenv with Airflow, the provider "
                        "and its celery extra")
    parser.add_argument("--out", type=Path, default=REPO / ".e2e" / "celery", help="output folder")
    args = parser.parse_args(argv)
    venv, out = args.venv.resolve(), args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.monotonic()
    checks = Checks()
    secrets_, forms = fresh_secrets(out)
    home = out / "airflow"
    dags = home / "dags"
    copy_tree(HERE / "celery_dags", dags)
    (dags / "data").mkdir(parents=True)
    shutil.copy2(EXAMPLES / f"{CAMPAIGN}.py", dags)
    shutil.copy2(EXAMPLES / "data" / "volunteers.csv", dags / "data")
    (out / "reports").mkdir()

    postgres: PostgresServer | None = None
    redis: Redis | None = None
    sim: Simulator | None = None
    deployment: Deployment | None = None
    figures: dict[str, Any] = {}
    error: BaseException | None = None
    try:
        postgres = PostgresServer(max_connections=200).start()
        for database in ("airflow", "sms_journal"):
            postgres.create_database(database)
        redis = Redis(out / "redis")
        sim = Simulator(venv, out / "simulator.log", secrets_)
        deployment = Deployment(venv=venv, home=home, dags_folder=dags,
                                extra_env=celery_env(postgres, redis, out / "reports"))
        scenario(deployment, sim, secrets_, postgres.port, checks, figures)
        task_logs = sorted((home / "logs").rglob("*.log"))
        process_logs = sorted(deployment.logs.glob("*.log"))
        leaks = scan_for_secrets([*task_logs, *process_logs], forms)
        checks.check(bool(task_logs) and not leaks, f"no secret in {len(task_logs)} task logs and "
                                                    f"{len(process_logs)} process logs {leaks[:5]}")
    except BaseException as exc:  # report, then still stop everything and print where the logs are
        error = exc
        checks.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        for running in (deployment, sim, redis, postgres):
            try:
                if isinstance(running, Deployment):
                    running.stop_all()
                elif running is not None:
                    running.stop()
            except Exception as exc:  # the others must still be stopped
                checks.failures.append(f"stopping {type(running).__name__}: {type(exc).__name__}: {exc}")
    if figures:
        (out / "figures.json").write_text(json.dumps(figures, indent=2))
        print_figures(figures)
    print(f"\nlogs: task logs {home / 'logs'}, Airflow processes {home / 'process-logs'}, "
          f"simulator {out / 'simulator.log'}")
    return checks.finish(f"e2e celery ({venv.name})", started, error)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
