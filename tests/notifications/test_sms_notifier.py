"""SmsNotifier sends alerts through the simulator and never raises into the callback."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from airflow_provider_sms.notifications.sms import SmsNotifier, send_sms_notification
from airflow_provider_sms.simulator import SimulatorServer

A, B = "447700100001", "447700100002"


def test_renders_and_sends(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    notifier = send_sms_notification(sms_conn_id=bulksms_conn, to="+447700100001, 07700 100002",
                                     message="{{ dag_id }} failed in run {{ run_id }}", sender="Alerts")
    notifier({"dag_id": "nightly_load", "run_id": "scheduled__1"})
    for number in (A, B):
        [received] = sms_simulator.bulksms.received(number)
        assert received["message"] == "nightly_load failed in run scheduled__1"


def test_long_alerts_are_cut_to_three_parts(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    SmsNotifier(sms_conn_id=bulksms_conn, to=[A], message="Traceback " * 200).notify({})
    [received] = sms_simulator.bulksms.received(A)
    assert received["message"].endswith("...") and len(received["message"]) <= 459


def test_failures_are_logged_not_raised(bulksms_conn: str, sms_simulator: SimulatorServer,
                                        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.ERROR)
    SmsNotifier(sms_conn_id=bulksms_conn, to=["not a number"], message="x").notify({})
    logged = caplog.text + capsys.readouterr().out  # Airflow's structlog writes to stdout
    assert "SMS alert not sent" in logged and "not a phone number" in logged
    assert sms_simulator.bulksms.received() == []


def test_async_notify_for_deadline_alerts(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    notifier = SmsNotifier(sms_conn_id=nm_conn, to=[A], message="Run is late", sender="Alerts")
    asyncio.run(notifier.async_notify({}))
    assert sms_simulator.netmessenger.received_count(A) == 1


def test_unicode_alert_is_shortened_to_what_the_gateway_takes(bulksms_conn: str, sms_simulator: SimulatorServer,
                                                               api: str) -> None:
    # BulkSMS EAPI takes UCS-2 text in a single part of 70 characters; the JSON API concatenates.
    SmsNotifier(sms_conn_id=bulksms_conn, to=[A], message="Загрузка данных не удалась " * 20).notify({})
    [received] = sms_simulator.bulksms.received(A)
    text = received["message"]
    assert text.startswith("Загрузка данных") and text.endswith("...")
    assert received["parts"] == (1 if api == "eapi" else 3)
    assert len(text) <= (70 if api == "eapi" else 3 * 67)


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    return caplog.text + "".join(capsys.readouterr())  # Airflow's structlog writes to stdout


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_silent_gateway_costs_the_time_budget_not_the_task(monkeypatch: pytest.MonkeyPatch, flavour: str,
                                                             caplog: pytest.LogCaptureFixture,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from tests.hostile import hostile_server

    caplog.set_level(logging.ERROR)
    with hostile_server() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SILENT_SMS", json.dumps({
            "conn_type": "bulksms", "host": server.url + "/silent", "login": "u", "password": "pw",
            "extra": {"api": "json", "default_region": "GB", "timeout": 30}}))
        notifier = SmsNotifier(sms_conn_id="silent_sms", to=[A], message="failed", timeout=0.5)
        started = time.monotonic()
        if flavour == "sync":
            notifier.notify({})
        else:
            asyncio.run(notifier.async_notify({}))
        took = time.monotonic() - started
    # The 0.5 s budget plus start-up on a loaded machine; before it, a 30 s read timeout retried
    # 3 times held the callback for minutes.
    assert took < 5.0
    logged = _logged(caplog, capsys)
    assert "SMS alert" in logged and A in logged and "silent_sms" in logged


@pytest.mark.parametrize("error", [ValueError("bad value"), RecursionError("too deep"), KeyError("x")])
def test_unexpected_errors_are_logged_not_raised(bulksms_conn: str, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture,
                                                  capsys: pytest.CaptureFixture[str], error: Exception) -> None:
    from airflow_provider_sms.hooks.bulksms import BulkSmsHook

    def broken(self: BulkSmsHook, message: object) -> None:
        raise error

    monkeypatch.setattr(BulkSmsHook, "send", broken)
    caplog.set_level(logging.ERROR)
    SmsNotifier(sms_conn_id=bulksms_conn, to=[A], message="x").notify({})
    asyncio.run(SmsNotifier(sms_conn_id=bulksms_conn, to=[A], message="x").async_notify({}))
    logged = _logged(caplog, capsys)
    assert logged.count("SMS alert not sent") >= 2 and type(error).__name__ in logged
    assert "demo-secret-pass" not in logged


def test_a_missing_connection_is_logged_not_raised(caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.ERROR)
    SmsNotifier(sms_conn_id="no_such_connection", to=[A], message="x").notify({})
    assert "SMS alert not sent" in _logged(caplog, capsys)
