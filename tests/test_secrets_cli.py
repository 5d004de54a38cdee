"""An echoing gateway, driven through ``airflow tasks test`` (a real subprocess): no secret in any encoding
reaches stdout or stderr (where ``tasks test`` writes the task log) or the test-connection message.

The gateway (:mod:`tests.hostile`, path ``/echo``) answers every request with an error that repeats
the form body and every header -- so the password goes back URL-encoded and inside the Basic
``Authorization`` value, in the shape each gateway's parser reads into its error text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from airflow_provider_sms.hooks.base import get_sms_hook
from tests.hostile import HostileServer, hostile_server, wire_forms

USER = "alerts-user"
PASSWORD = 'p@ss w/rd&=+%?#"\\é-Zq9'
CONNECTIONS = {
    "echo_json": {"conn_type": "bulksms", "extra": {"api": "json"}},
    "echo_eapi": {"conn_type": "bulksms", "extra": {"api": "eapi"}},
    "echo_netmessenger": {"conn_type": "netmessenger", "extra": {}},
    "echo_bulletin": {"conn_type": "bulletin_messenger", "extra": {}},
    "echo_skycore": {"conn_type": "skycore", "extra": {"short_code": "60856"}},  # the key in the XML body
}
PATHS = {"echo_skycore": "/API/wxml/1.3/"}  # Skycore's host is the whole API URL
QUIET_TEST_CONNECTION = {"echo_bulletin"}  # its test-connection check reads the status only, not the echo
DAG_FILE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_sms.operators.send import SmsSendOperator

with DAG("echo_secrets", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    for conn_id in {conn_ids!r}:
        SmsSendOperator(task_id=conn_id, sms_conn_id=conn_id, to=["+447700100001"], message="Hi",
                        sender="Alerts", retries=0)
"""


def _conn_env(server: HostileServer) -> dict[str, str]:
    env = {}
    for conn_id, spec in CONNECTIONS.items():
        value = {**spec, "host": server.url + "/echo" + PATHS.get(conn_id, ""), "login": USER, "password": PASSWORD,
                 "extra": {**spec["extra"], "default_region": "GB", "retries": 0}}
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(value)
    return env


@pytest.fixture(scope="module")
def echo() -> Iterator[HostileServer]:
    with hostile_server() as server:
        yield server


def _leaks(text: str) -> list[str]:
    forms = wire_forms(USER, PASSWORD)
    return [name for name, value in forms.items() if value in text]


@pytest.fixture(scope="module")
def task_runs(airflow_db: None, echo: HostileServer,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The output of one ``airflow tasks test`` per connection. ``tasks test`` writes the task's
    log to its output (no log file), with tracebacks and the provider's own log lines."""
    dags = tmp_path_factory.mktemp("dags")
    (dags / "echo_secrets.py").write_text(textwrap.dedent(DAG_FILE.format(conn_ids=list(CONNECTIONS))))
    env = {**os.environ, **_conn_env(echo), "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    # One after another: each run creates the same DAG run in the one SQLite database.
    return {conn_id: subprocess.run(
        [sys.executable, "-m", "airflow", "tasks", "test", "echo_secrets", conn_id, "2026-01-01"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300, check=False).stdout
        for conn_id in CONNECTIONS}


@pytest.mark.parametrize("conn_id", list(CONNECTIONS))
def test_airflow_tasks_test_shows_no_secret(task_runs: dict[str, str], echo: HostileServer, conn_id: str) -> None:
    output = task_runs[conn_id]
    # The task really reached the echoing gateway with the password, and failed on its answer,
    # and its log (the provider's own lines and the traceback) is in the output.
    assert any(value.encode(charset) in request for request in echo.requests
               for value in wire_forms(USER, PASSWORD).values() for charset in ("utf-8", "latin-1")
               if value.isascii() or charset == "utf-8")
    assert "refused" in output or "HTTP 400" in output, output[-3000:]
    assert "airflow_provider_sms" in output and f"task_id={conn_id}" in output, output[-3000:]
    assert not _leaks(output), (_leaks(output), output[-3000:])


@pytest.mark.parametrize("conn_id", list(CONNECTIONS))
def test_the_test_connection_message_shows_no_secret(echo: HostileServer, monkeypatch: pytest.MonkeyPatch,
                                                     conn_id: str) -> None:
    for name, value in _conn_env(echo).items():
        monkeypatch.setenv(name, value)
    ok, message = get_sms_hook(conn_id).test_connection()
    assert not ok and ("***" in message or conn_id in QUIET_TEST_CONNECTION), message  # the echo came back, scrubbed
    assert not _leaks(message), (_leaks(message), message)
