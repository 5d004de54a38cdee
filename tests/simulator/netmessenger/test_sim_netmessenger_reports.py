"""NetMessenger ``Report``: every type's header, date filtering, errors, and streaming a million rows."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from airflow_provider_sms.simulator.netmessenger.reports import REPORT_TYPES
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import EARLIEST, LATEST, LONDON, TOKEN, NmClient, stamp

NUMBER = "447700900001"
OTHER = "447700900002"
MESSAGE_HEADER = [
    "MessageID",
    "Username",
    "Destination",
    "Source",
    "Status",
    "ScheduleDate",
    "SentDate",
    "DeliveryDate",
]
HEADERS = {
    "Messages": MESSAGE_HEADER,
    "MessagesWithBodies": [*MESSAGE_HEADER, "Body"],
    "FailedMessages": MESSAGE_HEADER,
    "ArchivedMessages": MESSAGE_HEADER,
    "ArchivedMessagesWithBodies": [*MESSAGE_HEADER, "Body"],
    "Outbox": ["MessageID", "Username", "Destination", "Status", "ScheduleDate", "SentDate", "DeliveryDate"],
    "Usage": ["Status", "Messages"],
    "InboundMessages": ["MessageID", "From", "Number", "Message", "ReceivedDate", "Status"],
    "KeywordMessageList": ["Keyword", "MessageID", "From", "Number", "Message", "ReceivedDate"],
    "ArchivedMessagingSummary": ["Date", "Messages", "Credits"],
    "BackgroundSends": ["BGSendID", "Username", "Type", "Name", "Messages", "Status", "CreatedDate", "FinishedDate"],
    "SendsByDistributionList": ["Type", "Name", "Sends", "Messages", "Credits"],
}


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def local(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, LONDON).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("kind", REPORT_TYPES)
def test_every_report_type_has_its_header_and_quotes_every_value(nm: NmClient, kind: str) -> None:
    answer = nm.call("Report", ReportType=kind)
    assert answer.splitlines()[0] == ",".join(f'"{name}"' for name in HEADERS[kind])


def test_report_errors(nm: NmClient) -> None:
    assert nm.call("Report", ReportType="Everything") == "-601"
    assert nm.call("Report", ShowErrorMessage="1") == "-601\nUnknown Report Type"
    assert nm.call("Report", ReportType="Messages", From="yesterday") == "-504"
    assert nm.call("Report", ReportType="Messages", From="20240101000000", To="2024") == "-505"
    assert nm.call("Report", ReportType="usage", To="20241301000000", ShowErrorMessage="1") == (
        "-505\nInvalid To Timestamp"
    )


def test_report_dates_are_mandatory_except_for_outbox(nm: NmClient) -> None:
    # "All parameters are mandatory unless otherwise stated": a missing From/To is -504/-505,
    # except for Outbox, whose dates the page says are ignored.
    assert nm.post("Report", ReportType="Messages", To=LATEST, ShowErrorMessage="1").text == (
        "-504\nInvalid From Timestamp")
    assert nm.post("Report", ReportType="Messages", From=EARLIEST).text == "-505"
    assert nm.post("Report", ReportType="Outbox").text.startswith('"MessageID"')


def test_messages_report_rows_and_date_filter(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    first = nm.send_one(NUMBER, Body="first")
    sms_simulator.clock.advance(3600)
    second = nm.send_one(OTHER, Body="second", SourceAddress="447700900100")
    sms_simulator.clock.advance(3600)
    nm.send_one(NUMBER, Body="third")
    sent = [r["sent_at"] for r in sms_simulator.netmessenger.received()]
    rows = nm.rows("Report", ReportType="Messages")
    assert len(rows) == 4
    assert rows[1] == [str(first), "demo", NUMBER, "Shop", "Delivered", "", local(sent[0]), local(sent[0] + 5)]
    assert rows[3][4:] == ["Pending", "", local(sent[2]), ""]
    only_second = nm.rows("Report", ReportType="Messages", From=stamp(sent[1]), To=stamp(sent[1]))
    assert only_second[1:] == [
        [str(second), "demo", OTHER, "447700900100", "Delivered", "", local(sent[1]), local(sent[1] + 5)]
    ]
    since_second = nm.rows("Report", ReportType="Messages", From=stamp(sent[1]))
    assert [r[0] for r in since_second[1:]] == [str(second), str(second + 1)]
    until_second = nm.rows("Report", ReportType="Messages", To=stamp(sent[1]))
    assert [r[0] for r in until_second[1:]] == [str(first), str(second)]


def test_bodies_survive_csv_quoting(nm: NmClient) -> None:
    body = 'Say "hi",\nthen 100% bye'
    nm.send_one(Body=body)
    rows = nm.rows("Report", ReportType="MessagesWithBodies")
    assert rows[1][-1] == body


def test_outbox_lists_unsent_messages_and_ignores_dates(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    when = sms_simulator.clock.now() + 7200
    scheduled = nm.send_one(ScheduleDate=stamp(when))
    cancelled = nm.send_one(OTHER, ScheduleDate=stamp(when))
    nm.call("CancelMessage", MessageID=cancelled)
    nm.send_one()
    rows = nm.rows("Report", ReportType="Outbox", From="garbage", To="19990101000000")
    assert rows[1:] == [[str(scheduled), "demo", NUMBER, "Pending", local(int(when)), "", ""]]
    assert nm.rows("Report", ReportType="Messages")[1][0] != str(scheduled)
    sms_simulator.clock.advance(7205)
    assert nm.rows("Report", ReportType="Outbox")[1:] == []
    sent = [r for r in nm.rows("Report", ReportType="Messages") if r[0] == str(scheduled)]
    assert sent[0][4:7] == ["Delivered", local(int(when)), local(int(when))]


def test_usage_and_failed_messages(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.set_outcome(OTHER, "Undeliverable")
    nm.send(f"{NUMBER},{OTHER},447700900003")
    sms_simulator.clock.advance(5)
    nm.send_one()
    assert nm.rows("Report", ReportType="Usage")[1:] == [["Pending", "1"], ["Delivered", "2"], ["Undeliverable", "1"]]
    failed = nm.rows("Report", ReportType="FailedMessages")
    assert [(r[2], r[4], r[7]) for r in failed[1:]] == [(OTHER, "Undeliverable", "")]


def test_archived_reports(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.send(f"{NUMBER},{OTHER}", Body="x" * 200)
    sms_simulator.clock.advance(sms_simulator.config.netmessenger_archive_after)
    nm.send_one(Body="fresh")
    assert len(nm.rows("Report", ReportType="Messages")) == 2
    archived = nm.rows("Report", ReportType="ArchivedMessagesWithBodies")
    assert [(r[2], r[-1]) for r in archived[1:]] == [(NUMBER, "x" * 200), (OTHER, "x" * 200)]
    summary = nm.rows("Report", ReportType="ArchivedMessagingSummary")
    assert [row[1:] for row in summary[1:]] == [["2", "4"]]


def test_inbound_and_keyword_reports(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    message_id = sms_simulator.netmessenger.add_inbound("447700900050", "447786200000", "stop please")
    received = local(sms_simulator.clock.now())[:16]
    rows = nm.rows("Report", ReportType="InboundMessages")
    assert rows[1][:4] == [str(message_id), "447700900050", "447786200000", "stop please"]
    assert rows[1][4].startswith(received[:13])
    assert rows[1][5] == "Received"
    assert nm.rows("Report", ReportType="KeywordMessageList")[1][:2] == ["STOP", str(message_id)]
    assert nm.rows("Report", ReportType="InboundMessages", To="20000101000000")[1:] == []


def test_background_send_reports(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("many", [f"4477{i:08d}" for i in range(250)])
    sms_simulator.netmessenger.add_list("few", [NUMBER])
    bg_send_id = nm.send("List", ListName="many", GetBGSendID="1")
    nm.send("List", ListName="few")
    nm.send("List", ListName="few")
    rows = nm.rows("Report", ReportType="BackgroundSends")
    assert rows[1][:6] == [bg_send_id, "demo", "List", "many", "250", "Running"]
    assert rows[1][7] == ""
    assert rows[2][5] == "Finished"
    by_list = nm.rows("Report", ReportType="SendsByDistributionList")
    assert by_list[1:] == [["List", "many", "1", "250", "250"], ["List", "few", "2", "2", "2"]]
    sms_simulator.clock.advance(sms_simulator.config.netmessenger_background_delay)
    assert nm.rows("Report", ReportType="BackgroundSends")[1][5] == "Finished"


def test_a_million_row_report_streams(sms_simulator: SimulatorServer) -> None:
    state = sms_simulator.netmessenger
    first = state.seed_messages(1_000_000, 447000000000, sms_simulator.clock.now() - 60)
    answer = requests.post(
        sms_simulator.url + "/api",
        data={"Token": TOKEN, "Action": "Report", "ReportType": "Messages", "From": EARLIEST, "To": LATEST},
        stream=True,
        timeout=60,
    )
    assert answer.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in answer.headers
    lines = 0
    head = b""
    tail = b""
    for chunk in answer.iter_content(1 << 16):
        if head.count(b"\n") < 2:
            head += chunk
        lines += chunk.count(b"\n")
        tail = (tail + chunk)[-200:]
    assert lines == 1_000_001
    second_line = head.split(b"\n")[1].decode()
    assert second_line.startswith(f'"{first}","demo","447000000000","Seed","Delivered",""')
    assert tail.decode().splitlines()[-1].startswith(f'"{first + 999_999}","demo","447000999999"')
