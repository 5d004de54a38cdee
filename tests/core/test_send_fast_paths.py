"""The send loop's C-speed shortcuts give exactly what the plain per-recipient code gives.

Each shortcut is compared with a plain reference written the way the code read before it (kept
here): chunk keys and content digests, the canonical-order check, results of one shared outcome,
and the journal's JSON of a chunk's outcome (byte for byte).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core.address_book import AddressBookEntry, parse_entry, split_address_book, with_recipients
from airflow_provider_sms.core.dedupe import CanonicalList, canonical_order, chunk_key, content_digest, is_canonical
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.recipients import _split_recipients, split_recipients
from airflow_provider_sms.core.results import (
    DeliveryStatus,
    RecipientResult,
    SameOutcomeRows,
    SendResult,
    SendSummary,
    same_outcome,
)
from airflow_provider_sms.journal.store import _encode, _recipients_json


def _digest_one_update_per_part(parts: Iterable[str]) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def _chunk_key_sorting(recipients: Sequence[str], content: str) -> str:
    return _digest_one_update_per_part([*sorted(sorted(set(recipients)), key=len), "\x1e", content])


def _encode_row_by_row(result: SendResult) -> str:
    rows = [[r.recipient, r.accepted, r.code, r.text, r.message_id, r.batch_id, str(r.status)]
            for r in result.results]
    return json.dumps({"rows": rows, "batch_ids": result.batch_ids,
                       "background_send_ids": result.background_send_ids}, separators=(",", ":"))


numbers = st.lists(st.integers(0, 10**15 - 1).map(str), max_size=40)
names = st.lists(st.text(max_size=12), max_size=40)
recipient_lists = st.one_of(numbers, names, numbers.map(sorted), numbers.map(canonical_order),
                            names.map(canonical_order), numbers.map(lambda n: sorted(n, key=len)))
optional_text = st.none() | st.text(max_size=10)
statuses = st.sampled_from(list(DeliveryStatus))


@settings(max_examples=300, deadline=None)
@given(parts=names)
def test_content_digest_is_the_digest_of_one_update_per_part(parts: list[str]) -> None:
    assert content_digest(parts) == _digest_one_update_per_part(parts)
    assert content_digest(iter(parts)) == _digest_one_update_per_part(parts)


@settings(max_examples=300, deadline=None)
@given(recipients=recipient_lists, content=st.text(max_size=10))
def test_chunk_keys_and_the_canonical_check_match_sorting(recipients: list[str], content: str) -> None:
    assert chunk_key(recipients, content) == _chunk_key_sorting(recipients, content)
    assert canonical_order(recipients) == sorted(sorted(set(recipients)), key=len)
    if type(recipients) is CanonicalList:  # made by canonical_order: handed back as it is
        assert canonical_order(recipients) is recipients and is_canonical(recipients)
    else:
        assert canonical_order(recipients) is not recipients  # a list of its own, sorted or not
        assert type(canonical_order(recipients)) is CanonicalList
    assert chunk_key(canonical_order(recipients), content, canonical=True) == _chunk_key_sorting(recipients, content)
    if is_canonical(recipients):  # never says yes to a list that sorting would change
        assert canonical_order(recipients) == recipients


def test_the_canonical_check_answers_yes_for_sorted_numbers_of_one_length() -> None:
    ordered = [str(447700000000 + i) for i in range(0, 50_000, 7)]
    assert is_canonical(ordered) and is_canonical(ordered[:1]) and is_canonical([])
    assert not is_canonical([*ordered, ordered[-1]])  # a repeat
    assert not is_canonical(ordered[::-1])
    mixed = list(canonical_order(["99", "100", "7"]))
    assert not is_canonical(mixed) and chunk_key(mixed, "c") == _chunk_key_sorting(mixed, "c")  # sorted instead
    assert is_canonical(canonical_order(mixed))  # what canonical_order made is not checked again


@settings(max_examples=300, deadline=None)
@given(recipients=names, accepted=st.booleans(), code=optional_text, text=optional_text,
       message_id=optional_text, batch_id=optional_text, status=statuses)
def test_same_outcome_is_one_result_per_recipient(recipients: list[str], accepted: bool, code: str | None,
                                                  text: str | None, message_id: str | None, batch_id: str | None,
                                                  status: DeliveryStatus) -> None:
    built = same_outcome(recipients, accepted, code, text, message_id, batch_id, status)
    assert built == [RecipientResult(r, accepted, code, text, message_id, batch_id, status) for r in recipients]
    assert all(type(r) is RecipientResult for r in built)


rows = st.builds(RecipientResult, st.text(max_size=8), st.booleans(), optional_text, optional_text, optional_text,
                 optional_text, statuses)


@settings(max_examples=300, deadline=None)
@given(recipients=names, outcome=rows, others=st.lists(rows, max_size=5), where=st.integers(0, 40),
       batch_ids=st.lists(st.text(max_size=6), max_size=3))
def test_the_journal_writes_the_bytes_of_the_row_by_row_encoding(recipients: list[str], outcome: RecipientResult,
                                                                 others: list[RecipientResult], where: int,
                                                                 batch_ids: list[str]) -> None:
    shared = same_outcome(recipients, *outcome[1:])
    uniform = SendResult("gw", shared, batch_ids)
    assert _encode(uniform) == _encode_row_by_row(uniform)
    mixed = SendResult("gw", [*shared[:where], *others, *shared[where:]], batch_ids, ["bg"])
    assert _encode(mixed) == _encode_row_by_row(mixed)


@settings(max_examples=200, deadline=None)
@given(results=st.lists(rows, max_size=20), plain_status=st.booleans())
def test_the_journal_writes_any_rows_as_the_row_by_row_encoding(results: list[RecipientResult],
                                                                 plain_status: bool) -> None:
    if plain_status and results:  # a status given as its text, not the enum: the row-by-row path
        results[0] = results[0]._replace(status=str(results[0].status))  # type: ignore[arg-type]
    result = SendResult("gw", results, ["b"])
    assert _encode(result) == _encode_row_by_row(result)


def test_the_journal_tells_a_number_one_from_true() -> None:
    shared = same_outcome(["1", "2", "3"], True, "0")
    odd = SendResult("gw", [*shared[:2], shared[2]._replace(accepted=1)])  # type: ignore[arg-type]
    assert _encode(odd) == _encode_row_by_row(odd)
    assert '"3",1,' in _encode(odd)


items = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["447700900123", " 447700900123", "group:A",
                                                                  "contact: B ", "", " ", "a:b", "\t"]),
                           st.integers(0, 99)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(value=items)
def test_split_recipients_of_a_list_is_the_item_by_item_split(value: list[str]) -> None:
    assert list(split_recipients(value)) == list(_split_recipients(iter(value)))
    assert list(split_recipients(tuple(value))) == list(_split_recipients(value))


def _split_address_book_one_by_one(items: list[str]) -> tuple[list[str], list[AddressBookEntry]]:
    numbers: list[str] = []
    entries: dict[tuple[str, str], AddressBookEntry] = {}
    for item in items:
        entry = parse_entry(item) if ":" in item else None
        if entry is None:
            numbers.append(item)
        elif entry.name:
            entries.setdefault((entry.kind, entry.name.lower()), entry)
    return numbers, list(entries.values())


@settings(max_examples=300, deadline=None)
@given(value=items.map(lambda v: [str(i) for i in v if str(i).split(":", 1)[-1].strip()]))
def test_address_book_split_and_message_recipients_match_the_item_by_item_split(value: list[str]) -> None:
    assert split_address_book(value) == _split_address_book_one_by_one(value)
    assert split_address_book(iter(value)) == _split_address_book_one_by_one(value)
    message = with_recipients(OutgoingMessage(text="hi"), value)
    assert (message.numbers, message.groups) == ([r for r in value if ":" not in r], [r for r in value if ":" in r])


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.booleans(), st.booleans()), max_size=12),
       keep=st.sampled_from([0, 3, 40]))
def test_a_summary_counting_whole_accepted_chunks_equals_the_full_result(
        chunks: list[tuple[int, bool, bool, bool]], keep: int) -> None:
    full, summary = SendResult("gw"), SendSummary("gw", keep=keep)
    for index, (size, accepted, batched, with_ids) in enumerate(chunks):
        rows = same_outcome([f"{index}-{i}" for i in range(size)], accepted, None if accepted else "E",
                            f"m{index}" if with_ids else None)
        chunk = SendResult("gw", rows, [f"b{index}"] if batched else [])
        full.extend(chunk)
        summary.extend(chunk)
        assert summary.to_dict(per_recipient=False) == full.to_dict(per_recipient=False)
        assert (summary.recipient_count, summary.accepted_count) == (full.recipient_count, full.accepted_count)


_CHANGES: list[tuple[str, Callable[[list[RecipientResult]], object]]] = [
    ("set", lambda rows: rows.__setitem__(0, rows[1])),
    ("set slice", lambda rows: rows.__setitem__(slice(0, 1), [])),
    ("del", lambda rows: rows.__delitem__(0)),
    ("+=", lambda rows: rows.__iadd__([])),
    ("*=", lambda rows: rows.__imul__(1)),
    ("append", lambda rows: rows.append(rows[0])),
    ("extend", lambda rows: rows.extend([])),
    ("insert", lambda rows: rows.insert(0, rows[0])),
    ("pop", lambda rows: rows.pop()),
    ("remove", lambda rows: rows.remove(rows[0])),
    ("clear", lambda rows: rows.clear()),
    ("sort", lambda rows: rows.sort()),
    ("reverse", lambda rows: rows.reverse()),
]


@pytest.mark.parametrize(("name", "change"), _CHANGES, ids=[name for name, _ in _CHANGES])
def test_rows_of_one_outcome_forget_it_when_changed(name: str,
                                                    change: Callable[[list[RecipientResult]], object]) -> None:
    """Even a change that leaves the rows as they were: the mark only says what was built."""
    recipients = ["447700100001", "447700100002", "447700100003"]
    rows = same_outcome(recipients, True, "0", batch_id="b")
    assert isinstance(rows, SameOutcomeRows) and rows.recipients == tuple(recipients)
    change(rows)
    assert rows.recipients is None


def test_rows_of_one_outcome_keep_their_own_copy_of_the_recipients() -> None:
    recipients = ["447700100001", "447700100002"]
    rows = same_outcome(recipients, True)
    recipients.append("447700100003")
    assert isinstance(rows, SameOutcomeRows) and rows.recipients == ("447700100001", "447700100002")
    assert type(rows[:]) is list  # a slice is a plain list, with no mark
    assert type(same_outcome(iter(recipients), True)) is list  # recipients read once: nothing to keep
    assert rows == [RecipientResult(r, True) for r in recipients[:2]]


@settings(max_examples=300, deadline=None, database=None)
@given(recipients=st.one_of(
    st.lists(st.text(alphabet="0123456789", min_size=0, max_size=15), max_size=20),
    st.lists(st.text(alphabet='0123456789",\\:²١ \u0000g', max_size=8), max_size=10),
    st.lists(st.text(max_size=6), max_size=10)))
def test_the_intents_recipients_are_written_as_json_dumps_writes_them(recipients: list[str]) -> None:
    assert _recipients_json(recipients) == json.dumps(recipients, separators=(",", ":"))
    assert _recipients_json(tuple(recipients)) == json.dumps(recipients, separators=(",", ":"))


def test_rows_of_one_outcome_survive_asdict_and_copies_as_lists() -> None:
    import copy
    import dataclasses

    rows = same_outcome(["447700100001", "447700100002"], True, "0", batch_id="b")
    as_dict = dataclasses.asdict(SendResult("gw", rows))  # rebuilds the list as type(rows)(...)
    assert as_dict["results"] == [tuple(r) for r in rows]
    assert isinstance(as_dict["results"], SameOutcomeRows) and as_dict["results"].recipients is None
    copied = copy.copy(rows)  # rebuilt by extend, which clears the mark: the copy is read row by row
    assert copied == rows and isinstance(copied, SameOutcomeRows) and copied.recipients is None
