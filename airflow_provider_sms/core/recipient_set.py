"""A send's recipients once each, in canonical order, held in a few bytes per number.

A million recipients as Python strings, plus the set and the sorted list that put them in
canonical order, took about 150 MB at the peak of a send. :class:`CanonicalRecipients` keeps every
number as one 64-bit integer in a single ``array`` (8 bytes each) and makes the strings back only
for the chunk being sent. The order is the one :func:`airflow_provider_sms.core.dedupe.canonical_order`
gives -- by (length, text) -- so chunks and their dedupe keys do not depend on the input order:
for digits without a leading zero that order is numeric order, and anything else (address-book
entries, group names, digit strings with a leading zero or too long for 64 bits) is kept as text
and merged in at its place.
"""

from __future__ import annotations

import operator
from abc import abstractmethod
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import overload

__all__ = ["CanonicalRecipients", "StrSlices"]

#: The longest digit string kept as an integer (10**18 - 1 < 2**63 - 1).
_MAX_DIGITS = 18
#: Numbers sorted in one piece; above this the sort goes through buckets of about this size, so
#: the temporary Python ints of the sort never stand for more than one bucket.
_BUCKET = 16_384
_MAX_BUCKETS = 4_096


def _as_number(text: str) -> int | None:
    """``text`` as an integer when it reads back as the same text (ASCII digits, no leading zero)."""
    if len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit() and text[0] != "0":
        return int(text)
    return None


#: Entries read at a time by :meth:`CanonicalRecipients.of`.
_BLOCK = 4096


def _blocks(recipients: Iterable[str]) -> Iterator[Sequence[str]]:
    if isinstance(recipients, list | tuple):
        for start in range(0, len(recipients), _BLOCK):
            yield recipients[start:start + _BLOCK]
        return
    entries = iter(recipients)
    while block := list(islice(entries, _BLOCK)):
        yield block


def _extend_with_numbers(numbers: array[int], block: Sequence[str]) -> bool:
    """Append the whole block to ``numbers`` when every entry is a number :func:`_as_number` reads
    (the usual bulk list: normalised digits), checked and converted at C speed; else False, nothing added."""
    if not block:
        return True
    try:
        joined = "".join(block)
    except TypeError:  # not all strings: the entry-by-entry reading says what they are
        return False
    if not (joined.isascii() and joined.isdigit()):
        return False
    if min(map(len, block)) < 1 or max(map(len, block)) > _MAX_DIGITS or "0" in map(_FIRST, block):
        return False
    numbers.extend(map(int, block))
    return True


_FIRST = operator.itemgetter(0)


def _text_key(text: str) -> tuple[int, str]:
    return len(text), text


def _number_key(number: int) -> tuple[int, str]:
    text = str(number)
    return len(text), text


def _sorted_unique(values: array[int]) -> array[int]:
    """``values`` sorted, once each; empties ``values`` (its memory is reused as the buckets fill)."""
    if len(values) <= _BUCKET:
        result = array("q", sorted(set(values)))
        del values[:]
        return result
    if all(map(operator.lt, values, islice(values, 1, None))):
        return values  # already in order and unique: lists read with ORDER BY, earlier tries
    # Splitters from an even sample: bucket ``i`` holds the values between splitters i-1 and i,
    # so sorting the buckets one after another sorts the whole (equal values share a bucket).
    count = min(_MAX_BUCKETS, len(values) // _BUCKET + 1)
    sample = sorted(set(values[::max(1, len(values) // (count * 16))]))
    splitters = sample[len(sample) // count::len(sample) // count][:count - 1] if len(sample) >= count else sample
    buckets = [array("q") for _ in range(len(splitters) + 1)]
    for value in values:
        buckets[bisect_right(splitters, value)].append(value)
    del values[:]
    result = array("q")
    for index, bucket in enumerate(buckets):
        result.extend(sorted(set(bucket)))
        buckets[index] = array("q")  # freed as the result grows
    return result


class StrSlices(Sequence[str]):
    """A read-only sequence of strings made on demand, whose slices are lists: :meth:`_item` and
    :meth:`_slice` say how (the send's recipient forms that hold fewer strings than they stand for)."""

    __slots__ = ()

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._slice(index) if isinstance(index, slice) else self._item(index)

    @abstractmethod
    def _item(self, index: int) -> str: ...

    @abstractmethod
    def _slice(self, index: slice) -> list[str]: ...


class CanonicalRecipients(StrSlices):
    """Recipients once each, sorted by (length, text), numbers held as 64-bit integers.

    Build it with :meth:`of`. Indexing, slicing and iteration give strings, exactly the elements
    (and the order) of ``canonical_order(recipients)``; ``in`` is a binary search.
    """

    __slots__ = ("_numbers", "_other_set", "_others", "_positions")

    def __init__(self, numbers: array[int], others: Sequence[str]) -> None:
        """Use :meth:`of`; ``numbers`` sorted and unique, ``others`` in canonical order, unique."""
        self._numbers = numbers
        self._others = list(others)
        self._other_set = frozenset(self._others)
        # Where each other recipient stands in the merged order.
        self._positions = [bisect_left(numbers, _text_key(text), key=_number_key) + index
                           for index, text in enumerate(self._others)]

    @classmethod
    def of(cls, recipients: Iterable[str]) -> CanonicalRecipients:
        """The recipients of ``recipients`` (any order, duplicates allowed) in canonical order."""
        if isinstance(recipients, CanonicalRecipients):
            return recipients
        return cls.of_blocks(_blocks(recipients))

    @classmethod
    def of_blocks(cls, blocks: Iterable[Sequence[str]]) -> CanonicalRecipients:
        """:meth:`of` the recipients of every block, in turn (a bulk list read a block at a time)."""
        numbers: array[int] = array("q")
        others: list[str] = []
        for block in blocks:
            if not _extend_with_numbers(numbers, block):
                append = numbers.append
                for text in block:
                    number = _as_number(text)
                    if number is None:
                        others.append(text)
                    else:
                        append(number)
        return cls(_sorted_unique(numbers), _canonical_texts(others))

    def plus(self, recipients: Iterable[str]) -> CanonicalRecipients:
        """These recipients and ``recipients`` (a few: address-book entries), in canonical order."""
        extra = CanonicalRecipients.of(recipients)
        if not extra:
            return self
        numbers = self._numbers
        if extra._numbers:
            numbers = array("q", self._numbers)
            numbers.extend(extra._numbers)
            numbers = _sorted_unique(numbers)
        return CanonicalRecipients(numbers, _canonical_texts([*self._others, *extra._others]))

    def without(self, drop: Collection[str]) -> CanonicalRecipients:
        """These recipients less those in ``drop`` (a set, such as the opted-out numbers)."""
        numbers = {n for n in map(_as_number, drop) if n is not None}
        kept = array("q", (n for n in self._numbers if n not in numbers)) if numbers else self._numbers
        return CanonicalRecipients(kept, [t for t in self._others if t not in drop])

    def __len__(self) -> int:
        return len(self._numbers) + len(self._others)

    def __iter__(self) -> Iterator[str]:
        if not self._others:
            return map(str, self._numbers)
        return self._merged(0, len(self))

    def _merged(self, start: int, stop: int) -> Iterator[str]:
        """The recipients at positions ``start`` to ``stop`` (``0 <= start <= stop <= len``)."""
        positions, others, numbers = self._positions, self._others, self._numbers
        index = bisect_left(positions, start)  # others before ``start``
        number = start - index
        for position in range(start, stop):
            if index < len(positions) and positions[index] == position:
                yield others[index]
                index += 1
            else:
                yield str(numbers[number])
                number += 1

    def _slice(self, index: slice) -> list[str]:
        start, stop, step = index.indices(len(self))
        if step != 1:
            return [self[i] for i in range(start, stop, step)]
        if not self._others:
            return list(map(str, self._numbers[start:stop]))
        return list(self._merged(start, max(start, stop)))

    def _item(self, index: int) -> str:
        size = len(self)
        if not -size <= index < size:
            raise IndexError("recipient index out of range")
        index %= size
        before = bisect_left(self._positions, index)
        if before < len(self._positions) and self._positions[before] == index:
            return self._others[before]
        return str(self._numbers[index - before])

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        number = _as_number(value)
        if number is None:
            return value in self._other_set
        at = bisect_left(self._numbers, number)
        return at < len(self._numbers) and self._numbers[at] == number

    def __repr__(self) -> str:
        return f"CanonicalRecipients({len(self)} recipients)"


def _canonical_texts(texts: Iterable[str]) -> list[str]:
    # Two stable sorts, as in ``canonical_order``: (length, text) without a key tuple each.
    ordered = sorted(set(texts))
    ordered.sort(key=len)
    return ordered
