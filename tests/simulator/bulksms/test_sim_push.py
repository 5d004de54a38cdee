"""BulkSMS pushes to a local HTTP receiver: status reports with the vendor's retry schedule on the virtual clock."""

from __future__ import annotations

import time

import requests

from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig
from airflow_provider_sms.simulator.callbacks import CallbackQueue, RetryRule
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import EapiClient, PushReceiver

NUMBER = "447700900001"
OTHER = "447700900002"


def with_push(server: SimulatorServer, url: str, delivery_delay: float = 5.0,
              push_max_attempts: int | None = None) -> None:
    account = BulkSmsAccount(push_url=url)
    server.reset(
        SimulatorConfig(bulksms_accounts=[account], delivery_delay=delivery_delay, push_max_attempts=push_max_attempts)
    )


def test_final_status_is_pushed_when_the_clock_advances(
    eapi: EapiClient, sms_simulator: SimulatorServer, push_receiver: PushReceiver
) -> None:
    with_push(sms_simulator, push_receiver.url)
    sms_simulator.bulksms.set_outcome(OTHER, 51)
    batch = eapi.send_ok(msisdn=f"{NUMBER},{OTHER}", source_id="job-1")
    sms_simulator.clock.advance(4)
    assert push_receiver.received == []
    sms_simulator.clock.advance(1)
    pushed = sorted(push_receiver.received, key=lambda p: p["msisdn"])
    assert [(p["msisdn"], p["status"], p["batch_id"], p["source_id"]) for p in pushed] == [
        (NUMBER, "11", str(batch), "job-1"),
        (OTHER, "51", str(batch), "job-1"),
    ]
    assert all(p["secret"] == "abc" for p in pushed)  # the URL's own query is kept
    assert len(pushed[0]["completed_time"]) == len("24-01-31 12:00:00")
    assert {p["msg_id"] for p in pushed} == {str(r["message_id"]) for r in sms_simulator.bulksms.received()}
    sms_simulator.clock.advance(60)
    assert len(push_receiver.received) == 2  # each report is pushed once


def test_want_report_0_pushes_nothing(
    eapi: EapiClient, sms_simulator: SimulatorServer, push_receiver: PushReceiver
) -> None:
    with_push(sms_simulator, push_receiver.url)
    eapi.send_ok(msisdn=NUMBER, want_report=0)
    sms_simulator.clock.advance(10)
    assert push_receiver.received == []


def test_background_tick_pushes_without_advance(
    eapi: EapiClient, sms_simulator: SimulatorServer, push_receiver: PushReceiver
) -> None:
    with_push(sms_simulator, push_receiver.url, delivery_delay=0.0)
    eapi.send_ok(msisdn=NUMBER)
    deadline = time.monotonic() + 5
    while not push_receiver.received and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting for the real-time background tick is the point of this test
    assert [p["msisdn"] for p in push_receiver.received] == [NUMBER]


def test_failed_pushes_are_retried_after_one_three_and_twelve_hours(
    eapi: EapiClient, sms_simulator: SimulatorServer, push_receiver: PushReceiver
) -> None:
    with_push(sms_simulator, push_receiver.url)
    push_receiver.fail_first = 3
    eapi.send_ok(msisdn=NUMBER)
    sms_simulator.clock.advance(5)  # first try: HTTP 500
    sms_simulator.clock.advance(3599)
    assert push_receiver.received == []
    sms_simulator.clock.advance(1)  # 60 minutes later: fails again
    sms_simulator.clock.advance(3 * 3600)  # 3 hours later: fails a third time
    assert push_receiver.received == []
    sms_simulator.clock.advance(12 * 3600)  # 12 hours later: received
    assert [p["msisdn"] for p in push_receiver.received] == [NUMBER]
    [entry] = requests.get(sms_simulator.url + "/_sim/bulksms/callback_log", timeout=10).json()
    assert entry["attempts"] == 4 and entry["history"] == ["HTTP 500"] * 3 + ["HTTP 200"]


def test_unreachable_push_url_gives_up_without_breaking_the_server(
    eapi: EapiClient, sms_simulator: SimulatorServer
) -> None:
    with_push(sms_simulator, "http://127.0.0.1:9/unreachable", push_max_attempts=2)
    eapi.send_ok(msisdn=NUMBER)
    sms_simulator.clock.advance(5)
    sms_simulator.clock.advance(3600)
    counters = requests.get(sms_simulator.url + "/_sim/bulksms/pushes", timeout=10).json()
    assert counters == {"delivered": 0, "failed": 1, "pending": 0}
    assert eapi.send(msisdn=OTHER).startswith("0|")


def test_queue_clear_forgets_pending_callbacks(push_receiver: PushReceiver) -> None:
    queue = CallbackQueue("test")
    for i in range(5):
        queue.add(f"{push_receiver.url}&n={i}", due=float(i), label="n", rule=RetryRule())
    queue.deliver_due(2.0, wait=True)
    assert sorted(p["n"] for p in push_receiver.received) == ["0", "1", "2"]
    assert queue.counts() == {"delivered": 3, "failed": 0, "pending": 2}
    queue.clear()
    queue.deliver_due(10.0, wait=True)
    assert len(push_receiver.received) == 3
