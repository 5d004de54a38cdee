"""Everything a simulated Skycore remembers, and the Python inspection/control API over it.

Reached in tests as ``server.skycore``; the same is served as JSON under ``/_sim/skycore/``.
Nothing here returns an API key: accounts are named by username, the request log holds actions.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_sms.simulator.callbacks import CallbackQueue
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig, SkycoreAccount
from airflow_provider_sms.simulator.skycore.postbacks import postback_rule, postback_xml

__all__ = ["Received", "SavedMms", "SkycoreState", "Subscriber"]


@dataclass(slots=True)
class Received:
    """One SMS or MMS that reached a handset (or will: status moves on with the clock)."""

    number: str
    kind: str  # "sms" | "mms"
    tracking_id: str
    sender: str
    text: str
    sent_at: float
    username: str
    mask: str | None = None
    mms_id: str | None = None
    subject: str | None = None
    slides: list[dict[str, Any]] = field(default_factory=list)
    campaign: str | None = None
    data: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SavedMms:
    """Content stored by ``saveMMS`` (or ``sendMMS``); usable once ``ready_at`` has passed."""

    mms_id: str
    username: str
    name: str
    subject: str
    fallback_text: str | None
    slides: list[dict[str, Any]]
    ready_at: float


@dataclass(slots=True)
class Subscriber:
    """A number in a campaign; ``ref`` is its subscriber reference (``sendMessageBySubscriberRef``)."""

    number: str
    data: dict[str, str]
    ref: str | None = None
    active: bool = True
    self_unsubscribed: bool = False


@dataclass
class AccountState:
    """Mutable side of one account."""

    account: SkycoreAccount
    campaigns: dict[str, dict[str, Subscriber]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # username -> its generated API key (never shown)
    window: deque[float] = field(default_factory=deque)
    statistics_calls: deque[float] = field(default_factory=deque)


class SkycoreState:
    """Accounts, received messages, saved MMS, campaigns and subscribers, postbacks, the request log."""

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.postbacks = CallbackQueue("skycore")
        self.reset(config)

    def reset(self, config: SimulatorConfig) -> None:
        """Start again from ``config``."""
        with self.lock:
            self.config = config
            self.accounts = {a.api_key: AccountState(a, campaigns={c: {} for c in a.campaigns})
                             for a in config.skycore_accounts}
            self.messages: list[Received] = []
            self.mms: dict[str, SavedMms] = {}
            self.requests: list[str] = []
            self._next_id = 1000
            self._notification_id = 1
            self.postbacks.clear()

    # -- ids, accounts, admission ----------------------------------------------------------------

    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def tracking_id(self, kind: str) -> str:
        """Opaque ids like the vendor's examples (base64 of ``SMS_<n>``/``MMS_<n>``)."""
        return base64.b64encode(f"{kind.upper()}_{self.next_id()}".encode()).decode()

    def account(self, api_key: str) -> AccountState | None:
        return self.accounts.get(api_key)

    def by_username(self, username: str | None) -> AccountState:
        """The account named ``username`` (default: the first); KeyError when unknown."""
        states = list(self.accounts.values())
        if username is None:
            return states[0]
        for state in states:
            if state.account.username == username:
                return state
        raise KeyError(username)

    def over_throughput(self, state: AccountState) -> bool:
        """Count this call in the account's one-second window; True when it exceeds the throughput."""
        limit = state.account.throughput
        if limit is None:
            return False
        now = self.clock.now()
        with self.lock:
            while state.window and state.window[0] <= now - 1.0:
                state.window.popleft()
            if len(state.window) >= limit:
                return True
            state.window.append(now)
            return False

    def statistics_allowed(self, state: AccountState) -> bool:
        now = self.clock.now()
        with self.lock:
            while state.statistics_calls and state.statistics_calls[0] <= now - 86400:
                state.statistics_calls.popleft()
            if len(state.statistics_calls) >= self.config.skycore_statistics_per_day:
                return False
            state.statistics_calls.append(now)
            return True

    # -- recording and postbacks -------------------------------------------------------------------

    def record(self, message: Received) -> None:
        """Keep a delivered message and queue its receipts (sent now, delivered after ``delivery_delay``)."""
        with self.lock:
            self.messages.append(message)
        state = self.by_username(message.username)
        origin = "SMS_MT" if message.kind == "sms" else "MMS_MT"
        first, final = ("N201", "N202") if message.kind == "sms" else ("N101", "N102")
        common = {"FROM": message.sender, "TO": message.number, "TRACKINGID": message.tracking_id}
        if message.mms_id:
            common["MMSID"] = message.mms_id
        self.post(state, origin, first, {**common, "STATUS": "Message Sent"}, message.sent_at)
        self.post(state, origin, final, {**common, "STATUS": "Message Sent/Delivered"},
                  message.sent_at + self.config.delivery_delay)

    def post(self, state: AccountState, origin: str, code: str, fields: dict[str, str], due: float) -> None:
        """Queue a postback to the account's URL (none when it has no URL)."""
        url = state.account.postback_url
        if not url:
            return
        with self.lock:
            number = self._notification_id
            self._notification_id += 1
        stamp = dt.datetime.fromtimestamp(due, dt.UTC).isoformat(timespec="seconds")
        body = postback_xml(origin, code, {**fields, "TIMESTAMP": stamp},
                            generation=self.config.skycore_postback_generation, notification_id=number, created=stamp)
        self.postbacks.add(url, body=body, due=due, label=code, rule=postback_rule(self.config),
                           content_type="text/xml; charset=utf-8")

    def add_reply(self, number: str, text: str, *, to: str | None = None, username: str | None = None) -> str:
        """A handset texts the account's code: an ``SMS_MO`` ``N211`` postback; returns its TRANSACTIONID."""
        state = self.by_username(username)
        now = self.clock.now()
        with self.lock:
            transaction = f"SIM-MO-{self._notification_id:08d}"
        self.post(state, "SMS_MO", "N211", {"FROM": number, "TO": to or state.account.codes[0], "TEXT": text,
                                            "RECEIVED": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(
                                                timespec="seconds"), "TRANSACTIONID": transaction}, now)
        return transaction

    def tick(self, *, wait: bool) -> None:
        self.postbacks.deliver_due(self.clock.now(), wait=wait)

    # -- inspection -------------------------------------------------------------------------------

    def received(self, number: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """What each number received (oldest first), optionally only ``kind`` ``sms``/``mms``."""
        with self.lock:
            found = [m for m in self.messages if (number is None or m.number == number)
                     and (kind is None or m.kind == kind)]
        now = self.clock.now()
        return [{**asdict(m), "status": "delivered" if now >= m.sent_at + self.config.delivery_delay else "sent"}
                for m in found]

    def received_count(self, number: str, kind: str | None = None) -> int:
        """How many messages ``number`` received."""
        with self.lock:
            return sum(1 for m in self.messages if m.number == number and (kind is None or m.kind == kind))

    def mms_received(self, number: str | None = None) -> list[dict[str, Any]]:
        """The MMS each number received (slides as delivered, custom texts applied)."""
        return self.received(number, "mms")

    def subscribers(self, campaign: str, username: str | None = None) -> list[dict[str, Any]]:
        """Active subscribers of ``campaign``."""
        state = self.by_username(username)
        with self.lock:
            return [asdict(s) for s in state.campaigns.get(campaign, {}).values() if s.active]

    def add_subscriber(self, campaign: str, number: str, ref: str | None = None,
                       data: dict[str, str] | None = None, username: str | None = None) -> None:
        """Put ``number`` in ``campaign`` directly (the campaign is created if needed)."""
        state = self.by_username(username)
        with self.lock:
            state.campaigns.setdefault(campaign, {})[number] = Subscriber(number, dict(data or {}), ref)

    def saved_mms(self, username: str | None = None) -> list[dict[str, Any]]:
        """Saved MMS content of an account."""
        name = self.by_username(username).account.username
        with self.lock:
            return [asdict(m) for m in self.mms.values() if m.username == name]

    def users(self, username: str | None = None) -> list[str]:
        """Users created with ``createUser`` (names only)."""
        return sorted(self.by_username(username).users)

    def postback_log(self) -> list[dict[str, Any]]:
        """Every queued postback: code, attempts, delivered, outcome history."""
        with self.lock:
            return [{"code": entry["label"], **entry} for entry in self.postbacks.log()]
