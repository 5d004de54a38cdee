"""NetMessenger value rules: numbers, source addresses, bodies, ``YYYYMMDDHHMMSS`` stamps, CSV cells.

Read from the vendor page, independently of the provider's gateway code:

* numbers are international digits (7-15, an optional leading ``+`` or ``00`` and spaces are
  tolerated); national formats such as ``07700...`` are not accepted;
* a source address is a number (digits, optional ``+``, at most 15 digits) or an alphanumeric
  of at most 11 characters from the GSM alphabet;
* a body has at most 459 characters; parts are counted on characters (1 up to 160, then 153
  per part), which is what makes 459 exactly three parts.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from airflow_provider_sms.simulator.netmessenger.codes import (
    BAD_SOURCE,
    SOURCE_INVALID_NUMBER,
    SOURCE_TOO_LONG,
)
from airflow_provider_sms.simulator.timeutil import zone

MAX_BODY_CHARS = 459
SINGLE_PART_CHARS = 160
PART_CHARS = 153
MAX_ALPHA_SOURCE = 11
MAX_NUMERIC_SOURCE = 15
STAMP_FORMAT = "%Y%m%d%H%M%S"
#: Dates inside CSV reports (account time zone).
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

_NUMBER = re.compile(r"[1-9]\d{6,14}")
_STAMP = re.compile(r"\d{14}")
# GSM 03.38 basic and extension characters: what an alphanumeric sender may contain.
_GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def normalize_number(raw: str) -> int | None:
    """International digits of ``raw`` as an int (compact storage), or None when not a number."""
    number = raw.strip().replace(" ", "")
    if number.startswith("+"):
        number = number[1:]
    elif number.startswith("00"):
        number = number[2:]
    return int(number) if _NUMBER.fullmatch(number) else None


def source_error(source: str, ton: str) -> int | None:
    """The error code for a ``SourceAddress`` (with its ``SourceTON``), or None when it is fine.

    -518 blank or characters outside GSM (or a TON other than 1/5), -402 alphanumeric longer
    than 11, -403 a number that is too long or a TON 1 (international) source that is no
    international number (not digits, or a national number with a leading 0).
    """
    value = source.strip()
    if not value or any(char not in _GSM for char in value) or ton not in ("", "1", "5"):
        return BAD_SOURCE
    digits = value[1:] if value.startswith("+") else value
    if digits.isdigit():
        national = not value.startswith("+") and digits.startswith("0")
        too_long = len(digits) > MAX_NUMERIC_SOURCE
        return SOURCE_INVALID_NUMBER if too_long or (ton == "1" and national) else None
    if ton == "1":
        return SOURCE_INVALID_NUMBER
    return SOURCE_TOO_LONG if len(value) > MAX_ALPHA_SOURCE else None


def body_parts(body: str) -> int:
    """Message parts (and credits per recipient) ``body`` needs."""
    return 1 if len(body) <= SINGLE_PART_CHARS else math.ceil(len(body) / PART_CHARS)


def parse_stamp(text: str, tz_name: str) -> float:
    """Epoch seconds of a ``YYYYMMDDHHMMSS`` local time in ``tz_name``; ValueError when malformed."""
    value = text.strip()
    # strptime alone accepts short fields ("2024111..."), so insist on exactly 14 digits first.
    if not _STAMP.fullmatch(value):
        raise ValueError(f"{text!r} is not YYYYMMDDHHMMSS")
    naive = dt.datetime.strptime(value, STAMP_FORMAT)
    return naive.replace(tzinfo=zone(tz_name)).timestamp()


def format_date(epoch: float, tz_name: str) -> str:
    """``epoch`` as ``YYYY-MM-DD HH:MM:SS`` in ``tz_name`` (report cells)."""
    return dt.datetime.fromtimestamp(epoch, zone(tz_name)).strftime(CSV_DATE_FORMAT)


def quote(value: object) -> str:
    """One double-quoted CSV cell (embedded quotes doubled)."""
    return '"' + str(value).replace('"', '""') + '"'


def csv_line(values: tuple[object, ...] | list[object]) -> str:
    """A CSV line of double-quoted cells, ending in ``\\n``."""
    return ",".join(quote(value) for value in values) + "\n"
