"""Fault tests: the receiver dies between storing and answering; storing outlasts the gateway's deadline."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import requests

from airflow_provider_sms.core.receipts import ReplyEvent
from airflow_provider_sms.gateways.callbacks import callback_endpoints
from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID, open_database
from airflow_provider_sms.receipts.receiver import create_app
from airflow_provider_sms.receipts.serve import ReceiverServer, mounted_app
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.receipts.urls import callback_urls
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from airflow_provider_sms.simulator.config import BulkSmsAccount, SkycoreAccount
from tests.conftest import PASSWORD, REPO, USERNAME
from tests.receipts.conftest import SECRET, gateway_connections
from tests.receipts.dying_receiver import EXIT_CODE
from tests.receipts.test_receiver import SKYCORE_MO, XML


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dying_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A receiver process on a free port that exits after storing its first event, unanswered."""
    gateway_connections(monkeypatch)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.receipts.dying_receiver", str(port)], cwd=REPO,
                               env=os.environ.copy(), stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _store() -> ReceiptStore:
    return ReceiptStore.from_conn_id(None)


def test_a_receiver_killed_before_answering_gets_the_retry_and_stores_once(
        dying_receiver: tuple[subprocess.Popen[str], int], sms_simulator: SimulatorServer) -> None:
    process, port = dying_receiver
    base = f"http://127.0.0.1:{port}"
    [url] = [u.url for u in callback_urls("skycore_default", base=base, show_secret=True)]
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=url)]))
    requests.post(f"{sms_simulator.url}/_sim/skycore/reply", json={"number": "12025550101", "text": "STOP"},
                  timeout=10).raise_for_status()
    sms_simulator.clock.advance(0)
    assert process.wait(timeout=30) == EXIT_CODE  # stored, then died without answering
    assert _store().counts()["replies"] == 1
    [entry] = sms_simulator.skycore.postback_log()
    assert not entry["delivered"] and entry["history"][0] != "HTTP 200"
    # The API server comes back on the same port; Skycore tries again five minutes later.
    assert entry["due"] - sms_simulator.clock.now() > 240  # about five minutes away (the clock runs in real time)
    with ReceiverServer(port=port):
        sms_simulator.clock.advance(300)
    [entry] = sms_simulator.skycore.postback_log()
    assert entry["delivered"] and entry["attempts"] == 2
    assert _store().counts() == {"statuses": 0, "replies": 1}  # the retry found it stored: one row


def test_bulksms_inbound_push_lost_in_a_crash_is_not_retried_but_was_stored(
        dying_receiver: tuple[subprocess.Popen[str], int], sms_simulator: SimulatorServer) -> None:
    process, port = dying_receiver
    urls = {u.kind: u.url for u in callback_urls("bulksms_default", base=f"http://127.0.0.1:{port}",
                                                 show_secret=True)}
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(inbound_push_url=urls["inbound"])]))
    requests.post(f"{sms_simulator.url}/_sim/bulksms/reply", json={"number": "447700900001", "text": "yes"},
                  timeout=10).raise_for_status()
    sms_simulator.clock.advance(0)
    assert process.wait(timeout=30) == EXIT_CODE
    with ReceiverServer(port=port):
        sms_simulator.clock.advance(3600)
    [entry] = requests.get(f"{sms_simulator.url}/_sim/bulksms/callback_log", timeout=10).json()
    # The vendor retries an inbound push only after HTTP 500; a dropped connection is not a 500.
    assert entry["attempts"] == 1 and entry["given_up"]
    assert _store().counts()["replies"] == 1  # stored before the crash: nothing lost


class BlockedStore(ReceiptStore):
    """Writes wait for ``release`` (a database stuck on a lock)."""

    release = threading.Event()

    def record_reply(self, event: ReplyEvent) -> bool:
        BlockedStore.release.wait(30)
        return super().record_reply(event)


def test_storing_slower_than_the_gateway_deadline_answers_500_then_the_retry_stores_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_connections(monkeypatch)
    BlockedStore.release.clear()
    quick = [dataclasses.replace(e, answer_within=0.5) for e in callback_endpoints()]
    app = create_app(store_for=lambda c: BlockedStore(open_database(c or DEFAULT_JOURNAL_CONN_ID)), endpoints=quick)
    with ReceiverServer(mounted_app(app)) as receiver:
        [url] = [u.url for u in callback_urls("skycore_default", base=receiver.url, show_secret=True)]
        _store()  # tables made before the race
        first = requests.post(url, data=SKYCORE_MO, headers=XML, timeout=10)
        assert first.status_code == 500  # answered within the deadline, not stored yet
        BlockedStore.release.set()  # the late write completes in the background
        retry = requests.post(url, data=SKYCORE_MO, headers=XML, timeout=10)
        assert retry.status_code == 200
    assert _store().counts()["replies"] == 1
    assert SECRET in url  # (the URL the gateway holds carries it; the receiver's logs do not: test_receiver)


def test_bulksms_status_push_after_a_crash_is_retried_an_hour_later_and_stored_once(
        dying_receiver: tuple[subprocess.Popen[str], int], sms_simulator: SimulatorServer) -> None:
    process, port = dying_receiver
    urls = {u.kind: u.url for u in callback_urls("bulksms_default", base=f"http://127.0.0.1:{port}",
                                                 show_secret=True)}
    sms_simulator.reset(SimulatorConfig(delivery_delay=5, bulksms_accounts=[BulkSmsAccount(push_url=urls["status"])]))
    sent = requests.post(f"{sms_simulator.url}/eapi/submission/send_sms/2/2.0", data={
        "username": USERNAME, "password": PASSWORD, "msisdn": "447700900001", "message": "hi"}, timeout=10)
    batch_id = sent.text.strip().split("|")[2]
    sms_simulator.clock.advance(5)
    assert process.wait(timeout=30) == EXIT_CODE
    with ReceiverServer(port=port):
        sms_simulator.clock.advance(3600)
    [entry] = requests.get(f"{sms_simulator.url}/_sim/bulksms/callback_log", timeout=10).json()
    assert entry["delivered"] and entry["attempts"] == 2
    assert _store().counts()["statuses"] == 1
    assert list(_store().recipient_statuses("bulksms", "bulksms_default", [batch_id])) == [(batch_id, "447700900001")]
