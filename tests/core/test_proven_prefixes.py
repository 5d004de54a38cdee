"""Proven prefixes (issue 13): a block of numbers that all start with a proven prefix is answered
without a pattern match, and the answer is the plan's, whatever the block holds."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from unittest import mock

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core import number_plan
from tests.core.reference import old_number_plan
from tests.core.test_number_check_equivalence import EXAMPLES

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@pytest.fixture(autouse=True)
def _fresh_proofs() -> Iterator[None]:
    number_plan._proven.clear()
    yield
    number_plan._proven.clear()


def _reference(block: list[str]) -> list[str] | None:
    """What the old implementation answers for the block, one entry at a time."""
    digits = []
    for written in block:
        if not isinstance(written, str) or _E164.fullmatch(written) is None:
            return None
        code = next((int(written[1:1 + n]) for n in (1, 2, 3)
                     if int(written[1:1 + n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), None)
        if code is None or not old_number_plan.is_valid_national(code, written[1 + len(str(code)):]):
            return None
        digits.append(written[1:])
    return digits


def _run(first: int, count: int) -> list[str]:
    return [f"+{first + i}" for i in range(count)]


# Runs of valid numbers in several plans (checked below); each proves at least one prefix.
RUNS = [_run(447700000000, 4096), _run(447911123000, 4096), _run(33612340000, 4096), _run(4915112340000, 4096),
        _run(61412340000, 4096), _run(919812340000, 4096)]


def _learn_all() -> None:
    for run in RUNS:
        assert number_plan.valid_e164_digits(run) == [n[1:] for n in run]


def _every_completion(prefix: str, tail: int) -> set[bool]:
    """The plan's answers over every completion of ``prefix`` by ``tail`` digits (one block match per code)."""
    block = [prefix + "".join(t) for t in itertools.product("0123456789", repeat=tail)]
    code = number_plan._code_at(prefix, 0)
    assert code is not None
    return {number_plan.is_valid_national(code, n[1 + len(str(code)):]) for n in block}


def test_a_proof_holds_for_every_completion_under_many_codes() -> None:
    """Where a prefix is proven, every completion gets one answer (tried one by one)."""
    rng = random.Random(3)
    proven = tried = 0
    examples = []
    for region in rng.sample(sorted(phonenumbers.SUPPORTED_REGIONS), 60):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                examples.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    for written in examples:
        for tail in (4, 3) if len(written) > 9 else (3,):
            prefix = written[:-tail]
            tried += 1
            if number_plan._one_answer_for_every_tail(prefix, tail):
                proven += 1
                assert _every_completion(prefix, tail) == {True}, prefix  # the example itself is valid
    assert proven > tried // 3  # most ranges are provable: the check is not vacuous


@pytest.mark.parametrize(("prefix", "tail", "provable"), [
    ("+447700", 6, False),  # in the mobile range 7700 is followed by 0 or 1: +447700000000 valid, +447700200000 not
    ("+4477000", 5, True),
    ("+447400", 6, True),  # leading digits of the Isle of Man and Jersey are told apart by 74
    ("+447911", 6, False),  # +447911999999 is not valid
    ("+12025", 6, True),
])
def test_longer_tails_are_proven_only_where_they_hold(prefix: str, tail: int, provable: bool) -> None:
    assert number_plan._one_answer_for_every_tail(prefix, tail) is provable
    answers = {_reference([prefix + t]) is not None
               for t in ("0" * tail, "2" + "0" * (tail - 1), "1" * tail, "9" * tail)}
    assert (answers == {True}) is provable


def test_runs_prove_prefixes_and_later_blocks_need_no_pattern_match() -> None:
    _learn_all()
    assert len(number_plan._proven.prefixes) >= len(RUNS)
    shuffled = [n for run in RUNS for n in run]
    random.Random(5).shuffle(shuffled)
    with mock.patch.object(number_plan, "_line_plan", side_effect=AssertionError("the plan was used")):
        for start in range(0, len(shuffled), 4096):
            block = shuffled[start:start + 4096]
            assert number_plan.valid_e164_digits(block) == [n[1:] for n in block]


def test_numbers_spread_thin_prove_nothing() -> None:
    rng = random.Random(9)
    spread = [f"+4479{rng.randrange(10**8):08d}" for _ in range(20_000)]
    valid = [n for n in spread if _reference([n]) is not None][:4096]
    assert number_plan.valid_e164_digits(valid) == [n[1:] for n in valid]
    assert number_plan._proven.prefixes == frozenset()


# What may sit in a block of numbers that all start with proven prefixes.
_CHANGES = ["", "0", "00", "1", "+", "\n", " ", "a", "\u0661", "\uff11", "\u00b2", "0\n", "+44", "\x00", "-", "99999"]


def _changed(rng: random.Random, entry: str) -> str:
    at = rng.randrange(len(entry) + 1)
    cut = rng.choice((0, 0, 1, 2))
    return entry[:at] + rng.choice(_CHANGES) + entry[at + cut:]


def test_a_changed_entry_in_a_proven_block_gets_the_plans_answer() -> None:
    _learn_all()
    rng = random.Random(11)
    mixed = [n for run in RUNS for n in run]
    valid = wrong = 0
    for _ in range(3_000):
        block = rng.sample(mixed, 40)
        for at in rng.sample(range(40), rng.randint(1, 3)):
            block[at] = _changed(rng, block[at])
        expected = _reference(block)
        assert number_plan.valid_e164_digits(block) == expected, block
        valid += expected is not None
        wrong += expected is None
    assert valid > 50 and wrong > 1_000  # both answers well represented


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(picks=st.lists(st.tuples(st.integers(0, len(RUNS) - 1), st.integers(0, 4095),
                                st.one_of(st.none(), st.tuples(st.integers(0, 16), st.sampled_from(_CHANGES),
                                                               st.integers(0, 2)))),
                      min_size=1, max_size=30))
def test_any_block_built_from_proven_runs_gets_the_plans_answer(picks: list[tuple[int, int, object]]) -> None:
    if not number_plan._proven.prefixes:
        _learn_all()
    block = []
    for run, index, change in picks:
        entry = RUNS[run][index]
        if change is not None:
            at, text, cut = change  # type: ignore[misc]
            entry = entry[:at] + text + entry[at + cut:]
        block.append(entry)
    assert number_plan.valid_e164_digits(block) == _reference(block)
