"""Two workers sharing the journal in a real PostgreSQL server (started by the test suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from airflow_provider_sms.simulator.config import NetMessengerAccount
from airflow_provider_sms.simulator.netmessenger.reports import DOCUMENTED_REPORT_TYPES
from tests.conftest import REPO, netmessenger_connection
from tests.journal.dagruns import netmessenger_handsets
from tests.journal.postgres import PostgresServer
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"447700{300000 + i}" for i in range(1000)]


def _worker(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.journal.worker", json.dumps(spec)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_run_cleared_on_another_worker_texts_nobody_twice(airflow_db: None, postgres: PostgresServer,
                                                            sms_simulator: SimulatorServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker A loses every answer and fails; worker B (another process) clears and re-runs the task."""
    sms_simulator.reset(SimulatorConfig(netmessenger_report_types=DOCUMENTED_REPORT_TYPES,
                                        netmessenger_accounts=[NetMessengerAccount(credits=10**6)]))
    env = {**os.environ, "AIRFLOW_CONN_NETMESSENGER_DEFAULT": netmessenger_connection(sms_simulator),
           "AIRFLOW_CONN_SMS_JOURNAL_DEFAULT": postgres.journal_connection()}
    spec = {"conn_id": "netmessenger_default", "numbers": NUMBERS, "message": "Doors close at 18:00."}
    sms_simulator.faults.drop_after_accept(count=5, only="/api")

    first = _worker(spec, env)
    assert (first["state"], first["xcom"]["in_doubt_count"], first["xcom"]["accepted_count"]) == ("failed", 1000, 0)

    second = _worker({**spec, "logical_date": first["logical_date"], "run_after": first["run_after"]}, env)

    assert second["run_id"] == first["run_id"] and second["state"] == "success"
    assert second["xcom"]["accepted_count"] == 1000
    counts = netmessenger_handsets(sms_simulator)
    assert {n: counts[n] for n in NUMBERS} == dict.fromkeys(NUMBERS, 1)
    actions = [a for _, _, a in sms_simulator.netmessenger.requests]
    assert actions.count("Send") == 5 and actions.count("Report") == 10  # Messages + Outbox per chunk


def test_two_tries_running_at_once_text_nobody_twice(postgres: PostgresServer, sms_simulator: SimulatorServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A try thought dead still running beside its retry, on two workers: each chunk is sent by one of them."""
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT", postgres.journal_connection())
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(credits=10**6)]))
    sms_simulator.faults.latency(0.3, only="/api")  # both tries are mid-send at the same time
    numbers = NUMBERS[:600]
    outcomes: dict[int, Any] = {}
    barrier = threading.Barrier(2)

    def worker(try_number: int) -> None:
        op = SmsSendOperator(task_id="text_all", sms_conn_id="netmessenger_default", to=numbers, message="Hi",
                             sender="Ops")
        barrier.wait()
        try:
            outcomes[try_number] = op.execute(context(FakeTaskInstance(try_number=try_number)))
        except AirflowException as error:
            outcomes[try_number] = error

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    counts = netmessenger_handsets(sms_simulator)
    assert {n: counts[n] for n in numbers} == dict.fromkeys(numbers, 1)
    assert [a for _, _, a in sms_simulator.netmessenger.requests].count("Send") == 3
    # Whoever met a chunk the other was sending said so (and a retry would settle it).
    failed = [o for o in outcomes.values() if isinstance(o, AirflowException)]
    assert all("may or may not have been texted" in str(o) for o in failed), [str(o)[:300] for o in failed]
