"""SMS text accounting: GSM 03.38 vs UCS-2, message length in units and the number of parts.

Pure Python (stdlib only) so gateways, the simulator and the operators agree on one count.

Part sizes assume the usual concatenation header (UDH) of 6 octets with an 8-bit reference,
which every supported gateway uses: 140 - 6 = 134 octets are left per part, i.e. 153 septets
of GSM-7 or 67 UTF-16 code units of UCS-2. A single unsplit message has no header and gets
the full 160 septets / 70 code units.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "TYPOGRAPHIC_TO_GSM",
    "Encoding",
    "TextInfo",
    "analyse",
    "check_text",
    "control_chars",
    "gsm7_septets",
    "is_gsm7",
    "replace_typographic",
    "ucs2_hex",
]


# Not StrEnum: the agreed interface is (str, Enum), whose str() and format() differ from StrEnum's.
class Encoding(str, enum.Enum):  # noqa: UP042
    """How a message body is carried: GSM 03.38 default alphabet (7-bit) or UCS-2 (UTF-16)."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


# The 3GPP TS 23.038 default alphabet in code-point order, 16 per line, so a reviewer can check
# it row by row against the standard. Position 0x1B is the escape to the extension table and is
# not a character of its own; it is held by "\x1b" here only to keep the positions right and is
# removed from GSM7_BASIC below. tests/core/test_text.py checks it against a separately typed list.
_GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_BASIC: frozenset[str] = frozenset(_GSM7_BASIC_TABLE) - {"\x1b"}
"""The 127 characters of the GSM 03.38 basic table (one septet each)."""

GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
"""Characters of the GSM 03.38 extension table; each is sent as ESC + code, so costs two septets."""

_GSM7_ALL: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION

TYPOGRAPHIC_TO_GSM: Mapping[str, str] = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",  # single quotes, prime
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',  # double quotes
    "\u00ab": '"', "\u00bb": '"', "\u2039": "'", "\u203a": "'",  # guillemets
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",  # dashes
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # ellipsis
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ",  # no-break, thin spaces
    "\u2022": "-",  # bullet
}
"""Typographic characters that word processors and phones put in pasted text, with their GSM 03.38
stand-ins; :func:`replace_typographic` applies them where a message cannot be sent as UCS-2."""

_TYPOGRAPHIC_TABLE = str.maketrans(dict(TYPOGRAPHIC_TO_GSM))

# Control characters (C0, DEL, C1) and lone surrogates reach handsets as garbage or cut the text
# short (NUL ends a C string at some gateways). Newline and carriage return are GSM characters;
# tab is not, so it makes a text UCS-2 (or is refused as non-GSM where unicode is off).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67
_PREVIEW_CHARS = 20


@dataclass(frozen=True)
class TextInfo:
    """The result of :func:`analyse`: encoding, length in units and the number of parts.

    ``units`` is septets for GSM-7 (extension characters count 2) and UTF-16 code units for
    UCS-2 (characters outside the BMP, e.g. emoji, count 2).
    """

    encoding: Encoding
    units: int
    segments: int
    non_gsm_chars: tuple[str, ...]

    @property
    def single_limit(self) -> int:
        """Units that fit in one unsplit message: 160 (GSM-7) or 70 (UCS-2)."""
        return _GSM7_SINGLE if self.encoding is Encoding.GSM7 else _UCS2_SINGLE

    @property
    def part_limit(self) -> int:
        """Units per part once a message is split: 153 (GSM-7) or 67 (UCS-2)."""
        return _GSM7_PART if self.encoding is Encoding.GSM7 else _UCS2_PART


def _non_gsm_chars(text: str) -> tuple[str, ...]:
    # The set difference runs in C; only texts that actually contain foreign characters pay for
    # the second pass that restores first-appearance order.
    foreign = set(text) - _GSM7_ALL
    if not foreign:
        return ()
    return tuple(dict.fromkeys(c for c in text if c in foreign))


def is_gsm7(text: str) -> bool:
    """Return True when every character of ``text`` is in the GSM 03.38 basic or extension table."""
    return _GSM7_ALL.issuperset(text)


def _septets(text: str) -> int:
    # str.count is C code; ten calls beat a Python-level loop over a 2000-character text.
    return len(text) + sum(text.count(c) for c in GSM7_EXTENSION)


def gsm7_septets(text: str) -> int:
    """Return the number of GSM-7 septets ``text`` needs (extension-table characters count 2).

    :raises ValueError: if ``text`` has characters outside the GSM 03.38 alphabet.
    """
    foreign = _non_gsm_chars(text)
    if foreign:
        raise ValueError("characters not in the GSM 03.38 alphabet: " + ", ".join(repr(c) for c in foreign))
    return _septets(text)


def _ucs2_units(text: str) -> int:
    # surrogatepass: a lone surrogate (e.g. from surrogateescape decoding) is still one code unit
    # on the wire rather than a crash here.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _pack(costs: Iterable[int], part_limit: int) -> int:
    # Greedy filling is exact here: a character that does not fit moves whole to the next part,
    # which is what handsets and gateways do (never half an escape sequence or surrogate pair).
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part_limit:
            parts += 1
            used = cost
        else:
            used += cost
    return parts


def _segments(text: str, units: int, single: int, part: int, wide: Iterable[int]) -> int:
    if units == 0:
        return 0
    if units <= single:
        return 1
    if units == len(text):
        # No two-unit characters, so nothing can straddle a boundary: plain ceiling division.
        return -(-units // part)
    return _pack(wide, part)


def analyse(text: str, *, force_unicode: bool = False) -> TextInfo:
    """Work out how ``text`` would be sent: encoding, units and number of parts.

    The encoding is GSM-7 when every character is in GSM 03.38 and ``force_unicode`` is false,
    otherwise UCS-2. ``non_gsm_chars`` is filled in either way.
    """
    foreign = _non_gsm_chars(text)
    if foreign or force_unicode:
        units = _ucs2_units(text)
        costs = (2 if ord(c) > 0xFFFF else 1 for c in text)
        segments = _segments(text, units, _UCS2_SINGLE, _UCS2_PART, costs)
        return TextInfo(Encoding.UCS2, units, segments, foreign)
    units = _septets(text)
    costs = (2 if c in GSM7_EXTENSION else 1 for c in text)
    segments = _segments(text, units, _GSM7_SINGLE, _GSM7_PART, costs)
    return TextInfo(Encoding.GSM7, units, segments, foreign)


def replace_typographic(text: str) -> tuple[str, dict[str, str]]:
    """Replace curly quotes, dashes, the ellipsis and no-break spaces by their GSM 03.38 stand-ins.

    :return: the new text and what was replaced (``{"\u2019": "'"}``), empty when nothing was.
    """
    found = set(text) & TYPOGRAPHIC_TO_GSM.keys()
    if not found:
        return text, {}
    return text.translate(_TYPOGRAPHIC_TABLE), {c: TYPOGRAPHIC_TO_GSM[c] for c in sorted(found)}


def control_chars(text: str) -> tuple[str, ...]:
    """The control characters of ``text`` other than newline, carriage return and tab, in order."""
    return tuple(dict.fromkeys(_CONTROL.findall(text)))


def ucs2_hex(text: str) -> str:
    """Return ``text`` as UTF-16-BE in uppercase hex, e.g. ``"Hi €"`` -> ``"00480069002020AC"``.

    This is the body BulkSMS expects with ``dca=16bit``; characters outside the BMP become a
    surrogate pair (8 hex digits).
    """
    return text.encode("utf-16-be", "surrogatepass").hex().upper()


def _preview(text: str) -> str:
    # Error messages end up in task logs: show enough to recognise the message, not its content.
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "…"


def _too_long_reason(info: TextInfo, max_parts: int) -> str:
    if info.encoding is Encoding.GSM7:
        name, unit = "GSM-7", "septets"
    else:
        name, unit = "UCS-2", "UTF-16 code units"
    if max_parts == 1:
        allowed = f"at most 1 is allowed ({info.single_limit} {unit} in a single message)"
    else:
        allowed = f"at most {max_parts} are allowed ({info.part_limit} {unit} per part)"
    return f"needs {info.segments} {name} parts ({info.units} {unit}) but {allowed}"


def check_text(
    text: str,
    *,
    unicode: bool | None,
    max_parts: int,
    field: str = "message",
    gateway: str | None = None,
) -> TextInfo:
    """Validate a message body and return its :class:`TextInfo`.

    :param unicode: ``None`` picks the encoding from the text, ``True`` forces UCS-2 and
        ``False`` refuses any character outside GSM 03.38.
    :param max_parts: the most SMS parts the message may be split into (at least 1).
    :param field: field name used in each :class:`Problem`.
    :param gateway: passed through to the error.
    :raises SmsValidationError: listing every problem at once: empty or whitespace-only text,
        control characters (NUL, escape, ...; newline, carriage return and tab are fine where the
        encoding has them), non-GSM characters when ``unicode is False``, more parts than ``max_parts``. With
        ``unicode=False`` and non-GSM characters, the part count is the UCS-2 one, i.e. what
        the text would need if unicode were allowed as the error suggests.
    :raises ValueError: if ``max_parts`` is below 1 (a caller bug, not bad message input).
    """
    if max_parts < 1:
        raise ValueError(f"max_parts must be at least 1, got {max_parts}")
    if not isinstance(text, str):
        raise SmsValidationError([Problem(field=field, reason=f"must be text, got a {type(text).__name__}")],
                                 gateway=gateway)
    info = analyse(text, force_unicode=unicode is True)
    problems: list[Problem] = []
    if not text:
        problems.append(Problem(field=field, reason="must not be empty"))
    elif not text.strip():
        problems.append(Problem(field=field, reason="must not be whitespace only"))
    controls = control_chars(text)
    if controls:
        shown = ", ".join(f"U+{ord(c):04X}" for c in controls)
        problems.append(Problem(field=field, reason=f"control characters are not allowed: {shown}"))
    foreign = [c for c in info.non_gsm_chars if c not in controls]
    if unicode is False and foreign:
        chars = ", ".join(repr(c) for c in foreign)
        reason = f"characters not in the GSM 03.38 alphabet: {chars}; allow unicode to send as UCS-2"
        problems.append(Problem(field=field, reason=reason, value=_preview(text)))
    if info.segments > max_parts:
        problems.append(Problem(field=field, reason=_too_long_reason(info, max_parts), value=_preview(text)))
    if problems:
        raise SmsValidationError(problems, gateway=gateway)
    return info
