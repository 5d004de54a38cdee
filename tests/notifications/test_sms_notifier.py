"""SmsNotifier sends alerts through the simulator and never raises into the callback."""

from __future__ import annotations

import asyncio
import logging

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
