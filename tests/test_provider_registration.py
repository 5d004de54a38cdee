"""The provider registers with Airflow: metadata, connection type, connection form, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import NM_TOKEN, PASSWORD, SKY_KEY, bulksms_connection, netmessenger_connection, skycore_connection


def test_provider_and_hook_are_discovered() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-sms" in manager.providers
    hook = manager.hooks["bulksms"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_sms.hooks.bulksms.BulkSmsHook"
    assert hook.connection_id_attribute_name == "sms_conn_id"
    netmessenger = manager.hooks["netmessenger"]
    assert netmessenger is not None
    assert netmessenger.hook_class_name == "airflow_provider_sms.hooks.netmessenger.NetMessengerHook"
    skycore = manager.hooks["skycore"]
    assert skycore is not None
    assert skycore.hook_class_name == "airflow_provider_sms.hooks.skycore.SkycoreHook"
    bulletin = manager.hooks["bulletin_messenger"]
    assert bulletin is not None
    assert bulletin.hook_class_name == "airflow_provider_sms.hooks.bulletin.BulletinMessengerHook"


_FORM_PROBE = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}["bulksms"]
fields = meta.standard_fields
extra = {k.split("__")[-1]: v for k, v in (meta.extra_fields or {}).items()}
print("FORM=" + json.dumps({"hook_name": meta.hook_name, "extra": extra,
                            "host_title": fields.host.title, "port": fields.port.model_dump()}))
"""


def test_connection_form_in_the_ui_metadata() -> None:
    # A fresh process, as the API server builds the form: the providers manager caches forms per process.
    # Airflow 3.2+ reads our declarative conn-fields; 3.1 calls the hook's Python form methods.
    probe = subprocess.run([sys.executable, "-c", _FORM_PROBE], capture_output=True, text=True, timeout=120,
                           check=True)
    line = next(x for x in probe.stdout.splitlines() if x.startswith("FORM="))
    form = json.loads(line.removeprefix("FORM="))
    assert form["hook_name"] == "BulkSMS"
    extra = form["extra"]
    assert {"api", "default_region", "number_check", "timeout"} <= set(extra)
    assert form["host_title"] == "Base URL"
    # Shown, so that a saved connection has a port and 3.3.2's Test button does not post port 0.
    assert form["port"] == {"hidden": False, "title": "Port", "placeholder": "443"}
    # Drop-downs, typed numbers and defaults on both versions (3.1 through the wtforms stand-ins).
    assert extra["api"]["value"] == "json" and extra["api"]["schema"]["enum"] == ["json", "eapi"]
    assert extra["number_check"]["schema"]["enum"] == ["valid", "possible"]
    assert extra["retries"]["value"] == 3 and extra["retries"]["schema"]["type"] == ["integer", "null"]
    assert extra["eapi_unicode_concat"]["value"] is False
    assert "e.g. GB" in extra["default_region"]["description"]


def test_legacy_ui_behaviour_is_on_the_class_itself() -> None:
    from airflow_provider_sms.hooks.bulksms import BulkSmsHook

    assert "get_ui_field_behaviour" in BulkSmsHook.__dict__
    assert "get_connection_form_widgets" in BulkSmsHook.__dict__
    behaviour = BulkSmsHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == ["schema"]
    assert behaviour["placeholders"]["port"] == "443"
    assert behaviour["relabeling"]["password"] == "Password or token secret"


def _airflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=env,
                          timeout=180, check=False)


@pytest.mark.parametrize("api", ["json", "eapi"])
def test_cli_lists_provider_and_tests_connection(sms_simulator: SimulatorServer, api: str) -> None:
    env = {**os.environ, "AIRFLOW_CONN_BULKSMS_DEFAULT": bulksms_connection(sms_simulator, api),
           "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    if api == "json":
        providers = _airflow("providers", "list", "-o", "json", env=env)
        listing = json.loads(providers.stdout[providers.stdout.index("[{"):])
        assert "airflow-provider-sms" in {p["package_name"] for p in listing}
        hooks = _airflow("providers", "hooks", "-o", "json", env=env)
        assert "bulksms" in hooks.stdout and "netmessenger" in hooks.stdout and "skycore" in hooks.stdout
    tested = _airflow("connections", "test", "bulksms_default", env=env)
    assert "Connection success!" in tested.stdout, tested.stdout + tested.stderr
    assert PASSWORD not in tested.stdout + tested.stderr
    if api == "json":
        env["AIRFLOW_CONN_NETMESSENGER_DEFAULT"] = netmessenger_connection(sms_simulator)
        tested = _airflow("connections", "test", "netmessenger_default", env=env)
        assert "Connection success!" in tested.stdout, tested.stdout + tested.stderr
        assert NM_TOKEN not in tested.stdout + tested.stderr
        env["AIRFLOW_CONN_SKYCORE_DEFAULT"] = skycore_connection(sms_simulator)
        tested = _airflow("connections", "test", "skycore_default", env=env)
        assert "Connection success!" in tested.stdout, tested.stdout + tested.stderr
        assert SKY_KEY not in tested.stdout + tested.stderr
