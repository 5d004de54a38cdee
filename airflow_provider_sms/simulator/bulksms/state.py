"""BulkSMS accounts, batches and recipients, shared by the EAPI and the JSON API.

Storage is per batch so that 100,000-recipient batches stay cheap: one list of numbers, a few
shared :class:`Content` objects (with an index array only when recipients got different texts)
and a sparse dict of non-default outcomes. A recipient's status is never stored: it is computed
from the batch's send time, the delivery delay and the virtual clock.

Status life cycle (EAPI codes): nothing before the send time (scheduled) -> 0 "in progress" on
sending -> 10 "delivered upstream" after half the delivery delay -> the final outcome
(11 delivered unless :meth:`BulkSmsState.set_outcome` chose another code for the number).
"""

from __future__ import annotations

import heapq
import hmac
import random
import threading
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_sms.simulator.bulksms.text import normalize_msisdn
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import BulkSmsAccount, SimulatorConfig

IN_PROGRESS = 0
DELIVERED_UPSTREAM = 10
DELIVERED = 11
#: :meth:`Batch.phase` value meaning "every recipient has its final status".
FINAL = -1
INSUFFICIENT_CREDITS = 25
DAILY_QUOTA_EXCEEDED = 27

Api = Literal["eapi", "json"]
ReportMode = Literal["ALL", "ERRORS", "NONE"]


@dataclass(frozen=True, slots=True)
class Content:
    """What recipients of a batch receive (shared by every recipient it applies to).

    ``text`` is the decoded message (for ``dca`` 8bit: the hex octets as sent).
    """

    text: str
    dca: str = "7bit"
    parts: int = 1
    sender: str | None = None
    user_supplied_id: str | None = None
    message_class: int = 2  # GSM 03.38 class; 2 (SIM specific) is the vendors' default
    protocol_id: int = 0  # TP-PID; 0 is "implicit"

    @property
    def wire_body(self) -> str:
        """The body as EAPI would carry it: hex for 16bit, the text otherwise."""
        return self.text.encode("utf-16-be").hex().upper() if self.dca == "16bit" else self.text


@dataclass(slots=True, eq=False)
class Batch:
    """One accepted submission: a batch id and its recipients."""

    batch_id: int
    username: str
    api: Api
    created_at: float
    send_at: float
    delivery_delay: float
    msisdns: list[str]
    contents: list[Content]
    #: Index into ``contents`` per recipient; None when every recipient got ``contents[0]``.
    content_index: array[int] | None
    first_message_id: int
    #: Final status per recipient index, only where it is not 11 (delivered).
    outcomes: dict[int, int]
    source_id: str | None = None
    report_mode: ReportMode = "ALL"
    time_zone: str = "UTC"

    @property
    def final_at(self) -> float:
        """Virtual time at which every recipient reaches its final status."""
        return self.send_at + self.delivery_delay

    @property
    def scheduled(self) -> bool:
        """Whether the batch was scheduled for later than its acceptance."""
        return self.send_at > self.created_at

    def content(self, index: int) -> Content:
        """The content recipient ``index`` received."""
        return self.contents[0] if self.content_index is None else self.contents[self.content_index[index]]

    def message_id(self, index: int) -> int:
        """Message id of recipient ``index`` (ids are contiguous within a batch)."""
        return self.first_message_id + index

    def phase(self, now: float) -> int | None:
        """Status shared by all recipients at ``now``: None (not sent yet), 0, 10, or :data:`FINAL`."""
        if now < self.send_at:
            return None
        elapsed = now - self.send_at
        if elapsed >= self.delivery_delay:
            return FINAL
        return DELIVERED_UPSTREAM if elapsed >= self.delivery_delay / 2 else IN_PROGRESS

    def status(self, index: int, now: float) -> int | None:
        """EAPI status code of recipient ``index`` at ``now`` (None while scheduled)."""
        phase = self.phase(now)
        return self.outcomes.get(index, DELIVERED) if phase == FINAL else phase


@dataclass(slots=True)
class InboundMessage:
    """A message received from a handset, waiting for ``get_inbox``."""

    msg_id: int
    sender: str
    msisdn: str
    text: str
    received_at: float
    referring_batch_id: int
    username: str | None


@dataclass(slots=True)
class AccountState:
    """Mutable side of one account: balance, quota use and remembered duplicate ids."""

    account: BulkSmsAccount
    balance: float
    spent_by_day: dict[int, float] = field(default_factory=dict)
    #: stop_dup_id -> (virtual time, original EAPI answer); shared by send_sms and send_batch.
    stop_dup: dict[int, tuple[float, str]] = field(default_factory=dict)
    #: deduplication-id -> (virtual time, original JSON answer body).
    json_dedupe: dict[int, tuple[float, bytes]] = field(default_factory=dict)

    @property
    def username(self) -> str:
        """The account's login."""
        return self.account.username


@dataclass(frozen=True)
class Group:
    """A phone-book group (``dest_group_id`` / JSON ``{"type": "GROUP"}``)."""

    group_id: int
    name: str
    members: tuple[str, ...]


class BulkSmsState:
    """Everything a simulated BulkSMS remembers. Thread-safe: the server thread and tests share it."""

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self.reset(config)

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self, config: SimulatorConfig) -> None:
        """Forget every message, group, outcome and request; reload the accounts from ``config``."""
        with self._lock:
            self.config = config
            self.created_at = self.clock.now()
            self._accounts = {a.username: AccountState(a, float(a.credits)) for a in config.bulksms_accounts}
            rng = random.Random(config.seed)
            self._next_batch_id = rng.randint(10_000, 99_999)
            self._next_message_id = rng.randint(100_000_000, 999_999_999)
            self._next_inbound_id = 1
            self._batches: dict[int, Batch] = {}
            self._batch_list: list[Batch] = []
            self._first_ids: list[int] = []
            self._groups: dict[int, Group] = {}
            self._outcomes: dict[str, int] = {}
            self._inbox: list[InboundMessage] = []
            self._push_heap: list[tuple[float, int]] = []
            self._new_inbound: list[InboundMessage] = []
            #: (method, path) of every request to a BulkSMS path, in arrival order.
            self.requests: list[tuple[str, str]] = []

    # -- accounts -------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> AccountState | None:
        """The account for these credentials, or None."""
        state = self._accounts.get(username)
        if state is None:
            # Still compare, so a wrong username costs as long as a wrong password.
            hmac.compare_digest(password.encode(), b"x" * len(password.encode()))
            return None
        ok = hmac.compare_digest(password.encode("utf-8"), state.account.password.encode("utf-8"))
        return state if ok else None

    def account(self, username: str | None = None) -> AccountState:
        """Account state by name (the first configured account when ``username`` is None)."""
        with self._lock:
            if username is None:
                return next(iter(self._accounts.values()))
            return self._accounts[username]

    def credits(self, username: str | None = None) -> float:
        """Current credit balance of an account (the first one by default)."""
        return self.account(username).balance

    def usernames(self) -> list[str]:
        """Configured account names."""
        return list(self._accounts)

    # -- submissions ----------------------------------------------------------------------------

    def new_batch_id(self) -> int:
        """Reserve a batch id (ids are positive and increasing)."""
        with self._lock:
            batch_id = self._next_batch_id
            self._next_batch_id += 1
            return batch_id

    def record(
        self,
        account: AccountState,
        *,
        api: Api,
        msisdns: list[str],
        contents: list[Content],
        content_index: array[int] | None,
        send_at: float,
        source_id: str | None = None,
        report_mode: ReportMode = "ALL",
    ) -> Batch | int:
        """Charge the account and store the batch; or return code 25/27 and change nothing."""
        if content_index is None:
            cost = float(contents[0].parts * len(msisdns))
        else:
            cost = float(sum(contents[i].parts for i in content_index))
        with self._lock:
            now = self.clock.now()
            if cost > account.balance + 1e-9:
                return INSUFFICIENT_CREDITS
            day = int(now // 86400)
            quota = account.account.daily_quota
            if quota is not None and account.spent_by_day.get(day, 0.0) + cost > quota + 1e-9:
                return DAILY_QUOTA_EXCEEDED
            account.balance -= cost
            account.spent_by_day[day] = account.spent_by_day.get(day, 0.0) + cost
            outcomes: dict[int, int] = {}
            if self._outcomes:
                lookup = self._outcomes
                outcomes = {i: lookup[m] for i, m in enumerate(msisdns) if m in lookup and lookup[m] != DELIVERED}
            batch = Batch(
                batch_id=self.new_batch_id(),
                username=account.username,
                api=api,
                created_at=now,
                send_at=max(send_at, now),
                delivery_delay=self.config.delivery_delay,
                msisdns=msisdns,
                contents=contents,
                content_index=content_index,
                first_message_id=self._next_message_id,
                outcomes=outcomes,
                source_id=source_id,
                report_mode=report_mode,
                time_zone=account.account.time_zone,
            )
            self._next_message_id += len(msisdns)
            self._batches[batch.batch_id] = batch
            self._batch_list.append(batch)
            self._first_ids.append(batch.first_message_id)
            if (account.account.push_url or account.account.webhook_url) and report_mode != "NONE":
                heapq.heappush(self._push_heap, (batch.final_at, batch.batch_id))
            return batch

    def recall_stop_dup(self, account: AccountState, stop_dup_id: int) -> str | None:
        """The original answer to a recent submission with this ``stop_dup_id``, if any."""
        answer: str | None = self._recall(account.stop_dup, stop_dup_id, self.config.dedupe_window)
        return answer

    def remember_stop_dup(self, account: AccountState, stop_dup_id: int, answer: str) -> None:
        """Remember a successful answer for ``stop_dup_id``."""
        with self._lock:
            account.stop_dup[stop_dup_id] = (self.clock.now(), answer)

    def recall_json(self, account: AccountState, dedupe_id: int) -> bytes | None:
        """The original JSON answer to a recent submission with this ``deduplication-id``."""
        body: bytes | None = self._recall(account.json_dedupe, dedupe_id, self.config.json_dedupe_window)
        return body

    def remember_json(self, account: AccountState, dedupe_id: int, body: bytes) -> None:
        """Remember a successful JSON answer for ``deduplication-id``."""
        with self._lock:
            account.json_dedupe[dedupe_id] = (self.clock.now(), body)

    def _recall(self, cache: dict[int, tuple[float, Any]], key: int, window: float) -> Any:
        with self._lock:
            hit = cache.get(key)
            if hit is None:
                return None
            if self.clock.now() - hit[0] > window:
                del cache[key]
                return None
            return hit[1]

    # -- lookups --------------------------------------------------------------------------------

    def batch(self, batch_id: int, username: str | None = None) -> Batch | None:
        """A batch by id (only if it belongs to ``username`` when given)."""
        batch = self._batches.get(batch_id)
        if batch is None or (username is not None and batch.username != username):
            return None
        return batch

    def batches(self, username: str | None = None) -> list[Batch]:
        """Batches in submission order (of one account when ``username`` is given)."""
        with self._lock:
            return [b for b in self._batch_list if username is None or b.username == username]

    def find_message(self, message_id: int) -> tuple[Batch, int] | None:
        """The batch and recipient index of a message id."""
        with self._lock:
            position = bisect_right(self._first_ids, message_id) - 1
            if position < 0:
                return None
            batch = self._batch_list[position]
        index = message_id - batch.first_message_id
        return (batch, index) if index < len(batch.msisdns) else None

    # -- groups, outcomes, inbox ------------------------------------------------------------------

    def add_group(self, group_id: int, name: str, members: Iterable[str]) -> None:
        """Create or replace a phone-book group; ValueError for a malformed member number."""
        normalized = []
        for member in members:
            number = normalize_msisdn(member)
            if number is None:
                raise ValueError(f"group member {member!r} is not an international number")
            normalized.append(number)
        with self._lock:
            self._groups[int(group_id)] = Group(int(group_id), name, tuple(normalized))

    def group(self, group_id: int | None = None, name: str | None = None) -> Group | None:
        """A group by id or by name."""
        with self._lock:
            if group_id is not None:
                return self._groups.get(group_id)
            return next((g for g in self._groups.values() if g.name == name), None)

    def set_outcome(self, msisdn: str, status_code: int) -> None:
        """Final EAPI status for messages accepted for ``msisdn`` from now on (default 11).

        E.g. 51 (delivery to phone failed), 53 (expired), 32 (blocked).
        """
        number = normalize_msisdn(msisdn)
        if number is None:
            raise ValueError(f"{msisdn!r} is not an international number")
        with self._lock:
            self._outcomes[number] = int(status_code)

    def add_inbound(
        self,
        sender: str,
        msisdn: str,
        message: str,
        referring_batch_id: int = 0,
        username: str | None = None,
    ) -> int:
        """Queue a message from ``sender`` to our number ``msisdn`` for ``get_inbox``; returns its id.

        ``username`` limits it to one account; by default every account sees it.
        """
        with self._lock:
            msg_id = self._next_inbound_id
            self._next_inbound_id += 1
            inbound = InboundMessage(msg_id, sender, msisdn, message, self.clock.now(), referring_batch_id, username)
            self._inbox.append(inbound)
            self._new_inbound.append(inbound)
            return msg_id

    def take_new_inbound(self) -> list[InboundMessage]:
        """Inbound messages added since the last call (for the inbound pushes and webhooks)."""
        with self._lock:
            taken, self._new_inbound = self._new_inbound, []
            return taken

    def accounts_seeing(self, username: str | None) -> list[BulkSmsAccount]:
        """The accounts an inbound message for ``username`` (None: every account) belongs to."""
        with self._lock:
            return [a.account for name, a in self._accounts.items() if username in (None, name)]

    def inbox(self, username: str, after_id: int, limit: int = 1000) -> list[InboundMessage]:
        """Inbound messages for ``username`` with an id above ``after_id``, oldest first."""
        with self._lock:
            found = [m for m in self._inbox if m.msg_id > after_id and m.username in (None, username)]
        return found[:limit]

    # -- inspection -----------------------------------------------------------------------------

    def note_request(self, method: str, path: str) -> None:
        """Log a request (tests assert, e.g., that credentials only ever travel by POST)."""
        with self._lock:
            self.requests.append((method, path))

    def received(self, msisdn: str | None = None, *, include_scheduled: bool = False) -> list[dict[str, Any]]:
        """What each recipient got, in submission order.

        Each item: ``msisdn, message`` (decoded text), ``sender, batch_id, message_id, api``
        ("eapi" or "json"), ``status`` (current EAPI code), ``received_at`` (virtual epoch of
        sending), plus ``encoding, parts, source_id, user_supplied_id, username``. Scheduled
        messages whose time has not come are left out unless ``include_scheduled`` (their
        ``status`` is then None).
        """
        number = None if msisdn is None else (normalize_msisdn(msisdn) or msisdn)
        now = self.clock.now()
        out: list[dict[str, Any]] = []
        for batch in self.batches():
            if now < batch.send_at and not include_scheduled:
                continue
            indices: Sequence[int] = (
                range(len(batch.msisdns)) if number is None else [i for i, m in enumerate(batch.msisdns) if m == number]
            )
            for index in indices:
                content = batch.content(index)
                out.append(
                    {
                        "msisdn": batch.msisdns[index],
                        "message": content.text,
                        "sender": content.sender,
                        "batch_id": batch.batch_id,
                        "message_id": batch.message_id(index),
                        "api": batch.api,
                        "status": batch.status(index, now),
                        "received_at": batch.send_at,
                        "encoding": content.dca,
                        "parts": content.parts,
                        "source_id": batch.source_id,
                        "user_supplied_id": content.user_supplied_id,
                        "username": batch.username,
                    }
                )
        return out

    def received_count(self, msisdn: str) -> int:
        """How many messages ``msisdn`` has received (scheduled ones not yet sent excluded)."""
        number = normalize_msisdn(msisdn) or msisdn
        now = self.clock.now()
        return sum(batch.msisdns.count(number) for batch in self.batches() if now >= batch.send_at)

    # -- pushes ---------------------------------------------------------------------------------

    def due_reports(self) -> list[tuple[BulkSmsAccount, Batch]]:
        """Batches whose statuses became final since the last call, with their account (pushes, webhooks)."""
        now = self.clock.now()
        due: list[tuple[BulkSmsAccount, Batch]] = []
        with self._lock:
            while self._push_heap and self._push_heap[0][0] <= now:
                _, batch_id = heapq.heappop(self._push_heap)
                batch = self._batches[batch_id]
                due.append((self._accounts[batch.username].account, batch))
        return due
