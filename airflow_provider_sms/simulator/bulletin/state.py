"""Everything a simulated Bulletin Messenger remembers, and the Python inspection/control API over it.

Reached in tests as ``server.bulletin``. Accounts are named by ``user_id``; nothing here returns a
password. Statuses move on the virtual clock: ``SNT`` after half of ``delivery_delay``, then the
final code (``RCV`` unless :meth:`BulletinState.set_outcome` chose another). Each status change
goes on the account's status queue (``/api/1/sms/status``) and, when the message or the account
has a status callback URL, is posted there.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import BulletinAccount, SimulatorConfig

THREADING_NUMBER = "4040"  # the short code statuses and replies name as ``to``


def iso(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds, as Messenger writes dates."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


@dataclass(slots=True)
class Item:
    """One recipient of a send, as addressed in ``to`` (a number or an address-book name)."""

    addressed: str
    numbers: tuple[str, ...] = ()
    error_code: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Delivery:
    """One message to one handset."""

    message_id: str
    number: str
    body: str
    sender: str
    utf16: bool
    parts: int
    sent_at: float
    final_code: str
    status: str = "SNT"


@dataclass(slots=True)
class SentMessage:
    """One accepted ``/api/3/sms/out`` request."""

    message_id: str
    body: str
    sent_at: float
    items: list[Item]
    reply_url: str | None
    status_url: str | None
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass(slots=True)
class AccountState:
    account: BulletinAccount
    contacts: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower name -> (name, number)
    groups: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # lower name -> (name, members)
    blocked: set[str] = field(default_factory=set)
    messages: list[SentMessage] = field(default_factory=list)
    status_queue: deque[dict[str, str]] = field(default_factory=deque)
    reply_queue: deque[dict[str, str]] = field(default_factory=deque)
    out_poll_cursor: int = 0
    sent_per_day: dict[str, int] = field(default_factory=dict)


class BulletinState:
    """Accounts, messages, queues and the due status changes of the simulated Messenger."""

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self.reset(config)

    def reset(self, config: SimulatorConfig) -> None:
        with self._lock:
            self.config = config
            self.accounts: dict[str, AccountState] = {}
            for account in config.bulletin_accounts:
                state = AccountState(account, blocked=set(account.blocked))
                for name, number in account.contacts:
                    state.contacts[name.lower()] = (name, number)
                for name, members in account.groups:
                    state.groups[name.lower()] = (name, list(members))
                self.accounts[account.user_id] = state
            self.outcomes: dict[str, str] = {}
            self.requests: list[tuple[str, str]] = []
            self._due: list[tuple[float, int, str, Delivery, str]] = []  # (when, seq, user, delivery, code)
            self._callbacks: list[tuple[str, bytes, str]] = []

    # -- authentication and look-ups -----------------------------------------------------------

    def authenticate(self, user_id: str | None, password: str | None) -> AccountState | None:
        import hmac

        state = self.accounts.get(user_id or "")
        if state is None or password is None:
            return None
        if not hmac.compare_digest(state.account.password.encode(), password.encode()):
            return None
        return state

    def account(self, user_id: str | None = None) -> AccountState:
        """The named account, or the first one (``KeyError`` for an unknown name)."""
        if user_id is None:
            return next(iter(self.accounts.values()))
        return self.accounts[user_id]

    def note_request(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    # -- control ----------------------------------------------------------------------------------

    def add_contact(self, name: str, number: str, user_id: str | None = None) -> None:
        with self._lock:
            self.account(user_id).contacts[name.lower()] = (name, number)

    def add_group(self, name: str, members: list[str], user_id: str | None = None) -> None:
        with self._lock:
            self.account(user_id).groups[name.lower()] = (name, list(members))

    def block(self, number: str, user_id: str | None = None) -> None:
        with self._lock:
            self.account(user_id).blocked.add(number)

    def load_address_book(self, data: dict[str, Any], user_id: str | None = None) -> None:
        """Add ``{"contacts": {name: number}, "groups": {name: [members]}, "blocked": [numbers]}``."""
        for name, number in dict(data.get("contacts") or {}).items():
            self.add_contact(str(name), str(number), user_id)
        for name, members in dict(data.get("groups") or {}).items():
            self.add_group(str(name), [str(m) for m in members], user_id)
        for number in data.get("blocked") or ():
            self.block(str(number), user_id)

    def set_outcome(self, number: str, code: str) -> None:
        """The final status code messages to ``number`` will reach (default ``RCV``)."""
        with self._lock:
            self.outcomes[number] = code.upper()

    def add_reply(self, handset: str, body: str, *, in_reply_to: str = "", display_name: str = "",
                  user_id: str | None = None) -> str:
        """A handset replies: queued for ``/api/1/sms/in`` and posted to the reply callback, if any."""
        with self._lock:
            state = self.account(user_id)
            reply_id = uuid.uuid4().hex
            state.reply_queue.append({"messageId": reply_id, "to": THREADING_NUMBER, "from": handset,
                                      "inReplyToId": in_reply_to, "body": body})
            message = next((m for m in state.messages if m.message_id == in_reply_to), None) if in_reply_to else None
            url = (message.reply_url if message else None) or state.account.reply_callback_url
            if url and url.startswith(("http://", "https://")):
                from airflow_provider_sms.simulator.bulletin.callbacks import fill_url, reply_body

                payload, kind = reply_body(state.account.callback_format, reply_id=reply_id, in_reply_to=in_reply_to,
                                           to=THREADING_NUMBER, handset=handset, display_name=display_name,
                                           body=body, date=iso(self.clock.now()))
                values = {"messageId": in_reply_to, "body": body, "recipient.msisdn": handset,
                          "recipient.displayname": display_name}
                self._callbacks.append((fill_url(url, values), payload, kind))
            return reply_id

    # -- sending ----------------------------------------------------------------------------------

    def resolve(self, state: AccountState, addressed: str) -> Item:
        """What one ``to`` item means: a number, a contact, a group, or an error."""
        if addressed.isdigit():
            if addressed.startswith("0") or not 7 <= len(addressed) <= 15:
                return Item(addressed, error_code="400", error=f"Cannot deliver to {addressed} (Invalid Number)")
            if addressed in state.blocked:
                return Item(addressed, error_code="403",
                            error=f"Cannot deliver to {addressed} (Number in Blocked List)")
            return Item(addressed, (addressed,))
        contact = state.contacts.get(addressed.lower())
        if contact is not None:
            return self._numbers_item(state, addressed, [contact[1]])
        group = state.groups.get(addressed.lower())
        if group is not None:
            members = [state.contacts[m.lower()][1] if m.lower() in state.contacts else m for m in group[1]]
            return self._numbers_item(state, addressed, members)
        return Item(addressed, error_code="403", error=f"Cannot deliver to {addressed} (Contact not in Address Book)")

    @staticmethod
    def _numbers_item(state: AccountState, addressed: str, numbers: list[str]) -> Item:
        allowed = tuple(n for n in numbers if n not in state.blocked)
        if not allowed:
            return Item(addressed, error_code="403", error=f"Cannot deliver to {addressed} (Number in Blocked List)")
        return Item(addressed, allowed)

    def day_key(self) -> str:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).date().isoformat()

    def accept(self, state: AccountState, *, message_id: str, body: str, sender: str, utf16: bool, parts: int,
               items: list[Item], reply_url: str | None, status_url: str | None) -> SentMessage:
        """Record an accepted send and schedule its status changes."""
        with self._lock:
            now = self.clock.now()
            message = SentMessage(message_id, body, now, items, reply_url, status_url)
            delay = self.config.delivery_delay
            for number in dict.fromkeys(n for item in items for n in item.numbers):
                delivery = Delivery(message_id, number, body, sender, utf16, parts, now,
                                    self.outcomes.get(number, "RCV"))
                message.deliveries.append(delivery)
                heapq.heappush(self._due, (now + delay / 2, next(self._seq), state.account.user_id, delivery, "SNT"))
                heapq.heappush(self._due, (now + delay, next(self._seq), state.account.user_id, delivery, "FINAL"))
            state.messages.append(message)
            day = self.day_key()
            state.sent_per_day[day] = state.sent_per_day.get(day, 0) + len(message.deliveries)
            return message

    def sent_today(self, state: AccountState) -> int:
        return state.sent_per_day.get(self.day_key(), 0)

    # -- the clock ----------------------------------------------------------------------------------

    def due_callbacks(self) -> list[tuple[str, bytes, str]]:
        """Move due statuses on (queue + callbacks) and hand over the callbacks to post."""
        from airflow_provider_sms.simulator.bulletin.callbacks import fill_url, status_body

        with self._lock:
            now = self.clock.now()
            while self._due and self._due[0][0] <= now:
                when, _, user_id, delivery, step = heapq.heappop(self._due)
                state = self.accounts.get(user_id)
                if state is None:
                    continue
                code = delivery.final_code if step == "FINAL" else "SNT"
                delivery.status = code
                status_id = str(next(self._seq))
                error = "" if code in ("SNT", "RCV") else f"status {code}"
                state.status_queue.append({"messageId": status_id, "to": THREADING_NUMBER, "from": delivery.number,
                                           "statusCode": code, "inReplyToId": delivery.message_id, "error": error})
                message = next((m for m in state.messages if m.message_id == delivery.message_id), None)
                url = (message.status_url if message else None) or state.account.status_callback_url
                if url:
                    payload, kind = status_body(state.account.callback_format, status_id=status_id,
                                                message_id=delivery.message_id, to=THREADING_NUMBER,
                                                handset=delivery.number, code=code, date=iso(when), error=error)
                    values = {"messageId": delivery.message_id, "recipient.msisdn": delivery.number, "status": code}
                    self._callbacks.append((fill_url(url, values), payload, kind))
            callbacks, self._callbacks = self._callbacks, []
            return callbacks

    # -- queues -------------------------------------------------------------------------------------

    def pop_status(self, state: AccountState) -> dict[str, str] | None:
        with self._lock:
            return state.status_queue.popleft() if state.status_queue else None

    def pop_reply(self, state: AccountState) -> dict[str, str] | None:
        with self._lock:
            return state.reply_queue.popleft() if state.reply_queue else None

    def out_poll(self, state: AccountState) -> list[SentMessage]:
        with self._lock:
            new = state.messages[state.out_poll_cursor:]
            state.out_poll_cursor = len(state.messages)
            return new

    # -- inspection ---------------------------------------------------------------------------------

    def iter_deliveries(self, user_id: str | None = None) -> Iterator[Delivery]:
        states = [self.account(user_id)] if user_id else list(self.accounts.values())
        for state in states:
            for message in state.messages:
                yield from message.deliveries

    def received(self, number: str | None = None) -> list[dict[str, Any]]:
        """What each handset received (every account), oldest first."""
        with self._lock:
            return [{"message_id": d.message_id, "number": d.number, "body": d.body, "sender": d.sender,
                     "utf16": d.utf16, "parts": d.parts, "status": d.status, "sent_at": d.sent_at}
                    for d in self.iter_deliveries() if number is None or d.number == number]

    def received_count(self, number: str) -> int:
        """How many messages ``number`` received."""
        with self._lock:
            return sum(1 for d in self.iter_deliveries() if d.number == number)

    def messages(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Every accepted send: ``messageId``, body and each recipient as addressed."""
        with self._lock:
            return [{"message_id": m.message_id, "body": m.body, "sent_at": m.sent_at,
                     "recipients": [{"to": i.addressed, "numbers": list(i.numbers), "error": i.error}
                                    for i in m.items]}
                    for m in self.account(user_id).messages]
