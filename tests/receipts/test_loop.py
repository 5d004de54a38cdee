"""The whole loop on loopback: a send through the provider's hook, the simulator calling back in its
vendor's format and with its retry rule, the receiver storing, the store answering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.receipts import StatusEvent
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID, JournalUnavailableError, open_database
from airflow_provider_sms.receipts.receiver import create_app
from airflow_provider_sms.receipts.serve import ReceiverServer, mounted_app
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.receipts.urls import callback_urls
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from airflow_provider_sms.simulator.config import (
    BulkSmsAccount,
    BulletinAccount,
    NetMessengerAccount,
    SkycoreAccount,
)
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import bulksms_connection, netmessenger_connection, skycore_connection
from tests.receipts.conftest import SECRET

NZ = ["64211111111", "64211111112"]
GB = ["447700900001", "447700900002"]
US = ["12025550101", "12025550102"]


@dataclass
class Loop:
    simulator: SimulatorServer
    receiver: ReceiverServer

    def urls(self, conn_id: str) -> dict[str, str]:
        return {u.kind: u.url for u in callback_urls(conn_id, base=self.receiver.url, show_secret=True)}

    def reply(self, gateway: str, number: str, text: str, **extra: Any) -> Any:
        answer = requests.post(f"{self.simulator.url}/_sim/{gateway}/reply",
                               json={"number": number, "text": text, **extra}, timeout=10)
        answer.raise_for_status()
        self.simulator.clock.advance(0)  # the tick delivers the callback before advance returns
        return answer.json()


@pytest.fixture
def loop(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Loop]:
    """Gateway connections with the callback secret, pointing at the simulator; a receiver."""
    extra = {"callback_secret": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator, **extra))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_EAPI", bulksms_connection(sms_simulator, "eapi", **extra))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_JSON", bulksms_connection(sms_simulator, "json", **extra))
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator, **extra))
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, **extra))
    with ReceiverServer() as receiver:
        yield Loop(sms_simulator, receiver)


def store() -> ReceiptStore:
    return ReceiptStore.from_conn_id(None)


def test_bulletin_statuses_and_replies(loop: Loop) -> None:
    urls = loop.urls("bulletin_messenger_default")
    loop.simulator.reset(SimulatorConfig(delivery_delay=10, bulletin_accounts=[BulletinAccount(
        status_callback_url=urls["status"], reply_callback_url=urls["reply"], callback_format="FORMv1")]))
    loop.simulator.bulletin.set_outcome(NZ[1], "NUR")
    sent = get_sms_hook("bulletin_messenger_default").send(OutgoingMessage("Doors close at 6", numbers=NZ))
    message_id = sent.results[0].message_id
    assert message_id
    loop.simulator.clock.advance(5)
    midway = store().recipient_statuses("bulletin", "bulletin_messenger_default", [message_id])
    assert {k[1]: v.state for k, v in midway.items()} == {n: DeliveryStatus.SENT for n in NZ}
    loop.simulator.clock.advance(5)
    final = store().recipient_statuses("bulletin", "bulletin_messenger_default", [message_id])
    assert {k[1]: v.state for k, v in final.items()} == {NZ[0]: DeliveryStatus.DELIVERED, NZ[1]: DeliveryStatus.FAILED}
    loop.reply("bulletin", NZ[0], "Thanks", in_reply_to=message_id)
    [(_, reply)] = store().replies_after(0)
    assert (reply.sender, reply.text, reply.in_reply_to) == (NZ[0], "Thanks", message_id)


@pytest.mark.parametrize("api", ["eapi", "json"])
def test_bulksms_pushes_and_webhooks(loop: Loop, api: str) -> None:
    conn_id = f"bulksms_{api}"
    urls = loop.urls(conn_id)
    account = (BulkSmsAccount(push_url=urls["status"], inbound_push_url=urls["inbound"]) if api == "eapi"
               else BulkSmsAccount(webhook_url=urls["webhook"]))
    loop.simulator.reset(SimulatorConfig(delivery_delay=10, bulksms_accounts=[account]))
    loop.simulator.bulksms.set_outcome(GB[1], 53)
    sent = get_sms_hook(conn_id).send(OutgoingMessage("Doors close at 6", numbers=GB))
    loop.simulator.clock.advance(10)
    if api == "eapi":  # an EAPI send names its messages by batch id
        batch = sent.batch_ids[0]
        found = store().recipient_statuses("bulksms", conn_id, [batch])
        assert {k[1]: v.state for k, v in found.items()} == {GB[0]: DeliveryStatus.DELIVERED,
                                                             GB[1]: DeliveryStatus.EXPIRED}
    else:
        ids = [r.message_id or "" for r in sent.results]
        found_by_id = store().statuses("bulksms", conn_id, ids)
        assert [found_by_id[i].state for i in ids] == [DeliveryStatus.DELIVERED, DeliveryStatus.EXPIRED]
    loop.reply("bulksms", GB[0], "Ça va? 👍", in_reply_to=sent.batch_ids[0] if api == "eapi" else None)
    [(_, reply)] = store().replies_after(0)
    assert (reply.sender, reply.text) == (GB[0], "Ça va? 👍")  # 16bit hex on the EAPI push, decoded
    assert store().counts() == {"statuses": 2, "replies": 1}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_netmessenger_forwarded_replies(loop: Loop, method: str) -> None:
    url = loop.urls("netmessenger_default")["inbound"]
    base, _, _ = url.partition("?")  # the secret travels as NetMessenger's own auth pass-through
    loop.simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(
        forward_url=base, forward_method=method, forward_auth=SECRET)]))
    loop.reply("netmessenger", GB[0], "STOP")
    [(_, reply)] = store().replies_after(0)
    assert (reply.gateway, reply.sender, reply.text, reply.recipient) == ("netmessenger", GB[0], "STOP", "447786200000")


def test_skycore_postbacks(loop: Loop) -> None:
    url = loop.urls("skycore_default")["postback"]
    loop.simulator.reset(SimulatorConfig(delivery_delay=10, skycore_accounts=[SkycoreAccount(postback_url=url)]))
    hook = get_sms_hook("skycore_default")  # one recipient per request
    ids = [hook.send(OutgoingMessage("Doors close at 6", numbers=[n])).results[0].message_id or "" for n in US]
    loop.simulator.clock.advance(0)
    assert {e.state for e in store().statuses("skycore", "skycore_default", ids).values()} == {DeliveryStatus.SENT}
    loop.simulator.clock.advance(10)
    assert {e.state for e in store().statuses("skycore", "skycore_default", ids).values()} == {
        DeliveryStatus.DELIVERED}
    loop.reply("skycore", US[0], "stop")
    [(_, reply)] = store().replies_after(0)
    assert (reply.sender, reply.text, reply.recipient) == (US[0], "stop", "60856")


def test_a_wrong_secret_at_the_gateway_stores_nothing_and_the_gateway_gives_up(loop: Loop) -> None:
    url = loop.urls("skycore_default")["postback"].replace(SECRET, "not-the-secret-at-all")
    loop.simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(postback_url=url)]))
    loop.reply("skycore", US[0], "hello")
    for _ in range(5):
        loop.simulator.clock.advance(300)
    [entry] = loop.simulator.skycore.postback_log()
    assert entry["history"] == ["HTTP 401"] * 6 and not entry["delivered"]
    assert store().counts() == {"statuses": 0, "replies": 0}


class FlakyStore(ReceiptStore):
    """Refuses the first ``failures`` status writes, as a database that is briefly unreachable."""

    failures = 0

    def record_status(self, event: StatusEvent) -> bool:
        if FlakyStore.failures > 0:
            FlakyStore.failures -= 1
            raise JournalUnavailableError("the SMS journal at test is unavailable (OperationalError)")
        return super().record_status(event)


def test_a_failed_write_is_retried_by_the_gateway_and_never_undoes_a_final_status(loop: Loop) -> None:
    """The "sent" update cannot be stored (500), "delivered" is; Messenger retries "sent" 5 minutes later."""
    FlakyStore.failures = 1
    app = create_app(store_for=lambda conn_id: FlakyStore(open_database(conn_id or DEFAULT_JOURNAL_CONN_ID)))
    with ReceiverServer(mounted_app(app)) as receiver:
        urls = {u.kind: u.url for u in callback_urls("bulletin_messenger_default", base=receiver.url,
                                                     show_secret=True)}
        loop.simulator.reset(SimulatorConfig(delivery_delay=10, bulletin_accounts=[BulletinAccount(
            status_callback_url=urls["status"])]))
        sent = get_sms_hook("bulletin_messenger_default").send(OutgoingMessage("hi", numbers=NZ[:1]))
        message_id = sent.results[0].message_id or ""
        loop.simulator.clock.advance(5)  # SNT: the write fails, 500 answered
        assert store().counts()["statuses"] == 0
        loop.simulator.clock.advance(5)  # RCV stored
        loop.simulator.clock.advance(300)  # SNT again: stored now, after RCV
    log = requests.get(f"{loop.simulator.url}/_sim/bulletin/callback_log", timeout=10).json()
    assert [entry["history"] for entry in log] == [["HTTP 500", "HTTP 200"], ["HTTP 200"]]
    assert store().counts()["statuses"] == 2
    latest = store().statuses("bulletin", "bulletin_messenger_default", [message_id])[message_id]
    assert latest.state is DeliveryStatus.DELIVERED
