"""``DigitAutomaton`` reads every libphonenumber pattern as ``re`` does, and its answers about
completions are those of trying every completion."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator

import phonenumbers
import pytest

from airflow_provider_sms.core.digit_automaton import DigitAutomaton, Unsupported
from airflow_provider_sms.core.plan_metadata import TYPE_FIELDS, metadata


def _metadata_patterns() -> Iterator[str]:
    """Every pattern the number plan reads numbers with: general, type and leading-digit patterns."""
    seen: set[str] = set()
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            plan = metadata(region, code)
            if plan is None:
                continue
            descs = (plan.general_desc, *(getattr(plan, f, None) for f in TYPE_FIELDS))
            found = [getattr(d, "national_number_pattern", None) for d in descs] + [plan.leading_digits]
            for pattern in found:
                if pattern is not None and pattern not in seen:
                    seen.add(pattern)
                    yield pattern


PATTERNS = list(_metadata_patterns())


def _near_misses(rng: random.Random, pattern: str) -> Iterator[str]:
    """Strings around what ``pattern`` matches: its own random walks, then each changed or cut."""
    automaton = DigitAutomaton(pattern)
    for _ in range(6):
        text = ""
        states = automaton.initial
        for _ in range(rng.randint(0, 17)):
            moves = [d for d in "0123456789" if automaton.after(d, states)]
            if not moves:
                break
            digit = rng.choice(moves)
            text += digit
            states = automaton.after(digit, states)
        yield text
        if text:
            at = rng.randrange(len(text))
            yield text[:at] + rng.choice("0123456789") + text[at + 1:]
            yield text[:-1]
            yield text + rng.choice("0123456789")
    for _ in range(4):
        yield "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 16)))


def test_every_metadata_pattern_is_modelled() -> None:
    # If one were not, the number plan would never prove a prefix of its calling code: still exact,
    # but slower. This keeps a phonenumbers upgrade from silently turning the proofs off.
    assert len(PATTERNS) > 1_000
    for pattern in PATTERNS:
        DigitAutomaton(pattern)


def test_the_automaton_matches_what_re_fullmatch_matches() -> None:
    rng = random.Random(7)
    disagreements, matched, tried = [], 0, 0
    for pattern in PATTERNS:
        automaton, compiled = DigitAutomaton(pattern), re.compile(pattern)
        for text in _near_misses(rng, pattern):
            expected = compiled.fullmatch(text) is not None
            tried += 1
            matched += expected
            if automaton.matches(text) != expected:
                disagreements.append((pattern, text))
    assert disagreements == []
    assert tried > 25_000 and 0.2 < matched / tried < 0.8, (tried, matched)  # both answers well represented


@pytest.mark.parametrize("tail", [1, 2, 3])
def test_completions_are_those_of_trying_every_completion(tail: int) -> None:
    rng = random.Random(tail)
    some_and_not_every = every = 0
    for pattern in rng.sample(PATTERNS, 400 if tail < 3 else 200):
        automaton, compiled = DigitAutomaton(pattern), re.compile(pattern)
        for text in itertools.islice(_near_misses(rng, pattern), 8):
            head = text[:max(0, len(text) - tail)]
            answers = [compiled.fullmatch(head + "".join(t)) is not None
                       for t in itertools.product("0123456789", repeat=tail)]
            assert automaton.completions(automaton.after(head), tail) == (any(answers), all(answers)), (pattern, head)
            some_and_not_every += any(answers) and not all(answers)
            every += all(answers)
    assert some_and_not_every > 10 and every > 10, (some_and_not_every, every)  # the cases that matter both occur


def test_starts_is_what_re_match_says_for_every_continuation() -> None:
    """``starts`` (used for leading-digit patterns, which the plan applies as a look-ahead) against
    ``re.match`` on every continuation of up to 3 digits."""
    rng = random.Random(5)
    answers = {True: 0, False: 0, None: 0}
    for pattern in rng.sample(PATTERNS, 300):
        automaton, compiled = DigitAutomaton(pattern), re.compile(pattern)
        for text in itertools.islice(_near_misses(rng, pattern), 10):
            head = text[:rng.randint(0, len(text))]
            said = automaton.starts(head)
            answers[said] += 1
            if said is not None:
                continuations = ("".join(t) for n in range(4) for t in itertools.product("0123456789", repeat=n))
                assert {compiled.match(head + c) is not None for c in continuations} == {said}, (pattern, head)
    assert min(answers.values()) > 50, answers


@pytest.mark.parametrize("pattern", [r"(?=1)\d", r"1\b", r"^1", r"(1)\1", r"(?>1)2", r"1++", r"\w", r"(?<=1)2"])
def test_patterns_beyond_the_model_are_refused(pattern: str) -> None:
    with pytest.raises(Unsupported):
        DigitAutomaton(pattern)


def test_classes_and_repeats_read_as_re_reads_them() -> None:
    cases = {r"[^5]\D?[\d]{2,}": ["00", "100", "512", "0123456"], r"(?:12|3)*?4": ["4", "1234", "3124", "124"],
             r"0{0,2}1": ["1", "01", "001", "0001"], r".[^\D3]": ["13", "14", "99"]}
    for pattern, texts in cases.items():
        automaton = DigitAutomaton(pattern)
        assert [automaton.matches(t) for t in texts] == [re.fullmatch(pattern, t) is not None for t in texts]
