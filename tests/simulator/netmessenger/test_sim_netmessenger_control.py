"""NetMessenger: shared faults on ``/api``, the request log (POST-only checks, no tokens), control routes."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
import requests

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.__main__ import main
from airflow_provider_sms.simulator.config import NetMessengerAccount
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import TOKEN, NmClient

NUMBER = "447700900001"


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


# -- faults -----------------------------------------------------------------------------------------


def test_http_error_on_api_processes_nothing(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=502, only="/api")
    assert nm.post("Send", DestinationAddress=NUMBER, SourceAddress="Shop", Body="x").status_code == 502
    assert sms_simulator.netmessenger.received() == []
    assert nm.send_one() > 0


def test_throttle_answers_511(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.throttle(only="/api")
    answer = nm.post("Send", DestinationAddress=NUMBER, SourceAddress="Shop", Body="x")
    assert (answer.status_code, answer.text) == (200, "-511\nThe system is down for maintenance")
    assert sms_simulator.netmessenger.received() == []
    assert sms_simulator.netmessenger.requests == [("POST", "/api", None)]


def test_latency_on_api(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.latency(0.2, count=1, only="/api")
    started = time.monotonic()
    assert nm.call("CheckCredits") == "1000"
    assert time.monotonic() - started >= 0.2


def test_drop_after_accept_sends_but_loses_the_answer(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(only="/api")
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        nm.send()
    assert sms_simulator.netmessenger.received_count(NUMBER) == 1
    assert nm.call("CheckCredits") == "999"


def test_bulksms_faults_leave_netmessenger_alone(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(only="/eapi")
    assert nm.call("CheckCredits") == "1000"


# -- request log ------------------------------------------------------------------------------------


def test_get_is_accepted_but_logged(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    answer = requests.get(nm.url, params={"Token": TOKEN, "Action": "CheckCredits"}, timeout=10)
    assert answer.text == "1000"
    nm.call("CheckCredits")
    assert sms_simulator.netmessenger.requests == [("GET", "/api", "CheckCredits"), ("POST", "/api", "CheckCredits")]
    nm.session.post(nm.url, data={"Token": TOKEN}, timeout=10)
    nm.call("")
    assert sms_simulator.netmessenger.requests[2:] == [("POST", "/api", None), ("POST", "/api", "")]
    logged = requests.get(sms_simulator.url + "/_sim/netmessenger/requests", timeout=10).json()[:2]
    assert logged == [
        {"method": "GET", "path": "/api", "action": "CheckCredits"},
        {"method": "POST", "path": "/api", "action": "CheckCredits"},
    ]


def test_the_token_never_appears_in_inspection_output(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    secret = "nm-TOKEN-7f3a-91bd-SECRET"
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(token=secret)]))
    nm.post("CheckCredits", token=secret)
    nm.post("Send", token=secret, DestinationAddress=NUMBER, SourceAddress="Shop", Body="x", ValidityPeriod="60")
    nm.post(
        "CreateUser",
        token=secret,
        ChildUsername="k",
        ChildPassword="pw-SECRET",
        AccessLevel="Normal",
        FirstName="K",
        LastName="D",
        Email="k@d.e",
        Credits="1",
    )
    requests.get(nm.url, params={"Token": secret, "Action": "CheckCredits"}, timeout=10)
    nm.post("CheckCredits", token=secret + "-wrong")
    state = sms_simulator.netmessenger
    assert len(state.requests) == 5
    python_side = repr([state.requests, state.received(), state.child_users(), state.contacts(), sms_simulator.config])
    assert secret not in python_side and "pw-SECRET" not in python_side
    base = sms_simulator.url + "/_sim/netmessenger/"
    for route in ("requests", "received", "child_users", "credits", "background_sends", "lists", "contacts"):
        assert secret not in requests.get(base + route, timeout=10).text
    health = requests.get(sms_simulator.url + "/_sim/health", timeout=10).json()
    assert secret not in json.dumps(health)
    assert health["gateways"]["netmessenger"]["accounts"] == [{"username": "demo", "credits": 998}]
    assert sms_simulator.netmessenger.credits(secret) == 998


# -- control routes ---------------------------------------------------------------------------------


def test_control_routes_over_http(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    base = sms_simulator.url + "/_sim/netmessenger/"

    def post(route: str, body: object) -> requests.Response:
        return requests.post(base + route, json=body, timeout=10)

    assert post("lists", {"name": "staff", "numbers": [NUMBER, "447700900002"]}).json() == {
        "name": "staff",
        "members": 2,
    }
    assert requests.get(base + "lists", timeout=10).json() == {"staff": [NUMBER, "447700900002"]}
    assert post("contacts", {"contacts": [{"name": "Ann", "number": NUMBER, "groups": ["g"]}]}).json() == {"added": 1}
    assert requests.get(base + "groups", timeout=10).json() == {"g": [NUMBER]}
    assert requests.get(base + "contacts", timeout=10).json()[0]["name"] == "Ann"
    assert post("outcomes", {"number": "447700900002", "status": "Undeliverable"}).json() == {"outcomes": 1}
    assert post("blacklist", {"number": "447700900003"}).status_code == 200
    assert nm.send("447700900003") == "-412"
    assert nm.send("List", ListName="staff") == "1"
    assert post("inbound", {"sender": NUMBER, "number": "447786200000", "message": "hi"}).json() == {"message_id": 1}
    seeded = post("seed", {"count": 3, "start_number": 447711000000}).json()["first_message_id"]
    assert nm.call("CheckMessageStatus", MessageID=seeded) == "Pending"
    requests.post(sms_simulator.url + "/_sim/advance", params={"seconds": 5}, timeout=10)
    statuses = {r["number"]: r["status"] for r in requests.get(base + "received", timeout=10).json()}
    assert statuses[NUMBER] == "Delivered"
    assert statuses["447700900002"] == "Undeliverable"
    one = requests.get(base + "received", params={"number": "447711000002"}, timeout=10).json()
    assert [r["body"] for r in one] == ["Seeded message"]
    assert requests.get(base + "received_count", params={"number": NUMBER}, timeout=10).json() == {"count": 1}
    assert requests.get(base + "credits", timeout=10).json() == {"credits": 998}
    assert requests.get(base + "credits", params={"username": "x"}, timeout=10).status_code == 404
    assert requests.get(base + "background_sends", timeout=10).json()[0]["finished"] is True
    assert post("outcomes", {"number": NUMBER, "status": "Lost"}).status_code == 400
    assert post("lists", {"name": "bad", "numbers": ["12"]}).status_code == 400
    assert post("seed", [1]).status_code == 400
    assert requests.post(base + "seed", data=b"nope", timeout=10).status_code == 400


def test_reset_forgets_everything(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("staff", [NUMBER])
    nm.send_one()
    nm.call("ImportContactsCSV", ContactsCSV="Ann,447700900001")
    sms_simulator.reset()
    state = sms_simulator.netmessenger
    assert (state.received(), state.contacts(), state.lists(), state.requests) == ([], [], {}, [])
    assert nm.call("CheckCredits") == "1000"


def test_console_takes_the_netmessenger_token() -> None:
    stop = threading.Event()
    out = io.StringIO()
    thread = threading.Thread(
        target=main, args=(["--port", "0", "--netmessenger-token", "tok-42"],), kwargs={"stop": stop, "out": out}
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "Press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        banner = out.getvalue()
        url = banner.splitlines()[0].rsplit(" ", 1)[1]
        assert f"  NetMessenger API: {url}/api (token tok-42, 1000 credits)" in banner.splitlines()
        answer = requests.post(url + "/api", data={"Token": "tok-42", "Action": "CheckCredits"}, timeout=10)
        assert answer.text == "1000"
    finally:
        stop.set()
        thread.join(10)
