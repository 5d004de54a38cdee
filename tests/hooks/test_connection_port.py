"""The Port field, which the forms always show (Airflow 3.3.2's Test button needs a saved port).

The README asks users to fill it in; a host written as the full API URL (Skycore's must be;
NetMessenger's may be) keeps its path, and the port goes where it belongs. Real requests to the
simulator, whose port is given only in the Port field.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.simulator import SimulatorServer
from airflow_provider_sms.simulator.config import DEFAULT_BULLETIN_PASSWORD, DEFAULT_BULLETIN_USER_ID
from tests.conftest import NM_TOKEN, PASSWORD, SKY_KEY, USERNAME

# conn_type -> (path after the host, login, password)
ACCOUNTS = {
    "bulksms": ("", USERNAME, PASSWORD),
    "netmessenger": ("/api/", "", NM_TOKEN),
    "skycore": ("/API/wxml/1.3/", "", SKY_KEY),
    "bulletin_messenger": ("", DEFAULT_BULLETIN_USER_ID, DEFAULT_BULLETIN_PASSWORD),
}


@pytest.mark.parametrize("conn_type", sorted(ACCOUNTS))
def test_a_host_with_a_path_and_the_port_in_its_own_field(conn_type: str, sms_simulator: SimulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path, login, password = ACCOUNTS[conn_type]
    simulator = urlsplit(sms_simulator.url)
    monkeypatch.setenv("AIRFLOW_CONN_PORTED", json.dumps({
        "conn_type": conn_type, "host": f"{simulator.scheme}://{simulator.hostname}{path}", "port": simulator.port,
        "login": login, "password": password}))
    hook = get_sms_hook("ported")
    assert urlsplit(hook.settings.base_url).port == simulator.port
    assert urlsplit(hook.settings.base_url).path == path
    ok, message = hook.test_connection()
    assert ok, message


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("https://secure.skycore.com/API/wxml/1.3/", 443, "https://secure.skycore.com:443/API/wxml/1.3/"),
    ("my.fastsms.co.uk/api", 8443, "https://my.fastsms.co.uk:8443/api"),
    ("https://api.bulksms.com", 443, "https://api.bulksms.com:443"),
    ("https://api.bulksms.com:8443/", 443, "https://api.bulksms.com:8443/"),  # a port in the host wins
    ("http://[::1]/api", 8080, "http://[::1]:8080/api"),
])
def test_the_port_goes_into_the_address_not_after_the_path(host: str, port: int, expected: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PORTED", json.dumps({"conn_type": "netmessenger", "host": host, "port": port,
                                                          "password": "tok-123456"}))
    assert get_sms_hook("ported").settings.base_url == expected
