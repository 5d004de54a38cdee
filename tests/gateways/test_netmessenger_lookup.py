"""Matching an earlier chunk's rows in NetMessenger reports (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_sms.gateways.netmessenger.lookup import SentMatcher, same_text

MESSAGES = ["MessageID", "Username", "Destination", "Source", "Status", "ScheduleDate", "SentDate", "DeliveryDate"]
SINCE = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("ours", "reported", "same"), [
    ("Line one\nline two", "Line one\r\nline two  ", True),
    ("Café at 10", "Cafe\u0301 at 10", True),  # NFD in the report
    ("Café at 10", "CafÃ© at 10", True),  # UTF-8 read as Latin-1
    ("Café at 10", "Caf\ufffd at 10", True),  # undecodable byte
    ("Café at 10", "Cafe at 11", False),
    ("Hello", "Hello!", False),
])
def test_same_text(ours: str, reported: str, same: bool) -> None:
    assert same_text(ours, reported) is same


def _matcher(**kwargs: object) -> SentMatcher:
    values: dict[str, object] = {"numbers": ["447700100001", "447700100002", "447700100003"], "text": "Hi",
                                 "sender": "Ops", "send_at": None, "since": SINCE, "time_zone": "Europe/London"}
    return SentMatcher(**{**values, **kwargs})  # type: ignore[arg-type]


def test_rows_match_by_number_sender_and_time() -> None:
    rows = [
        ["1", "demo", "+447700100001", "Ops", "Sent", "", "2026-11-29 10:05:00", ""],
        ["2", "demo", "00447700100002", "OTHER", "Sent", "", "2026-11-29 10:05:00", ""],  # another sender
        ["3", "demo", "447700100003", "ops", "Sent", "", "2026-11-29 09:00:00", ""],  # before the intent
        ["4", "demo", "447700999999", "Ops", "Sent", "", "2026-11-29 10:05:00", ""],  # not in the chunk
        ["5"],  # short row
    ]
    assert _matcher().matches(MESSAGES, rows) == {"447700100001"}


def test_scheduled_rows_must_have_the_schedule_time() -> None:
    when = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.UTC)  # 14:00 London in winter
    outbox = ["MessageID", "Username", "Destination", "Status", "ScheduleDate", "SentDate", "DeliveryDate"]
    rows = [["1", "demo", "447700100001", "Pending", "2026-11-29 14:00:00", "", ""],
            ["2", "demo", "447700100002", "Pending", "2026-11-29 15:00:00", "", ""],
            ["3", "demo", "447700100003", "Pending", "", "", ""]]
    assert _matcher(send_at=when).matches(outbox, rows) == {"447700100001"}


def test_a_report_without_numbers_cannot_settle_anything() -> None:
    with pytest.raises(ValueError, match="Destination or Number"):
        _matcher().matches(["Status", "Messages"], [["Delivered", "3"]])
