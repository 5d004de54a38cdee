"""Test set-up: an isolated AIRFLOW_HOME, connections from env vars, the simulator on loopback.

The ``sms_simulator`` fixture comes from the package's own pytest plugin
(``airflow_provider_sms.simulator.pytest_plugin``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

# Before anything imports airflow: its configuration is read once, at first import.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sms-provider-tests-")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags" / "examples")
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
# One Fernet key for every process of the session (worker subprocesses too): an example DAG's asset
# watcher stores its trigger encrypted, and a process with another key cannot read it back.
os.environ["AIRFLOW__CORE__FERNET_KEY"] = "dGVzdHMtb25seS1mZXJuZXQta2V5LTMyLWJ5dGVzISE="

import pytest  # noqa: E402

from airflow_provider_sms.simulator import SimulatorServer  # noqa: E402

PASSWORD = "demo-secret-pass"  # the simulator's default BulkSMS account
USERNAME = "demo"


def bulksms_connection(server: SimulatorServer, api: str = "json", **extra: Any) -> str:
    """The JSON form of an ``AIRFLOW_CONN_*`` variable pointing at the simulator."""
    return json.dumps({
        "conn_type": "bulksms",
        "host": server.url,
        "login": USERNAME,
        "password": PASSWORD,
        "extra": {"api": api, "default_region": "GB", "retry_backoff": 0, **extra},
    })


NM_TOKEN = "nm-demo-token-0001"  # the simulator's default NetMessenger account


def netmessenger_connection(server: SimulatorServer, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value for the simulator's NetMessenger account."""
    return json.dumps({
        "conn_type": "netmessenger",
        "host": server.url,
        "password": NM_TOKEN,
        "extra": {"default_region": "GB", "retry_backoff": 0, **extra},
    })


@pytest.fixture
def nm_conn(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``netmessenger_default`` pointing at the running simulator."""
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    return "netmessenger_default"


@pytest.fixture(params=["json", "eapi"])
def api(request: pytest.FixtureRequest) -> str:
    """Run a test once per BulkSMS API."""
    return str(request.param)


@pytest.fixture
def bulksms_conn(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, api: str) -> str:
    """``bulksms_default`` pointing at the running simulator, for the API under test."""
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, api))
    return "bulksms_default"


SKY_KEY = "sky-demo-key-0001"  # the simulator's default Skycore account


def skycore_connection(server: SimulatorServer, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value for the simulator's Skycore account (host = the full API URL)."""
    return json.dumps({
        "conn_type": "skycore",
        "host": server.url + "/API/wxml/1.3/",
        "password": SKY_KEY,
        "extra": {"default_region": "GB", "retry_backoff": 0, "short_code": "60856", **extra},
    })


@pytest.fixture
def sky_conn(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``skycore_default`` pointing at the running simulator."""
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator))
    return "skycore_default"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated SQLite metadata DB in this session's AIRFLOW_HOME (``dag.test()`` needs one)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   env=os.environ.copy(), timeout=300)


def load_example_dag(path: Path) -> Any:
    """The ``dag`` object of an example DAG file, imported from its path as the DAG processor would."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def _dag_test_passes_exception() -> bool:
    from airflow import __version__
    from packaging.version import Version

    return Version(Version(__version__).base_version) >= Version("3.3")


# dag.test() on Airflow 3.1 runs tasks without putting the exception into the callback context
# (a real worker does); from 3.3 it does. Tests of the default alert text check what applies.
DAG_TEST_PASSES_EXCEPTION = _dag_test_passes_exception()


@pytest.fixture(autouse=True)
def no_resume_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Triggers built by deferred sensors poll at once in tests: the guard against Airflow's
    resume race (``sensors.base.RESUME_GUARD_SECONDS``) matters in deployments, where make e2e
    covers it, and is tested on its own in tests/sensors."""
    from airflow_provider_sms.sensors import base

    monkeypatch.setattr(base, "RESUME_GUARD_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def sms_journal(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh send journal per test (tests reuse run ids, which a shared journal would remember)."""
    path = tmp_path_factory.mktemp("journal") / "sms_journal.db"
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return str(path)
