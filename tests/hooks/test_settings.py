"""Reading connections into hook settings (no network)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_sms.connection_forms import CONNECTION_FORMS
from airflow_provider_sms.exceptions import SmsConfigurationError
from airflow_provider_sms.hooks.base import get_sms_hook, hook_class_for
from airflow_provider_sms.hooks.bulksms import BulkSmsHook
from airflow_provider_sms.hooks.netmessenger import NetMessengerHook


def _conn(monkeypatch: pytest.MonkeyPatch, value: dict[str, object] | str, conn_id: str = "x") -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value if isinstance(value, str) else json.dumps(value))
    return conn_id


@pytest.mark.parametrize(("api", "host"), [("json", "https://api.bulksms.com"), ("eapi", "https://bulksms.vsms.net")])
def test_bulksms_default_host_follows_the_api(monkeypatch: pytest.MonkeyPatch, api: str, host: str) -> None:
    hook = get_sms_hook(_conn(monkeypatch, {"conn_type": "bulksms", "login": "u", "password": "secret-pw",
                                            "extra": {"api": api}}))
    assert isinstance(hook, BulkSmsHook)
    assert hook.settings.base_url == host and hook.api_name == api
    assert "secret-pw" not in repr(hook.settings)


def test_uri_connections_and_legacy_extra_names(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _conn(monkeypatch, "bulksms://u:secret-pw@example.test?extra__bulksms__default_region=gb"
                                 "&eapi_unicode_concat=true&retries=0&api=eapi")
    settings = get_sms_hook(conn_id).settings
    assert settings.base_url == "https://example.test"
    assert settings.default_region == "GB"
    assert settings.flag("eapi_unicode_concat") is True
    assert settings.retry.max_attempts == 1


def test_netmessenger_accepts_the_full_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = get_sms_hook(_conn(monkeypatch, {"conn_type": "netmessenger", "host": "https://my.fastsms.co.uk/api/",
                                            "password": "tok-123456"}))
    assert isinstance(hook, NetMessengerHook)
    assert hook.base_url() == "https://my.fastsms.co.uk"


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"conn_type": "bulksms", "login": "u", "password": "p12345", "extra": {"api": "soap"}}, "'json' or 'eapi'"),
        ({"conn_type": "bulksms", "login": "u", "password": "p12345", "extra": {"number_check": "x"}}, "number_check"),
        ({"conn_type": "bulksms", "login": "", "password": ""}, "needs login"),
        ({"conn_type": "bulksms", "host": "https://api.bulksms.com/v1", "login": "u", "password": "p12345"},
         "drop the trailing '/v1'"),
        ({"conn_type": "netmessenger", "password": ""}, "API token"),
    ],
)
def test_configuration_errors_name_the_setting(monkeypatch: pytest.MonkeyPatch, conn: dict[str, object],
                                               message: str) -> None:
    hook = get_sms_hook(_conn(monkeypatch, conn))
    with pytest.raises(SmsConfigurationError, match=message):
        _ = hook.api  # type: ignore[attr-defined]


def test_unknown_connection_type(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SmsConfigurationError, match="not an SMS gateway"):
        hook_class_for("http")


def test_deadline_and_size_caps_come_from_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _conn(monkeypatch, "bulksms://u:pw@example.test?deadline=7.5&max_answer_bytes=1000"
                                 "&report_deadline=60&max_line_bytes=512")
    hook = get_sms_hook(conn_id)
    limits = hook.settings.limits
    assert (limits.deadline, limits.max_answer_bytes, limits.report_deadline, limits.max_line_bytes) == (
        7.5, 1000, 60.0, 512)
    assert hook.transport.limits == limits and hook.async_transport().limits == limits


def test_deadline_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = get_sms_hook(_conn(monkeypatch, "bulksms://u:pw@example.test")).settings.limits
    assert (limits.deadline, limits.max_answer_bytes) == (120.0, 4 * 1024 * 1024)


@pytest.mark.parametrize(("name", "value"), [("deadline", "0"), ("deadline", "-1"), ("deadline", "soon"),
                                           ("deadline", "nan"), ("deadline", "inf"), ("deadline", "86401"),
                                           ("max_answer_bytes", "1.5"), ("max_line_bytes", "0")])
def test_a_bad_deadline_or_cap_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, name: str,
                                                        value: str) -> None:
    hook = get_sms_hook(_conn(monkeypatch, f"bulksms://u:pw@example.test?{name}={value}"))
    with pytest.raises(SmsConfigurationError, match=rf"connection '\w+': extra '{name}' must be a (whole )?number "
                                                    "above 0 and at most"):
        hook.prepare()


@pytest.mark.parametrize("conn_type", sorted(CONNECTION_FORMS))
def test_extras_the_form_saves_empty_typed_or_as_text_read_as_the_hook_defaults(conn_type: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 3.1's form saves an empty extra as null, and a field without a typed stand-in as text;
    both versions pre-fill the form's defaults, which must be the hook's own (a saved value wins)."""
    from dataclasses import replace

    form = CONNECTION_FORMS[conn_type]
    base = {"conn_type": conn_type, "host": "https://example.test", "login": "user", "password": "secret-pw-1"}
    plain = get_sms_hook(_conn(monkeypatch, base, "plain"))
    empty = get_sms_hook(_conn(monkeypatch, {**base, "extra": {f.name: None for f in form.fields}}, "empty"))
    # What the form pre-fills and saves: its defaults, typed (3.3, 3.1's typed fields) or as text.
    typed = get_sms_hook(_conn(monkeypatch, {**base, "extra": {
        f.name: f.default for f in form.fields if f.default is not None}}, "typed"))
    as_text = get_sms_hook(_conn(monkeypatch, {**base, "extra": {
        f.name: str(f.default).lower() if isinstance(f.default, bool) else str(f.default)
        for f in form.fields if f.default is not None}}, "as_text"))
    for hook in (plain, empty, typed, as_text):
        hook.prepare()  # every gateway-specific extra is read too
    expected = replace(plain.settings, extra={}, conn_id="")
    for hook in (empty, typed, as_text):
        assert replace(hook.settings, extra={}, conn_id="") == expected, hook.settings.conn_id
