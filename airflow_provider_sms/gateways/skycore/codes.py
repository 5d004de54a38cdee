"""Skycore E-codes (``<ERRORCODE>`` of a ``Failure`` answer) and postback codes, with what each means to us.

From ``reference/gateways.md`` 4.7 (Skycore 1.3 Appendix B and the Sinch successor tables) and
4.8. Each E-code maps to the exception the caller gets and a *scope*: ``"recipient"`` codes are
about the one number of a request (a send to it is recorded as rejected and the others still
go); ``"request"`` codes are raised. Validation codes name the request field at fault.

Classification (the reference marks most classes as the compiler's own reading):

* retry later -- :class:`~airflow_provider_sms.exceptions.SmsRateLimitedError`: E113 (throughput
  exceeded: "throttle back and retry", the one class the vendor states), E106 (minimum interval
  between calls), E120 (request limit), E510 (statistics asked too often);
  :class:`~airflow_provider_sms.exceptions.SmsTransientError`: E503 (internal error), E626 (content
  still encoding), E351 (media could not be fetched), E172 (campaign internal error).
* E112 (caller IP not allow-listed) and E111/E714 (sender, campaign) are configuration errors;
  E102-E105, E109 (key missing/wrong, no API rights, API off) authentication errors: the task
  fails after one request, never retried.
* field validation codes are :class:`~airflow_provider_sms.exceptions.SmsValidationError` naming
  the field (the gateway refused the request: nothing was sent).
* everything else, and codes missing from the table, are
  :class:`~airflow_provider_sms.exceptions.SmsGatewayError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
    SmsValidationError,
)

__all__ = ["ERROR_CODES", "POSTBACK_CODES", "ErrorCode", "PostbackCode", "Scope", "error_code", "postback_code"]

Scope = Literal["request", "recipient"]


@dataclass(frozen=True)
class ErrorCode:
    """One E-code: meaning, exception class, scope, and the request field it is about (if any)."""

    code: str
    meaning: str
    error: type[SmsError]
    scope: Scope = "request"
    field: str | None = None

    @property
    def retryable(self) -> bool:
        return self.error.retryable


_V, _G, _C, _A = SmsValidationError, SmsGatewayError, SmsConfigurationError, SmsAuthenticationError
_R, _T = SmsRateLimitedError, SmsTransientError


def _table(*rows: tuple[str, str, type[SmsError], Scope, str | None]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(code, meaning, error, scope, field) for code, meaning, error, scope, field in rows}


def _range(first: int, last: int, meaning: str, error: type[SmsError] = SmsGatewayError,
           field: str | None = None) -> list[tuple[str, str, type[SmsError], Scope, str | None]]:
    return [(f"E{n}", meaning, error, "request", field) for n in range(first, last + 1)]


ERROR_CODES: Mapping[str, ErrorCode] = _table(
    ("E100", "invalid request (not a valid XML POST)", _C, "request", None),
    ("E101", "ACTION missing or not a known action", _C, "request", "ACTION"),
    ("E102", "API_KEY missing", _A, "request", "API_KEY"),
    ("E103", "API access blocked for the account", _A, "request", None),
    ("E104", "authentication failed: invalid API key", _A, "request", "API_KEY"),
    ("E105", "the account has no API rights", _A, "request", None),
    ("E106", "minimum interval between API calls not respected", _R, "request", None),
    ("E107", "the account may not use this action", _C, "request", "ACTION"),
    ("E108", "XML parse error", _C, "request", None),
    ("E109", "API not activated for the account", _A, "request", None),
    ("E110", "invalid receiver number", _G, "recipient", "TO"),
    ("E111", "invalid short code / FROM (check the sender or the connection's short_code)", _C, "request", "FROM"),
    ("E112", "the caller's IP address is not on the account's API allow-list (add this worker's public IP "
             "in Skycore's API settings)", _C, "request", None),
    ("E113", "throughput exceeded for this API action: throttle back and retry", _R, "request", None),
    ("E114", "number blacklisted", _G, "recipient", "TO"),
    ("E115", "sender mask too long", _V, "request", "FROM_MASK"),
    ("E120", "account reached its API request limit", _R, "request", None),
    ("E150", "createUser: user could not be created", _G, "request", "NEWUSER"),
    ("E151", "createUser: username already exists", _G, "request", "NEWUSER"),
    ("E152", "createUser: username missing or invalid", _V, "request", "NEWUSER"),
    ("E153", "createUser: password missing or invalid", _V, "request", "NEWPASS"),
    ("E154", "createUser: not allowed for this account", _G, "request", None),
    ("E170", "campaign creation failed", _G, "request", None),
    ("E171", "campaign creation: invalid parameters", _V, "request", "CAMPAIGN"),
    ("E172", "campaign creation: internal error, try later", _T, "request", None),
    ("E173", "campaign creation: campaign exists", _G, "request", None),
    ("E200", "no MMS content saved in this account", _G, "request", None),
    ("E201", "receiver number required", _V, "request", "TO"),
    ("E212", "invalid paging parameter", _V, "request", "PAGE"),
    ("E213", "invalid start date", _V, "request", "START_DATE"),
    ("E214", "invalid end date", _V, "request", "END_DATE"),
    ("E223", "too many slides", _V, "request", "SLIDE"),
    ("E224", "audio and video in one slide", _V, "request", "SLIDE"),
    ("E225", "slide text too long", _V, "request", "SLIDE.TEXT"),
    ("E226", "image and video in one slide", _V, "request", "SLIDE"),
    ("E227", "more than one file of one type in a slide", _V, "request", "SLIDE"),
    ("E228", "content not allowed in a slide", _V, "request", "SLIDE"),
    ("E229", "video slide with other media", _V, "request", "SLIDE"),
    ("E230", "invalid slide duration", _V, "request", "SLIDE.DURATION"),
    ("E241", "content / MMSID does not exist", _G, "request", "MMSID"),
    ("E301", "NAME required", _V, "request", "NAME"),
    ("E302", "at least one SLIDE required", _V, "request", "SLIDE"),
    ("E303", "SUBJECT required", _V, "request", "SUBJECT"),
    ("E311", "empty slide", _V, "request", "SLIDE"),
    ("E312", "slide media URL missing", _V, "request", "SLIDE.URL"),
    ("E313", "slide media type not recognised", _V, "request", "SLIDE"),
    ("E314", "slide has no content", _V, "request", "SLIDE"),
    ("E331", "image too big", _V, "request", "SLIDE.IMAGE"),
    ("E332", "audio too big", _V, "request", "SLIDE.AUDIO"),
    ("E333", "video too big", _V, "request", "SLIDE.VIDEO"),
    ("E334", "text too big", _V, "request", "SLIDE.TEXT"),
    ("E335", "vCard too big", _V, "request", "SLIDE.VCARD"),
    ("E336", "iCal too big", _V, "request", "SLIDE.ICAL"),
    ("E337", "PDF too big", _V, "request", "SLIDE.PDF"),
    ("E341", "image corrupted", _V, "request", "SLIDE.IMAGE"),
    ("E351", "could not fetch or copy a media file, try later", _T, "request", "SLIDE.URL"),
    *_range(400, 405, "email / campaign look-up failed"),
    ("E503", "internal error, try later", _T, "request", None),
    ("E506", "statistics: start date required or invalid", _V, "request", "START_DATE"),
    ("E507", "statistics: end date required or invalid", _V, "request", "END_DATE"),
    ("E508", "statistics: end date before start date", _V, "request", "END_DATE"),
    ("E509", "statistics: period too long", _V, "request", "END_DATE"),
    ("E510", "statistics asked for too often, try later", _R, "request", None),
    ("E620", "MMSID required", _V, "request", "MMSID"),
    ("E621", "TO required", _V, "request", "TO"),
    ("E623", "TO may hold up to 100 numbers", _V, "request", "TO"),
    ("E624", "TOCAMPAIGN required", _V, "request", "TOCAMPAIGN"),
    ("E626", "content unavailable: encoding in progress, try later", _T, "request", "MMSID"),
    ("E628", "operator not supported", _G, "recipient", "OPERATORID"),
    ("E629", "unrecognised content type", _V, "request", "MMSID"),
    *_range(630, 643, "barcode / MMS inbox error"),
    ("E712", "TEXT required", _V, "request", "TEXT"),
    ("E713", "billing problem on the account", _G, "request", None),
    ("E714", "missing or invalid campaign (CAMPAIGNREF / CAMPAIGNID)", _C, "request", "CAMPAIGNREF"),
    ("E715", "number not subscribed to this campaign", _G, "recipient", "TO"),
    *_range(801, 899, "pass / subscription error"),
    *_range(901, 918, "subscription error"),
)


def error_code(code: str) -> ErrorCode:
    """The table entry of ``code`` (``E113``, case-insensitive); unknown codes are gateway refusals."""
    key = code.strip().upper()
    return ERROR_CODES.get(key) or ErrorCode(key, "undocumented error code", SmsGatewayError)


@dataclass(frozen=True)
class PostbackCode:
    """One postback ``CODE``: where it comes from, what it says, and the delivery status it implies."""

    code: str
    origin: str
    meaning: str
    status: DeliveryStatus | None = None


_P = PostbackCode
POSTBACK_CODES: Mapping[str, PostbackCode] = {
    p.code: p
    for p in (
        _P("N201", "SMS_MT", "SMS submitted to the carrier", DeliveryStatus.SENT),
        _P("N202", "SMS_MT", "SMS delivered (carrier receipt)", DeliveryStatus.DELIVERED),
        _P("E201", "SMS_MT", "SMS submission failed", DeliveryStatus.FAILED),
        _P("E202", "SMS_MT", "SMS not delivered (failed, expired or not supported)", DeliveryStatus.FAILED),
        _P("N101", "MMS_MT", "MMS processing started / sent", DeliveryStatus.SENT),
        _P("N102", "MMS_MT", "MMS delivery receipt", DeliveryStatus.DELIVERED),
        _P("N103", "MMS_MT", "MMS expired", DeliveryStatus.EXPIRED),
        _P("E101", "MMS_MT", "MMS sending failed", DeliveryStatus.FAILED),
        _P("E102", "MMS_MT", "MMS rejected / unrecognised", DeliveryStatus.REJECTED),
        _P("N003", "MMS_MT", "MMS content saved and encoded"),
        _P("E002", "MMS_MT", "MMS audio encoding failed"),
        _P("E003", "MMS_MT", "MMS video encoding failed"),
        _P("E004", "MMS_MT", "MMS image encoding failed"),
        _P("N013", "MMS_MT", "MMS content event"),
        _P("E011", "MMS_MT", "MMS content error"),
        _P("E012", "MMS_MT", "MMS content error"),
        _P("E013", "MMS_MT", "MMS content error"),
        _P("E999", "MMS_MT", "queue error"),
        _P("N211", "SMS_MO", "SMS received"),
        _P("N401", "MMS_MO", "MMS received"),
        _P("N301", "SUB", "number subscribed to a campaign"),
        _P("N302", "SUB", "number unsubscribed from a campaign"),
        _P("N303", "EMAIL_SUB", "email subscribed"),
        _P("N304", "EMAIL_SUB", "email unsubscribed"),
    )
}


def postback_code(code: str) -> PostbackCode | None:
    """The table entry of a postback ``CODE``, or None for codes the reference does not list."""
    return POSTBACK_CODES.get(code.strip().upper())
