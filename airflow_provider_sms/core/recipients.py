"""Phone numbers in, international digits out (no ``+``, no ``00``), with every bad one reported at once.

Parsing and validity come from ``phonenumbers`` (Google's libphonenumber metadata). Numbers that are
already in international form take a fast path that skips the string parser, because bulk sends
validate hundreds of thousands of them before the first request goes out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice, repeat
from operator import eq, is_
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

from airflow_provider_sms.core import proven_prefixes
from airflow_provider_sms.core.number_plan import (
    is_valid_national,
    own_code_is_international,
    valid_e164_digits,
    valid_e164_width,
)
from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = [
    "ALLOWED_CHARACTERS",
    "NumberCheck",
    "NumberProblem",
    "iter_normalised_blocks",
    "iter_normalised_numbers",
    "iter_recipients",
    "normalise_number",
    "normalise_numbers",
    "number_normaliser",
    "split_recipients",
    "written_e164_width",
]

NumberCheck = Literal["valid", "possible"]

_PUNCTUATION = re.compile(r"[\s.\-]")
_INTERNATIONAL_DIGITS = re.compile(r"(?:\+|00)?([1-9][0-9]{6,14})")
_E164 = re.compile(r"\+([1-9][0-9]{6,14})")
# What a written number may hold. phonenumbers would also read letters as keypad digits
# ("1OOOO1" -> 166661), which texts a stranger, and strips extensions, which SMS cannot reach.
_ALLOWED = re.compile(r"[\d\s+\-.()]+")
_EXTENSION = re.compile(r"(?:ext(?:ension)?|xtn?|x|#)\s*[.=:]?\s*\d+\s*$", re.IGNORECASE)
ALLOWED_CHARACTERS = "digits, spaces, '+', '-', '.', '(' and ')'"
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length for its country",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number only, needs an area code",
}


@dataclass(frozen=True)
class NumberProblem(ValueError):
    """Why one input is not a usable phone number."""

    raw: str
    reason: str

    def __str__(self) -> str:
        return f"{self.raw!r}: {self.reason}"


_CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}


def _country_code_split(digits: str) -> tuple[int, str] | None:
    # Country calling codes are prefix-free (ITU E.164), so the first 1-3 digit prefix that
    # libphonenumber knows is the country code.
    for size in (1, 2, 3):
        code = _CALLING_CODES.get(digits[:size])
        if code is not None:
            national = digits[size:]
            return (code, national) if national else None
    return None


def _own_calling_code_split(digits: str, region: str) -> tuple[int, str] | None:
    """Bare digits that start with the default region's own calling code, read as international.

    libphonenumber reads them so when the rest is a number of that country and the whole is not
    (``447700100001`` with region GB); this takes that common case without its string parser.
    Anything less clear-cut returns None and goes to ``phonenumbers.parse``.
    """
    code = _region_calling_code(region)
    prefix = str(code)
    if not code or not digits.startswith(prefix) or digits.startswith("0"):
        return None
    national = digits[len(prefix):]
    if national and own_code_is_international(region, code, digits) and is_valid_national(code, national):
        return code, national
    return None


def _region_calling_code(region: str) -> int:
    try:
        return _REGION_CODES[region]
    except KeyError:
        code = _REGION_CODES[region] = phonenumbers.country_code_for_region(region)
        return code


_REGION_CODES: dict[str, int] = {}


def _parse(raw: str, default_region: str | None) -> tuple[int, str, bool]:
    """``(calling code, national significant number, known to be valid)`` of ``raw``."""
    international = _INTERNATIONAL_DIGITS.fullmatch(raw)  # most bulk lists: no punctuation to remove
    cleaned = raw
    if international is None:
        cleaned = _PUNCTUATION.sub("", raw)
        international = _INTERNATIONAL_DIGITS.fullmatch(cleaned)
    explicit = cleaned.startswith(("+", "00"))
    if international and (explicit or default_region is None):
        split = _country_code_split(international.group(1))
        if split is None:
            raise NumberProblem(raw, _POSSIBLE_REASONS[ValidationResult.INVALID_COUNTRY_CODE])
        return split[0], split[1], False
    if international and default_region is not None:
        own = _own_calling_code_split(international.group(1), default_region)
        if own is not None:
            return own[0], own[1], True  # checked against the number plan on the way
    if _ALLOWED.fullmatch(raw) is None:  # only the slow path can hold anything else
        raise NumberProblem(raw, _character_problem(raw))
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException as exc:
        reason = {
            NumberParseException.INVALID_COUNTRY_CODE: (
                "no country code and no default country" if default_region is None else "unknown country calling code"
            ),
            NumberParseException.NOT_A_NUMBER: "not a phone number",
            NumberParseException.TOO_SHORT_NSN: "too short",
            NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
            NumberParseException.TOO_LONG: "too long",
        }.get(exc.error_type, "not a phone number")
        raise NumberProblem(raw, reason) from None
    return int(number.country_code or 0), phonenumbers.national_significant_number(number), False


def _character_problem(raw: str) -> str:
    if _EXTENSION.search(raw):
        return "extensions are not accepted (an SMS cannot reach one)"
    bad = "".join(dict.fromkeys(c for c in raw if _ALLOWED.fullmatch(c) is None))
    return f"not a phone number: may hold only {ALLOWED_CHARACTERS}, found {bad!r}"


def _possible_problem(code: int, national: str) -> str | None:
    number = PhoneNumber(country_code=code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:  # Italian-style leading zeros are part of the national number
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == ValidationResult.IS_POSSIBLE:
        return None
    return _POSSIBLE_REASONS.get(possible, "not a possible number")


def normalise_number(raw: str, default_region: str | None = None, check: NumberCheck = "valid") -> str:
    """Return ``raw`` as international digits (``447700900123``) or raise :class:`NumberProblem`.

    A number may hold only digits, spaces, ``+``, ``-``, ``.``, ``(`` and ``)``: letters are never
    read as keypad digits, and an extension (``x123``, ``ext. 123``) is refused.

    :param default_region: ISO 3166 country (``"GB"``) for numbers written in national form;
        without it, only ``+``/``00``-prefixed or bare international numbers are accepted.
    :param check: ``"valid"`` checks the number against its country's number plan;
        ``"possible"`` only checks its length (accepts new ranges the metadata does not know yet).
    """
    text = str(raw).strip()
    if not text:
        raise NumberProblem(str(raw), "empty")
    code, national, valid = _parse(text, default_region.upper() if default_region else None)
    if check == "valid" and (valid or is_valid_national(code, national)):
        return f"{code}{national}"
    problem = _possible_problem(code, national)
    if problem is not None:
        raise NumberProblem(text, problem)
    if check == "valid":
        raise NumberProblem(text, "not a valid number in its country's numbering plan")
    return f"{code}{national}"


def number_normaliser(default_region: str | None = None, check: NumberCheck = "valid") -> Callable[[str], str]:
    """:func:`normalise_number` with the region and check bound, for a loop over many numbers.

    The usual bulk list is E.164 (``+447700900123``): such a number is read without the general
    parser when it is valid, which is what :func:`normalise_number` answers; anything else (or
    invalid) takes the full path, so the answers (and the problems raised) are the same.
    """
    region = default_region.upper() if default_region else None
    if check != "valid":
        return lambda raw: normalise_number(raw, region, check)
    e164 = _E164.fullmatch

    def normalise(raw: str) -> str:
        found = e164(raw)
        if found is not None:
            split = _country_code_split(found[1])
            if split is not None and is_valid_national(*split):
                return found[1]
        return normalise_number(raw, region, check)

    return normalise


def split_recipients(value: str | Iterable[str] | None) -> Iterator[str]:
    """Yield each recipient of a list, or of a comma/semicolon/newline separated string. Blank items are dropped."""
    if isinstance(value, list) and _already_split(value):
        return iter(value)  # a bulk list: nothing to strip or drop, checked in C-speed passes
    return _split_recipients(value)


def _already_split(items: list[str]) -> bool:
    """True when every item is a non-blank string with no surrounding white space."""
    return all(map(is_, map(type, items), repeat(str))) and all(items) and all(map(eq, map(str.strip, items), items))


def _split_recipients(value: str | Iterable[str] | None) -> Iterator[str]:
    if value is None:
        return
    items: Iterable[str] = re.split(r"[,;\n]", value) if isinstance(value, str) else value
    for item in items:
        text = str(item).strip()
        if text:
            yield text


def iter_recipients(
    value: str | Iterable[str] | None,
    default_region: str | None = None,
    check: NumberCheck = "valid",
    *,
    field: str = "to",
) -> Iterator[str | Problem]:
    """Yield each normalised number, or a :class:`Problem` in its place; never raises for a bad number."""
    for index, raw in enumerate(split_recipients(value)):
        try:
            yield normalise_number(raw, default_region, check)
        except NumberProblem as problem:
            yield Problem(field=field, reason=problem.reason, value=problem.raw, index=index)


_ASCII_DIGITS = b"0123456789"
_BLOCK = 4096  # entries per block of the E.164 check (joined into one string of ~60 KB)


def _blocks(value: str | Iterable[str] | None, check: NumberCheck) -> Iterator[str | Iterable[str] | None]:
    """``value`` in blocks of a list where the E.164 check may apply (``valid`` checks), else whole."""
    if check == "valid" and isinstance(value, list | tuple):
        for start in range(0, len(value), _BLOCK):
            block = value[start:start + _BLOCK]  # a list's slice is a new list already
            yield block if isinstance(block, list) else list(block)
    else:
        yield value


def written_e164_width(value: list[str]) -> int | None:
    """The length of every entry of ``value`` when each is a valid number written
    ``+<country code><number>`` (the form :func:`normalise_numbers` reads fastest) and all are as
    long; None otherwise. Checked a block at a time, without making the digits."""
    widths = {valid_e164_width(value[start:start + _BLOCK]) for start in range(0, len(value), _BLOCK)}
    return widths.pop() if len(widths) == 1 else None


def in_order_e164_width(value: list[str]) -> int | None:
    """:func:`written_e164_width` for a list whose entries are each greater than the one before (the
    caller has checked: a list from an ordered query), read in a few passes over the whole list in
    place of a pattern match per block.

    :func:`~airflow_provider_sms.core.proven_prefixes.cover_in_order` shows that every entry starts
    with a proven prefix, so with a ``+``. The text of the entries holds a ``+`` at each multiple of
    the first entry's length and ASCII digits everywhere else, so the entries start exactly there:
    all are as long as the first, and each is its prefix and the digits the prefix was proven for.
    """
    try:
        text = "".join(value)
    except TypeError:  # not all strings
        return None
    count, width = len(value), len(value[0]) if value else 0
    if width < 2 or len(text) != count * width or not text.isascii() or text[::width] != "+" * count \
            or text.encode().translate(None, _ASCII_DIGITS) != b"+" * count:
        return None
    if not proven_prefixes.cover_in_order(value):
        return written_e164_width(value)  # ranges too thin for proofs: a block at a time
    return width


def normalise_numbers(
    value: str | Iterable[str] | None,
    default_region: str | None = None,
    check: NumberCheck = "valid",
    *,
    field: str = "to",
    gateway: str | None = None,
) -> list[str]:
    """Normalise every recipient; raise one :class:`SmsValidationError` listing all bad ones.

    An empty list of recipients is an error too: a send to nobody is almost always a bug upstream.
    """
    numbers: list[str] = []
    problems: list[Problem] = []
    region = default_region.upper() if default_region else None
    append = numbers.append  # a plain loop: this runs once per recipient of a bulk send
    e164 = _E164.fullmatch if check == "valid" else None
    index = 0  # of the next non-blank entry
    for block in _blocks(value, check):
        # A block of a list that is all valid E.164 (the usual bulk list) is read in a few
        # regular-expression calls, with the answers of the loop below; any other block takes the loop.
        digits = valid_e164_digits(block) if isinstance(block, list) else None
        if digits is not None:
            numbers += digits
            index += len(digits)
            continue
        for raw in split_recipients(block):
            # E.164 ("+447700900123") is read here when it is valid, which is what normalise_number
            # would answer; anything else (or invalid) takes the full path.
            found = e164(raw) if e164 is not None else None
            if found is not None:
                split = _country_code_split(found[1])
                if split is not None and is_valid_national(*split):
                    append(found[1])
                    index += 1
                    continue
            try:
                append(normalise_number(raw, region, check))
            except NumberProblem as problem:
                problems.append(Problem(field=field, reason=problem.reason, value=problem.raw, index=index))
            index += 1
    if not numbers and not problems:
        problems.append(Problem(field=field, reason="no recipients given"))
    if problems:
        raise SmsValidationError(problems, gateway=gateway)
    return numbers


#: Entries a send normalises at a time when it keeps the numbers itself (:func:`iter_normalised_numbers`).
_COMPACT_BLOCK = 4096


def iter_normalised_numbers(value: str | Iterable[str] | None, default_region: str | None = None,
                            check: NumberCheck = "valid", *, field: str = "to",
                            gateway: str | None = None) -> Iterator[str]:
    """:func:`normalise_numbers`, a block of entries at a time, for a caller that keeps the numbers
    in a compact form (a million numbers are never one list of strings).

    Yields the valid numbers; after the last entry, raises one :class:`SmsValidationError` listing
    every bad one (positions counted over the whole list, blank entries skipped, as
    :func:`normalise_numbers` counts them), or "no recipients given". The caller must read it to the
    end before using what it yielded.
    """
    for block in iter_normalised_blocks(value, default_region, check, field=field, gateway=gateway):
        yield from block


def iter_normalised_blocks(value: str | Iterable[str] | None, default_region: str | None = None,
                           check: NumberCheck = "valid", *, field: str = "to",
                           gateway: str | None = None) -> Iterator[list[str]]:
    """:func:`iter_normalised_numbers` a list of valid numbers at a time (one per block of entries)."""
    entries = split_recipients(value)
    problems: list[Problem] = []
    seen = 0
    while block := list(islice(entries, _COMPACT_BLOCK)):
        try:
            yield normalise_numbers(block, default_region, check, field=field, gateway=gateway)
        except SmsValidationError as error:
            problems += [p if p.index is None else replace(p, index=p.index + seen) for p in error.problems]
        seen += len(block)
    if not seen:
        problems.append(Problem(field=field, reason="no recipients given"))
    if problems:
        raise SmsValidationError(problems, gateway=gateway)
