"""Prefixes under which every number of a given length is valid, proven on the number plan's own
patterns, so that a bulk list's numbers need no pattern match each.

A bulk list is mostly runs of numbers from the same ranges (``+4477009...``). The number plan's
answer for a number of a given length is fixed by which of its patterns match it: the general and
type patterns of each region sharing the calling code, and each region's leading digits (the
lengths are fixed by the length). With an automaton per pattern
(:class:`~airflow_provider_sms.core.digit_automaton.DigitAutomaton`) this module proves, for a
prefix, that each pattern matches all of the prefix's completions by so many digits or none of
them, so the plan gives them all one answer; it then works out that answer for one of them, the
same way the plan does. A prefix proven valid stands for every such number.

A block of a list (:func:`learn`) whose prefixes are common enough to pay for a proof (about as much
as 200 pattern matches) gets its prefixes proven; then :func:`cover` checks a block in one match
of a plain expression made of the proven prefixes a sample of the block starts with: each line one
of them followed by its number of ASCII digits. Lists spread thin (random numbers) skip the proofs
after a glance at a sample, and are left to the plan.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, cached_property, lru_cache
from operator import itemgetter
from typing import Any

import phonenumbers

from airflow_provider_sms.core.digit_automaton import DigitAutomaton, Unsupported
from airflow_provider_sms.core.plan_metadata import TYPE_FIELDS, code_at, metadata, possible_lengths

__all__ = ["PREFIX_TAILS", "cover", "cover_in_order", "learn", "valid_by_automata"]

#: How many digits a proven prefix may stand for (the prefix is the rest of the number, with the
#: ``+``), tried longest first: a prefix that stands for more numbers is proven once.
PREFIX_TAILS = (6, 5, 4)
_PREFIX = {tail: itemgetter(slice(None, -tail)) for tail in PREFIX_TAILS}
#: Numbers of one block sharing a prefix (as its sample shows) before a proof pays (a proof costs
#: about as much as 200 pattern matches).
_PROVE_FROM = 256
_SAMPLE_EVERY = 64  # how thinly a block is sampled to see whether any prefix is that common
_MAX_PROVEN = 16_384  # about 2 MB; a list spread wider than that is left to the plan
_MAX_MISSED = 8  # lines of a block whose prefix a sample missed, before the block is left to the plan
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


# -- the plan, as automata ---------------------------------------------------------------------------

_Desc = tuple[DigitAutomaton, frozenset[int] | None]  # a pattern and the lengths it allows (None: any)


class _Region:
    """One region's part of a calling code's plan (see ``number_plan._plan_text``, which reads it alike).

    Its general and type patterns become automata on first use: a number outside the region's
    leading digits never needs them (the UK's numbers never read the Channel Islands' patterns).

    :raises Unsupported: on first use, when one of its patterns is not modelled.
    """

    def __init__(self, region_code: str, calling_code: int) -> None:
        self._codes = region_code, calling_code
        self._types: dict[str, _Desc | None] = {}

    @cached_property
    def _plan(self) -> Any:
        return metadata(*self._codes)  # loaded on first use too: phonenumbers loads a region's data on demand

    @cached_property
    def leading(self) -> DigitAutomaton | None:
        pattern = getattr(self._plan, "leading_digits", None)
        return _automaton(pattern) if pattern is not None else None

    @cached_property
    def general(self) -> _Desc | None:
        return _desc(getattr(self._plan, "general_desc", None))

    def types(self) -> Iterator[_Desc]:
        """The type patterns, commonest first, each made into an automaton when first reached."""
        for field in TYPE_FIELDS:
            if field not in self._types:
                self._types[field] = _desc(getattr(self._plan, field, None))
            desc = self._types[field]
            if desc is not None:
                yield desc

    def valid(self, national: str) -> bool:
        if self.general is None or not _fits(self.general, national):
            return False
        return any(_fits(desc, national) for desc in self.types())


def _fits(desc: _Desc, national: str) -> bool:
    automaton, lengths = desc
    return (lengths is None or len(national) in lengths) and automaton.matches(national)


@cache
def _automaton(pattern: str) -> DigitAutomaton:
    return DigitAutomaton(pattern)


def _desc(number_desc: object) -> _Desc | None:
    pattern = getattr(number_desc, "national_number_pattern", None)
    if number_desc is None or pattern is None:
        return None
    return _automaton(pattern), possible_lengths(number_desc)


@cache
def _regions(calling_code: int) -> tuple[_Region, ...]:
    """The plan of ``calling_code`` as automata (each made when first read), regions in
    libphonenumber's order."""
    return tuple(_Region(region_code, calling_code)
                 for region_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ()))


def valid_by_automata(calling_code: int, national: str) -> bool | None:
    """The plan's answer for ``national`` (ASCII digits) under ``calling_code``, read with automata:
    regions in order, the first whose leading digits start the number decides, a region without
    leading digits decides only when the number is valid there. None if the plan is not modelled."""
    try:
        for region in _regions(calling_code):
            if region.leading is not None:
                if region.leading.starts(national) is True:  # some start of the number matches
                    return region.valid(national)
            elif region.valid(national):
                return True
    except Unsupported:
        return None
    return False


def one_answer_for_every_tail(prefix: str, tail: int) -> bool:
    """Whether the plan answers alike for every number ``prefix`` + ``tail`` digits (``prefix``:
    ``+``, the calling code, and digits).

    Read as the plan reads a number, region by region: a region whose leading digits start none of
    those numbers is passed over; one whose leading digits start all of them decides, as does one
    without leading digits that takes all of them; in any region read, each pattern that counts
    must match all of the numbers or none. Regions after the one that decides are never read (nor
    made into automata).
    """
    code = code_at(prefix, 0)
    if code is None:
        return False
    national = prefix[1 + len(str(code)):]
    try:
        for region in _regions(code):
            starts = region.leading.starts(national) if region.leading is not None else True
            if starts is None:
                return False
            if starts is False:
                continue
            general = _all_or_none(region.general, national, tail)
            if general is None:
                return False
            valid = general and _all_take(region, national, tail)
            if valid is None:
                return False
            if region.leading is not None or valid:
                return True  # this region decides, alike for all of them
    except Unsupported:
        return False
    return True  # no region takes any of them


def _all_take(region: _Region, national: str, tail: int) -> bool | None:
    """Whether ``region``'s types take every completion (True), none of them (False), or it may
    depend (None), read type by type: the first that takes all or only some of them answers, and
    the types after it are never read (a later type taking all after one taking some is possible
    but rare: the prefix is then not proven, and the plan checks its numbers)."""
    for desc in region.types():
        answer = _all_or_none(desc, national, tail)
        if answer is not False:
            return answer
    return False


def _all_or_none(desc: _Desc | None, national: str, tail: int) -> bool | None:
    """Whether ``desc`` fits every completion of ``national`` by ``tail`` digits (True), none of them
    (False), or some only (None)."""
    if desc is None:
        return False
    automaton, lengths = desc
    if lengths is not None and len(national) + tail not in lengths:
        return False
    some, every = automaton.completions(automaton.after(national), tail)
    return every if every or not some else None


# -- proven prefixes -----------------------------------------------------------------------------------


class _ProvenPrefixes:
    """The prefixes proven so far in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.prefixes: frozenset[tuple[str, int]] = frozenset()  # (prefix, how many digits follow it)

    def cover(self, numbers: list[str] | tuple[str, ...], text: str) -> bool:
        prefixes = self.prefixes
        if not prefixes:
            return False
        # The block's own prefixes, from a sample, make a small expression (compiled once per set of
        # them): one expression of everything proven would grow, and be compiled again, with every
        # block of a list of many ranges. A line the sample missed adds its prefix and the match goes on.
        wanted = set()
        last, tail = "\n", 1  # the prefix of the number before (no number holds a line break)
        for number in numbers[::_SAMPLE_EVERY]:
            if number[:-tail] == last:
                continue  # the usual case: a block of one range
            found = _proven_prefix(number, prefixes)
            if found is None:
                return False
            wanted.add(found)
            last, tail = found
        position = 0
        for _ in range(_MAX_MISSED):
            position = _lines(frozenset(wanted)).match(text, position).end()  # type: ignore[union-attr]
            if position == len(text):
                return True
            found = _proven_prefix(text[position:text.index("\n", position)], prefixes)
            if found is None:
                return False
            wanted.add(found)
        return False

    def learn(self, numbers: list[str] | tuple[str, ...]) -> bool:
        # Candidates come from the sample too: counting every entry of the block, for each tail, cost
        # more than the proofs, and a prefix the sample misses holds too few numbers to pay for one.
        sample = numbers[::_SAMPLE_EVERY]
        common = Counter(map(_PREFIX[PREFIX_TAILS[0]], sample)).most_common(1)
        # Twice the bar for the commonest: a list spread thin seldom clears it by chance.
        if len(self.prefixes) >= _MAX_PROVEN or not common or common[0][1] * _SAMPLE_EVERY < 2 * _PROVE_FROM:
            return False  # the numbers are spread thin: proofs would cost more than they save
        with self._lock:
            proven = set(self.prefixes)
            for tail in PREFIX_TAILS:
                examples = dict(zip(map(_PREFIX[tail], sample), sample, strict=True))
                for prefix, count in Counter(map(_PREFIX[tail], sample)).items():
                    if count * _SAMPLE_EVERY >= _PROVE_FROM and not _stands_for(proven, prefix, tail) \
                            and _proven_valid(prefix, tail, examples[prefix]):
                        proven.add((prefix, tail))
            if len(proven) == len(self.prefixes):
                return False
            self.prefixes = frozenset(proven)
            return True

    def cover_in_order(self, numbers: Sequence[str]) -> bool:
        # Entries between two that share a prefix share it too: a part is settled by its two ends.
        parts = [(0, len(numbers))]
        while parts:
            start, end = parts.pop()
            if self._shared_prefix_proven(numbers[start], numbers[end - 1], end - start):
                continue
            if end - start < 2 * _PROVE_FROM:  # its halves are too small to pay for a proof
                return False
            middle = (start + end) // 2
            parts += [(middle, end), (start, middle)]
        return True

    def _shared_prefix_proven(self, first: str, last: str, count: int) -> bool:
        """Whether ``first`` and ``last`` share a proven prefix that stands for the rest of them,
        proving it when the ``count`` entries from one to the other pay for the proof."""
        for tail in PREFIX_TAILS:
            prefix = first[:-tail]
            if len(first) <= tail or last[:-tail] != prefix:
                continue
            if _stands_for(self.prefixes, prefix, tail):
                return True
            if count >= _PROVE_FROM and len(self.prefixes) < _MAX_PROVEN and _proven_valid(prefix, tail, first):
                with self._lock:
                    self.prefixes = self.prefixes | {(prefix, tail)}
                return True
        return False

    def clear(self) -> None:
        with self._lock:
            self.prefixes = frozenset()


def _proven_prefix(number: str, prefixes: frozenset[tuple[str, int]]) -> tuple[str, int] | None:
    """The proven prefix ``number`` starts with, and its tail; None if there is none."""
    return next(((number[:-tail], tail) for tail in PREFIX_TAILS if (number[:-tail], tail) in prefixes), None)


@lru_cache(maxsize=256)
def _lines(prefixes: frozenset[tuple[str, int]]) -> re.Pattern[str]:
    """A run of lines, each one of ``prefixes`` and its tail of ASCII digits."""
    return re.compile(f"(?:{_trie(prefixes)}\\n)*")


_PROVEN = _ProvenPrefixes()


def cover(numbers: list[str] | tuple[str, ...], text: str) -> bool:
    """Whether every entry of ``numbers`` (``text``: each of them followed by a line break) is a
    proven prefix and as many ASCII digits as it was proven for: then each is a valid E.164 number."""
    return _PROVEN.cover(numbers, text)


def learn(numbers: list[str] | tuple[str, ...]) -> bool:
    """Prove the prefixes that many entries of ``numbers`` (a block of a bulk list, unchecked) share
    and that hold only valid numbers; True when a prefix was added."""
    return _PROVEN.learn(numbers)


def cover_in_order(numbers: Sequence[str]) -> bool:
    """Whether every entry of ``numbers`` starts with a proven prefix, where the entries are each
    greater than the one before: then the entries between two that share a prefix share it too, so
    the list is halved until the two ends of each part share one (proved when the part is big enough
    to pay for the proof). False when a part too small for a proof is left: the caller then reads
    the list block by block. What follows each prefix is not looked at: the caller checks that it
    is ASCII digits and that every entry is as long as the first."""
    return _PROVEN.cover_in_order(numbers)


def proven() -> frozenset[tuple[str, int]]:
    """The prefixes proven in this process, each with the number of digits it stands for."""
    return _PROVEN.prefixes


def forget() -> None:
    """Drop every proven prefix (tests)."""
    _PROVEN.clear()


def _proven_valid(prefix: str, tail: int, example: str) -> bool:
    """Whether every number ``prefix`` + ``tail`` digits is valid, ``example`` being one entry written so."""
    if _E164.fullmatch(example) is None or not one_answer_for_every_tail(prefix, tail):
        return False
    code = code_at(example, 0)
    return code is not None and valid_by_automata(code, example[1 + len(str(code)):]) is True


def _stands_for(proven: set[tuple[str, int]] | frozenset[tuple[str, int]], prefix: str, tail: int) -> bool:
    """Whether ``proven`` holds ``prefix`` with ``tail``, or a shorter prefix over it with a longer tail."""
    return any((prefix[:len(prefix) - cut], tail + cut) in proven for cut in range(PREFIX_TAILS[0] - tail + 1))


def _trie(prefixes: Iterable[tuple[str, int]]) -> str:
    """A pattern matching exactly each prefix followed by its tail of ASCII digits, shared beginnings
    factored out (so a match reads each character once, not once per prefix)."""
    root: dict[str, Any] = {}
    for prefix, tail in prefixes:
        node = root
        for char in prefix:
            node = node.setdefault(char, {})
        node.setdefault("", set()).add(tail)
    return _trie_pattern(root)


def _trie_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_pattern(rest) for char, rest in sorted(node.items()) if char]
    branches += [f"[0-9]{{{tail}}}" for tail in sorted(node.get("", ()), reverse=True)]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
