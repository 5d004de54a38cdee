"""Number-plan validity from libphonenumber's metadata, compiled once per calling code.

``phonenumbers.is_valid_number`` re-reads the metadata and re-finds every pattern on each call
(about 13 µs); a bulk send checks hundreds of thousands of numbers before its first request. This
module applies the same rules with one regular expression per calling code, built from the
metadata the first time the code is seen:

* the region is picked among those sharing the calling code, in libphonenumber's order: the first
  whose leading digits match the number, or (for a region without leading digits) in which the
  number is valid;
* in that region the number must match the general description and one of the number types,
  each with its possible lengths.

Each region becomes one alternative of the expression; an alternative after a region with
leading digits starts with a negative look-ahead of those digits, because once such a region is
picked the later ones are never tried. Lengths become look-aheads of that many characters. So one
``match`` call answers what used to be a dozen pattern and length checks in Python. The test suite
checks the answers against ``phonenumbers.is_valid_number`` on a large random sample and against
the implementation it replaced.

A block of a bulk list first goes to :mod:`~airflow_provider_sms.core.proven_prefixes`: numbers
under a prefix proven to hold only valid numbers of their length need no pattern match at all.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata

from airflow_provider_sms.core import proven_prefixes
from airflow_provider_sms.core.plan_metadata import TYPE_FIELDS, code_at, metadata, possible_lengths

__all__ = ["is_valid_national", "own_code_is_international", "valid_e164_digits", "valid_e164_width"]

_NEVER = "(?!)"


def _lengths(number_desc: object) -> str:
    """A look-ahead that the whole rest has one of ``number_desc``'s possible lengths ("" when any will do)."""
    allowed = possible_lengths(number_desc)
    if allowed is None:
        return ""
    if not allowed:
        return _NEVER
    return "(?=(?:" + "|".join(f"(?s:.){{{n}}}" for n in sorted(allowed)) + r")\Z)"


def _desc(number_desc: object) -> str | None:
    """``number_desc`` as an anchored pattern: its lengths, then its pattern up to the end; None if absent."""
    pattern = getattr(number_desc, "national_number_pattern", None)
    if number_desc is None or pattern is None:
        return None
    return _lengths(number_desc) + f"(?:{pattern})" + r"\Z"


def _region_valid(region: PhoneMetadata) -> str:
    """A pattern that matches exactly the national numbers valid in ``region``."""
    general = _desc(region.general_desc)
    types = [d for d in (_desc(getattr(region, f, None)) for f in TYPE_FIELDS) if d is not None]
    if general is None or not types:
        return _NEVER
    return f"(?={general})(?:" + "|".join(types) + ")"


@cache
def _plan(calling_code: int) -> re.Pattern[str]:
    return re.compile(_plan_text(calling_code))


@cache
def _plan_text(calling_code: int) -> str:
    alternatives: list[str] = []
    guard = ""  # negative look-aheads of the leading digits of the regions before this one
    for region_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ()):
        region = metadata(region_code, calling_code)
        if region is None:
            continue
        valid = _region_valid(region)
        if region.leading_digits is not None:
            leading = f"(?:{region.leading_digits})"
            alternatives.append(f"{guard}(?={leading}){valid}")
            guard += f"(?!{leading})"
        else:
            alternatives.append(f"{guard}{valid}")
    return "|".join(f"(?:{a})" for a in alternatives) or _NEVER


def is_valid_national(calling_code: int, national: str) -> bool:
    """True when ``national`` (the national significant number, leading zeros kept) is valid under
    ``calling_code``: the answer ``phonenumbers.is_valid_number`` gives, faster."""
    return _plan(calling_code).match(national) is not None


@cache
def _general(region_code: str, calling_code: int) -> tuple[re.Pattern[str], int] | None:
    region = metadata(region_code, calling_code)
    pattern = getattr(region.general_desc, "national_number_pattern", None) if region else None
    if region is None or pattern is None:
        return None
    lengths = getattr(region.general_desc, "possible_length", ()) or ()
    return re.compile(pattern), max(lengths, default=0)


def own_code_is_international(region_code: str, calling_code: int, digits: str) -> bool:
    """Would libphonenumber read bare ``digits``, which start with the region's own calling code, as
    international? Its rule: the rest matches the region's general pattern and the whole does not,
    or the whole is too long to be a national number."""
    found = _general(region_code, calling_code)
    if found is None:
        return False
    general, longest = found
    rest = digits[len(str(calling_code)):]
    too_long = bool(longest) and len(digits) > longest
    return (general.fullmatch(rest) is not None and general.fullmatch(digits) is None) or too_long


# -- many E.164 numbers at once ------------------------------------------------------------------

# What only this module writes into a plan (the metadata's own patterns hold digit classes,
# groups and counts): the end of the number, and any one character in a length look-ahead.
_END, _ANY = "\\Z", "(?s:.)"
# What would read differently inside a line of many numbers than in a number alone.
_CONTEXT = ("\\Z", "\\A", "\\b", "\\B", "$", "^", ".", "\\n", "(?s", "(?<", "(?m", "(?P=", "\\1")


@cache
def _line_plan(calling_code: int) -> re.Pattern[str] | None:
    """A run of lines ``+<calling code><national number>\\n``, each valid under ``calling_code``:
    :func:`_plan` with "end of the number" read as "end of the line"; None if it cannot be."""
    plan = _plan_text(calling_code)  # not compiled: a bulk list may need only this form
    if any(c in plan.replace(_END, "").replace(_ANY, "") for c in _CONTEXT):
        return None  # not a pattern this module knows how to re-anchor
    line = plan.replace(_END, "(?=\\n)").replace(_ANY, "[^\\n]")
    return re.compile(f"(?:\\+(?=[1-9][0-9]{{6,14}}\\n){calling_code}(?:{line})\\n)*")


def valid_e164_digits(numbers: list[str] | tuple[str, ...]) -> list[str] | None:
    """The digits of every entry of ``numbers`` (without the ``+``) when each is written exactly
    ``+<country code><number>`` and is valid in its country's number plan; None when any is not.

    Answers what :func:`is_valid_national` answers one number at a time, for a whole block of a
    bulk list in a few regular-expression calls: one per run of numbers with the same calling
    code. Meant for blocks of a few thousand (the block is joined into one string).
    """
    text = _valid_lines(numbers)
    if text is None:
        return None
    digits = text[1:-1].split("\n+")  # every line is "+" and digits
    # An entry holding a line break is read as two lines, each of which may be valid: then there
    # are more numbers than entries (counted here rather than in a scan of the text beforehand).
    return digits if len(digits) == len(numbers) else None


def valid_e164_width(numbers: list[str] | tuple[str, ...]) -> int | None:
    """The length of every entry of ``numbers`` when :func:`valid_e164_digits` would give their
    digits and the entries are all as long (the usual bulk list); None otherwise. No digits are made."""
    text = _valid_lines(numbers)
    if text is None:
        return None
    width = len(numbers[0]) + 1  # with the line break
    lines = len(numbers)
    # As many line breaks as entries, each where an entry of that length ends: no entry is longer
    # or shorter, and none holds a line break.
    if len(text) != lines * width or text.count("\n") != lines or text[width - 1::width] != "\n" * lines:
        return None
    return width - 1


def _valid_lines(numbers: list[str] | tuple[str, ...]) -> str | None:
    """``numbers`` one per line when every line is a valid E.164 number written ``+`` and digits
    (an entry holding a line break makes two lines: the callers count them)."""
    if not numbers:
        return None
    try:
        text = "\n".join(numbers) + "\n"
    except TypeError:  # not all strings
        return None
    # A bulk list is mostly runs from the same ranges: numbers under prefixes proven valid need no
    # pattern match (see proven_prefixes), and a block is read to prove its common prefixes first.
    if proven_prefixes.cover(numbers, text) \
            or (proven_prefixes.learn(numbers) and proven_prefixes.cover(numbers, text)):
        return text
    position, end = 0, len(text)
    while position < end:
        code = code_at(text, position)
        plan = _line_plan(code) if code is not None else None
        found = plan.match(text, position) if plan is not None else None
        if found is None or found.end() == position:
            return None
        position = found.end()
    return text
