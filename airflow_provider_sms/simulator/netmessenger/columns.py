"""Compact columns for the address book: a text column and an int-keyed index, both in arrays.

A million contacts held as Python objects (a ``str`` per name, dicts keyed by numbers and names)
cost about 240 bytes each; these two structures bring the address book to roughly 100: text is
one UTF-8 ``bytearray`` with offsets, and the duplicate-finding indexes are open-addressing hash
tables of two flat arrays instead of dicts of boxed ints.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

_EMPTY = -1
# Fibonacci hashing: spreads consecutive or patterned phone numbers over the whole table.
_MIX = 11400714819323198485
_MASK64 = (1 << 64) - 1


class TextColumn:
    """Strings stored as UTF-8 in one buffer; ``set`` appends and repoints (old bytes stay)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._starts: array[int] = array("Q")
        self._lengths: array[int] = array("I")

    def append(self, text: str) -> None:
        """Add a value at the end."""
        raw = text.encode("utf-8")
        self._starts.append(len(self._data))
        self._lengths.append(len(raw))
        self._data += raw

    def set(self, index: int, text: str) -> None:
        """Replace value ``index`` (overwrites are rare, so the old bytes are not reclaimed)."""
        raw = text.encode("utf-8")
        self._starts[index] = len(self._data)
        self._lengths[index] = len(raw)
        self._data += raw

    def __getitem__(self, index: int) -> str:
        start = self._starts[index]
        return self._data[start : start + self._lengths[index]].decode("utf-8")

    def __len__(self) -> int:
        return len(self._starts)


class IntIndex:
    """A hash multimap from 64-bit int keys to non-negative int values (e.g. contact ids).

    ``find`` takes an optional ``accept(value)`` check so keys may be hashes of something else
    (a name): an entry whose value fails the check is skipped as a collision.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._allocate(max(16, capacity))
        self._count = 0

    def _allocate(self, capacity: int) -> None:
        size = 1 << (capacity - 1).bit_length()
        self._mask = size - 1
        self._shift = 64 - size.bit_length() + 1
        self._keys: array[int] = array("q", bytes(8 * size))
        self._values: array[int] = array("i", [_EMPTY]) * size

    def _slot(self, key: int) -> int:
        return ((key * _MIX) & _MASK64) >> self._shift

    def find(self, key: int, accept: Callable[[int], bool] | None = None) -> int | None:
        """The first value stored under ``key`` that ``accept`` agrees with, or None."""
        keys, values, mask = self._keys, self._values, self._mask
        slot = self._slot(key)
        while True:
            value = values[slot]
            if value == _EMPTY:
                return None
            if keys[slot] == key and (accept is None or accept(value)):
                return value
            slot = (slot + 1) & mask

    def add(self, key: int, value: int) -> None:
        """Store ``value`` under ``key`` (keys may repeat)."""
        if value < 0:
            raise ValueError("values must be >= 0")
        if (self._count + 1) * 2 > len(self._values):
            self._grow()
        self._put(key, value)
        self._count += 1

    def _put(self, key: int, value: int) -> None:
        values, mask = self._values, self._mask
        slot = self._slot(key)
        while values[slot] != _EMPTY:
            slot = (slot + 1) & mask
        self._keys[slot] = key
        values[slot] = value

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        self._allocate(len(old_values) * 2)
        for key, value in zip(old_keys, old_values, strict=True):
            if value != _EMPTY:
                self._put(key, value)

    def __len__(self) -> int:
        return self._count
