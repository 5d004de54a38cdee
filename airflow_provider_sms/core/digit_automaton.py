"""A regular expression over digit strings as an automaton, to reason about every completion of a prefix.

libphonenumber's patterns are plain regular expressions over digits: literals, digit classes,
groups, alternatives and counted repeats. :class:`DigitAutomaton` builds the (Thompson) automaton
of such a pattern from Python's own parse of it, so both read the same pattern the same way. It
answers what a regular-expression engine cannot: after a given prefix, whether *some* and whether
*every* digit string of a given length completes it to a match. A pattern using anything else
(anchors, look-arounds, back-references, atomic groups) is refused with :class:`Unsupported`.

Only digit strings are considered: a character class is read as the digits it holds, and a match
means a full match (``re.fullmatch``), which is how the number plan applies these patterns.
"""

from __future__ import annotations

from re import _constants as sre  # type: ignore[attr-defined]  # Python's own parse of a pattern
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["DigitAutomaton", "Unsupported"]

_DIGITS = tuple(range(ord("0"), ord("9") + 1))
_ALL = frozenset(_DIGITS)

States = frozenset[int]


class Unsupported(ValueError):
    """The pattern uses a construct this automaton does not model."""


class DigitAutomaton:
    """The automaton of one pattern over ASCII digits (see the module docstring)."""

    def __init__(self, pattern: str) -> None:
        self._empty: list[list[int]] = []  # moves on no character
        self._moves: list[list[tuple[frozenset[int], int]]] = []  # moves on a digit of the set
        start = self._state()
        self._accept = self._sequence(sre_parse.parse(pattern), start)
        self._closures: dict[States, States] = {}
        self._completions: dict[tuple[States, int], tuple[bool, bool]] = {}
        self.initial = self._closure(frozenset((start,)))

    @property
    def size(self) -> int:
        """How many states the automaton has."""
        return len(self._moves)

    def after(self, digits: str, states: States | None = None) -> States:
        """The states reached by reading ``digits`` (ASCII digits) from ``states`` (default: the start)."""
        current = self.initial if states is None else states
        for char in digits:
            if not current:
                break
            current = self._step(current, ord(char))
        return current

    def matches(self, digits: str) -> bool:
        """Whether ``digits`` as a whole matches the pattern."""
        return self._accept in self.after(digits)

    def starts(self, digits: str) -> bool | None:
        """Whether a match of the pattern starts every string that starts with ``digits`` (True), none
        of them (False), or that depends on what follows (None)."""
        states = self.initial
        for char in digits:
            if self._accept in states:
                return True
            states = self._step(states, ord(char))
            if not states:
                return False
        return True if self._accept in states else None

    def completions(self, states: States, length: int) -> tuple[bool, bool]:
        """Whether some, and whether every, string of ``length`` digits read from ``states`` ends in a match."""
        if length == 0:
            accepted = self._accept in states
            return accepted, accepted
        key = (states, length)
        known = self._completions.get(key)
        if known is None:
            if not states:
                known = (False, False)
            else:
                answers = [self.completions(after, length - 1) for after in {self._step(states, d) for d in _DIGITS}]
                known = (any(some for some, _ in answers), all(every for _, every in answers))
            self._completions[key] = known
        return known

    # -- building -----------------------------------------------------------------------------------

    def _state(self) -> int:
        self._empty.append([])
        self._moves.append([])
        return len(self._moves) - 1

    def _sequence(self, items: Any, at: int) -> int:
        for op, value in items:
            at = self._item(op, value, at)
        return at

    def _item(self, op: Any, value: Any, at: int) -> int:
        digits = _digit_set(op, value)
        if digits is not None:
            after = self._state()
            self._moves[at].append((digits, after))
            return after
        if op is sre.SUBPATTERN:
            return self._sequence(value[3], at)
        if op is sre.BRANCH:
            end = self._state()
            for alternative in value[1]:
                self._empty[self._sequence(alternative, at)].append(end)
            return end
        if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:  # laziness changes the match found, not the language
            low, high, body = value
            for _ in range(low):
                at = self._sequence(body, at)
            if high is sre.MAXREPEAT:
                loop = self._state()
                self._empty[at].append(loop)
                self._empty[self._sequence(body, loop)].append(loop)
                return loop
            end = self._state()
            for _ in range(high - low):
                self._empty[at].append(end)
                at = self._sequence(body, at)
            self._empty[at].append(end)
            return end
        raise Unsupported(f"{op} is not modelled")

    # -- reading ------------------------------------------------------------------------------------

    def _closure(self, states: States) -> States:
        known = self._closures.get(states)
        if known is None:
            seen = set(states)
            pending = list(states)
            while pending:
                for after in self._empty[pending.pop()]:
                    if after not in seen:
                        seen.add(after)
                        pending.append(after)
            known = self._closures[states] = frozenset(seen)
        return known

    def _step(self, states: States, digit: int) -> States:
        return self._closure(frozenset(after for state in states for digits, after in self._moves[state]
                                       if digit in digits))


def _digit_set(op: Any, value: Any) -> frozenset[int] | None:
    """The digits one character item matches; None when the item is not a single character."""
    if op is sre.LITERAL:
        return frozenset((value,)) & _ALL
    if op is sre.NOT_LITERAL:
        return _ALL - {value}
    if op is sre.ANY:
        return _ALL
    if op is not sre.IN:
        return None
    found: set[int] = set()
    negate = False
    for kind, item in value:
        if kind is sre.NEGATE:
            negate = True
        elif kind is sre.LITERAL:
            found.add(item)
        elif kind is sre.RANGE:
            found.update(range(item[0], item[1] + 1))
        elif kind is sre.CATEGORY and item is sre.CATEGORY_DIGIT:
            found.update(_DIGITS)
        elif kind is sre.CATEGORY and item is sre.CATEGORY_NOT_DIGIT:
            pass  # no digit
        else:
            raise Unsupported(f"{kind} {item} in a character class is not modelled")
    return (_ALL - found) if negate else frozenset(found) & _ALL
