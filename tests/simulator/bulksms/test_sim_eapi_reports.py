"""EAPI statuses over virtual time: get_report, send_batch, get_inbox."""

from __future__ import annotations

import pytest

from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import GET_INBOX, GET_REPORT, SEND_BATCH, EapiClient

NUMBER = "447700900001"
OTHER = "447700900002"


def test_status_moves_0_then_10_then_11(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    batch = eapi.send_ok(msisdn=f"{NUMBER},{OTHER}")
    assert eapi.report(batch) == ["0|Returns to follow", "", f"{NUMBER}|0", f"{OTHER}|0", ""]
    sms_simulator.clock.advance(2.5)
    assert eapi.report(batch)[2:4] == [f"{NUMBER}|10", f"{OTHER}|10"]
    sms_simulator.clock.advance(2.5)
    assert eapi.report(batch)[2:4] == [f"{NUMBER}|11", f"{OTHER}|11"]
    assert sms_simulator.bulksms.received(NUMBER)[0]["status"] == 11


def test_configured_outcome_is_the_final_status(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.set_outcome(OTHER, 51)
    batch = eapi.send_ok(msisdn=f"{NUMBER},{OTHER}")
    sms_simulator.clock.advance(2.5)
    assert eapi.report(batch)[2:4] == [f"{NUMBER}|10", f"{OTHER}|10"]
    sms_simulator.clock.advance(5)
    assert eapi.report(batch)[2:4] == [f"{NUMBER}|11", f"{OTHER}|51"]


def test_report_can_be_limited_to_one_msisdn(eapi: EapiClient) -> None:
    batch = eapi.send_ok(msisdn=f"{NUMBER},{OTHER}")
    assert eapi.report(batch, msisdn=OTHER) == ["0|Returns to follow", "", f"{OTHER}|0", ""]


def test_older_first_line_variant(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(report_first_line="Results to follow"))
    batch = eapi.send_ok(msisdn=NUMBER)
    assert eapi.report(batch)[:2] == ["0|Results to follow", ""]


def test_optional_fields_come_in_the_requested_order(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    batch = eapi.send_ok(msisdn=NUMBER, message="Hi\nthere", sender="Shop", source_id="src-1")
    line = eapi.report(batch, optional_fields="source_id,credits,body,origin_address,completed_time")[2]
    assert line == f"{NUMBER}|0|src-1|1.0|Hi\\nthere|Shop|"
    sms_simulator.clock.advance(5)
    line = eapi.report(batch, optional_fields="completed_time,created_time")[2]
    number, status, completed, created = line.split("|")
    assert (number, status) == (NUMBER, "11")
    assert len(completed) == len(created) == len("2024-01-01 00:00:00")
    assert completed > created


def test_report_errors(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    batch = eapi.send_ok(msisdn=NUMBER)
    assert eapi.call(GET_REPORT).startswith("24|")
    assert eapi.call(GET_REPORT, batch_id=batch + 1000).startswith("24|")
    assert eapi.report(batch, optional_fields="body,colour")[0].startswith("24|")
    assert eapi.report(batch, msisdn="12")[0].startswith("24|")
    wrong = eapi.post(
        "/eapi/status_reports/get_report/2/2.0", auth=False, username="demo", password="x", batch_id=batch
    )
    assert wrong.text == "23|invalid credentials|"


def test_scheduled_batch_has_no_report_lines_until_sent(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    batch = eapi.send_ok(msisdn=NUMBER, send_time_unixtime=int(sms_simulator.clock.now()) + 100)
    assert eapi.report(batch) == ["0|Returns to follow", "", ""]
    sms_simulator.clock.advance(101)
    assert eapi.report(batch)[2] == f"{NUMBER}|0"
    sms_simulator.clock.advance(5)
    assert eapi.report(batch)[2] == f"{NUMBER}|11"


def test_large_report_is_streamed_complete(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    numbers = [f"44770{i:07d}" for i in range(12000)]
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=20000)]))
    sms_simulator.bulksms.set_outcome(numbers[7000], 53)
    batch = eapi.send_ok(msisdn=",".join(numbers))
    sms_simulator.clock.advance(5)
    lines = eapi.report(batch)
    assert len(lines) == 2 + 12000 + 1
    assert lines[2 + 7000] == f"{numbers[7000]}|53"
    assert lines[2 + 11999] == f"{numbers[11999]}|11"


def test_send_batch_parses_quoted_csv_with_escapes(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    data = (
        "msisdn,message,extra\n"
        '"447700900001","Hi \\"Ann\\"","x"\n'
        '"not-a-number","skipped","x"\n'
        '"447700900002","two\\\nlines",""\n'
        "447700900003,bare value,\n"
        '"447700900004",""\n'
        "\n"
    )
    answer = eapi.call(SEND_BATCH, batch_data=data)
    assert answer.startswith("0|IN_PROGRESS|")
    got = {r["msisdn"]: r["message"] for r in sms_simulator.bulksms.received()}
    assert got == {"447700900001": 'Hi "Ann"', "447700900002": "two\nlines", "447700900003": "bare value"}
    assert sms_simulator.bulksms.credits("demo") == 997.0
    batch = int(answer.split("|")[2])
    assert len(eapi.report(batch)) == 2 + 3 + 1


def test_send_batch_validation(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    assert eapi.call(SEND_BATCH, batch_data="").startswith("24|")
    assert eapi.call(SEND_BATCH, batch_data='number,text\n"447700900001","hi"\n').startswith("24|")
    assert eapi.call(SEND_BATCH, batch_data='msisdn,message\n"123","hi"\n').startswith("24|")
    sms_simulator.reset(SimulatorConfig(max_batch_size=1))
    data = 'msisdn,message\n"447700900001","a"\n"447700900002","b"\n'
    assert eapi.call(SEND_BATCH, batch_data=data) == "201|Maximum batch size exceeded|"


def test_send_batch_shares_stop_dup_ids_with_send_sms(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    original = eapi.send(msisdn=NUMBER, stop_dup_id=3)
    assert eapi.call(SEND_BATCH, batch_data='msisdn,message\n"447700900002","b"\n', stop_dup_id=3) == original
    assert sms_simulator.bulksms.received_count(OTHER) == 0


def test_get_inbox_lists_inbound_messages_after_the_last_id(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    first = sms_simulator.bulksms.add_inbound("447700900009", "447860000000", "Yes\nplease", referring_batch_id=12)
    sms_simulator.bulksms.add_inbound("447700900008", "447860000000", "Да")
    lines = eapi.call(GET_INBOX, last_retrieved_id=0).splitlines()
    assert lines[0] == "0|records to follow|2"
    msg_id, sender, body, received, msisdn, batch, encoding = lines[1].split("|")
    assert (int(msg_id), sender, body, msisdn, batch, encoding) == (
        first,
        "447700900009",
        "Yes\\nplease",
        "447860000000",
        "12",
        "7bit",
    )
    assert len(received) == len("2024-01-01 00:00:00")
    assert lines[2].split("|")[2] == "Да".encode("utf-16-be").hex().upper()
    assert lines[2].split("|")[6] == "16bit"
    assert eapi.call(GET_INBOX, last_retrieved_id=first + 1).splitlines() == ["0|records to follow|0"]
    assert eapi.call(GET_INBOX).startswith("24|")


@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_delivery_delay_is_configurable(eapi: EapiClient, sms_simulator: SimulatorServer, delay: float) -> None:
    sms_simulator.reset(SimulatorConfig(delivery_delay=delay))
    batch = eapi.send_ok(msisdn=NUMBER)
    sms_simulator.clock.advance(delay)
    assert eapi.report(batch)[2] == f"{NUMBER}|11"
