"""What the number plan reads from libphonenumber's metadata, in one place for its two renderings:
the regular expressions of :mod:`~airflow_provider_sms.core.number_plan` and the automata of
:mod:`~airflow_provider_sms.core.proven_prefixes`."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneMetadata

__all__ = ["CALLING_CODES", "TYPE_FIELDS", "code_at", "metadata", "possible_lengths"]

#: Any matching type makes a number valid, so the commonest types go first.
TYPE_FIELDS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number",
               "pager", "uan", "voicemail")

#: Every calling code, by its digits.
CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}


def metadata(region_code: str, calling_code: int) -> PhoneMetadata | None:
    """The metadata of ``region_code`` (or of the non-geographic ``calling_code``)."""
    if region_code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return PhoneMetadata.metadata_for_nongeo_region(calling_code, None)
    return PhoneMetadata.metadata_for_region(region_code, None)


def possible_lengths(number_desc: object) -> frozenset[int] | None:
    """The lengths a number of ``number_desc`` may have: None for any, an empty set for none (``-1``
    marks a type the region does not have)."""
    given = set(getattr(number_desc, "possible_length", ()) or ())
    if not given:
        return None
    return frozenset(n for n in given if n >= 0)


def code_at(text: str, position: int) -> int | None:
    """The calling code of the number written at ``position`` (``+`` then digits); codes are prefix-free."""
    if text[position:position + 1] != "+":
        return None
    for size in (1, 2, 3):
        code = CALLING_CODES.get(text[position + 1:position + 1 + size])
        if code is not None:
            return code
    return None
