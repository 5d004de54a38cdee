"""Proven prefixes (issue 13): a block of numbers that all start with a proven prefix is answered
without a pattern match, and the answer is the plan's, whatever the block holds."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from types import SimpleNamespace
from unittest import mock

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core import number_plan, plan_metadata, proven_prefixes
from airflow_provider_sms.core.plan_metadata import code_at
from airflow_provider_sms.core.recipients import in_order_e164_width, normalise_numbers, written_e164_width
from airflow_provider_sms.exceptions import SmsValidationError
from tests.core import test_number_plan
from tests.core.reference import old_number_plan
from tests.core.test_number_check_equivalence import EXAMPLES

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@pytest.fixture(autouse=True)
def _fresh_proofs() -> Iterator[None]:
    proven_prefixes.forget()
    yield
    proven_prefixes.forget()


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
    code = code_at(prefix, 0)
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
            if proven_prefixes.one_answer_for_every_tail(prefix, tail):
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
    assert proven_prefixes.one_answer_for_every_tail(prefix, tail) is provable
    answers = {_reference([prefix + t]) is not None
               for t in ("0" * tail, "2" + "0" * (tail - 1), "1" * tail, "9" * tail)}
    assert (answers == {True}) is provable


def test_runs_prove_prefixes_and_later_blocks_need_no_pattern_match() -> None:
    _learn_all()
    assert len(proven_prefixes.proven()) >= len(RUNS)
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
    assert proven_prefixes.proven() == frozenset()


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
        one_length = expected is not None and len(set(map(len, block))) == 1
        assert number_plan.valid_e164_width(block) == (len(block[0]) if one_length else None), block
        valid += expected is not None
        wrong += expected is None
    assert valid > 50 and wrong > 1_000  # both answers well represented


def test_an_entry_of_two_valid_numbers_on_two_lines_is_not_read_as_two() -> None:
    _learn_all()
    run = list(RUNS[0][:100])
    for block in (run, [f"+{447400000000 + 7919 * i}" for i in range(100)]):  # proven, and left to the plan
        two = [*block[:50], f"{block[50]}\n{block[51]}", *block[52:]]
        assert number_plan.valid_e164_digits(block) == [n[1:] for n in block]
        assert number_plan.valid_e164_digits(two) is None
        assert number_plan.valid_e164_width(block) == 13 and number_plan.valid_e164_width(two) is None
        with pytest.raises(SmsValidationError) as raised:
            normalise_numbers(two, "GB")
        assert [p.index for p in raised.value.problems] == [50]


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(picks=st.lists(st.tuples(st.integers(0, len(RUNS) - 1), st.integers(0, 4095),
                                st.one_of(st.none(), st.tuples(st.integers(0, 16), st.sampled_from(_CHANGES),
                                                               st.integers(0, 2)))),
                      min_size=1, max_size=30))
def test_any_block_built_from_proven_runs_gets_the_plans_answer(
        picks: list[tuple[int, int, tuple[int, str, int] | None]]) -> None:
    if not proven_prefixes.proven():
        _learn_all()
    block = []
    for run, index, change in picks:
        entry = RUNS[run][index]
        if change is not None:
            at, text, cut = change
            entry = entry[:at] + text + entry[at + cut:]
        block.append(entry)
    assert number_plan.valid_e164_digits(block) == _reference(block)


def test_the_plan_read_with_automata_answers_as_the_plan() -> None:
    """``valid_by_automata`` (which decides what a proven prefix stands for) against the plan, under
    every calling code and on real ranges."""
    rng = random.Random(17)
    samples = [(code, "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15))))
               for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for _ in range(40)]
    samples += test_number_plan._samples(19, 10_000)
    answers = [proven_prefixes.valid_by_automata(code, national) for code, national in samples]
    assert [s for s, a in zip(samples, answers, strict=True) if a != number_plan.is_valid_national(*s)] == []
    assert 2_000 < sum(a is True for a in answers) < len(samples) - 2_000


def _desc(pattern: str, *lengths: int) -> SimpleNamespace:
    return SimpleNamespace(national_number_pattern=pattern, possible_length=lengths)


# A made-up plan where the order of regions and their leading digits decide: region A takes numbers
# starting 12 (and is invalid for some of them, which a later region would accept), B has no
# leading digits and a type the region does not have (-1), C takes 13 to 15 and 2. Every pattern
# matches all or none of 1000 to 1999, yet only 1200 to 1299 are valid: the leading digits decide.
_PLAN = {
    "AA": SimpleNamespace(leading_digits="12", general_desc=_desc(r"\d{4,6}"),
                          mobile=_desc(r"12[0-4]\d{2}|\d{4}", 4, 5)),
    "BB": SimpleNamespace(leading_digits=None, general_desc=_desc(r"[1-3]\d{3,5}", 4, 5, 6),
                          fixed_line=_desc(r"1\d{4}|3\d{3}"), toll_free=_desc(r"9\d", -1)),
    "CC": SimpleNamespace(leading_digits="1[3-5]|2", general_desc=_desc(r"\d{3,5}"),
                          mobile=_desc(r"2\d{3}")),
}


def test_a_made_up_plan_where_leading_digits_decide_is_read_alike() -> None:
    code = 999
    fake_regions = {**phonenumbers.COUNTRY_CODE_TO_REGION_CODE, code: ("AA", "BB", "CC")}
    with mock.patch.object(phonenumbers, "COUNTRY_CODE_TO_REGION_CODE", fake_regions), \
            mock.patch.object(number_plan, "metadata", lambda region, _code: _PLAN[region]), \
            mock.patch.object(proven_prefixes, "metadata", lambda region, _code: _PLAN[region]), \
            mock.patch.dict(plan_metadata.CALLING_CODES, {str(code): code}):
        number_plan._plan_text.cache_clear()
        number_plan._plan.cache_clear()
        proven_prefixes._regions.cache_clear()
        try:
            nationals = ["".join(t) for n in range(1, 6) for t in itertools.product("0123459", repeat=n)]
            plan = [number_plan.is_valid_national(code, n) for n in nationals]
            assert [proven_prefixes.valid_by_automata(code, n) for n in nationals] == plan
            assert 100 < sum(plan) < len(nationals) - 100
            assert not number_plan.is_valid_national(code, "12500")  # A decides (invalid), though B would take it
            assert not proven_prefixes.one_answer_for_every_tail(f"+{code}1", 3)
            proofs = 0
            for head in ("".join(t) for n in range(4) for t in itertools.product("0123459", repeat=n)):
                for tail in (1, 2):
                    if proven_prefixes.one_answer_for_every_tail(f"+{code}{head}", tail):
                        proofs += 1
                        answers = {number_plan.is_valid_national(code, head + "".join(t))
                                   for t in itertools.product("0123456789", repeat=tail)}
                        assert len(answers) == 1, (head, tail)
            assert proofs > 100
        finally:
            number_plan._plan_text.cache_clear()
            number_plan._plan.cache_clear()
            proven_prefixes._regions.cache_clear()


def test_a_region_is_read_only_for_numbers_its_leading_digits_may_start() -> None:
    """Region CC's mobile pattern is not modelled (a look-ahead): numbers CC never decides (outside
    1[3-5] and 2) are still proven and answered; those it decides get no answer from the automata,
    and never a wrong one."""
    code = 998
    plan = {**_PLAN, "CC": SimpleNamespace(**{**vars(_PLAN["CC"]), "mobile": _desc(r"(?=2)2\d{3}")})}
    fake_regions = {**phonenumbers.COUNTRY_CODE_TO_REGION_CODE, code: ("AA", "BB", "CC")}
    with mock.patch.object(phonenumbers, "COUNTRY_CODE_TO_REGION_CODE", fake_regions), \
            mock.patch.object(proven_prefixes, "metadata", lambda region, _code: plan[region]):
        proven_prefixes._regions.cache_clear()
        try:
            assert proven_prefixes.one_answer_for_every_tail(f"+{code}12", 2)  # A decides, valid
            assert proven_prefixes.valid_by_automata(code, "1234") is True
            assert proven_prefixes.one_answer_for_every_tail(f"+{code}3", 3)  # B: 3xxx fixed line
            assert proven_prefixes.valid_by_automata(code, "3456") is True
            regions = proven_prefixes._regions(code)
            assert regions is not None and not regions[2]._types  # CC was never built
            assert not proven_prefixes.one_answer_for_every_tail(f"+{code}2", 3)  # CC decides: not modelled
            assert proven_prefixes.valid_by_automata(code, "2345") is None
            plan["CC"] = SimpleNamespace(**{**vars(_PLAN["CC"]), "leading_digits": r"(?=1)1[3-5]|2"})
            proven_prefixes._regions.cache_clear()
            assert proven_prefixes.valid_by_automata(code, "3456") is True  # B takes it before C is read
            assert proven_prefixes.valid_by_automata(code, "2345") is None  # B refuses it: C's turn
            assert not proven_prefixes.one_answer_for_every_tail(f"+{code}2", 3)
        finally:
            proven_prefixes._regions.cache_clear()


def test_a_uk_range_never_builds_the_crown_dependencies_patterns() -> None:
    proven_prefixes._regions.cache_clear()
    proven_prefixes.forget()
    assert number_plan.valid_e164_digits(_run(447400000000, 4096)) is not None  # +447400 and 6 digits: mobiles
    assert ("+447400", 6) in proven_prefixes.proven()
    regions = proven_prefixes._regions(44)
    assert regions is not None and len(regions) == 4  # GB, GG, IM and JE
    assert [bool(region._types) for region in regions] == [True, False, False, False]  # GB takes the range
    assert list(regions[0]._types) == ["mobile"]  # and by its first type: the others are never read


def test_a_list_of_many_ranges_in_order_is_covered_block_by_block_without_growing_expressions() -> None:
    """A sorted list of 60 ranges: each is proven as its blocks come, and each block is read with
    an expression of its own few prefixes (compiled once per set of them), not one of all proven."""
    ranges = [_run(447400000000 + k * 1_000_000, 3_000) for k in range(60)]
    numbers = [n for r in ranges for n in r]
    blocks = [numbers[start:start + 4096] for start in range(0, len(numbers), 4096)]
    for block in blocks:
        assert number_plan.valid_e164_digits(block) == [n[1:] for n in block]
    assert len(proven_prefixes.proven()) == 60
    proven_prefixes._lines.cache_clear()
    with mock.patch.object(number_plan, "_line_plan", side_effect=AssertionError("the plan was used")), \
            mock.patch.object(proven_prefixes, "_trie", wraps=proven_prefixes._trie) as trie:
        for block in blocks:
            assert number_plan.valid_e164_digits(block) == [n[1:] for n in block]
    sizes = [len(call.args[0]) for call in trie.call_args_list]
    assert len(sizes) <= 2 * len(blocks) and max(sizes) <= 3  # a block spans at most 3 ranges of 3,000


# -- lists in order: read in place ------------------------------------------------------------------


def _one_length_and_valid(entries: list[str]) -> int | None:
    """The reference answer of ``in_order_e164_width``: the common length when every entry is valid."""
    if _reference(entries) is None or len(set(map(len, entries))) != 1:
        return None
    return len(entries[0])


def test_a_list_in_order_of_one_range_is_read_without_a_pattern_match_per_block() -> None:
    numbers = _run(447700000000, 100_000)
    with mock.patch.object(proven_prefixes, "cover", side_effect=AssertionError("matched block by block")), \
            mock.patch.object(number_plan, "_line_plan", side_effect=AssertionError("the plan was used")):
        assert in_order_e164_width(numbers) == 13
    assert proven_prefixes.proven() == frozenset({("+4477000", 5)})  # one proof for the whole list
    assert in_order_e164_width([*numbers[:50_000], "+4477000500000"]) is None  # one digit too many


def test_a_list_in_order_of_many_ranges_proves_each_range_once() -> None:
    numbers = sorted(n for run in RUNS for n in run[:1024])  # six ranges, four lengths
    assert in_order_e164_width(numbers) is None  # not all as long
    thirteen = [n for n in numbers if len(n) == 13]
    assert in_order_e164_width(thirteen) == 13
    proven = proven_prefixes.proven()
    assert len(proven) == 3  # one proof a range
    assert all(any(n.startswith(p) and len(n) == len(p) + tail for p, tail in proven) for n in thirteen)


@pytest.mark.parametrize("entry", ["+447700+00900", "447700000900", "+44770000090\u0661", "+44770000090\ud800",
                                   "+44770000090\n",
                                   "+4477000009000", "+44770000090", "+44770000090 "])
def test_an_entry_not_written_like_the_others_is_caught_wherever_it_sorts(entry: str) -> None:
    numbers = sorted({*_run(447700000000, 2048), entry})
    assert in_order_e164_width(numbers) is None


def test_an_entry_with_a_plus_inside_cannot_pass_for_the_start_of_the_next() -> None:
    # As many '+' as entries, each at a multiple of 13, yet one entry is short and the next holds a '+'.
    numbers = [*_run(447700000000, 600), "+44770000060", "1+447700000061"]
    assert "".join(numbers).count("+") == len(numbers) and len("".join(numbers)) == 13 * len(numbers)
    assert numbers == sorted(set(numbers))
    assert in_order_e164_width(numbers) is None


def test_a_list_too_thin_for_proofs_gets_the_block_by_block_answer() -> None:
    rng = random.Random(3)
    spread = sorted({f"+4479{rng.randrange(10**8):08d}" for _ in range(6_000)})
    valid = [n for n in spread if _reference([n]) is not None][:3000]
    assert in_order_e164_width(valid) == 13 == written_e164_width(valid)
    assert proven_prefixes.proven() == frozenset()


def test_a_changed_entry_in_a_list_in_order_gets_the_plans_answer() -> None:
    rng = random.Random(17)
    valid = wrong = 0
    for _ in range(400):
        run = RUNS[rng.randrange(len(RUNS))]
        start = rng.randrange(0, 2048)
        entries = run[start:start + rng.randrange(300, 2048)]
        for at in rng.sample(range(len(entries)), rng.randint(0, 3)):
            entries[at] = _changed(rng, entries[at])
        entries = sorted(set(entries))
        expected = _one_length_and_valid(entries)
        assert in_order_e164_width(entries) == expected, [e for e in entries if _reference([e]) is None]
        valid += expected is not None
        wrong += expected is None
    assert valid > 50 and wrong > 100  # both answers well represented
