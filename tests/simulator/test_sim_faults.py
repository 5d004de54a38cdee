"""Fault switches, in Python and over HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_sms.simulator.faults import FaultSwitches
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import GET_CREDITS, SEND_SMS, EapiClient

NUMBER = "447700900001"
AUTH = ("demo", "demo-secret-pass")


def test_http_error_processes_nothing_for_count_requests(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=503, count=2)
    assert eapi.post(SEND_SMS, message="x", msisdn=NUMBER).status_code == 503
    assert eapi.post(SEND_SMS, message="x", msisdn=NUMBER).status_code == 503
    assert sms_simulator.bulksms.received() == []
    assert eapi.send(msisdn=NUMBER).startswith("0|")


def test_faults_can_be_limited_to_a_path_prefix(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=502, only="/eapi/submission")
    assert eapi.call(GET_CREDITS) == "0|1000.00"
    assert eapi.post(SEND_SMS, message="x", msisdn=NUMBER).status_code == 502
    assert requests.get(sms_simulator.url + "/_sim/health", timeout=10).status_code == 200


def test_control_routes_are_never_faulted(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(count=5)
    assert requests.get(sms_simulator.url + "/_sim/health", timeout=10).status_code == 200
    assert len(sms_simulator.faults.active()) == 1


def test_throttle_eapi_answers_code_40(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle()
    answer = eapi.post(SEND_SMS, message="x", msisdn=NUMBER)
    assert (answer.status_code, answer.text) == (200, "40|Temporarily unavailable|")
    assert sms_simulator.bulksms.received() == []


def test_throttle_json_answers_429_with_retry_after(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle(only="/v1")
    answer = requests.post(sms_simulator.url + "/v1/messages", json={"to": NUMBER, "body": "x"}, auth=AUTH, timeout=10)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["status"] == 429
    assert sms_simulator.bulksms.received() == []


def test_latency_delays_the_answer(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.latency(0.3, count=1)
    started = time.monotonic()
    assert eapi.call(GET_CREDITS).startswith("0|")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    eapi.call(GET_CREDITS)
    assert time.monotonic() - started < 0.3


def test_latency_triggers_client_timeouts(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.latency(0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(sms_simulator.url + GET_CREDITS, data={"username": "demo", "password": "x"}, timeout=0.1)
    sms_simulator.faults.clear()
    assert sms_simulator.faults.active() == []


def test_drop_after_accept_records_the_send_but_loses_the_answer(
    eapi: EapiClient, sms_simulator: SimulatorServer
) -> None:
    sms_simulator.faults.drop_after_accept()
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.post(
            sms_simulator.url + SEND_SMS,
            data={"username": "demo", "password": "demo-secret-pass", "message": "x", "msisdn": NUMBER},
            timeout=10,
        )
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    assert eapi.send(msisdn="447700900002").startswith("0|")  # the server is still fine


def test_drop_after_accept_on_json_api(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(only="/v1/messages")
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.post(sms_simulator.url + "/v1/messages", json={"to": NUMBER, "body": "x"}, auth=AUTH, timeout=10)
    assert sms_simulator.bulksms.received_count(NUMBER) == 1


def test_drop_after_accept_then_stop_dup_id_retry_is_safe(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept()
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        eapi.send(msisdn=NUMBER, stop_dup_id=4242)
    assert eapi.send(msisdn=NUMBER, stop_dup_id=4242).startswith("0|IN_PROGRESS|")
    assert sms_simulator.bulksms.received_count(NUMBER) == 1


def test_error_after_accept_records_the_send_then_answers_the_error(eapi: EapiClient,
                                                                   sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.error_after_accept(status=503)
    assert eapi.post(SEND_SMS, message="x", msisdn=NUMBER).status_code == 503
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    requests.post(sms_simulator.url + "/_sim/faults", json={"fault": "error_after_accept", "status": 500},
                  timeout=10).raise_for_status()
    assert eapi.post(SEND_SMS, message="x", msisdn=NUMBER).status_code == 500
    assert sms_simulator.bulksms.received_count(NUMBER) == 2
    assert eapi.send(msisdn=NUMBER).startswith("0|")  # disarmed after its count
    with pytest.raises(ValueError):
        sms_simulator.faults.error_after_accept(status=200)


def test_faults_over_http(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    url = sms_simulator.url + "/_sim/faults"
    armed = requests.post(
        url, json=[{"fault": "http_error", "status": 500, "only": "/eapi"}, {"fault": "throttle"}], timeout=10
    )
    assert [f["fault"] for f in armed.json()["faults"]] == ["http_error", "throttle"]
    assert eapi.post(GET_CREDITS).status_code == 500
    assert eapi.call(GET_CREDITS) == "40|Temporarily unavailable|"
    assert eapi.call(GET_CREDITS).startswith("0|")
    requests.post(url, json={"fault": "latency", "seconds": 1}, timeout=10)
    assert requests.delete(url, timeout=10).json() == {"faults": []}
    assert requests.post(url, json={"fault": "gremlins"}, timeout=10).status_code == 400
    assert requests.post(url, json={"fault": "http_error", "status": 200}, timeout=10).status_code == 400
    assert requests.post(url, data=b"nope", timeout=10).status_code == 400


def test_fault_decisions_take_one_of_each_role() -> None:
    faults = FaultSwitches()
    faults.throttle()
    faults.http_error(status=502)
    faults.drop_after_accept()
    faults.latency(0.1)
    first = faults.decide("/eapi/x")
    assert (first.latency, first.throttle, first.http_error, first.drop_after_accept) == (0.1, True, None, False)
    second = faults.decide("/eapi/x")
    assert (second.http_error, second.drop_after_accept, second.latency) == (502, False, 0.1)
    third = faults.decide("/eapi/x")
    assert third.drop_after_accept
    assert faults.active()[0]["fault"] == "latency"  # latency without a count stays armed
    with pytest.raises(ValueError):
        faults.throttle(count=0)
    with pytest.raises(ValueError):
        faults.latency(-1)


def test_configured_latency_applies_to_every_request(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    from airflow_provider_sms.simulator import SimulatorConfig

    sms_simulator.reset(SimulatorConfig(latency=0.05))
    assert sms_simulator.faults.active() == []  # not a fault: clearing faults keeps it
    for _ in range(2):
        started = time.monotonic()
        assert eapi.call(GET_CREDITS).startswith("0|")
        assert time.monotonic() - started >= 0.05
    assert requests.get(sms_simulator.url + "/_sim/health", timeout=10).status_code == 200
