"""Every form a secret takes on the wire is scrubbed from gateway text, and registered with Airflow's masker."""

from __future__ import annotations

import json

import pytest

from airflow_provider_sms.gateways.answers import scrub, secret_forms
from airflow_provider_sms.gateways.bulksms.common import BulkSmsCredentials
from airflow_provider_sms.gateways.bulksms.eapi import BulkSmsEapi
from airflow_provider_sms.gateways.bulletin.api import BulletinApi
from airflow_provider_sms.gateways.netmessenger.api import NetMessengerApi
from airflow_provider_sms.gateways.skycore.api import SkycoreApi
from tests.hostile import wire_forms

USER = "alerts-user"
PASSWORD = 'p@ss w/rd&=+%?#"\\é'


def _on_the_wire(secret: str) -> dict[str, str]:
    return wire_forms(USER, secret)


@pytest.mark.parametrize(("form", "value"), list(_on_the_wire(PASSWORD).items()))
def test_every_wire_form_is_scrubbed(form: str, value: str) -> None:
    forms = secret_forms([PASSWORD], basic_auth=(USER, PASSWORD))
    echoed = f"Invalid request: Authorization: Basic {value}; body: password={value}&to=447700100001"
    cleaned = scrub(echoed, forms, limit=1000)
    assert value not in cleaned
    assert "***" in cleaned and "447700100001" in cleaned


@pytest.mark.parametrize("secret", [PASSWORD, "plain-token-123", "ünïcödé ☃ token"])
def test_protocols_scrub_every_form(secret: str) -> None:
    eapi = BulkSmsEapi(BulkSmsCredentials(USER, secret))
    netmessenger = NetMessengerApi(secret)
    bulletin = BulletinApi(USER, secret)
    skycore = SkycoreApi(secret)
    for form, value in _on_the_wire(secret).items():
        assert value not in eapi.safe_text(f"23|bad {value} here"), form
        assert value not in bulletin._safe(f"bad {value} here"), form
        if not form.startswith("basic"):  # a NetMessenger token, a Skycore key travel alone, never in Basic auth
            assert value not in netmessenger.safe_text(f"bad {value} here"), form
            assert value not in skycore.safe_text(f"bad {value} here"), form


@pytest.mark.parametrize("conn_type", ["bulksms", "netmessenger", "bulletin_messenger", "skycore"])
def test_the_hook_registers_every_form_with_airflows_masker(monkeypatch: pytest.MonkeyPatch, conn_type: str) -> None:
    from uuid import uuid4

    from airflow.providers.common.compat.sdk import redact

    from airflow_provider_sms.hooks.base import get_sms_hook

    fresh = f"{PASSWORD}-{uuid4().hex[:8]}"  # never seen by the masker before
    monkeypatch.setenv("AIRFLOW_CONN_MASKED", json.dumps(
        {"conn_type": conn_type, "host": "http://127.0.0.1:9", "login": USER, "password": fresh}))
    forms = _on_the_wire(fresh)
    get_sms_hook("masked").prepare()
    for form, value in forms.items():
        assert value not in str(redact(f"echo: {value} :end")), form
