"""FROZEN COPY of the implementation before issue 13 (reference for the equivalence test; do not edit).

Number-plan validity from libphonenumber's metadata, compiled once per region.

``phonenumbers.is_valid_number`` re-reads the metadata and re-finds every pattern on each call
(about 13 µs); a bulk send checks hundreds of thousands of numbers before its first request. This
module applies the same rules -- pick the region among those sharing the calling code (by leading
digits, else by a full match), then the number must match the region's general description and
one of its number types, lengths included -- with the patterns compiled once. The test suite
checks it against ``phonenumbers.is_valid_number`` on a large random sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata

__all__ = ["is_valid_national", "own_code_is_international"]

# Any matching type makes a number valid, so the commonest types go first.
_TYPE_FIELDS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number",
                "pager", "uan", "voicemail")


@dataclass(frozen=True)
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern[str]

    def matches(self, national: str) -> bool:
        return (not self.lengths or len(national) in self.lengths) and self.pattern.fullmatch(national) is not None


@dataclass(frozen=True)
class _Region:
    leading_digits: re.Pattern[str] | None
    general: _Desc | None
    types: tuple[_Desc, ...]

    def valid(self, national: str) -> bool:
        if self.general is None or not self.general.matches(national):
            return False
        for number_type in self.types:  # noqa: SIM110 - a plain loop: this runs once per number of a bulk send
            if number_type.matches(national):
                return True
        return False


def _desc(number_desc: object) -> _Desc | None:
    pattern = getattr(number_desc, "national_number_pattern", None)
    if number_desc is None or pattern is None:
        return None
    return _Desc(frozenset(getattr(number_desc, "possible_length", ()) or ()), re.compile(pattern))


@cache
def _region(region_code: str, calling_code: int) -> _Region | None:
    if region_code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        metadata = PhoneMetadata.metadata_for_nongeo_region(calling_code, None)
    else:
        metadata = PhoneMetadata.metadata_for_region(region_code, None)
    if metadata is None:
        return None
    types = tuple(d for d in (_desc(getattr(metadata, f, None)) for f in _TYPE_FIELDS) if d is not None)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
    return _Region(leading, _desc(metadata.general_desc), types)


_SINGLE: dict[int, _Region | None] = {}


def _single_region(calling_code: int) -> _Region | None:
    # A plain dict in front of the lru cache: this runs once per number of a bulk send.
    try:
        return _SINGLE[calling_code]
    except KeyError:
        found = _SINGLE[calling_code] = _region(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[calling_code][0],
                                                 calling_code)
        return found


def is_valid_national(calling_code: int, national: str) -> bool:
    """True when ``national`` (the national significant number, leading zeros kept) is valid under
    ``calling_code``: the answer ``phonenumbers.is_valid_number`` gives, faster."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ())
    chosen: _Region | None = None
    if len(regions) == 1:
        chosen = _single_region(calling_code)
    else:
        for code in regions:
            candidate = _region(code, calling_code)
            if candidate is None:
                continue
            if candidate.leading_digits is not None:
                if candidate.leading_digits.match(national):
                    chosen = candidate
                    break
            elif candidate.valid(national):
                return True  # the region found by a full match is the one the number is valid in
    return chosen is not None and chosen.valid(national)


def own_code_is_international(region_code: str, calling_code: int, digits: str) -> bool:
    """Would libphonenumber read bare ``digits``, which start with the region's own calling code, as
    international? Its rule: the rest matches the region's general pattern and the whole does not,
    or the whole is too long to be a national number."""
    region = _region(region_code, calling_code)
    if region is None or region.general is None:
        return False
    general = region.general.pattern
    rest = digits[len(str(calling_code)):]
    too_long = bool(region.general.lengths) and len(digits) > max(region.general.lengths)
    return (general.fullmatch(rest) is not None and general.fullmatch(digits) is None) or too_long
