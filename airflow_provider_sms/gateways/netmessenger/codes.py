"""NetMessenger (FastSMS) code tables: what each negative error code and each status word means.

Two tables, from ``reference/gateways.md`` section 3 and the vendor's HTTP API page (seed 002):

* :data:`ERROR_CODES` -- the negative codes of reference 3.8 (identical in the vendor page and the
  official .NET/PHP SDKs), each mapped to the exception the caller should get and to a *scope*:
  whether the code can describe one destination of a multi-number send (``"recipient"``) or is
  about the request or account as a whole (``"request"``).
* :data:`MESSAGE_STATUSES` -- the status words of reference 3.6 (``CheckMessageStatus``, report
  ``Status`` columns, ``GetBGMessages``), mapped to
  :class:`~airflow_provider_sms.core.results.DeliveryStatus`.

Pure data and lookups: no I/O, importable from the simulator and the hook.

Classification choices (the reference marks most classes [infer]):

* retry later: -511 (maintenance, the reference's one confirmed transient code), -300 (general
  database error), -513/-515 (licence in use / none available), -517 (unable to create list);
  -522 (background send not finished) is its own :class:`BackgroundSendNotFinished`.
* -400 "some numbers in list failed": :class:`~airflow_provider_sms.exceptions.SmsPartialFailure`.
* credentials/account: -501 (bad token), -512 (user suspended), -514 (licence expired) are
  :class:`~airflow_provider_sms.exceptions.SmsAuthenticationError`; -502 (unknown action) is a
  :class:`~airflow_provider_sms.exceptions.SmsConfigurationError` (our call is wrong, e.g. a wrong
  ``cancel_action``).
* ...except after ``Send``, ``UpdateCredits`` and ``CreateUser``: -300, -511, -513, -515 and -517
  may come after the gateway did the work (a database or licence failure while answering), so
  there they are *ambiguous* (:func:`may_have_acted`): never repeated blindly, like a lost answer.
* -301 "Unknown Error" and -302 "Return XML Error" are **not** retried: the gateway may have done
  the work (e.g. texted someone) before failing to say so.
* everything else, and any code missing from the table, is a
  :class:`~airflow_provider_sms.exceptions.SmsGatewayError` (refused for good).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from airflow_provider_sms.core.contacts import ImportOutcome
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsPartialFailure,
    SmsRetryableError,
    SmsTransientError,
)

__all__ = [
    "ACT_ONCE_ACTIONS",
    "BACKGROUND_SEND_NOT_FINISHED",
    "ERROR_CODES",
    "MAY_HAVE_ACTED_CODES",
    "MESSAGE_STATUSES",
    "PARTIAL_FAILURE",
    "BackgroundSendNotFinished",
    "ErrorCode",
    "ImportOutcome",
    "NetMessengerStatus",
    "Scope",
    "error_code",
    "import_outcome",
    "may_have_acted",
    "message_status",
]

Scope = Literal["request", "recipient"]

PARTIAL_FAILURE = -400
"""``Some numbers in list failed``: part of a list/group send went out."""
BACKGROUND_SEND_NOT_FINISHED = -522
"""``GetBGMessages``: the background send is still running; ask again later."""


class BackgroundSendNotFinished(SmsRetryableError):
    """-522: the background send has not finished yet; asking again later is the right move.

    :meth:`~airflow_provider_sms.gateways.netmessenger.api.NetMessengerApi.parse_background_messages`
    returns ``finished=False`` instead of raising this, so a sensor can poll on a flag; the class
    exists for -522 met anywhere else (and for callers that prefer an exception).
    """


# --------------------------------------------------------------------------------------------
# Negative error codes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCode:
    """One NetMessenger error code, what it means and the exception it turns into.

    :param scope: ``"recipient"`` when the code is about one destination (bad number, no route,
        blacklisted, daily cap): it is a rejected recipient even when every destination got it;
        ``"request"`` when it is about the request or the account: an answer made only of this code
        is raised, while next to accepted ids (e.g. credits running out part-way) it is kept per
        recipient.
    """

    code: int
    meaning: str
    error: type[SmsError]
    scope: Scope = "request"

    @property
    def retryable(self) -> bool:
        """True when sending the same request again later may succeed."""
        return self.error.retryable


def _c(code: int, meaning: str, error: type[SmsError] = SmsGatewayError, scope: Scope = "request") -> ErrorCode:
    return ErrorCode(code, meaning, error, scope)


ERROR_CODES: Mapping[int, ErrorCode] = {
    c.code: c
    for c in (
        # Credits can run out part-way through a list of numbers (later destinations get -100 next
        # to accepted ids, kept per recipient); an answer of -100 alone is raised.
        _c(-100, "Not Enough Credits"),
        _c(-101, "Invalid CreditID"),
        _c(-200, "Invalid Contact"),
        _c(-300, "General Database Error", SmsTransientError),
        _c(-301, "Unknown Error"),
        _c(-302, "Return XML Error"),
        _c(-303, "Received XML Error"),
        _c(PARTIAL_FAILURE, "Some numbers in list failed", SmsPartialFailure),
        _c(-401, "Invalid Destination Address", scope="recipient"),
        _c(-402, "Invalid Source Address - Alphanumeric too long"),
        _c(-403, "Invalid Source Address - Invalid Number"),
        _c(-404, "Blank Body"),
        _c(-405, "Invalid Validity Period"),
        _c(-406, "No Route Available", scope="recipient"),
        _c(-407, "Invalid Schedule Date"),
        _c(-408, "Distribution List is Empty"),
        _c(-409, "Group is Empty"),
        _c(-410, "Invalid Distribution List"),
        # A per-number daily cap: it will not clear within a retry window, so not rate-limited.
        _c(-411, "You have exceeded the limit of messages you can send in a single day to a single number",
           scope="recipient"),
        _c(-412, "Number is blacklisted", scope="recipient"),
        _c(-414, "Invalid Group"),
        _c(-501, "Unknown Username/Password", SmsAuthenticationError),
        _c(-502, "Unknown Action", SmsConfigurationError),
        _c(-503, "Unknown Message ID"),
        _c(-504, "Invalid From Timestamp"),
        _c(-505, "Invalid To Timestamp"),
        _c(-506, "Source Address Not Allowed (Email2SMS)"),
        _c(-507, "Invalid/Missing Details"),
        _c(-508, "Error Creating User"),
        _c(-509, "Unknown/Invalid User"),
        _c(-510, "You cannot set a user's credits to be less than 0"),
        _c(-511, "The system is down for maintenance", SmsTransientError),
        _c(-512, "User Suspended", SmsAuthenticationError),
        _c(-513, "License in use", SmsTransientError),
        _c(-514, "License expired", SmsAuthenticationError),
        _c(-515, "No License available", SmsTransientError),
        _c(-516, "Unknown List"),
        _c(-517, "Unable to create List", SmsTransientError),
        _c(-518, "Blank or Invalid Source Address"),
        _c(-519, "Blank Message Body"),
        _c(-520, "Unknown Group"),
        _c(-521, "Unknown Background Send ID"),
        _c(BACKGROUND_SEND_NOT_FINISHED, "Background Send Not Finished", BackgroundSendNotFinished),
        _c(-523, "No messages were found"),
        _c(-601, "Unknown Report Type"),
        _c(-701, "No UserID Specified"),
        _c(-702, "Invalid Amount Specified"),
        _c(-703, "Invalid Currency Requested"),
    )
}
"""Every error code of reference 3.8 / the vendor page, by code."""


MAY_HAVE_ACTED_CODES = frozenset({-300, -511, -513, -515, -517})
"""Errors that do not prove the request was left undone: the gateway may have acted, then failed."""
ACT_ONCE_ACTIONS = frozenset({"Send", "UpdateCredits", "CreateUser"})
"""Actions whose repetition does the work twice (texts people, moves credits, creates users)."""


def may_have_acted(code: int, action: str) -> bool:
    """True when error ``code`` answered to ``action`` leaves open whether the gateway acted.

    Then the outcome is ambiguous (:class:`~airflow_provider_sms.exceptions.SmsAmbiguousError`):
    a send is in doubt, exactly as if its answer had been lost.
    """
    return code in MAY_HAVE_ACTED_CODES and action in ACT_ONCE_ACTIONS


def error_code(code: int) -> ErrorCode:
    """Return the table entry for ``code``; an undocumented code is a non-retryable gateway error."""
    known = ERROR_CODES.get(code)
    if known is not None:
        return known
    return ErrorCode(code, "Undocumented error code", SmsGatewayError)


# --------------------------------------------------------------------------------------------
# Message status words
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetMessengerStatus:
    """One status word, its meaning (FS-STAT) and where it sits in the shared model."""

    word: str
    meaning: str
    status: DeliveryStatus

    @property
    def is_final(self) -> bool:
        return self.status.is_final


def _key(word: str) -> str:
    # The API says "Delivered"/"Undeliverable", the web reports "COMMAND_REJECTED": compare
    # without case, spaces or underscores.
    return "".join(word.split()).replace("_", "").lower()


_STATUS_LIST = (
    NetMessengerStatus("Pending", "En route to the network", DeliveryStatus.PENDING),
    NetMessengerStatus("Sent", "Passed to the network, awaiting a delivery receipt", DeliveryStatus.SENT),
    NetMessengerStatus("Delivered", "Delivered to the handset", DeliveryStatus.DELIVERED),
    NetMessengerStatus("Failed", "Failed", DeliveryStatus.FAILED),
    NetMessengerStatus("Undeliverable", "Undeliverable", DeliveryStatus.FAILED),
    NetMessengerStatus("Expired", "Validity period expired before delivery", DeliveryStatus.EXPIRED),
    NetMessengerStatus(
        "Command_Rejected", "Rejected: number non-existent or incorrect", DeliveryStatus.REJECTED
    ),
    NetMessengerStatus(
        "Command_Failed", "Failed (like undeliverable, international routes)", DeliveryStatus.FAILED
    ),
    NetMessengerStatus("Unknown", "The network gave no final status", DeliveryStatus.UNKNOWN),
    # Not on the vendor's status page, but answered by the simulator (and plausible from the
    # gateway: a message refused by the network, a scheduled message cancelled before it left).
    NetMessengerStatus("Rejected", "Rejected by the network", DeliveryStatus.REJECTED),
    NetMessengerStatus("Cancelled", "Cancelled before it was sent", DeliveryStatus.CANCELLED),
    NetMessengerStatus("Canceled", "Cancelled before it was sent", DeliveryStatus.CANCELLED),
)

MESSAGE_STATUSES: Mapping[str, NetMessengerStatus] = {_key(s.word): s for s in _STATUS_LIST}
"""Status words of reference 3.6, keyed case-, space- and underscore-insensitively."""


def message_status(word: str) -> NetMessengerStatus:
    """Map a status word (any casing, ``COMMAND_REJECTED`` or ``Command Rejected``) to its entry.

    A word the reference does not list is UNKNOWN, which is final: nobody waits forever on a
    state we cannot interpret (the same rule as BulkSMS's undocumented codes).
    """
    known = MESSAGE_STATUSES.get(_key(word))
    if known is not None:
        return known
    return NetMessengerStatus(word.strip(), "Undocumented status word", DeliveryStatus.UNKNOWN)


# --------------------------------------------------------------------------------------------
# ImportContactsCSV per-line results
# --------------------------------------------------------------------------------------------


_IMPORT_WORDS: Mapping[str, ImportOutcome] = {
    "success": ImportOutcome.SUCCESS,
    "partial": ImportOutcome.PARTIAL,
    "failed": ImportOutcome.FAILED,
    "duplicatename": ImportOutcome.DUPLICATE_NAME,
    "duplicatenumber": ImportOutcome.DUPLICATE_NUMBER,
}


def import_outcome(word: str) -> ImportOutcome:
    """Map ``Success``/``Partial``/``Failed``/``Duplicate Name``/``Duplicate Number`` (any casing)."""
    return _IMPORT_WORDS.get(_key(word), ImportOutcome.UNKNOWN)
