"""NetMessenger error codes and how an error answer is written.

The texts are the vendor page's error table verbatim (UTF-8: it has an en dash and a typographic
apostrophe). An error answer is the negative code; with ``ShowErrorMessage`` present (any value,
even ``0``: the page says "set (to any value)") the text follows on the next line, e.g.
``-401\\nInvalid Destination Address``. Some actions add detail lines (``CreateUser`` always does,
as its section of the page says).
"""

from __future__ import annotations

import json

ERROR_TEXTS: dict[int, str] = {
    -100: "Not Enough Credits",
    -101: "Invalid CreditID",
    -200: "Invalid Contact",
    -300: "General Database Error",
    -301: "Unknown Error",
    -302: "Return XML Error",
    -303: "Received XML Error",
    -400: "Some numbers in list failed",
    -401: "Invalid Destination Address",
    -402: "Invalid Source Address \u2013 Alphanumeric too long",
    -403: "Invalid Source Address \u2013 Invalid Number",
    -404: "Blank Body",
    -405: "Invalid Validity Period",
    -406: "No Route Available",
    -407: "Invalid Schedule Date",
    -408: "Distribution List is Empty",
    -409: "Group is Empty",
    -410: "Invalid Distribution List",
    -411: "You have exceeded the limit of messages you can send in a single day to a single number",
    -412: "Number is blacklisted",
    -414: "Invalid Group",
    -501: "Unknown Username/Password",
    -502: "Unknown Action",
    -503: "Unknown Message ID",
    -504: "Invalid From Timestamp",
    -505: "Invalid To Timestamp",
    -506: "Source Address Not Allowed (Email2SMS)",
    -507: "Invalid/Missing Details",
    -508: "Error Creating User",
    -509: "Unknown/Invalid User",
    -510: "You cannot set a user\u2019s credits to be less than 0",
    -511: "The system is down for maintenance",
    -512: "User Suspended",
    -513: "License in use",
    -514: "License expired",
    -515: "No License available",
    -516: "Unknown List",
    -517: "Unable to create List",
    -518: "Blank or Invalid Source Address",
    -519: "Blank Message Body",
    -520: "Unknown Group",
    -521: "Unknown Background Send ID",
    -522: "Background Send Not Finished",
    -523: "No messages were found",
    -601: "Unknown Report Type",
    -701: "No UserID Specified",
    -702: "Invalid Amount Specified",
    -703: "Invalid Currency Requested",
}

#: ``GetBGMessages`` error objects use the page's own wording, which differs from the table
#: for -521 ("Unknown Background SendID").
BG_ERROR_TEXTS: dict[int, str] = {
    -521: "Unknown Background SendID",
    -522: "Background Send Not Finished",
    -523: "No messages were found",
}

NOT_ENOUGH_CREDITS = -100
PARTIAL_FAILURE = -400
INVALID_DESTINATION = -401
SOURCE_TOO_LONG = -402
SOURCE_INVALID_NUMBER = -403
BLANK_BODY = -404
INVALID_VALIDITY = -405
INVALID_SCHEDULE = -407
LIST_EMPTY = -408
GROUP_EMPTY = -409
INVALID_LIST = -410
BLACKLISTED = -412
INVALID_GROUP = -414
BAD_TOKEN = -501
UNKNOWN_ACTION = -502
UNKNOWN_MESSAGE = -503
BAD_FROM = -504
BAD_TO = -505
INVALID_DETAILS = -507
CREATE_USER_FAILED = -508
UNKNOWN_USER = -509
CREDITS_BELOW_ZERO = -510
MAINTENANCE = -511
UNKNOWN_LIST = -516
BAD_SOURCE = -518
UNKNOWN_GROUP = -520
UNKNOWN_BG_SEND = -521
BG_NOT_FINISHED = -522
NO_MESSAGES = -523
UNKNOWN_REPORT = -601
INVALID_AMOUNT = -702

#: What a body over 459 characters answers. The table has no "body too long" code; -507
#: "Invalid/Missing Details" is the generic "a parameter is wrong" code of the table.
BODY_TOO_LONG = INVALID_DETAILS


class NetMessengerError(Exception):
    """A negative-code answer, optionally with detail lines (always shown)."""

    def __init__(self, code: int, *details: str) -> None:
        super().__init__(f"{code} {ERROR_TEXTS.get(code, '')}")
        self.code = code
        self.details = details

    def answer(self, show_text: bool) -> str:
        """The answer page: the code, then (with ``ShowErrorMessage``) its text, then details."""
        return error_answer(self.code, show_text, self.details)


def error_answer(code: int, show_text: bool, details: tuple[str, ...] = ()) -> str:
    """``-401`` or ``-401\\nInvalid Destination Address`` (plus any detail lines)."""
    lines = [str(code)]
    if show_text:
        lines.append(ERROR_TEXTS.get(code, "Unknown Error"))
    lines.extend(details)
    return "\n".join(lines)


def bg_error_json(code: int) -> str:
    """The ``GetBGMessages`` error object, e.g. ``{"error":"-522","message":"..."}`` (compact, as on the page)."""
    return json.dumps({"error": str(code), "message": BG_ERROR_TEXTS[code]}, separators=(",", ":"))
