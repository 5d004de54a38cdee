"""The suppression list and stop words (opt-outs), on a real SQLite file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_provider_sms.journal.database import database_for_url
from airflow_provider_sms.receipts.suppression import (
    DEFAULT_STOP_WORDS,
    SuppressionList,
    apply_opt_out,
    configured_stop_words,
    is_stop_word,
    mask_number,
)


@dataclass(frozen=True)
class Reply:
    sender: str
    text: str
    gateway: str = "bulksms"
    conn_id: str = "bulksms_default"
    event_id: str = "bulksms:in:1"
    received_at: dt.datetime | None = None


@pytest.fixture
def listing(tmp_path: Path) -> SuppressionList:
    return SuppressionList(database_for_url(f"sqlite:///{tmp_path / 'store.db'}", shared=True))


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop \n", "STOPALL", "unsubscribe", "Cancel", "END", "quit",
                                  "\tQUIT\r\n"])
def test_stop_words_whole_message_trimmed_case_insensitive(text: str) -> None:
    assert is_stop_word(text)


@pytest.mark.parametrize("text", ["stop it", "STOP.", "Please stop", "", "   ", "STOPP", "S T O P", "yes",
                                  "STOP" * 100, None])
def test_other_texts_are_not_stop_words(text: str | None) -> None:
    assert not is_stop_word(text)


def test_stop_words_come_from_the_airflow_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_stop_words() == {w.casefold() for w in DEFAULT_STOP_WORDS}
    monkeypatch.setenv("AIRFLOW__SMS__STOP_WORDS", " Arret, STOP ,,")
    assert configured_stop_words() == {"arret", "stop"}
    assert is_stop_word("ARRET") and not is_stop_word("QUIT")
    assert is_stop_word("halt", words=["HALT"]) and not is_stop_word("stop", words=["HALT"])


def test_a_stop_reply_suppresses_the_sender_once(listing: SuppressionList) -> None:
    when = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)
    reply = Reply("+44 7700 100001", " stop ", received_at=when)
    assert apply_opt_out(listing.database, reply) is True
    # The same reply delivered again (a gateway retry, a poller and a callback) is one entry, the first kept.
    assert apply_opt_out(listing, Reply("447700100001", "STOP", event_id="bulksms:in:2")) is False
    assert listing.count() == 1
    entry = listing.get("447700100001")
    assert entry is not None
    assert (entry.number, entry.source, entry.word, entry.gateway, entry.conn_id, entry.event_id, entry.created_at) \
        == ("447700100001", "reply", "stop", "bulksms", "bulksms_default", "bulksms:in:1", when)


def test_other_replies_change_nothing(listing: SuppressionList) -> None:
    assert apply_opt_out(listing, Reply("447700100001", "Yes please")) is False
    assert apply_opt_out(listing, Reply("ACME", "STOP")) is False  # not a number: nothing to suppress
    assert listing.count() == 0


def test_apply_opt_out_takes_anything_with_a_database(listing: SuppressionList) -> None:
    @dataclass
    class Store:
        database: object

    assert apply_opt_out(Store(listing.database), Reply("447700100002", "END"))
    assert listing.suppressed(["447700100002", "447700100003"]) == {"447700100002"}
    with pytest.raises(TypeError, match="ReceiptStore, Database or SuppressionList"):
        apply_opt_out(object(), Reply("447700100002", "END"))


def test_suppressed_reads_big_and_small_lists(listing: SuppressionList) -> None:
    listed = [f"4477001{i:05d}" for i in range(0, 3000, 3)]
    for number in listed:
        listing.add(number)
    everyone = [f"4477001{i:05d}" for i in range(3000)]
    assert listing.suppressed(everyone) == set(listed)  # the list is smaller: read whole
    assert listing.suppressed(everyone[:10]) == {everyone[0], everyone[3], everyone[6], everyone[9]}  # chunks
    assert listing.suppressed([]) == set()


def test_suppressed_searches_the_compact_form_of_a_send(listing: SuppressionList) -> None:
    """The send operators pass CanonicalRecipients: the same answers, in both reading modes."""
    from airflow_provider_sms.core.recipient_set import CanonicalRecipients

    everyone = [f"4477001{i:05d}" for i in range(3000)]
    assert listing.suppressed(CanonicalRecipients.of(everyone)) == set()  # empty list: nothing read
    listed = everyone[::3]
    for number in listed:
        listing.add(number)
    assert listing.suppressed(CanonicalRecipients.of(everyone[::-1])) == set(listed)  # whole list read
    assert listing.suppressed(CanonicalRecipients.of(everyone[:10])) == {everyone[0], everyone[3], everyone[6],
                                                                          everyone[9]}  # chunks asked
    assert listing.suppressed(CanonicalRecipients.of([])) == set()


def test_remove_and_manual_entries(listing: SuppressionList) -> None:
    assert listing.add("+447700100009", source="manual")
    assert listing.remove("447700100009") and not listing.remove("447700100009")
    assert listing.get("447700100009") is None
    with pytest.raises(ValueError, match="not a phone number"):
        listing.add("not-a-number")


def test_mask_number_hides_the_middle() -> None:
    assert mask_number("447700100001") == "4477****0001"
    assert mask_number("12345") == "12***"


def test_catch_up_reads_each_reply_once_and_asks_once_when_nothing_is_new(listing: SuppressionList) -> None:
    from sqlalchemy import event

    from airflow_provider_sms.core.receipts import ReplyEvent
    from airflow_provider_sms.receipts.store import ReceiptStore

    store = ReceiptStore(listing.database)
    store.ensure_schema()

    def reply(n: int, sender: str, text: str) -> None:
        store.record_reply(ReplyEvent(gateway="bulksms", conn_id="bulksms_default", event_id=f"in-{n}",
                                      sender=sender, recipient=None, text=text, received_at=dt.datetime.now(dt.UTC)))

    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    assert listing.catch_up() == 0  # nothing stored at all
    reply(1, "447700100001", "STOP")
    reply(2, "447700100002", "hello")
    assert listing.catch_up() == 1 and listing.count() == 1
    event.listen(listing.database.engine, "before_cursor_execute", seen)
    try:
        assert listing.catch_up() == 0
    finally:
        event.remove(listing.database.engine, "before_cursor_execute", seen)
    assert len(statements) == 1  # the cursor and the newest reply's id, together
    reply(3, "447700100002", "quit")  # the second sender opts out later
    assert listing.catch_up() == 1
    assert listing.suppressed(["447700100001", "447700100002", "447700100003"]) == {"447700100001", "447700100002"}
