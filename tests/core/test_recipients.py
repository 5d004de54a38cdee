from __future__ import annotations

import pytest

from airflow_provider_sms.core.recipients import (
    NumberProblem,
    normalise_number,
    normalise_numbers,
    split_recipients,
)
from airflow_provider_sms.exceptions import SmsValidationError


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 7700 100001", None, "447700100001"),
        ("0044 7700 100001", None, "447700100001"),
        ("447700100001", None, "447700100001"),
        ("07700 100002", "GB", "447700100002"),
        ("07700-100002", "gb", "447700100002"),
        ("+44 (0)7700 100003", None, "447700100003"),
        ("447700100004", "GB", "447700100004"),
        ("(020) 7946 0018", "GB", "442079460018"),
        ("+1 (202) 555-0143", None, "12025550143"),
        ("202-555-0143", "US", "12025550143"),
        ("+49 151 12345678", None, "4915112345678"),
        ("+39 06 1234 5678", None, "390612345678"),  # Italian leading zero kept
        ("+64 21 123 4567", None, "64211234567"),
    ],
)
def test_normalises_to_international_digits(raw: str, region: str | None, expected: str) -> None:
    assert normalise_number(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "empty"),
        ("hello", "GB", "not a phone number: may hold only digits, spaces, '+', '-', '.', '(' and ')', found 'helo'"),
        ("07700 100002", None, "no country code and no default country"),
        ("+999 1234 5678", None, "unknown country calling code"),
        ("+44 7700", None, "local number only, needs an area code"),
        ("+44 77", None, "too short"),
        ("+44 7700 1000011234567", None, "too long"),
        ("+1 555 123 4567", None, "not a valid number in its country's numbering plan"),
    ],
)
def test_reports_the_reason(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(NumberProblem) as exc:
        normalise_number(raw, region)
    assert exc.value.reason == reason


def test_possible_check_accepts_numbers_outside_known_ranges() -> None:
    with pytest.raises(NumberProblem):
        normalise_number("+15551234567")
    assert normalise_number("+15551234567", check="possible") == "15551234567"


def test_all_bad_numbers_reported_at_once_with_positions() -> None:
    with pytest.raises(SmsValidationError) as exc:
        normalise_numbers(["+447700100001", "nope", "+44 12", "07700 100002"], None, gateway="bulksms")
    problems = exc.value.problems
    assert [(p.index, p.value) for p in problems] == [(1, "nope"), (2, "+44 12"), (3, "07700 100002")]
    text = str(exc.value)
    assert "3 invalid input problems, nothing was sent" in text
    assert "to[1] 'nope': not a phone number" in text
    assert text.startswith("[bulksms]")


def test_empty_recipient_list_is_an_error() -> None:
    with pytest.raises(SmsValidationError, match="no recipients given"):
        normalise_numbers([], "GB")
    with pytest.raises(SmsValidationError, match="no recipients given"):
        normalise_numbers(" , ,", "GB")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a, b;c\nd", ["a", "b", "c", "d"]),
        (["a ", " ", "b"], ["a", "b"]),
        (None, []),
        ((447700100001,), ["447700100001"]),
    ],
)
def test_split_recipients(value: object, expected: list[str]) -> None:
    assert list(split_recipients(value)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1OOOO1", "found 'O'"),  # letter O: phonenumbers reads it as keypad 6 -> 447700166661
        ("+4477001ABCDE", "found 'ABCDE'"),  # keypad letters -> 447700122233, a stranger
        ("07700 1OOOO1", "found 'O'"),
        ("+44 7700 100001 x12", "extensions are not accepted"),
        ("+44 7700 100001 ext. 12", "extensions are not accepted"),
        ("+44 7700 100001;ext=12", "extensions are not accepted"),
        ("+44 7700 100001 #12", "extensions are not accepted"),
        ("07700/100001", "found '/'"),
        ("+44 7700_100001", "found '_'"),
    ],
)
def test_only_digits_and_punctuation_make_a_number(raw: str, reason: str) -> None:
    with pytest.raises(NumberProblem) as exc:
        normalise_number(raw, "GB")
    assert reason in exc.value.reason
    with pytest.raises(SmsValidationError, match="to\\[0\\]"):
        normalise_numbers([raw], "GB")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 (0)7700 100001", "447700100001"),
        ("(020) 7946 0018", "442079460018"),
        ("+44-7700-100.001", "447700100001"),
        ("\uff10\uff17\uff17\uff10\uff10 100001", "447700100001"),  # full-width digits are digits
    ],
)
def test_the_allowed_punctuation_still_reads(raw: str, expected: str) -> None:
    assert normalise_number(raw, "GB") == expected
