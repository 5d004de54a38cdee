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
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from functools import cache
from operator import itemgetter
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata

from airflow_provider_sms.core.digit_automaton import DigitAutomaton, Unsupported

__all__ = ["is_valid_national", "own_code_is_international", "valid_e164_digits"]

# Any matching type makes a number valid, so the commonest types go first.
_TYPE_FIELDS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number",
                "pager", "uan", "voicemail")
_NEVER = "(?!)"


def _metadata(region_code: str, calling_code: int) -> PhoneMetadata | None:
    if region_code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return PhoneMetadata.metadata_for_nongeo_region(calling_code, None)
    return PhoneMetadata.metadata_for_region(region_code, None)


def _lengths(lengths: Iterable[int]) -> str:
    """A look-ahead that the whole rest is one of ``lengths`` characters long ("" when any length will do)."""
    given = set(lengths)
    if not given:
        return ""
    wanted = sorted(n for n in given if n >= 0)  # -1 marks a type the region does not have
    if not wanted:
        return _NEVER
    return "(?=(?:" + "|".join(f"(?s:.){{{n}}}" for n in wanted) + r")\Z)"


def _desc(number_desc: object) -> str | None:
    """``number_desc`` as an anchored pattern: its lengths, then its pattern up to the end; None if absent."""
    pattern = getattr(number_desc, "national_number_pattern", None)
    if number_desc is None or pattern is None:
        return None
    return _lengths(getattr(number_desc, "possible_length", ()) or ()) + f"(?:{pattern})" + r"\Z"


def _region_valid(metadata: PhoneMetadata) -> str:
    """A pattern that matches exactly the national numbers valid in ``metadata``'s region."""
    general = _desc(metadata.general_desc)
    types = [d for d in (_desc(getattr(metadata, f, None)) for f in _TYPE_FIELDS) if d is not None]
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
        metadata = _metadata(region_code, calling_code)
        if metadata is None:
            continue
        valid = _region_valid(metadata)
        if metadata.leading_digits is not None:
            leading = f"(?:{metadata.leading_digits})"
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
    metadata = _metadata(region_code, calling_code)
    pattern = getattr(metadata.general_desc, "national_number_pattern", None) if metadata else None
    if metadata is None or pattern is None:
        return None
    lengths = getattr(metadata.general_desc, "possible_length", ()) or ()
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

_CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
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
    try:
        text = "\n".join(numbers) + "\n"
    except TypeError:  # not all strings
        return None
    if text.count("\n") != len(numbers) or not numbers:  # an entry holding a line break
        return None
    if _proven.cover(text):
        return text.replace("+", "").split("\n")[:-1]
    position, end = 0, len(text)
    while position < end:
        code = _code_at(text, position)
        plan = _line_plan(code) if code is not None else None
        found = plan.match(text, position) if plan is not None else None
        if found is None or found.end() == position:
            return None
        position = found.end()
    _proven.learn(numbers)
    return text.replace("+", "").split("\n")[:-1]


def _code_at(text: str, position: int) -> int | None:
    """The calling code of the number written at ``position`` (``+`` then digits); codes are prefix-free."""
    if text[position:position + 1] != "+":
        return None
    for size in (1, 2, 3):
        code = _CALLING_CODES.get(text[position + 1:position + 1 + size])
        if code is not None:
            return code
    return None


# -- numbers sharing a proven prefix ---------------------------------------------------------------
#
# A bulk list is mostly runs of numbers from the same ranges. When every number that starts with a
# given prefix and has a given number of digits more gets the same answer from the plan -- proven on the
# metadata's patterns, not sampled -- one valid number vouches for all of them, and a later block
# whose numbers all start with proven prefixes needs no pattern match at all.

#: How many digits at the end of a number a proven prefix may stand for (the prefix is the rest, with
#: the ``+``), tried longest first: a prefix that stands for more numbers is proven once.
PREFIX_TAILS = (6, 5, 4)
_PREFIX = {tail: itemgetter(slice(None, -tail)) for tail in PREFIX_TAILS}
#: Numbers of one block sharing a prefix before proving it pays: a proof costs about as much as
#: matching 200 numbers.
_PROVE_FROM = 256
_SAMPLE_EVERY = 64  # how thinly a block is sampled to see whether any prefix is that common
_MAX_PROVEN = 4_096  # each a branch of one expression; a list spread wider is left to the plan


class _ProvenPrefixes:
    """The prefixes proven so far in this process, and one expression that reads a block of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.prefixes: frozenset[tuple[str, int]] = frozenset()  # (prefix, how many digits follow it)
        self._lines: re.Pattern[str] | None = None  # a run of lines, each a proven prefix and its tail of digits

    def cover(self, text: str) -> bool:
        """Whether every line of ``text`` (entries, each followed by a line break) is a proven prefix
        and as many more ASCII digits as it was proven for."""
        lines = self._lines
        return lines is not None and lines.fullmatch(text) is not None

    def learn(self, valid: list[str] | tuple[str, ...]) -> None:
        """Prove the prefixes that many numbers of ``valid`` (each valid, written ``+<digits>``) share."""
        sample = Counter(map(_PREFIX[PREFIX_TAILS[0]], valid[::_SAMPLE_EVERY])).most_common(1)
        # Twice the bar in the sample: a list spread thin seldom clears it by chance.
        if len(self.prefixes) >= _MAX_PROVEN or not sample or sample[0][1] * _SAMPLE_EVERY < 2 * _PROVE_FROM:
            return  # the numbers are spread thin: proofs would cost more than they save
        with self._lock:
            proven = set(self.prefixes)
            for tail in PREFIX_TAILS:
                for prefix, count in Counter(map(_PREFIX[tail], valid)).items():
                    if count >= _PROVE_FROM and not _stands_for(proven, prefix, tail) \
                            and _one_answer_for_every_tail(prefix, tail):
                        proven.add((prefix, tail))
            if len(proven) > len(self.prefixes):
                self.prefixes = frozenset(proven)
                self._lines = re.compile(f"(?:{_trie(self.prefixes)}\\n)*")

    def clear(self) -> None:
        with self._lock:
            self.prefixes, self._lines = frozenset(), None


_proven = _ProvenPrefixes()


def _stands_for(proven: set[tuple[str, int]], prefix: str, tail: int) -> bool:
    """Whether ``proven`` already holds ``prefix`` with ``tail``, or a shorter prefix with a longer tail over it."""
    return any((prefix[:len(prefix) - cut], tail + cut) in proven for cut in range(PREFIX_TAILS[0] - tail + 1))


def _trie(prefixes: Iterable[tuple[str, int]]) -> str:
    """A pattern matching exactly each prefix followed by its tail of digits, shared beginnings
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


def _one_answer_for_every_tail(prefix: str, tail: int) -> bool:
    """Whether the plan answers alike for every number ``prefix`` + ``tail`` digits (``prefix``
    is ``+`` and digits, at least the calling code).

    The plan's answer for a number of a given length is fixed by which of its patterns match it
    (general and type patterns, and which regions' leading digits start it; lengths are fixed by
    the length). So it is one answer when each pattern matches all of those numbers or none of them.
    """
    code = _code_at(prefix, 0)
    found = _automata(code) if code is not None else None
    if found is None:
        return False
    national_patterns, leading_patterns = found
    national = prefix[1 + len(str(code)):]
    if any(leading.starts(national) is None for leading in leading_patterns):
        return False
    for automaton in national_patterns:
        some, every = automaton.completions(automaton.after(national), tail)
        if some and not every:
            return False
    return True


@cache
def _automata(calling_code: int) -> tuple[tuple[DigitAutomaton, ...], tuple[DigitAutomaton, ...]] | None:
    """An automaton for each pattern the plan of ``calling_code`` reads a national number with, and
    for each region's leading digits; None if one of them is not modelled."""
    patterns: list[str] = []
    leading: list[str] = []
    for region_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ()):
        metadata = _metadata(region_code, calling_code)
        if metadata is None:
            continue
        for number_desc in (metadata.general_desc, *(getattr(metadata, f, None) for f in _TYPE_FIELDS)):
            pattern = getattr(number_desc, "national_number_pattern", None)
            if pattern is not None:
                patterns.append(pattern)
        if metadata.leading_digits is not None:
            leading.append(metadata.leading_digits)
    try:
        # Modelled means plain: no look-around reads past what a pattern consumes.
        return (tuple(DigitAutomaton(pattern) for pattern in dict.fromkeys(patterns)),
                tuple(DigitAutomaton(pattern) for pattern in dict.fromkeys(leading)))
    except Unsupported:
        return None
