"""NetMessenger-only faults: text then answer an error; reports cut short; only documented report types."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.netmessenger.reports import DOCUMENTED_REPORT_TYPES
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import NmClient

NUMBERS = [f"4477009000{i:02d}" for i in range(1, 11)]


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def test_error_after_send_texts_then_answers_511(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.faults.error_after_send()
    answer = nm.call("Send", DestinationAddress=",".join(NUMBERS[:3]), SourceAddress="Shop", Body="x",
                     ShowErrorMessage="1", ValidityPeriod="86400")
    assert answer == "-511\nThe system is down for maintenance"
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS[:3]] == [1, 1, 1]
    assert nm.call("CheckCredits") == "997"  # charged: the gateway did the work
    assert nm.send_one() > 0  # one Send only


def test_error_after_send_ignores_other_actions(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.faults.error_after_send(code=-300)
    assert nm.call("CheckCredits") == "1000"
    assert nm.send().startswith("-300")


def test_truncated_report_is_well_formed_and_short(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.send(",".join(NUMBERS))
    sms_simulator.netmessenger.faults.truncate_reports(rows=4)
    rows = nm.rows("Report", ReportType="Messages")
    assert rows[0][:3] == ["MessageID", "Username", "Destination"]
    assert len(rows) == 5
    assert len(nm.rows("Report", ReportType="Messages")) == 11  # one report only


def test_faults_from_json_and_reset(sms_simulator: SimulatorServer) -> None:
    url = sms_simulator.url + "/_sim/netmessenger/faults"
    armed = requests.post(url, json={"fault": "truncate_reports", "rows": 3, "count": None}, timeout=10).json()
    assert armed == {"error_after_send": False, "truncate_reports": True}
    assert requests.post(url, json={"fault": "nope"}, timeout=10).status_code == 400
    sms_simulator.reset()
    assert sms_simulator.netmessenger.faults.describe() == {"error_after_send": False, "truncate_reports": False}


def test_only_documented_report_types(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_report_types=DOCUMENTED_REPORT_TYPES))
    assert nm.call("Report", ReportType="MessagesWithBodies", ShowErrorMessage="1") == "-601\nUnknown Report Type"
    assert nm.rows("Report", ReportType="messages")[0][0] == "MessageID"
