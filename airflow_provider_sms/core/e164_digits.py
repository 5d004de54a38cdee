"""A bulk list written in E.164 read as international digits, a slice at a time.

The usual bulk list (``["+447700900000", "+447700900001", ...]``, numbers from a query in order)
is checked without making a string per number; :class:`E164Digits` then stands for the digits of
those numbers, in the same order, and makes them only for the slice asked for: a send asks for
one chunk at a time, and the chunks after the first are made while earlier ones are in flight.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from airflow_provider_sms.core.recipient_set import StrSlices

__all__ = ["E164Digits"]

_BLOCK = 4096  # numbers made at a time when the whole list is read


class E164Digits(StrSlices):
    """The digits of ``written`` (each entry ``+`` and ASCII digits), entry for entry.

    ``written`` must be checked so (every entry valid E.164, no line break in any) and in canonical
    order, that is strictly increasing as text with lengths that never shrink: then the digits are
    in canonical order too, as the ``+`` is the same on every entry, and ``in`` is a binary search.
    It is not copied, and must not change.
    """

    __slots__ = ("_written",)

    def __init__(self, written: list[str]) -> None:
        self._written = written

    def __len__(self) -> int:
        return len(self._written)

    def _slice(self, index: slice) -> list[str]:
        part = self._written[index]
        # One join and one split make the slice's strings (``x[1:]`` for each costs 1.6 times that).
        return "\n".join(part)[1:].split("\n+") if part else []

    def _item(self, index: int) -> str:
        return self._written[index][1:]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._written), _BLOCK):
            yield from self[start:start + _BLOCK]

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        written = "+" + value
        at = bisect_left(self._written, written)
        return at < len(self._written) and self._written[at] == written

    def __repr__(self) -> str:
        return f"E164Digits({len(self)} numbers)"
