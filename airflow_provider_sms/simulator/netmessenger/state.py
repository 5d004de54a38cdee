"""Everything a simulated NetMessenger remembers, and the Python inspection/control API over it.

Reached in tests as ``server.netmessenger``; the same operations are served as JSON under
``/_sim/netmessenger/`` (see :mod:`.netmessenger`). Nothing here ever returns an API token: the
request log holds method, path and ``Action`` only, accounts are named by username.

Credits are whole numbers. A send is charged when it is accepted (scheduled and background sends
included); cancelling a scheduled message gives its credits back. Child users only hold a
balance moved from and to their parent with ``UpdateCredits`` (they have no API token here).
"""

from __future__ import annotations

import contextvars
import hmac
import random
import threading
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import NetMessengerAccount, SimulatorConfig
from airflow_provider_sms.simulator.netmessenger.contacts import AddressBook
from airflow_provider_sms.simulator.netmessenger.faults import NetMessengerFaults
from airflow_provider_sms.simulator.netmessenger.messages import FINAL_WORDS, MessageStore, SendRecord
from airflow_provider_sms.simulator.netmessenger.text import normalize_number

ListKind = Literal["List", "Group"]


@dataclass(slots=True)
class ChildUser:
    """A child account created with ``CreateUser`` (its password is not kept)."""

    username: str
    access_level: str
    first_name: str
    last_name: str
    email: str
    credits: int
    telephone: str = ""
    credit_reminder: int | None = None
    alert: int | None = None
    created_at: float = 0.0


@dataclass(slots=True)
class BackgroundSend:
    """A send to a distribution list or group; finished once ``ready_at`` has passed."""

    bg_send_id: int
    username: str
    kind: ListKind
    name: str
    created_at: float
    ready_at: float
    record: SendRecord

    def finished(self, now: float) -> bool:
        """Whether ``GetBGMessages`` can answer."""
        return now >= self.ready_at


@dataclass(slots=True)
class InboundMessage:
    """A message received on one of the account's numbers (``InboundMessages`` report)."""

    message_id: int
    sender: str
    number: str
    text: str
    received_at: float


@dataclass(slots=True)
class AccountState:
    """Mutable side of one account."""

    account: NetMessengerAccount
    balance: int
    book: AddressBook = field(default_factory=AddressBook)
    lists: dict[str, array[int]] = field(default_factory=dict)
    children: dict[str, ChildUser] = field(default_factory=dict)
    blacklist: set[int] = field(default_factory=set)
    inbound: list[InboundMessage] = field(default_factory=list)

    @property
    def username(self) -> str:
        """The account's login."""
        return self.account.username

    @property
    def time_zone(self) -> str:
        """Time zone of schedule dates and report dates."""
        return self.account.time_zone


@dataclass(slots=True)
class RequestRecord:
    """One request to a NetMessenger path; ``action`` as sent (None when it was never read)."""

    method: str
    path: str
    action: str | None = None
    #: Whether the endpoint has filled in ``action`` (guards against reusing a stale context).
    noted: bool = False


# The middleware notes a request before the endpoint runs, in the same asyncio task; this
# lets the endpoint add the ``Action`` it parsed to that very entry even when requests overlap.
_CURRENT_REQUEST: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "netmessenger_request", default=None
)


class NetMessengerState:
    """Accounts, messages, address books, lists, background sends and the request log."""

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        #: NetMessenger-only fault switches (text then answer an error; cut reports short).
        self.faults = NetMessengerFaults()
        self.reset(config)

    def reset(self, config: SimulatorConfig) -> None:
        """Forget everything; reload the accounts from ``config``."""
        with self.lock:
            self.config = config
            self._accounts: dict[str, AccountState] = {}
            for account in config.netmessenger_accounts:
                state = AccountState(account, int(account.credits))
                state.blacklist = {n for n in map(normalize_number, account.blacklist) if n is not None}
                self._accounts[account.username] = state
            rng = random.Random(config.seed)
            self.messages = MessageStore(first_id=rng.randint(3_000_000, 3_999_999))
            self._next_bg_id = rng.randint(100_000, 199_999)
            self._next_inbound_id = 1
            self._new_inbound: list[tuple[NetMessengerAccount, InboundMessage]] = []
            self._bg_sends: dict[int, BackgroundSend] = {}
            self._outcomes: dict[int, str] = {}
            self._requests: list[RequestRecord] = []
            self.faults.clear()

    # -- accounts ---------------------------------------------------------------------------------

    def authenticate(self, token: str) -> AccountState | None:
        """The account owning ``token``, or None (every account is compared: constant work)."""
        found = None
        for state in self._accounts.values():
            if hmac.compare_digest(token.encode("utf-8"), state.account.token.encode("utf-8")):
                found = state
        return found

    def account(self, username: str | None = None) -> AccountState:
        """An account by username (the first configured one by default); KeyError when unknown."""
        with self.lock:
            if username is None:
                return next(iter(self._accounts.values()))
            return self._accounts[username]

    def _account_by(self, token: str | None, username: str | None) -> AccountState:
        if token is not None:
            state = self.authenticate(token)
            if state is None:
                raise KeyError("no account has this token")
            return state
        return self.account(username)

    def credits(self, token: str | None = None, *, username: str | None = None) -> int:
        """Balance of the account with ``token`` (or ``username``; the first account by default)."""
        return self._account_by(token, username).balance

    def usernames(self) -> list[str]:
        """Configured account names."""
        return list(self._accounts)

    # -- background sends ---------------------------------------------------------------------------

    def new_bg_send_id(self) -> int:
        """Reserve a background-send id."""
        with self.lock:
            self._next_bg_id += 1
            return self._next_bg_id

    def add_bg_send(self, send: BackgroundSend) -> None:
        """Remember a list/group send for ``GetBGMessages`` and the reports."""
        with self.lock:
            self._bg_sends[send.bg_send_id] = send

    def bg_send(self, bg_send_id: int, username: str) -> BackgroundSend | None:
        """A background send of ``username`` by id."""
        send = self._bg_sends.get(bg_send_id)
        return send if send is not None and send.username == username else None

    def bg_sends(self, username: str | None = None) -> list[BackgroundSend]:
        """Background sends in creation order."""
        with self.lock:
            return [s for s in self._bg_sends.values() if username is None or s.username == username]

    def outcomes(self) -> dict[int, str]:
        """Configured final words by number (copied into each accepted send)."""
        return self._outcomes

    # -- request log ------------------------------------------------------------------------------

    def note_request(self, method: str, path: str) -> None:
        """Log a request as it arrives (before faults), without any parameter value."""
        record = RequestRecord(method, path)
        with self.lock:
            self._requests.append(record)
        _CURRENT_REQUEST.set(record)

    def note_action(self, method: str, path: str, action: str | None) -> None:
        """Add the parsed ``Action`` (None when the field was absent) to the current request's log entry."""
        record = _CURRENT_REQUEST.get()
        if record is None or record.noted:
            # Called without the middleware (unit tests of the endpoint): log it now.
            record = RequestRecord(method, path)
            with self.lock:
                self._requests.append(record)
        record.noted = True
        record.action = None if action is None else action[:64]

    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        """``(method, path, action)`` of every request to ``/api``, in arrival order."""
        with self.lock:
            return [(r.method, r.path, r.action) for r in self._requests]

    # -- control ----------------------------------------------------------------------------------

    def set_outcome(self, number: str, status_word: str) -> None:
        """Final status for messages accepted for ``number`` from now on (default ``Delivered``)."""
        digits = normalize_number(number)
        if digits is None:
            raise ValueError(f"{number!r} is not an international number")
        word = next((w for w in FINAL_WORDS if w.lower() == status_word.strip().lower()), None)
        if word is None:
            raise ValueError(f"status must be one of {FINAL_WORDS}, not {status_word!r}")
        with self.lock:
            self._outcomes[digits] = word

    def add_list(self, name: str, numbers: Iterable[str], *, username: str | None = None) -> int:
        """Create or replace a distribution list; returns its size (each number once)."""
        digits: list[int] = []
        for raw in numbers:
            number = normalize_number(str(raw))
            if number is None:
                raise ValueError(f"list member {raw!r} is not an international number")
            digits.append(number)
        if not name.strip():
            raise ValueError("a list needs a name")
        with self.lock:
            members = array("q", dict.fromkeys(digits))
            self.account(username).lists[name.strip()] = members
            return len(members)

    def lists(self, username: str | None = None) -> dict[str, list[str]]:
        """Distribution lists and their numbers."""
        with self.lock:
            return {name: [str(n) for n in members] for name, members in self.account(username).lists.items()}

    def add_contacts(self, contacts: Iterable[dict[str, Any]], *, username: str | None = None) -> int:
        """Add contacts ``{"name", "number", "email"?, "groups"?: [...]}``; returns how many."""
        count = 0
        with self.lock:
            book = self.account(username).book
            for contact in contacts:
                book.add(
                    str(contact["name"]),
                    str(contact["number"]),
                    str(contact.get("email", "")),
                    [str(g) for g in contact.get("groups", ())],
                )
                count += 1
        return count

    def contacts(self, *, username: str | None = None) -> list[dict[str, Any]]:
        """Every contact: ``contact_id, name, number, email, groups`` (creation order)."""
        with self.lock:
            return [asdict(c) for c in self.account(username).book.contacts()]

    def groups(self, *, username: str | None = None) -> dict[str, list[str]]:
        """Groups and the numbers of their members (joining order)."""
        with self.lock:
            book = self.account(username).book
            return {name: [str(n) for n in book.group_numbers(name) or []] for name in book.group_names()}

    def child_users(self, *, username: str | None = None) -> list[dict[str, Any]]:
        """Child users of an account (no passwords: they are not kept)."""
        with self.lock:
            return [asdict(child) for child in self.account(username).children.values()]

    def blacklist(self, number: str, *, username: str | None = None) -> None:
        """Make sends to ``number`` answer -412."""
        digits = normalize_number(number)
        if digits is None:
            raise ValueError(f"{number!r} is not an international number")
        with self.lock:
            self.account(username).blacklist.add(digits)

    def add_inbound(self, sender: str, number: str, text: str, *, username: str | None = None) -> int:
        """Record a message received on ``number`` from ``sender``; returns its id."""
        with self.lock:
            message_id = self._next_inbound_id
            self._next_inbound_id += 1
            account = self.account(username)
            message = InboundMessage(message_id, sender, number, text, self.clock.now())
            account.inbound.append(message)
            self._new_inbound.append((account.account, message))
            return message_id

    def take_new_inbound(self) -> list[tuple[NetMessengerAccount, InboundMessage]]:
        """Inbound messages added since the last call, with their account (for forwarding)."""
        with self.lock:
            taken, self._new_inbound = self._new_inbound, []
            return taken

    def seed_messages(
        self,
        count: int,
        start_number: int | str = 447700000000,
        sent_at: float | None = None,
        *,
        body: str = "Seeded message",
        source: str = "Seed",
        username: str | None = None,
    ) -> int:
        """Store ``count`` sent messages to consecutive numbers at once (benchmarks); returns the first id.

        No credits are charged. A million messages take well under a second and a few MB.
        """
        if count < 1:
            raise ValueError("count must be positive")
        first = int(start_number)
        when = self.clock.now() if sent_at is None else float(sent_at)
        with self.lock:
            account = self.account(username)
            record = self.messages.add(
                username=account.username,
                numbers=array("q", range(first, first + count)),
                body=body,
                source=source,
                parts=1,
                created_at=when,
                send_at=when,
                scheduled=False,
                delivery_delay=self.config.delivery_delay,
                time_zone=account.time_zone,
                outcomes=self._outcomes,
            )
            return record.first_id

    # -- inspection -------------------------------------------------------------------------------

    def received(self, number: str | None = None, *, include_scheduled: bool = False) -> list[dict[str, Any]]:
        """What each number received, oldest first.

        Each item: ``message_id, number, body, source, status`` (current word), ``bg_send_id``,
        ``sent_at`` (virtual epoch the message left), ``parts, username``. Messages that have
        not left yet (scheduled, or a background send still running) are left out unless
        ``include_scheduled``; cancelled messages never count as received.
        """
        digits = None if number is None else normalize_number(number)
        if number is not None and digits is None:
            return []
        now = self.clock.now()
        return [
            _received_item(record, index, now)
            for record, index in self._iter_messages(digits)
            if index not in record.cancelled and (include_scheduled or record.is_sent(now))
        ]

    def received_count(self, number: str) -> int:
        """How many messages ``number`` has received (not counting unsent or cancelled ones)."""
        digits = normalize_number(number)
        if digits is None:
            return 0
        now = self.clock.now()
        total = 0
        for record in self.messages.sends():
            if record.is_sent(now):
                total += record.numbers.count(digits)
                if record.cancelled:
                    total -= sum(1 for i in record.cancelled if record.numbers[i] == digits)
        return total

    def _iter_messages(self, digits: int | None) -> Iterator[tuple[SendRecord, int]]:
        for record in self.messages.sends():
            if digits is None:
                yield from ((record, i) for i in range(record.count))
            else:
                yield from ((record, i) for i, n in enumerate(record.numbers) if n == digits)


def _received_item(record: SendRecord, index: int, now: float) -> dict[str, Any]:
    return {
        "message_id": record.message_id(index),
        "number": str(record.numbers[index]),
        "body": record.body,
        "source": record.source,
        "status": record.status(index, now),
        "bg_send_id": record.bg_send_id,
        "sent_at": record.send_at,
        "parts": record.parts,
        "username": record.username,
    }
