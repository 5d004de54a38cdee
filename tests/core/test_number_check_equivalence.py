"""The faster number check (issue 13) gives exactly the answers of the implementation it replaced.

``tests/core/reference/`` holds a frozen copy of the old ``recipients`` and ``number_plan``
modules. Every input here goes through both; the normalised number, or the problem's text, must be
the same. Inputs: random digits under every calling code, each region's example numbers mutated
and written in every format libphonenumber prints, every string the recipient tests use, hostile
strings, and Hypothesis-generated text (``SMS_FUZZ_EXAMPLES`` examples, default 300).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from unittest import mock

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from airflow_provider_sms.core import number_plan, recipients
from tests.core import test_number_plan, test_recipients
from tests.core.reference import old_number_plan, old_recipients

EXAMPLES = int(os.environ.get("SMS_FUZZ_EXAMPLES", "300"))
REGIONS = (None, "GB", "US", "IT", "DE", "IN", "FR", "JE", "IM", "BR", "CN", "AU", "CA", "RU", "KZ", "NZ")
HOSTILE = [
    "", " ", "+", "00", "+0", "0", "+44", "+44 ", "44", "+" + "9" * 5000, "4" * 5000, "+44 7700 100001\x00",
    "\x00", "+44\u00a07700100001", "+44\u20097700100001", "\u0664\u0664\u0667\u0667\u0660\u0660\u0661",
    "+\uff14\uff14 7700 100001", "+44 (0) 7700 100001", "((((44))))7700100001", "+44 7700 100001 x",
    "+44 7700 100001 ext", "x12", "#", "tel:+447700100001", "+44-7700-100-001-", "--447700100001",
    "+ 44 7700 100001", "0 0 4 4 7700100001", "+440", "+4407700100001", "0044 07700 100001", "+800 1234 5678",
    "+979 123456789", "+882 1234 5678", "+1 800 555 0199", "+7 701 123 4567", "+7 912 345 6789",
    "+39 3123456789", "+39 0612345678", "+225 01 23 45 6789", "+1\n202 555 0143", "202.555.0143",
    "1 (202) 555-0143", "+12025550143+", "+1202555014\uff13",
    "+" + "".join(chr(0x1D7D9 + int(d)) for d in "12025550143"),  # double-struck digits
]


def _outcome(normalise: Callable[..., str], problem: type[Exception], raw: str, region: str | None,
             check: str) -> tuple[str, str]:
    try:
        return ("ok", normalise(raw, region, check))
    except problem as exc:
        return ("problem", str(exc))


def _same(raw: str, region: str | None, check: str = "valid") -> tuple[str, str] | None:
    """None when old and new agree on ``raw``; else what each said."""
    new = _outcome(recipients.normalise_number, recipients.NumberProblem, raw, region, check)
    old = _outcome(old_recipients.normalise_number, old_recipients.NumberProblem, raw, region, check)
    return None if new == old else (f"new={new}", f"old={old}")


def _test_strings() -> Iterator[str]:
    """Every string argument of the recipient and number-plan tests' parameters."""
    for module in (test_recipients, test_number_plan):
        for test in vars(module).values():
            for mark in getattr(test, "pytestmark", ()):
                if mark.name == "parametrize":
                    for case in mark.args[1]:
                        yield from (v for v in (case if isinstance(case, tuple) else (case,)) if isinstance(v, str))


def _random_nationals(seed: int, per_code: int, longest: int) -> Iterator[tuple[int, str]]:
    """``per_code`` random digit strings of 1 to ``longest`` digits under every calling code."""
    rng = random.Random(seed)
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(per_code):
            yield code, "".join(rng.choice("0123456789") for _ in range(rng.randint(1, longest)))


def test_plan_agrees_under_every_calling_code() -> None:
    disagreements = [(code, national) for code, national in _random_nationals(13, 400, 17)
                     if number_plan.is_valid_national(code, national)
                     != old_number_plan.is_valid_national(code, national)]
    assert disagreements == []


def test_plan_agrees_on_real_ranges() -> None:
    samples = test_number_plan._samples(13, 30_000)
    valid = sum(old_number_plan.is_valid_national(c, n) for c, n in samples)
    assert [s for s in samples if number_plan.is_valid_national(*s) != old_number_plan.is_valid_national(*s)] == []
    assert 3_000 < valid < 27_000  # both answers are well represented


def test_every_format_of_mutated_example_numbers() -> None:
    rng = random.Random(7)
    disagreements = []
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for _ in range(6):
                digits = list(phonenumbers.national_significant_number(example))
                for _ in range(rng.randint(0, 2)):
                    digits[rng.randrange(len(digits))] = str(rng.randint(0, 9))
                if rng.random() < 0.2:
                    digits.append(str(rng.randint(0, 9)))
                try:
                    number = phonenumbers.parse(f"+{example.country_code}{''.join(digits)}")
                except phonenumbers.NumberParseException:
                    continue
                for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL):
                    written = phonenumbers.format_number(number, fmt)
                    for raw in (written, written.lstrip("+"), "00" + written.lstrip("+")):
                        for reg in (None, region, "GB"):
                            for check in ("valid", "possible"):
                                checked += 1
                                if (diff := _same(raw, reg, check)) is not None:
                                    disagreements.append((raw, reg, check, diff))
    assert disagreements == []
    assert checked > 10_000


@pytest.mark.parametrize("region", REGIONS)
def test_hostile_and_test_suite_inputs(region: str | None) -> None:
    inputs = [*HOSTILE, *_test_strings()]
    assert len(inputs) > 60
    disagreements = [(raw, check, diff) for raw in inputs for check in ("valid", "possible")
                     if (diff := _same(raw, region, check)) is not None]
    assert disagreements == []


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(
    raw=st.one_of(
        st.text(alphabet="0123456789 +-.()x#e", max_size=24),
        st.from_regex(r"(\+|00)?[1-9][0-9 ]{4,18}", fullmatch=True),
        st.text(max_size=20),
    ),
    region=st.sampled_from(REGIONS),
    check=st.sampled_from(["valid", "possible"]),
)
def test_fuzzed_text_gets_the_same_answer(raw: str, region: str | None, check: str) -> None:
    assert _same(raw, region, check) is None


def test_bulk_lists_get_the_same_answer() -> None:
    rng = random.Random(21)
    raws = [f"+44 7{rng.randint(0, 999_999_999):09d}" for _ in range(3_000)]
    raws += [f"07{rng.randint(0, 999_999_999):09d}" for _ in range(3_000)]
    raws += [f"1{rng.randint(2_000_000_000, 9_999_999_999)}" for _ in range(3_000)]
    for region in ("GB", "US", None):
        assert [_same(r, region) for r in raws] == [None] * len(raws)


def _list_outcome(module: object, raws: list[str] | Iterator[str], region: str | None, check: str) -> object:
    from airflow_provider_sms.exceptions import SmsValidationError

    try:
        return module.normalise_numbers(raws, region, check)  # type: ignore[attr-defined]
    except SmsValidationError as exc:
        return [(p.field, p.reason, p.value, p.index) for p in exc.problems]


@pytest.mark.parametrize("region", [None, "GB", "US"])
@pytest.mark.parametrize("check", ["valid", "possible"])
def test_whole_lists_get_the_same_answer(region: str | None, check: str) -> None:
    rng = random.Random(33)
    raws = [f"+44 7{rng.randint(0, 999_999_999):09d}".replace(" ", "") for _ in range(2_000)]
    raws += [f"+1{rng.randint(2_000_000_000, 9_999_999_999)}" for _ in range(2_000)]
    raws += [f"+{rng.randint(1, 999)}{rng.randint(0, 10**9)}" for _ in range(2_000)]
    raws += [*HOSTILE[1:], *_test_strings()]
    good = [r for r in raws if _same(r, region, check) is None and _outcome(
        old_recipients.normalise_number, old_recipients.NumberProblem, r, region, check)[0] == "ok"]
    for sample in (raws, good):
        assert _list_outcome(recipients, sample, region, check) == _list_outcome(old_recipients, sample, region,
                                                                                  check)



_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def test_the_e164_block_check_agrees_under_every_calling_code() -> None:
    """``valid_e164_digits`` on one number is the one-at-a-time answer, for random numbers of every code."""
    disagreements, valid = [], []
    for code, national in _random_nationals(17, 150, 14):
        written = f"+{code}{national}"
        one = number_plan.valid_e164_digits([written])
        alone = _E164.fullmatch(written) is not None and old_number_plan.is_valid_national(code, national)
        if (one is not None) != alone or (one is not None and one != [written[1:]]):
            disagreements.append(written)
        if alone:
            valid.append(written)
    assert disagreements == []
    assert len(valid) > 1_000
    assert number_plan.valid_e164_digits(valid) == [v[1:] for v in valid]  # all codes in one block


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(entries=st.lists(st.one_of(
    st.sampled_from(["+447700100001", "+447700900123", "+12025550143", "+393123456789", "+4915112345678",
                     "+61412345678", "+8613812345678"]),
    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    st.sampled_from([*HOSTILE[:40], "+447700100001 ", " +447700100001", "+447700100001\n+12025550143",
                     "07700 900123", "447700900123", ""]),
), max_size=40), block=st.integers(1, 9), region=st.sampled_from([None, "GB", "US"]))
def test_lists_read_in_blocks_get_the_answers_of_the_old_loop(entries: list[str], block: int,
                                                             region: str | None) -> None:
    """Valid E.164 blocks take the block check, any other block the loop: the same numbers, or the
    same problems at the same indexes, as the frozen old implementation (and as an iterator, which
    always takes the loop)."""
    with mock.patch.object(recipients, "_BLOCK", block):
        for check in ("valid", "possible"):
            new = _list_outcome(recipients, entries, region, check)
            assert new == _list_outcome(old_recipients, entries, region, check)
            assert new == _list_outcome(recipients, iter(entries), region, check)


def test_a_big_e164_list_takes_the_block_check() -> None:
    rng = random.Random(5)
    raws = [f"+447{rng.randint(400_000_000, 999_999_999)}" for _ in range(10_000)]
    raws += [f"+1{rng.randint(2_000_000_000, 9_999_999_999)}" for _ in range(3_000)]
    rng.shuffle(raws)
    old = _list_outcome(old_recipients, raws, "GB", "valid")
    one_at_a_time = mock.Mock(side_effect=recipients.normalise_number)
    with mock.patch.object(recipients, "normalise_number", one_at_a_time):
        assert _list_outcome(recipients, raws, "GB", "valid") == old
    assert isinstance(old, list)
    invalid = sum(isinstance(problem, tuple) for problem in old)  # the problems listed
    assert 0 < invalid < len(raws) // 2  # mostly valid, some not (random digits)
    # Only the blocks holding an invalid number took the loop, and there only the numbers that
    # fail the E.164 path reach normalise_number.
    assert one_at_a_time.call_count == invalid
