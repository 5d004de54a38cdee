"""BulkSMS code tables: every code of reference/gateways.md section 2, one row each."""

from __future__ import annotations

import pytest

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.bulksms.codes import (
    EAPI_MESSAGE_STATUSES,
    EAPI_REQUEST_CODES,
    JSON_FAILED_SUBTYPES,
    JSON_STATUS_TYPES,
    eapi_message_status,
    eapi_request_code,
    json_delivery_status,
    json_http_error,
)

D = DeliveryStatus

# reference 2.4 (send_sms), 2.7-2.9: code -> (exception, retryable)
REQUEST_CODES: list[tuple[int, type[SmsError] | None, bool]] = [
    (0, None, False),
    (1, None, False),
    (22, SmsGatewayError, False),
    (23, SmsAuthenticationError, False),
    (24, SmsGatewayError, False),
    (25, SmsGatewayError, False),
    (26, SmsTransientError, True),
    (27, SmsGatewayError, False),
    (28, SmsTransientError, True),
    (40, SmsRateLimitedError, True),
    (201, SmsGatewayError, False),
]

# reference 2.7 per-message status table, every row
MESSAGE_CODES: list[tuple[int, DeliveryStatus]] = [
    (0, D.PENDING),
    (10, D.SENT),
    (11, D.DELIVERED),
    (12, D.SENT),
    (22, D.FAILED),
    (23, D.FAILED),
    (24, D.FAILED),
    (25, D.FAILED),
    (26, D.FAILED),
    (27, D.FAILED),
    (28, D.FAILED),
    (29, D.CANCELLED),
    (30, D.UNKNOWN),
    (31, D.FAILED),
    (32, D.FAILED),
    (33, D.FAILED),
    (40, D.FAILED),
    (50, D.FAILED),
    (51, D.FAILED),
    (52, D.FAILED),
    (53, D.EXPIRED),
    (54, D.FAILED),
    (55, D.FAILED),
    (56, D.FAILED),
    (57, D.FAILED),
    (60, D.PENDING),
    (61, D.PENDING),
    (62, D.PENDING),
    (63, D.PENDING),
    (64, D.PENDING),
    (70, D.UNKNOWN),
    (201, D.FAILED),
]

JSON_TYPES: list[tuple[str | None, str | None, DeliveryStatus]] = [
    ("ACCEPTED", None, D.PENDING),
    ("SCHEDULED", None, D.SCHEDULED),
    ("SENT", None, D.SENT),
    ("DELIVERED", None, D.DELIVERED),
    ("UNKNOWN", None, D.UNKNOWN),
    ("FAILED", None, D.FAILED),
    ("FAILED", "EXPIRED", D.EXPIRED),
    ("FAILED", "HANDSET_ERROR", D.FAILED),
    ("FAILED", "BLOCKED", D.FAILED),
    ("FAILED", "NOT_SENT", D.FAILED),
    ("FAILED", "SOMETHING_NEW", D.FAILED),
    ("sent", None, D.SENT),
    ("NEW_TYPE", None, D.UNKNOWN),
    (None, None, D.UNKNOWN),
]


def test_request_table_has_exactly_the_reference_codes() -> None:
    assert set(EAPI_REQUEST_CODES) == {code for code, _, _ in REQUEST_CODES}


@pytest.mark.parametrize(("code", "error", "retryable"), REQUEST_CODES)
def test_eapi_request_code(code: int, error: type[SmsError] | None, retryable: bool) -> None:
    entry = eapi_request_code(code)
    assert entry.error is error
    assert entry.retryable is retryable
    assert entry.meaning


@pytest.mark.parametrize("code", [2, 21, 29, 99, 1000, 1001])
def test_undocumented_request_code_is_a_fatal_gateway_error(code: int) -> None:
    entry = eapi_request_code(code)
    assert entry.error is SmsGatewayError
    assert not entry.retryable


def test_message_table_has_exactly_the_reference_codes() -> None:
    assert set(EAPI_MESSAGE_STATUSES) == {code for code, _ in MESSAGE_CODES}


@pytest.mark.parametrize(("code", "status"), MESSAGE_CODES)
def test_eapi_message_status(code: int, status: DeliveryStatus) -> None:
    assert eapi_message_status(code).status is status
    assert eapi_message_status(str(code)).status is status
    assert eapi_message_status(code).meaning


@pytest.mark.parametrize(
    ("code", "final"),
    [(0, False), (10, False), (12, False), (60, False), (63, False), (64, False), (11, True), (53, True), (70, True)],
)
def test_in_progress_codes_are_not_final(code: int, final: bool) -> None:
    assert eapi_message_status(code).status.is_final is final


@pytest.mark.parametrize("raw", ["abc", "", "11a", "-1", "1.5"])
def test_non_numeric_message_status_reads_as_70(raw: str) -> None:
    entry = eapi_message_status(raw)
    assert entry.code == 70
    assert entry.status is D.UNKNOWN


@pytest.mark.parametrize("code", [1, 13, 58, 65, 71, 999])
def test_undocumented_numeric_message_status_is_unknown(code: int) -> None:
    entry = eapi_message_status(code)
    assert entry.code == code
    assert entry.status is D.UNKNOWN


def test_message_status_tolerates_whitespace() -> None:
    assert eapi_message_status(" 11 ").status is D.DELIVERED


def test_json_tables_cover_the_documented_enums() -> None:
    assert set(JSON_STATUS_TYPES) == {"ACCEPTED", "SCHEDULED", "SENT", "DELIVERED", "UNKNOWN", "FAILED"}
    assert set(JSON_FAILED_SUBTYPES) == {"EXPIRED", "HANDSET_ERROR", "BLOCKED", "NOT_SENT"}


@pytest.mark.parametrize(("status_type", "subtype", "status"), JSON_TYPES)
def test_json_delivery_status(status_type: str | None, subtype: str | None, status: DeliveryStatus) -> None:
    assert json_delivery_status(status_type, subtype) is status


def test_json_subtype_only_refines_failed() -> None:
    assert json_delivery_status("SENT", "EXPIRED") is D.SENT


@pytest.mark.parametrize(
    ("http_status", "error"),
    [
        (200, None),
        (201, None),
        (204, None),
        (400, SmsGatewayError),
        (401, SmsAuthenticationError),
        (403, SmsGatewayError),
        (404, SmsGatewayError),
        (408, SmsTransientError),
        (429, SmsRateLimitedError),
        (500, SmsTransientError),
        (502, SmsTransientError),
        (503, SmsTransientError),
        (504, SmsTransientError),
    ],
)
def test_json_http_error(http_status: int, error: type[SmsError] | None) -> None:
    assert json_http_error(http_status) is error
