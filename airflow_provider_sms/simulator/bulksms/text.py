"""BulkSMS message arithmetic: numbers, GSM text length, parts, hex bodies.

Independent of the provider's own ``core`` package on purpose: the simulator re-implements the
vendor rules from the documents so tests compare two implementations.
"""

from __future__ import annotations

import math
import re

#: GSM 03.38 default alphabet (one septet each).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each costs two septets (escape + char).
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_TEXT_CHARS = 160
PART_TEXT_CHARS = 153
SINGLE_UNICODE_UNITS = 70
PART_UNICODE_UNITS = 67
SINGLE_OCTETS = 140
# Each part of a concatenated binary message gives 6 octets to the concatenation header.
PART_OCTETS = 134

_MSISDN = re.compile(r"\d{7,15}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def normalize_msisdn(raw: str) -> str | None:
    """``raw`` as bare international digits, or None when it is not 7-15 digits (a ``+`` is allowed)."""
    number = raw.strip()
    if number.startswith("+"):
        number = number[1:]
    return number if _MSISDN.fullmatch(number) else None


def gsm_length(text: str) -> int:
    """Septets ``text`` needs in the GSM 7-bit alphabet (extension characters count two)."""
    return len(text) + sum(1 for char in text if char in GSM_EXTENSION)


def is_gsm(text: str) -> bool:
    """Whether every character of ``text`` exists in the GSM 7-bit alphabet."""
    return all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)


def text_parts(text: str) -> int:
    """Parts a 7-bit text message needs (1 up to 160 septets, then 153 per part)."""
    length = gsm_length(text)
    return 1 if length <= SINGLE_TEXT_CHARS else math.ceil(length / PART_TEXT_CHARS)


def unicode_parts(text: str) -> int:
    """Parts a UCS-2/UTF-16 message needs (1 up to 70 code units, then 67 per part)."""
    units = len(text.encode("utf-16-be")) // 2
    return 1 if units <= SINGLE_UNICODE_UNITS else math.ceil(units / PART_UNICODE_UNITS)


def binary_parts(octets: int) -> int:
    """Parts an 8-bit or 16-bit hex body of ``octets`` octets needs."""
    return 1 if octets <= SINGLE_OCTETS else math.ceil(octets / PART_OCTETS)


def decode_hex(body: str) -> bytes | None:
    """The octets of a hex string, or None when it is not whole hex octets."""
    return bytes.fromhex(body) if body and _HEX.fullmatch(body) else None


def escape_line(text: str) -> str:
    r"""Keep a value on one line of a ``|``-separated answer (``\n`` and ``\r`` become escapes)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")
