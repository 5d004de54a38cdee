"""Every form a secret takes on the wire is scrubbed from gateway text, and registered with Airflow's masker."""

from __future__ import annotations

import base64
import json
import re
from contextlib import suppress
from urllib.parse import quote, quote_plus

import pytest

from airflow_provider_sms.gateways.answers import scrub, secret_forms
from airflow_provider_sms.gateways.bulksms.common import BulkSmsCredentials
from airflow_provider_sms.gateways.bulksms.eapi import BulkSmsEapi
from airflow_provider_sms.gateways.netmessenger.api import NetMessengerApi

USER = "alerts-user"
PASSWORD = 'p@ss w/rd&=+%?#"\\é'


def _on_the_wire(secret: str) -> dict[str, str]:
    """How requests, httpx and urlencode put ``secret`` on the wire, and how an echo may show it."""
    forms = {
        "raw": secret,
        "quote": quote(secret, safe=""),
        "quote keeping /": quote(secret),
        "quote_plus": quote_plus(secret),
        "quote_plus lower-case hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote_plus(secret)),
        "json": json.dumps(secret)[1:-1],
        "json unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "basic utf-8": base64.b64encode(f"{USER}:{secret}".encode()).decode(),
    }
    with suppress(UnicodeEncodeError):  # only secrets that ISO-8859-1 can carry go out in it
        forms["quote_plus latin-1"] = quote_plus(secret, encoding="iso-8859-1")
        forms["basic latin-1"] = base64.b64encode(f"{USER}:{secret}".encode("iso-8859-1")).decode()
    return forms


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
    for form, value in _on_the_wire(secret).items():
        assert value not in eapi.safe_text(f"23|bad {value} here"), form
        if not form.startswith("basic"):  # a NetMessenger token travels alone, never in Basic auth
            assert value not in netmessenger.safe_text(f"bad {value} here"), form


def test_the_hook_registers_every_form_with_airflows_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    from uuid import uuid4

    from airflow.providers.common.compat.sdk import redact

    from airflow_provider_sms.hooks.base import get_sms_hook

    fresh = f"{PASSWORD}-{uuid4().hex[:8]}"  # never seen by the masker before
    monkeypatch.setenv("AIRFLOW_CONN_MASKED", json.dumps(
        {"conn_type": "bulksms", "host": "http://127.0.0.1:9", "login": USER, "password": fresh}))
    forms = _on_the_wire(fresh)
    get_sms_hook("masked").prepare()
    for form, value in forms.items():
        assert value not in str(redact(f"echo: {value} :end")), form
