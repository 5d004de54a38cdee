"""The compiled number-plan check gives the same answers as phonenumbers.is_valid_number."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from airflow_provider_sms.core.number_plan import is_valid_national


def _samples(seed: int, count: int) -> list[tuple[int, str]]:
    """Numbers near real ones: each region's example numbers with random digits changed or added."""
    rng = random.Random(seed)
    bases: list[tuple[int, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None and example.country_code is not None:
                bases.append((example.country_code, phonenumbers.national_significant_number(example)))
    samples = []
    for _ in range(count):
        code, national = rng.choice(bases)
        digits = list(national)
        for _ in range(rng.randint(0, 3)):
            digits[rng.randrange(len(digits))] = str(rng.randint(0, 9))
        if rng.random() < 0.2:
            digits.append(str(rng.randint(0, 9)))
        if rng.random() < 0.2 and len(digits) > 4:
            digits.pop()
        samples.append((code, "".join(digits)))
    return samples


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_phonenumbers(seed: int) -> None:
    disagreements = []
    valid = 0
    for code, national in _samples(seed, 10_000):
        number = phonenumbers.parse(f"+{code}{national}")
        expected = phonenumbers.is_valid_number(number)
        valid += expected
        same_digits = phonenumbers.national_significant_number(number) == national
        if same_digits and is_valid_national(code, national) != expected:
            disagreements.append((code, national, expected))
    assert disagreements == []
    assert 1_000 < valid < 9_000  # the sample holds plenty of both answers


@pytest.mark.parametrize(
    ("code", "national", "valid"),
    [(44, "7700100001", True), (44, "7700900123", False), (1, "2025550143", True), (1, "5551234567", False),
     (39, "0612345678", True), (800, "12345678", True),
     (44, "7924123456", True)],  # +44 7924: an Isle of Man mobile, under a calling code shared with GB
)
def test_known_numbers(code: int, national: str, valid: bool) -> None:
    assert is_valid_national(code, national) is valid


def test_bare_international_digits_read_as_phonenumbers_reads_them() -> None:
    from airflow_provider_sms.core.recipients import NumberProblem, normalise_number

    mismatches = []
    for code, national in _samples(7, 8_000):
        region = phonenumbers.region_code_for_country_code(code)
        if region in ("001", "ZZ"):
            continue
        digits = f"{code}{national}"
        try:
            expected = phonenumbers.parse(digits, region)
            want: str | None = phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164)[1:]
            if not phonenumbers.is_valid_number(expected):
                want = None
        except phonenumbers.NumberParseException:
            want = None
        try:
            got: str | None = normalise_number(digits, region)
        except NumberProblem:
            got = None
        if got != want:
            mismatches.append((digits, region, got, want))
    assert mismatches == []
