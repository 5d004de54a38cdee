"""Delivery-report pushes to a local HTTP receiver."""

from __future__ import annotations

import time

import requests

from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig
from airflow_provider_sms.simulator.push import PushDispatcher
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import EapiClient, PushReceiver

NUMBER = "447700900001"
OTHER = "447700900002"


def with_push(server: SimulatorServer, url: str, delivery_delay: float = 5.0, push_max_attempts: int = 3) -> None:
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


def test_failed_pushes_are_retried_a_few_times(
    eapi: EapiClient, sms_simulator: SimulatorServer, push_receiver: PushReceiver
) -> None:
    with_push(sms_simulator, push_receiver.url)
    push_receiver.fail_first = 2
    eapi.send_ok(msisdn=NUMBER)
    sms_simulator.clock.advance(5)
    assert [p["msisdn"] for p in push_receiver.received] == [NUMBER]


def test_unreachable_push_url_gives_up_without_breaking_the_server(
    eapi: EapiClient, sms_simulator: SimulatorServer
) -> None:
    with_push(sms_simulator, "http://127.0.0.1:9/unreachable", push_max_attempts=2)
    eapi.send_ok(msisdn=NUMBER)
    sms_simulator.clock.advance(5)
    counters = requests.get(sms_simulator.url + "/_sim/bulksms/pushes", timeout=10).json()
    assert counters == {"delivered": 0, "failed": 1}
    assert eapi.send(msisdn=OTHER).startswith("0|")


def test_dispatcher_drain_clear_and_close(push_receiver: PushReceiver) -> None:
    dispatcher = PushDispatcher(workers=1, max_attempts=1, max_pending=2)
    for i in range(5):
        dispatcher.submit(push_receiver.url, [("n", str(i))])
    assert dispatcher.drain(timeout=5)
    assert sorted(p["n"] for p in push_receiver.received) == ["0", "1", "2", "3", "4"]
    assert dispatcher.delivered == 5
    dispatcher.clear()
    dispatcher.close()
    dispatcher.submit(push_receiver.url, [("n", "late")])  # ignored once closed
    assert dispatcher.drain(timeout=1)
