"""A real Airflow deployment on loopback for the end-to-end test: processes, configuration, REST client.

Every process runs from the given virtualenv in its own process group with its output in a file
under the deployment's home, so it can be killed with its children (SIGKILL for the triggerer
test, SIGTERM then SIGKILL on the way out) and read afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests

T = TypeVar("T")

ADMIN = "admin"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Call ``check`` until it returns something other than None; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (requests.RequestException, OSError) as error:
            last_error, value = error, None
        if value is not None:
            return value
        time.sleep(interval)
    cause = f" ({last_error})" if last_error else ""
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{cause}")


@dataclass
class Deployment:
    """Airflow processes sharing one ``AIRFLOW_HOME`` (SQLite, LocalExecutor) and one API port."""

    venv: Path
    home: Path
    dags_folder: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        return self.home / "process-logs"

    def env(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        passwords = self.home / "passwords.json"
        if not passwords.exists():
            passwords.write_text(json.dumps({ADMIN: self.admin_password}))
        settings = self.home / "settings.json"
        if not settings.exists():  # one set of keys for every process of this deployment
            settings.write_text(json.dumps({"fernet": Fernet.generate_key().decode(),
                                            "jwt": secrets.token_urlsafe(32), "api": secrets.token_urlsafe(32)}))
        keys = json.loads(settings.read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SMS_"))}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            # Four processes share one SQLite file: wait for its lock instead of failing after 5 s.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db?timeout=60",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            # The API server may wait that long for the SQLite lock while every DAG starts at once:
            # a task's calls to it would time out after 5 s and fail the try before it ran.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"{self.url}/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": keys["api"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # A killed triggerer's triggers go to the next one after this many seconds (default 30).
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command to completion (output kept in the process logs)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(self.venv / "bin" / "airflow"), *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout, check=False)
        (self.logs / f"airflow-{args[0]}-{args[1] if len(args) > 1 else ''}.log").write_text(done.stdout + done.stderr)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        """Start ``airflow <args>`` as the process ``name`` (output appended to ``process-logs/<name>.log``),
        with ``env`` added to the deployment's environment (e.g. what differs between two workers)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.starts[name] = self.starts.get(name, 0) + 1
        with (self.logs / f"{name}.log").open("ab") as out:
            out.write(f"\n===== start {self.starts[name]} of {name}: airflow {' '.join(args)}\n".encode())
            out.flush()
            self.processes[name] = subprocess.Popen([str(self.venv / "bin" / "airflow"), *args],
                                                    env={**self.env(), **(env or {})},
                                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 20) -> int:
        """Send ``sig`` to the process group of ``name`` and wait for it; SIGKILL if it outlives ``timeout``.
        Processes under it in groups of their own (Airflow's task supervisor gives each task one) are
        SIGKILLed after it. Returns how many processes there were."""
        import psutil

        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return 0
        try:
            descendants = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        if sig == signal.SIGKILL:  # all at once, so no process outlives the others (a task its supervisor)
            _kill_all(descendants)
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        if sig != signal.SIGKILL:  # children the leader left behind
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        _kill_all(descendants)
        psutil.wait_procs(descendants, timeout=timeout)
        return 1 + len(descendants)

    def stop_all(self) -> None:
        """Stop every process this deployment started (SIGTERM, then SIGKILL)."""
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)

    def check_alive(self) -> None:
        """Fail naming a process that died on its own."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs / (name + '.log')}")

    @contextmanager
    def running(self, *names: str) -> Iterator[Api]:
        """Migrate the DB, start ``names`` (api-server, scheduler, dag-processor, triggerer), stop them all after."""
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            self.airflow("db", "migrate")
            for name in names:
                self.start(name, name, *(["--port", str(self.port)] if name == "api-server" else []))
            api = Api(self.url, self.admin_password)
            def up() -> bool | None:
                self.check_alive()
                return api.healthy()

            wait_for("the API server", up, 180, 2)
            api.login()
            yield api
        finally:
            self.stop_all()


def _kill_all(processes: list[Any]) -> None:
    """SIGKILL each of ``processes`` (``psutil.Process``) still alive."""
    import psutil

    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.kill()


class Api:
    """The Airflow REST API (``/api/v2``) as the admin user of the simple auth manager."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.password = password
        self.session = requests.Session()

    def healthy(self) -> bool | None:
        answer = requests.get(f"{self.url}/api/v2/monitor/health", timeout=10)
        return True if answer.ok else None

    def login(self) -> None:
        answer = requests.post(f"{self.url}/auth/token", json={"username": ADMIN, "password": self.password},
                               timeout=30)
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        for attempt in range(3):
            try:
                answer = self.session.request(method, f"{self.url}/api/v2/{path}", timeout=60, **kwargs)
                break
            except requests.Timeout:
                # SQLite: under a burst of writes the API server can stall until its lock wait times out.
                # Reads are repeated; writes are not (a trigger handles its own, see ``trigger``).
                if method != "GET" or attempt == 2:
                    raise
        if answer.status_code == 503 and method == "GET":  # "Database is locked": read again once
            time.sleep(3)
            answer = self.session.request(method, f"{self.url}/api/v2/{path}", timeout=60, **kwargs)
        if answer.status_code not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def upstream_asset_events(self, dag_id: str, run_id: str) -> list[dict[str, Any]] | None:
        """The asset events a run consumed; None while Airflow cannot say yet: it answers 500 while a
        run created by one of the events has not started (its response model requires a start date)."""
        from urllib.parse import quote

        try:
            answer = self.call("GET", f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/upstreamAssetEvents")
        except RuntimeError as error:
            if "HTTP 500" not in str(error):
                raise
            return None
        return list(answer["asset_events"])

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.call("GET", "dags", params={"limit": 100})["dags"]}

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.call("GET", f"dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
        return runs

    def tasks(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call(
            "GET", f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")["task_instances"]
        return found

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        entry = self.call("GET", f"dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
                                 "/xcomEntries/return_value", params={"deserialize": "true"})
        value = entry["value"]
        if isinstance(value, str) and value[:1] in "{[":
            import ast

            try:
                return json.loads(value)
            except ValueError:
                return ast.literal_eval(value)
        return value

    def trigger(self, dag_id: str, logical_date: str | None = None,
                data_interval: tuple[str, str] | None = None) -> str:
        """Create a run with a run id of our own, so a request that timed out can be asked about and
        repeated without making a second run. ``data_interval`` gives the run a real (start, end)
        interval, as a timetable with data intervals would."""
        run_id = f"manual__{datetime.now(UTC).isoformat()}_e2e{secrets.token_hex(3)}"
        body = {"logical_date": logical_date, "dag_run_id": run_id}
        if data_interval is not None:
            body["data_interval_start"], body["data_interval_end"] = data_interval
        for attempt in range(3):
            try:
                run: dict[str, Any] = self.call("POST", f"dags/{dag_id}/dagRuns", json=body, ok=(200, 201, 409))
            except (requests.Timeout, RuntimeError):
                if attempt == 2:
                    raise
                time.sleep(5)
                if any(r["dag_run_id"] == run_id for r in self.call("GET", f"dags/{dag_id}/dagRuns",
                                                                   params={"limit": 100})["dag_runs"]):
                    return run_id
                continue
            return str(run.get("dag_run_id") or run_id)
        return run_id


def copy_tree(source: Path, target: Path) -> None:
    """Copy a DAG folder (files and data) into the deployment."""
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
