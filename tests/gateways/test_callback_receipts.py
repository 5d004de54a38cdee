"""The callback parsers with structured hostile input: the right field names, anything as values."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import suppress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core.receipts import StatusEvent
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import SmsGatewayError
from airflow_provider_sms.gateways.callbacks import CallbackEndpoint, CallbackRequest, callback_endpoints, parse_time

NOW = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)
ENDPOINTS = {f"{e.gateway}.{e.kind}": e for e in callback_endpoints()}
FIELDS = ["msisdn", "batch_id", "status", "completed_time", "msg_id", "sender", "message", "dca", "source",
          "dest", "msg", "id", "receivedts", "referring_batch_id", "referring_msg_id"]
_VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["", "0", "11", "9" * 5000, "x" * 300, "16bit", "8bit",
                                                           "00410042", "0041004", "zz", "2026-02-30 25:61:00",
                                                           "9999-12-31T23:59:59-23:59", "\x00", "-1"]))
PARAMS = st.dictionaries(st.sampled_from(FIELDS), _VALUES, max_size=10)
_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.just("x" * 300))
MESSAGES = st.lists(st.dictionaries(
    st.sampled_from(["id", "type", "from", "to", "body", "status", "submission", "relatedSentMessageId",
                     "receivedAt", "completedAt"]),
    st.one_of(_JSON_LEAF, st.sampled_from(["SENT", "RECEIVED"]),
              st.dictionaries(st.sampled_from(["id", "type", "subtype", "date"]), _JSON_LEAF, max_size=4)),
    max_size=8), max_size=5)


def request(params: dict[str, str] | None = None, body: bytes = b"", zone: str = "") -> CallbackRequest:
    return CallbackRequest("conn", "GET", params or {}, body, "", NOW, {"time_zone": zone})


@pytest.mark.parametrize("name", ["bulksms.status", "bulksms.inbound", "netmessenger.inbound"])
def test_query_parsers_raise_only_our_errors(name: str) -> None:
    endpoint: CallbackEndpoint = ENDPOINTS[name]

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(PARAMS, st.sampled_from(["", "Europe/London", "Not/AZone", "../../etc"]))
    def check(params: dict[str, str], zone: str) -> None:
        with suppress(SmsGatewayError):
            for event in endpoint.parse(request(params, zone=zone)):
                assert event.conn_id == "conn" and event.event_id

    check()


def test_webhook_parser_raises_only_our_errors() -> None:
    @settings(max_examples=300, deadline=None, database=None)
    @given(MESSAGES)
    def check(messages: list[object]) -> None:
        with suppress(SmsGatewayError):
            ENDPOINTS["bulksms.webhook"].parse(request(body=json.dumps(messages).encode()))

    check()


def test_bad_fields_name_the_problem_without_quoting_the_body() -> None:
    with pytest.raises(SmsGatewayError, match="no msg_id"):
        ENDPOINTS["bulksms.inbound"].parse(request({"sender": "1"}))
    with pytest.raises(SmsGatewayError, match="sender"):
        ENDPOINTS["bulksms.inbound"].parse(request({"sender": "1" * 300, "msg_id": "5"}))
    with pytest.raises(SmsGatewayError, match="limit is 1000"):
        ENDPOINTS["bulksms.webhook"].parse(request(body=json.dumps([{}] * 1001).encode()))


def test_an_undocumented_bulksms_code_is_stored_as_unknown() -> None:
    [event] = ENDPOINTS["bulksms.status"].parse(request({"msisdn": "1", "batch_id": "2", "status": "999"}))
    assert isinstance(event, StatusEvent)
    assert (event.state, event.gateway_code, event.event_id) == (DeliveryStatus.UNKNOWN, "999", "2:1:999")


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2013-11-05T05:41:15-05:00", None, dt.datetime(2013, 11, 5, 10, 41, 15, tzinfo=dt.UTC)),
    ("2012-03-20T01:36:00Z", None, dt.datetime(2012, 3, 20, 1, 36, tzinfo=dt.UTC)),
    ("24-01-31 12:00:00", None, dt.datetime(2024, 1, 31, 12, 0, tzinfo=dt.UTC)),
    ("2026-07-01 09:30:00", "Europe/London", dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)),
    ("2026-07-01 09:30:00", "No/Such_Zone", dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)),
    ("yesterday", None, NOW), ("", None, NOW), ("9" * 100, None, NOW),
])
def test_times_are_read_leniently(text: str, zone: str | None, expected: dt.datetime) -> None:
    assert parse_time(text, NOW, zone) == expected
