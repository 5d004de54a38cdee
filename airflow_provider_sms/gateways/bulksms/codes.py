"""BulkSMS code tables: what each gateway code means for the caller.

Three tables, all from ``reference/gateways.md`` section 2:

* :data:`EAPI_REQUEST_CODES` -- the ``status_code`` that starts every EAPI answer (send_sms,
  send_batch, quote_sms, get_report, get_credits, get_inbox), mapped to the exception to raise.
* :data:`EAPI_MESSAGE_STATUSES` -- per-message status codes (get_report lines, HTTP push
  ``status``), mapped to :class:`~airflow_provider_sms.core.results.DeliveryStatus`.
* :data:`JSON_STATUS_TYPES` / :data:`JSON_FAILED_SUBTYPES` -- the JSON API's ``status.type`` and
  ``status.subtype``, plus :func:`json_http_error` for its HTTP status codes.

Pure data and lookups: no I/O, importable from the simulator and callback parsers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.answers import is_number

__all__ = [
    "EAPI_ACCEPTED",
    "EAPI_MESSAGE_STATUSES",
    "EAPI_NON_NUMERIC_STATUS",
    "EAPI_REQUEST_CODES",
    "EAPI_SCHEDULED",
    "JSON_FAILED_SUBTYPES",
    "JSON_STATUS_TYPES",
    "EapiMessageStatus",
    "EapiRequestCode",
    "eapi_message_status",
    "eapi_request_code",
    "json_delivery_status",
    "json_http_error",
]


# --------------------------------------------------------------------------------------------
# EAPI request status codes (first field of every answer)
# --------------------------------------------------------------------------------------------

EAPI_ACCEPTED = 0
"""send_sms/send_batch: in progress. Also the "OK" code of every other EAPI operation."""
EAPI_SCHEDULED = 1
"""send_sms/send_batch: accepted for a future ``send_time``."""


@dataclass(frozen=True)
class EapiRequestCode:
    """One EAPI request status code and the exception it turns into.

    :param error: the exception class to raise; ``None`` for the success codes 0 and 1.
    """

    code: int
    meaning: str
    error: type[SmsError] | None

    @property
    def retryable(self) -> bool:
        """True when sending the same request again may succeed (26, 28, 40)."""
        return self.error is not None and self.error.retryable


EAPI_REQUEST_CODES: Mapping[int, EapiRequestCode] = {
    c.code: c
    for c in (
        EapiRequestCode(0, "In progress", None),
        EapiRequestCode(1, "Scheduled", None),
        EapiRequestCode(22, "Internal fatal error", SmsGatewayError),
        EapiRequestCode(23, "Authentication failure", SmsAuthenticationError),
        # Data validation at the gateway: our own check() ran first, so this is a rule we do not
        # know about (route, sender id not approved, ...) and repeating the request cannot help.
        EapiRequestCode(24, "Data validation failed", SmsGatewayError),
        EapiRequestCode(25, "Insufficient credits", SmsGatewayError),
        # The vendor: "You could also [resend] if you receive 26 or 28, which might have been
        # resolved after several resend attempts" -- bounded retries, not a rate limit.
        EapiRequestCode(26, "Upstream credits not available", SmsTransientError),
        EapiRequestCode(27, "Daily quota exceeded", SmsGatewayError),
        EapiRequestCode(28, "Upstream quota exceeded", SmsTransientError),
        # "You should attempt to resend if you receive status code 40": the gateway is shedding
        # load, so back off first (the design's rate-limit class), then resend.
        EapiRequestCode(40, "Temporarily unavailable", SmsRateLimitedError),
        EapiRequestCode(201, "Maximum batch size exceeded", SmsGatewayError),
    )
}
"""Every documented EAPI request status code (reference 2.4, 2.7-2.9)."""

_UNKNOWN_REQUEST_CODE_ERROR: type[SmsError] = SmsGatewayError


def eapi_request_code(code: int) -> EapiRequestCode:
    """Return the table entry for ``code``; an undocumented code is a non-retryable gateway error.

    The vendor says "all other errors should be considered fatal", hence
    :class:`~airflow_provider_sms.exceptions.SmsGatewayError` for codes it never listed.
    """
    known = EAPI_REQUEST_CODES.get(code)
    if known is not None:
        return known
    return EapiRequestCode(code, "Undocumented status code", _UNKNOWN_REQUEST_CODE_ERROR)


# --------------------------------------------------------------------------------------------
# EAPI per-message status codes (get_report lines, status push)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EapiMessageStatus:
    """One per-message status code: its meaning and where it sits in the shared model."""

    code: int
    meaning: str
    status: DeliveryStatus


_P, _S, _D, _F = DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED

EAPI_MESSAGE_STATUSES: Mapping[int, EapiMessageStatus] = {
    s.code: s
    for s in (
        EapiMessageStatus(0, "In progress", _P),
        EapiMessageStatus(10, "Delivered upstream", _S),
        EapiMessageStatus(11, "Delivered to mobile", _D),
        # "Delivered upstream, unacknowledged (assume in progress)": handed on, no receipt yet;
        # not final, so a sensor keeps waiting (smslib keeps trying on 12 as well).
        EapiMessageStatus(12, "Delivered upstream unacknowledged (assume message is in progress)", _S),
        EapiMessageStatus(22, "Internal fatal error", _F),
        EapiMessageStatus(23, "Authentication failure", _F),
        EapiMessageStatus(24, "Data validation failed", _F),
        EapiMessageStatus(25, "You do not have sufficient credits", _F),
        EapiMessageStatus(26, "Upstream credits not available", _F),
        EapiMessageStatus(27, "You have exceeded your daily quota", _F),
        EapiMessageStatus(28, "Upstream quota exceeded", _F),
        EapiMessageStatus(29, "Message sending cancelled", DeliveryStatus.CANCELLED),
        # v1.0 only, "you should never see this". It says nothing about a handset, so claiming
        # DELIVERED would be a lie; UNKNOWN is final and not a success.
        EapiMessageStatus(30, "Test complete (you should never see this)", DeliveryStatus.UNKNOWN),
        EapiMessageStatus(31, "Unroutable", _F),
        EapiMessageStatus(32, "Blocked (probably because of a recipient's complaint against you)", _F),
        EapiMessageStatus(33, "Failed: censored", _F),
        # As a per-message status, 40 is reported after the fact and BulkSMS does not resend on
        # our behalf; the reference classes it "failed/transient". FAILED (final) so waiting
        # stops; re-sending is the caller's decision, not this table's.
        EapiMessageStatus(40, "Temporarily unavailable", _F),
        EapiMessageStatus(50, "Delivery failed - generic failure", _F),
        EapiMessageStatus(51, "Delivery to phone failed", _F),
        EapiMessageStatus(52, "Delivery to network failed", _F),
        EapiMessageStatus(53, "Message expired", DeliveryStatus.EXPIRED),
        # 54-57 and 63-64 come from independent client dictionaries, not a captured vendor page.
        EapiMessageStatus(54, "Failed on remote network", _F),
        EapiMessageStatus(55, "Failed: remotely blocked", _F),
        EapiMessageStatus(56, "Failed: remotely censored", _F),
        EapiMessageStatus(57, "Failed due to fault on handset (e.g. SIM full)", _F),
        # 60-64 are transient upstream states: the message is still on its way.
        EapiMessageStatus(60, "Transient upstream failure (transient)", _P),
        EapiMessageStatus(61, "Upstream status update (transient)", _P),
        EapiMessageStatus(62, "Upstream cancel failed (transient)", _P),
        EapiMessageStatus(63, "Queued for retry after temporary failure delivering (transient)", _P),
        EapiMessageStatus(64, "Queued for retry after temporary failure delivering, due to fault on handset", _P),
        EapiMessageStatus(70, "Unknown upstream status", DeliveryStatus.UNKNOWN),
        EapiMessageStatus(201, "Maximum batch size exceeded", _F),
    )
}
"""Every per-message status code of reference 2.7."""

EAPI_NON_NUMERIC_STATUS = 70
"""What a non-numeric status becomes: 70 "Unknown upstream status" (as the wasp.bulksms client does)."""


def eapi_message_status(code: str | int) -> EapiMessageStatus:
    """Map a per-message status code (as text or int) to its table entry.

    A non-numeric code is read as 70; a numeric code missing from the table is UNKNOWN (final:
    polling will not teach us more about a code we cannot interpret).
    """
    if isinstance(code, str):
        text = code.strip()
        number = int(text) if is_number(text) else EAPI_NON_NUMERIC_STATUS
    else:
        number = code
    known = EAPI_MESSAGE_STATUSES.get(number)
    if known is not None:
        return known
    return EapiMessageStatus(number, "Undocumented status code", DeliveryStatus.UNKNOWN)


# --------------------------------------------------------------------------------------------
# JSON API v1: status.type / status.subtype and HTTP status codes
# --------------------------------------------------------------------------------------------

JSON_STATUS_TYPES: Mapping[str, DeliveryStatus] = {
    "ACCEPTED": DeliveryStatus.PENDING,  # only seen in the submission answer
    "SCHEDULED": DeliveryStatus.SCHEDULED,
    "SENT": DeliveryStatus.SENT,  # relayed away from BulkSMS, no handset receipt yet
    "DELIVERED": DeliveryStatus.DELIVERED,
    "UNKNOWN": DeliveryStatus.UNKNOWN,
    "FAILED": DeliveryStatus.FAILED,
}
"""``status.type`` -> shared status. A FAILED message is refined by :data:`JSON_FAILED_SUBTYPES`."""

JSON_FAILED_SUBTYPES: Mapping[str, DeliveryStatus] = {
    "EXPIRED": DeliveryStatus.EXPIRED,
    "HANDSET_ERROR": DeliveryStatus.FAILED,
    "BLOCKED": DeliveryStatus.FAILED,
    "NOT_SENT": DeliveryStatus.FAILED,
}
"""``status.subtype`` of a FAILED message -> shared status (an unlisted subtype is FAILED)."""


def json_delivery_status(status_type: str | None, subtype: str | None = None) -> DeliveryStatus:
    """Map a JSON ``status.type`` (and ``status.subtype`` for FAILED) to the shared status.

    A type the API did not document is UNKNOWN: final, so nobody waits forever on a state we
    cannot interpret, and not a success.
    """
    status = JSON_STATUS_TYPES.get((status_type or "").upper(), DeliveryStatus.UNKNOWN)
    if status is DeliveryStatus.FAILED and subtype:
        return JSON_FAILED_SUBTYPES.get(subtype.upper(), DeliveryStatus.FAILED)
    return status


def json_http_error(status: int) -> type[SmsError] | None:
    """The exception class for a JSON API HTTP status; ``None`` for 2xx.

    400 bad request and 403 (insufficient credits) will not get better by retrying; 401 is a
    credentials problem; 429 asks us to slow down; 5xx, 408 and 425 are temporary. Any other
    status is an unexpected refusal, not retried.
    """
    if 200 <= status < 300:
        return None
    if status == 401:
        return SmsAuthenticationError
    if status == 429:
        return SmsRateLimitedError
    if status >= 500 or status in (408, 425):
        return SmsTransientError
    return SmsGatewayError
