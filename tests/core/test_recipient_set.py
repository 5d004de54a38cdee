"""CanonicalRecipients: exactly the elements and order of ``canonical_order`` on a list, whatever the
input order, held as integers; the bucket sort of big lists gives the same as one sort."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core import recipient_set
from airflow_provider_sms.core.dedupe import canonical_order, chunk_key
from airflow_provider_sms.core.recipient_set import CanonicalRecipients


def _reference(recipients: Iterable[str]) -> list[str]:
    """The list path of ``canonical_order`` (as before the compact form): set, sorted, by length."""
    ordered = list(canonical_order(list(recipients)))
    assert not isinstance(ordered, CanonicalRecipients)
    return ordered


_digits = st.text(alphabet="0123456789", min_size=1, max_size=22)
_odd = st.sampled_from(["group:Staff", "contact:Ann", "group:staff", "list:x", "", " 1", "+447700900123", "१२३",
                        "\uff11\uff12\uff13", "0", "00", "1e5", "9" * 18, "1" + "0" * 18, "9" * 19, "-1", "12_3"])
_recipient = st.one_of(_digits, _odd, st.text(max_size=6))


@settings(max_examples=300, deadline=None)
@given(st.lists(_recipient, max_size=60))
def test_the_same_elements_and_order_as_canonical_order(recipients: list[str]) -> None:
    expected = _reference(recipients)
    held = CanonicalRecipients.of(recipients)
    assert list(held) == expected
    assert len(held) == len(expected)
    assert [held[i] for i in range(len(expected))] == expected
    assert [held[i] for i in range(-len(expected), 0)] == expected
    assert held[:] == expected and held[1:-1] == expected[1:-1] and held[::2] == expected[::2]
    assert held[3:2] == [] and held[len(expected):] == []
    assert all(r in held for r in recipients)
    assert canonical_order(held) is held  # already canonical: never copied


@settings(max_examples=100, deadline=None)
@given(st.lists(_recipient, max_size=40), st.lists(_recipient, max_size=8), st.data())
def test_plus_and_without_match_the_list_path(recipients: list[str], extra: list[str], data: st.DataObject) -> None:
    held = CanonicalRecipients.of(recipients)
    assert list(held.plus(extra)) == _reference(recipients + extra)
    drop = set(data.draw(st.lists(st.sampled_from(recipients), max_size=10))) if recipients else set()
    drop |= {"447700900999", "group:nobody"}
    assert list(held.without(drop)) == [r for r in _reference(recipients) if r not in drop]


@settings(max_examples=100, deadline=None)
@given(st.lists(_digits, min_size=1, max_size=30), st.text(max_size=8))
def test_membership_is_exact(recipients: list[str], other: str) -> None:
    held = CanonicalRecipients.of(recipients)
    assert (other in held) == (other in set(recipients))
    assert 447700900123 not in held  # type: ignore[comparison-overlap]  # only strings are recipients


def test_index_out_of_range() -> None:
    held = CanonicalRecipients.of(["447700900123", "group:A"])
    for index in (2, -3):
        with pytest.raises(IndexError):
            held[index]
    with pytest.raises(IndexError):
        CanonicalRecipients.of([])[0]


@pytest.mark.parametrize("bucket", [8, 1000, 16_384])
@pytest.mark.parametrize("shape", ["shuffled", "ascending", "descending", "ascending-duplicates", "one-value",
                                   "clustered"])
def test_big_lists_in_any_order_give_one_canonical_list(bucket: int, shape: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the bucket size the numbers are sorted bucket by bucket (or recognised as sorted)."""
    monkeypatch.setattr(recipient_set, "_BUCKET", bucket)
    rng = random.Random(shape)
    if shape == "one-value":
        numbers = ["447700900123"] * 5000
    elif shape == "clustered":  # most numbers in a narrow range, a few far away: uneven buckets
        numbers = [str(447700900000 + rng.randrange(300)) for _ in range(4000)]
        numbers += [str(rng.randrange(10**6, 10**15)) for _ in range(200)]
    else:
        numbers = [str(447700000000 + i * 7) for i in range(6000)] + [str(1000000 + i) for i in range(500)]
        numbers += ["33612345678", "12025550123", "8613800138000"]
        if shape == "ascending-duplicates":
            numbers += numbers[:1000]
    expected = _reference(numbers)
    if shape == "shuffled":
        rng.shuffle(numbers)
    elif shape == "descending":
        numbers.sort(key=int, reverse=True)
    else:
        numbers.sort(key=int)
    held = CanonicalRecipients.of([*numbers, "group:Staff"])
    assert list(held) == _reference([*expected, "group:Staff"])
    # The chunks (and so their keys) are those of the list path, chunk by chunk.
    reference = _reference([*expected, "group:Staff"])
    assert [chunk_key(held[i:i + 500], "c") for i in range(0, len(held), 500)] == \
        [chunk_key(reference[i:i + 500], "c") for i in range(0, len(reference), 500)]


def test_numbers_are_held_as_one_array_of_integers() -> None:
    held = CanonicalRecipients.of(f"44770090{i:04d}" for i in range(10_000))
    numbers = held._numbers
    assert numbers.typecode == "q" and len(numbers) == 10_000 and not held._others
    assert numbers.itemsize * len(numbers) == 80_000  # 8 bytes a number, no string objects


def test_digits_that_do_not_read_back_stay_text() -> None:
    """A leading zero, non-ASCII digits or more than 18 digits would not survive int(); they are kept as text."""
    odd = ["0044770090", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "1234567890123456789"]
    held = CanonicalRecipients.of([*odd, "447700900123"])
    assert sorted(held._others) == sorted(odd)
    assert list(held) == _reference([*odd, "447700900123"])


@pytest.mark.parametrize("block", [1, 3, 4096])
def test_normalising_in_blocks_gives_the_answers_of_one_list(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compact send path normalises a block at a time: the same numbers, the same problems at the
    same positions (blank entries skipped), the same "no recipients" as ``normalise_numbers``."""
    from airflow_provider_sms.core import recipients
    from airflow_provider_sms.core.recipients import iter_normalised_numbers, normalise_numbers
    from airflow_provider_sms.exceptions import SmsValidationError

    monkeypatch.setattr(recipients, "_COMPACT_BLOCK", block)
    lists: list[Any] = [
        ["+447700900123", "07700 900124", "", "  ", "447700900125", "+44 7700 900126"],
        ["+447700900123", "12345", "", "bad", "+447700900124", "07700 90012x", "+4410000000"],
        ["", " "], [], "07700 900123, +447700900124;12", None,
    ]
    for value in lists:
        for region, check in (("GB", "valid"), (None, "possible")):
            try:
                expected: Any = normalise_numbers(value, region, check)  # type: ignore[arg-type]
            except SmsValidationError as error:
                expected = [str(error), error.problems]
            try:
                got: Any = list(iter_normalised_numbers(value, region, check))  # type: ignore[arg-type]
            except SmsValidationError as error:
                got = [str(error), error.problems]
            assert got == expected, (value, region, check)


_plain_number = st.integers(1, 10**18 - 1).map(str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_plain_number, _plain_number, _plain_number, _digits, _odd), max_size=40),
       st.integers(1, 7))
def test_blocks_read_whole_at_c_speed_give_the_same_as_entry_by_entry(recipients: list[str], block: int) -> None:
    # Small blocks, so that most are all plain numbers (the fast path) and some hold one odd entry.
    original = recipient_set._BLOCK
    recipient_set._BLOCK = block
    try:
        expected = _reference(recipients)
        assert list(CanonicalRecipients.of(recipients)) == expected
        assert list(CanonicalRecipients.of(iter(recipients))) == expected
        blocks = [recipients[i:i + block] for i in range(0, len(recipients), block)]
        assert list(CanonicalRecipients.of_blocks(blocks)) == expected
    finally:
        recipient_set._BLOCK = original


def test_a_block_of_plain_numbers_is_taken_whole_and_any_odd_entry_sends_it_entry_by_entry() -> None:
    from array import array

    numbers: array[int] = array("q")
    assert recipient_set._extend_with_numbers(numbers, ["447700900123", "1", "9" * 18])
    assert list(numbers) == [447700900123, 1, 10**18 - 1]
    for odd in ("0447700900123", "9" * 19, "", "4477 00", "\uff11\uff12", "+447700900123", "12_3"):
        assert not recipient_set._extend_with_numbers(numbers, ["447700900123", odd])
    assert not recipient_set._extend_with_numbers(numbers, ["447700900123", 44])  # type: ignore[list-item]
    assert len(numbers) == 3  # nothing added by a refused block
