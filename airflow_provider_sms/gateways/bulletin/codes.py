"""Bulletin Messenger's message status codes and HTTP answer codes (reference 1.5, 1.9)."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_sms.core.results import DeliveryStatus

__all__ = ["HTTP_MEANINGS", "STATUS_CODES", "StatusCode", "delivery_status"]


@dataclass(frozen=True)
class StatusCode:
    """One Messenger status code: what it means and where it puts the message."""

    code: str
    meaning: str
    status: DeliveryStatus
    advice: str = ""  # what to do, where the status's general advice would mislead


STATUS_CODES: dict[str, StatusCode] = {
    s.code: s
    for s in (
        StatusCode("SNT", "Passed to network", DeliveryStatus.SENT),
        StatusCode("RCV", "Received by handset", DeliveryStatus.DELIVERED),
        StatusCode("NUR", "Number unreachable", DeliveryStatus.FAILED),
        StatusCode("NRCV", "Not received", DeliveryStatus.FAILED),
        StatusCode("NRC", "Not received", DeliveryStatus.FAILED),
        StatusCode("EXP", "Not delivered within the allowed time", DeliveryStatus.EXPIRED),
        StatusCode("ERR", "Internal error (may be recoverable: resend after a few minutes)", DeliveryStatus.FAILED,
                   "Final: not delivered, an error at Bulletin, not the number's fault. Send to that number again "
                   "in a new run after a few minutes (a retry of the same task does not re-send it)."),
        StatusCode("INF", "Insufficient funds (credit limit reached)", DeliveryStatus.FAILED,
                   "Final: not delivered, the account ran out of credit. Top up (or ask Bulletin to raise the "
                   "credit limit), then send to the failed numbers in a new run."),
    )
}

HTTP_MEANINGS: dict[int, str] = {
    200: "passed API validation (check each recipient)",
    204: "accepted (API version 1 answer, no details)",
    400: "bad request",
    401: "wrong URL, user id or password",
    403: "refused: company limits, address-book restrictions or the daily message limit",
    500: "internal error at Bulletin",
}


def delivery_status(code: str | None) -> StatusCode:
    """The entry for ``code`` (case-insensitive); an unknown code is an UNKNOWN status, kept verbatim."""
    text = (code or "").strip().upper()
    entry = STATUS_CODES.get(text)
    if entry is not None:
        return entry
    return StatusCode(text, "Undocumented status code", DeliveryStatus.UNKNOWN)
