"""Control routes, inspection, reset and the request log."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import GET_CREDITS, SEND_SMS, EapiClient

NUMBER = "447700900001"


def test_health_names_gateways_without_secrets(sms_simulator: SimulatorServer) -> None:
    answer = requests.get(sms_simulator.url + "/_sim/health", timeout=10)
    health = answer.json()
    assert health["status"] == "ok"
    assert health["gateways"]["bulksms"]["accounts"] == [{"username": "demo", "credits": 1000.0}]
    assert "demo-secret-pass" not in answer.text
    assert "demo-secret-pass" not in repr(sms_simulator.config)


def test_received_endpoint_shows_messages_and_current_status(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    batch = eapi.send_ok(msisdn=f"{NUMBER},447700900002", message="Hello there")
    url = sms_simulator.url + "/_sim/bulksms/received"
    everything = requests.get(url, timeout=10).json()
    assert len(everything) == 2
    one = requests.get(url, params={"msisdn": NUMBER}, timeout=10).json()
    assert len(one) == 1
    assert {k: one[0][k] for k in ("msisdn", "message", "batch_id", "api", "status")} == {
        "msisdn": NUMBER,
        "message": "Hello there",
        "batch_id": batch,
        "api": "eapi",
        "status": 0,
    }
    assert set(one[0]) >= {"sender", "message_id", "received_at"}
    advanced = requests.post(sms_simulator.url + "/_sim/advance", params={"seconds": 5}, timeout=10)
    assert advanced.json()["clock_offset"] == 5.0
    assert requests.get(url, params={"msisdn": NUMBER}, timeout=10).json()[0]["status"] == 11


def test_scheduled_messages_are_listed_on_request(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(msisdn=NUMBER, send_time_unixtime=int(sms_simulator.clock.now()) + 60)
    assert sms_simulator.bulksms.received() == []
    (pending,) = sms_simulator.bulksms.received(include_scheduled=True)
    assert pending["status"] is None
    listed = requests.get(sms_simulator.url + "/_sim/bulksms/received?include_scheduled=1", timeout=10).json()
    assert len(listed) == 1


def test_advance_rejects_bad_input(sms_simulator: SimulatorServer) -> None:
    assert requests.post(sms_simulator.url + "/_sim/advance?seconds=soon", timeout=10).status_code == 400
    assert requests.post(sms_simulator.url + "/_sim/advance?seconds=-1", timeout=10).status_code == 400


def test_groups_outcomes_inbound_over_http(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    base = sms_simulator.url + "/_sim/bulksms"
    group = {"group_id": 4, "name": "ops", "members": [NUMBER, "447700900002"]}
    assert requests.post(base + "/groups", json=group, timeout=10).status_code == 200
    assert requests.post(base + "/outcomes", json={"msisdn": NUMBER, "status": 51}, timeout=10).status_code == 200
    assert requests.post(base + "/outcomes", json={"outcomes": {"447700900002": 53}}, timeout=10).status_code == 200
    batch = eapi.send_ok(dest_group_id=4)
    sms_simulator.clock.advance(5)
    assert eapi.report(batch)[2:4] == [f"{NUMBER}|51", "447700900002|53"]
    inbound = {"sender": "447700900003", "msisdn": "447860000000", "message": "STOP"}
    assert requests.post(base + "/inbound", json=inbound, timeout=10).json() == {"msg_id": 1}
    assert requests.post(base + "/groups", json={"name": "no id"}, timeout=10).status_code == 400
    assert requests.post(base + "/groups", json={**group, "members": ["12"]}, timeout=10).status_code == 400
    assert requests.post(base + "/outcomes", json=[1], timeout=10).status_code == 400
    assert requests.get(base + "/credits", timeout=10).json() == {"credits": 998.0}
    assert requests.get(base + "/credits?username=ghost", timeout=10).status_code == 404


def test_request_log_lets_tests_assert_post_only(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(msisdn=NUMBER)
    eapi.call(GET_CREDITS)
    requests.get(sms_simulator.url + "/_sim/health", timeout=10)  # control routes are not logged
    assert sms_simulator.bulksms.requests == [("POST", SEND_SMS), ("POST", GET_CREDITS)]
    assert {method for method, _ in sms_simulator.bulksms.requests} == {"POST"}
    logged = requests.get(sms_simulator.url + "/_sim/bulksms/requests", timeout=10).json()
    assert logged == [{"method": "POST", "path": SEND_SMS}, {"method": "POST", "path": GET_CREDITS}]


def test_reset_over_http_restores_the_initial_state(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(delivery_delay=1.0))
    eapi.send_ok(msisdn=NUMBER)
    sms_simulator.faults.throttle()
    sms_simulator.clock.advance(10)
    assert requests.post(sms_simulator.url + "/_sim/reset", timeout=10).json() == {"status": "reset"}
    assert sms_simulator.bulksms.received() == []
    assert sms_simulator.bulksms.requests == []
    assert sms_simulator.faults.active() == []
    assert sms_simulator.clock.offset == 0.0
    assert sms_simulator.config.delivery_delay == 5.0  # back to the configuration it started with
    assert sms_simulator.bulksms.credits("demo") == 1000.0


def test_unknown_paths_are_404(sms_simulator: SimulatorServer) -> None:
    assert requests.get(sms_simulator.url + "/eapi/nothing/here", timeout=10).status_code == 404
    assert requests.get(sms_simulator.url + "/elsewhere", timeout=10).status_code == 404


def test_server_context_manager_and_port_zero() -> None:
    with SimulatorServer(SimulatorConfig()) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        assert requests.get(server.url + "/_sim/health", timeout=10).status_code == 200
        assert "127.0.0.1" in repr(server)
    assert repr(server) == "SimulatorServer(not started)"


def test_server_refuses_non_loopback_by_default() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimulatorServer(host="0.0.0.0")
