"""SmsReceiptPollOperator: the gateways' queues, inbox and inbound report into the store, nothing lost or doubled."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.journal import JournalUnavailableError
from airflow_provider_sms.operators.receipts_poll import SmsReceiptPollOperator
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.receipts.cursors import PollCursors
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.receipts.suppression import SuppressionList
from airflow_provider_sms.simulator import SimulatorServer
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import bulksms_connection
from tests.operators.helpers import context

NZ_A, NZ_B = "64211000001", "64211000002"
A, B, C = "447700100001", "447700100002", "447700100003"
BM = "bulletin_messenger_default"


def _poll(conn: str, **kwargs: Any) -> dict[str, Any]:
    return SmsReceiptPollOperator(task_id="poll", sms_conn_id=conn, **kwargs).execute(context())


def _replies() -> list[tuple[str, str]]:
    return [(r.sender, r.text) for _, r in ReceiptStore.from_conn_id().replies_after(0, 100)]


@pytest.fixture
def bm(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    return BM


def _bulletin_queues(server: SimulatorServer) -> tuple[int, int]:
    state = server.bulletin.account(None)
    return len(state.status_queue), len(state.reply_queue)


def test_bulletin_queues_are_drained_into_the_store(bm: str, sms_simulator: SimulatorServer) -> None:
    sent = SmsSendOperator(task_id="s", sms_conn_id=bm, to=[NZ_A, NZ_B], message="Hi").execute(context())
    sms_simulator.clock.advance(600)  # each handset: SNT then RCV, queued
    sms_simulator.bulletin.add_reply(NZ_A, "Yes", in_reply_to=sent["batch_ids"][0])
    sms_simulator.bulletin.add_reply(NZ_B, " STOP ")
    assert _bulletin_queues(sms_simulator) == (4, 2)
    result = _poll(bm)
    assert (result["statuses"], result["replies"], result["new"], result["opted_out"]) == (4, 2, 6, 1)
    assert result["sources"] == {"status_queue": 4, "reply_queue": 2}
    assert _bulletin_queues(sms_simulator) == (0, 0)
    assert sorted(_replies()) == [(NZ_A, "Yes"), (NZ_B, "STOP")]  # form values come trimmed
    assert SuppressionList.open().suppressed([NZ_A, NZ_B]) == {NZ_B}
    statuses = ReceiptStore.from_conn_id().recipient_statuses("bulletin", bm, sent["batch_ids"])
    assert {r: e.state.value for (_, r), e in statuses.items()} == {NZ_A: "delivered", NZ_B: "delivered"}
    assert _poll(bm)["new"] == 0  # the queues are empty: nothing more


def test_bulletin_takes_one_item_per_stored_event(bm: str, sms_simulator: SimulatorServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(4):
        sms_simulator.bulletin.add_reply(NZ_A, f"reply {i}")
    assert _poll(bm, max_items=1)["replies"] == 1
    assert _bulletin_queues(sms_simulator) == (0, 3)  # nothing taken beyond what was stored
    stored = ReceiptStore.record_reply

    def fail_on_the_second(self: ReceiptStore, event: Any, calls: list[int] = []) -> bool:  # noqa: B006
        calls.append(1)
        if len(calls) == 2:
            raise JournalUnavailableError("the store is down")
        return stored(self, event)

    monkeypatch.setattr(ReceiptStore, "record_reply", fail_on_the_second)
    with pytest.raises(AirflowException, match="the store is down; 1 new items were stored before it"):
        _poll(bm)
    # The failed item is the one in hand (Messenger has no acknowledgement); the rest wait in the queue.
    assert _bulletin_queues(sms_simulator) == (0, 1)
    monkeypatch.setattr(ReceiptStore, "record_reply", stored)  # the store is back
    assert _poll(bm)["replies"] == 1
    assert [t for _, t in _replies()] == ["reply 0", "reply 1", "reply 3"]


@pytest.fixture
def eapi(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "eapi"))
    return "bulksms_default"


def test_bulksms_inbox_is_read_after_the_saved_id(eapi: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.add_inbound(A, "447700900000", "Yes please", referring_batch_id=7)
    sms_simulator.bulksms.add_inbound(B, "447700900000", "stop")
    first = _poll(eapi)
    assert (first["replies"], first["new"], first["opted_out"]) == (2, 2, 1)
    cursor = PollCursors(ReceiptStore.from_conn_id().database).get(eapi, "inbox")
    assert cursor is not None and int(cursor) >= 2
    sms_simulator.bulksms.add_inbound(C, "447700900000", "Maybe")
    second = _poll(eapi)
    assert (second["replies"], second["new"]) == (1, 1)  # only what came after the saved id
    assert [(s, t) for s, t in _replies()] == [(A, "Yes please"), (B, "stop"), (C, "Maybe")]
    replies = ReceiptStore.from_conn_id().replies_after(0, 10)
    assert replies[0][1].in_reply_to == "7" and replies[0][1].recipient == "447700900000"


def test_bulksms_page_stored_but_position_not_saved_is_read_again_and_stored_once(
        eapi: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sms_simulator.bulksms.add_inbound(A, "447700900000", "one")
    sms_simulator.bulksms.add_inbound(B, "447700900000", "two")

    def down(*_: Any, **__: Any) -> None:
        raise JournalUnavailableError("the store went down")

    saving = PollCursors.set
    monkeypatch.setattr(PollCursors, "set", down)
    with pytest.raises(AirflowException, match="2 new items were stored before it"):
        _poll(eapi)
    monkeypatch.setattr(PollCursors, "set", saving)  # the store is back
    again = _poll(eapi)
    assert (again["replies"], again["new"], again["already_stored"]) == (2, 0, 2)
    assert len(_replies()) == 2


def test_netmessenger_inbound_report_overlapping_windows_store_once(nm_conn: str,
                                                                   sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_inbound(A, "447700900000", "Hello")
    sms_simulator.netmessenger.add_inbound(B, "447700900000", "UNSUBSCRIBE")
    first = _poll(nm_conn)
    assert (first["replies"], first["new"], first["opted_out"]) == (2, 2, 1)
    sms_simulator.netmessenger.add_inbound(C, "447700900000", "Later")
    second = _poll(nm_conn)  # the window starts 10 minutes before the last one ended: it sees all three
    assert (second["replies"], second["new"], second["already_stored"]) == (3, 1, 2)
    assert sorted(t for _, t in _replies()) == ["Hello", "Later", "UNSUBSCRIBE"]
    assert SuppressionList.open().suppressed([A, B, C]) == {B}


@pytest.mark.parametrize("conn", ["sky_conn", "bulksms_json"])
def test_gateways_that_only_call_back_refuse(conn: str, request: pytest.FixtureRequest,
                                            sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    if conn == "bulksms_json":
        monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "json"))
        conn_id = "bulksms_default"
    else:
        conn_id = request.getfixturevalue(conn)
    with pytest.raises(AirflowFailException, match="does not support polling receipts"):
        _poll(conn_id)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_items must be between 1 and 100000"):
        SmsReceiptPollOperator(task_id="p", sms_conn_id="x", max_items=0)
