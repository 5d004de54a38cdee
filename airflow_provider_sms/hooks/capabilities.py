"""What a gateway can do, so generic operators can refuse clearly instead of silently doing nothing."""

from __future__ import annotations

import enum

__all__ = ["Capability"]


class Capability(enum.StrEnum):
    SEND = "sending to numbers"
    GROUP_SEND = "sending to gateway-side groups"
    SCHEDULE = "scheduled sends"
    DEDUPE = "duplicate suppression on retried sends"
    TEST_MODE = "test-mode sends"
    STATUS = "message status checks"
    DELIVERY_REPORT = "delivery reports"
    INBOX = "inbound message reports"
    CREDITS = "credit balance checks"
    QUOTE = "send quotes"
    CONTACT_IMPORT = "contact import"
    ADDRESS_BOOK = "address-book management (groups, contacts)"
    BACKGROUND_SEND = "background sends"
    CANCEL = "cancelling scheduled messages"
    SUB_ACCOUNTS = "child accounts and credit transfers"
    SENT_LOOKUP = "looking up what was already sent (safe task retries without dedupe ids)"
    VALIDITY = "a validity period (how long the gateway keeps trying to deliver)"
    MMS = "MMS (slides with media and text, saved content)"
    ADDRESS_BOOK_SEND = "address-book names (group:Name, contact:Name) among the numbers of a send"
    RECEIPT_POLL = "polling receipts or replies into the receipt store (no callback URL needed)"
