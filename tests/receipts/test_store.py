"""The receipts store on SQLite and PostgreSQL: idempotent writes, latest status, reply cursor."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.journal.database import JournalUnavailableError, database_for_url
from airflow_provider_sms.receipts.store import ReceiptStore

T0 = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)


def status(event_id: str, message_id: str = "m1", state: DeliveryStatus = DeliveryStatus.DELIVERED,
           minutes: int = 0, conn_id: str = "bulletin_default", gateway: str = "bulletin") -> StatusEvent:
    return StatusEvent(gateway=gateway, conn_id=conn_id, event_id=event_id, message_id=message_id,
                       recipient="447700900001", state=state, gateway_code=str(state).upper(), detail=None,
                       occurred_at=T0 + dt.timedelta(minutes=minutes))


def reply(event_id: str, text: str = "yes", conn_id: str = "bulletin_default") -> ReplyEvent:
    return ReplyEvent(gateway="bulletin", conn_id=conn_id, event_id=event_id, sender="447700900001",
                      recipient="60856", text=text, received_at=T0, in_reply_to="m1")


def test_a_status_event_is_stored_once_and_read_back_unchanged(store: ReceiptStore) -> None:
    event = status("s-1")
    assert store.record_status(event) is True
    assert store.record_status(event) is False
    assert store.record_status(status("s-1", state=DeliveryStatus.FAILED)) is False  # same key: the first stays
    assert store.counts() == {"statuses": 1, "replies": 0}
    assert store.statuses("bulletin", "bulletin_default", ["m1"]) == {"m1": event}


def test_the_key_includes_gateway_and_connection(store: ReceiptStore) -> None:
    assert store.record_status(status("42", conn_id="a"))
    assert store.record_status(status("42", conn_id="b"))
    assert store.record_status(status("42", conn_id="a", gateway="skycore"))
    assert store.counts()["statuses"] == 3
    assert store.statuses("bulletin", "a", ["m1"])["m1"].conn_id == "a"
    assert store.statuses("bulletin", "c", ["m1"]) == {}


def test_latest_status_never_goes_back_from_final(store: ReceiptStore) -> None:
    store.record_status(status("e1", "m1", DeliveryStatus.SENT, minutes=0))
    store.record_status(status("e2", "m1", DeliveryStatus.DELIVERED, minutes=1))
    store.record_status(status("e3", "m1", DeliveryStatus.SENT, minutes=2))  # late, repeated intermediate report
    store.record_status(status("e4", "m2", DeliveryStatus.PENDING, minutes=5))
    store.record_status(status("e5", "m2", DeliveryStatus.SENT, minutes=3))  # arrived later, happened earlier
    found = store.statuses("bulletin", "bulletin_default", ["m1", "m2", "m3"])
    assert {k: (v.state, v.event_id) for k, v in found.items()} == {
        "m1": (DeliveryStatus.DELIVERED, "e2"), "m2": (DeliveryStatus.PENDING, "e4")}


def test_recipient_statuses_keep_each_handset_of_a_shared_message_id(store: ReceiptStore) -> None:
    for event_id, handset, state in (("1", "a", DeliveryStatus.DELIVERED), ("2", "b", DeliveryStatus.SENT),
                                     ("3", "b", DeliveryStatus.FAILED)):
        store.record_status(StatusEvent("bulletin", "c", event_id, "m1", handset, state, None, None, T0))
    found = store.recipient_statuses("bulletin", "c", ["m1"])
    assert {k: v.state for k, v in found.items()} == {("m1", "a"): DeliveryStatus.DELIVERED,
                                                      ("m1", "b"): DeliveryStatus.FAILED}


def test_statuses_of_many_messages_span_several_queries(store: ReceiptStore) -> None:
    ids = [f"m{i}" for i in range(1203)]
    for message_id in ids[::2]:
        store.record_status(status(f"e-{message_id}", message_id))
    found = store.statuses("bulletin", "bulletin_default", ids)
    assert sorted(found) == sorted(ids[::2])


def test_times_come_back_in_utc(store: ReceiptStore) -> None:
    local = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    store.record_reply(ReplyEvent("netmessenger", "nm", "r1", "447700900002", None, "hi", local))
    (_, back), = store.replies_after(0)
    assert back.received_at == T0 and back.received_at.tzinfo == dt.UTC


def test_replies_page_by_cursor_without_gaps_or_repeats(store: ReceiptStore) -> None:
    for i in range(25):
        assert store.record_reply(reply(f"r{i}", text=f"text {i}"))
    store.record_reply(reply("r3"))  # a repeat takes no new id
    seen: list[str] = []
    cursor = 0
    while page := store.replies_after(cursor, limit=7):
        assert [c for c, _ in page] == sorted(c for c, _ in page) and page[0][0] > cursor
        seen += [event.text for _, event in page]
        cursor = page[-1][0]
    assert seen == [f"text {i}" for i in range(25)]
    assert store.last_cursor() == cursor and store.last_cursor("statuses") == 0
    assert store.replies_after(cursor) == []


def test_page_size_is_bounded(store: ReceiptStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.replies_after(0, limit=0)


def _race(writers: int, work: Callable[[int], None]) -> None:
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_two_writers_with_the_same_events_store_each_once(store: ReceiptStore) -> None:
    wins: list[list[bool]] = [[], []]

    def write(index: int) -> None:
        for i in range(200):
            wins[index].append(store.record_status(status(f"e{i}", f"m{i}")))
            wins[index].append(store.record_reply(reply(f"r{i}")))

    _race(2, write)
    assert store.counts() == {"statuses": 200, "replies": 200}
    assert [a + b for a, b in zip(wins[0], wins[1], strict=True)] == [1] * 400  # exactly one writer won each


def test_a_reader_following_concurrent_writers_misses_nothing(store: ReceiptStore) -> None:
    """Three writers insert while a reader pages: every reply seen once, in increasing id order."""
    done = threading.Event()
    seen: list[int] = []
    texts: list[str] = []

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            page = store.replies_after(cursor, limit=50)
            for row_id, event in page:
                assert row_id > cursor
                seen.append(row_id)
                texts.append(event.event_id)
                cursor = row_id
            if finished and not page:
                return

    reader = threading.Thread(target=follow)
    reader.start()
    def write(writer: int) -> None:
        for i in range(150):
            store.record_reply(reply(f"w{writer}-{i}"))

    _race(3, write)
    done.set()
    reader.join()
    assert len(texts) == len(set(texts)) == 450 and seen == sorted(seen)


def test_an_unreachable_database_names_no_password(tmp_path: object) -> None:
    url = "postgresql+psycopg://sms:Sup3r-s3cret@127.0.0.1:1/receipts?connect_timeout=2"
    store = ReceiptStore(database_for_url(url, shared=True))
    with pytest.raises(JournalUnavailableError) as raised:
        store.record_status(status("x"))
    assert "Sup3r-s3cret" not in str(raised.value) and "127.0.0.1" in str(raised.value)


def test_events_refuse_bad_fields_naming_them() -> None:
    with pytest.raises(SmsValidationError, match="occurred_at"):
        StatusEvent("bulletin", "c", "e", "m", None, DeliveryStatus.SENT, None, None, dt.datetime(2026, 1, 1))
    with pytest.raises(SmsValidationError, match=r"event_id.*limit is 200"):
        reply("x" * 201)
    with pytest.raises(SmsValidationError, match="sender"):
        ReplyEvent("bulletin", "c", "e", "", None, "hi", T0)


def test_from_conn_id_uses_the_journal_connection(sms_journal: str) -> None:
    store = ReceiptStore.from_conn_id(None)
    assert store.record_reply(reply("r1"))
    assert sms_journal in store.description
    assert ReceiptStore.from_conn_id("sms_journal_default").replies_after(0)[0][1].event_id == "r1"
