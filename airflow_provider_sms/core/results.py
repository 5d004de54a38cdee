"""What a send or a status check produced, in one shape for every gateway.

Everything here converts to plain JSON (``to_dict``) so it can travel through XCom and trigger
events, and back (``from_dict``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

__all__ = ["SUPPRESSED_CODE", "BackgroundMessage", "BackgroundSend", "DeliveryStatus", "MessageStatus",
           "RecipientResult", "SendResult", "SendSummary", "same_outcome", "suppressed_result"]


class DeliveryStatus(enum.StrEnum):
    """Where a message is on its way to the handset, shared by all gateways."""

    PENDING = "pending"  # accepted, not yet handed on
    SCHEDULED = "scheduled"  # accepted for a later send time
    SENT = "sent"  # handed to the network, no handset receipt yet
    DELIVERED = "delivered"  # handset receipt
    FAILED = "failed"  # will not be delivered
    EXPIRED = "expired"  # validity period ran out
    REJECTED = "rejected"  # refused by the gateway at submission
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # the gateway itself does not know (final: it will not learn more)
    SUPPRESSED = "suppressed"  # not sent: the number opted out (a STOP reply), see ``honour_opt_outs``

    @property
    def is_final(self) -> bool:
        """True when the status will not change any more."""
        return self in _FINAL

    @property
    def is_success(self) -> bool:
        return self is DeliveryStatus.DELIVERED

    @property
    def is_failure(self) -> bool:
        """Final and not delivered."""
        return self.is_final and self is not DeliveryStatus.DELIVERED


_FINAL = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.CANCELLED,
        DeliveryStatus.UNKNOWN,
        DeliveryStatus.SUPPRESSED,
    }
)


class RecipientResult(NamedTuple):
    """The outcome of a submission for one recipient (a number, or a gateway-side group/list).

    A named tuple rather than a dataclass: a bulk send builds one per recipient, and tuples are
    several times cheaper to create.
    """

    recipient: str
    accepted: bool
    code: str | None = None  # gateway code, as text
    text: str | None = None  # gateway description
    message_id: str | None = None
    batch_id: str | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: big sends convert 100,000s of these.
        return {"recipient": self.recipient, "accepted": self.accepted, "code": self.code, "text": self.text,
                "message_id": self.message_id, "batch_id": self.batch_id, "status": str(self.status)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecipientResult:
        return cls(**{**data, "status": DeliveryStatus(data.get("status", "pending"))})


def same_outcome(recipients: Iterable[str], accepted: bool, code: str | None = None, text: str | None = None,
                 message_id: str | None = None, batch_id: str | None = None,
                 status: DeliveryStatus = DeliveryStatus.PENDING) -> list[RecipientResult]:
    """One :class:`RecipientResult` per recipient, all with the same outcome (a whole request
    accepted under one batch id, or refused): what a list comprehension of ``RecipientResult(r, ...)``
    gives, built at C speed (a 5,000-recipient answer is parsed once per request).

    The list remembers that its rows share one outcome (:class:`SameOutcomeRows`) until it is changed.
    """
    fields = zip(recipients, repeat(accepted), repeat(code), repeat(text), repeat(message_id), repeat(batch_id),
                 repeat(status))
    rows = list(map(tuple.__new__, repeat(RecipientResult), fields))
    if not rows or not isinstance(recipients, list | tuple):
        return rows
    return SameOutcomeRows(rows, recipients)


class SameOutcomeRows(list[RecipientResult]):
    """Rows built by :func:`same_outcome`: ``recipients`` in order, each with the outcome of the first row.

    :attr:`recipients` is set while that holds; any change to the list through its methods clears
    it. Readers use it to skip comparing every row (the send journal keeps such an answer once, not
    per recipient). Only :func:`same_outcome` sets it, and it is not checked: do not pass
    ``recipients`` yourself, and do not change such a list by ``list``'s own functions
    (``list.append(rows, ...)``, ``heapq``), which the mark cannot see.
    """

    def __init__(self, rows: Iterable[RecipientResult] = (), recipients: Iterable[str] | None = None) -> None:
        super().__init__(rows)
        # A copy: the caller's list may change. Without recipients (a copy made by type(rows)(...),
        # as dataclasses.asdict makes one) the list is a plain one.
        self.recipients: tuple[str, ...] | None = tuple(recipients) if recipients is not None else None


def _forgetting(name: str) -> Any:
    change = getattr(list, name)

    def changed(self: SameOutcomeRows, *args: Any, **kwargs: Any) -> Any:
        self.recipients = None
        return change(self, *args, **kwargs)

    changed.__name__ = name
    return changed


for _change in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop",
                "remove", "clear", "sort", "reverse"):
    setattr(SameOutcomeRows, _change, _forgetting(_change))


def _all_accepted(results: list[RecipientResult]) -> bool:
    if isinstance(results, SameOutcomeRows) and results.recipients is not None:
        return bool(results[0].accepted)  # one outcome for every row
    return all(map(_ACCEPTED, results))  # one C pass


@dataclass
class SendResult:
    """Everything one send produced, over all its requests (chunks)."""

    gateway: str
    results: list[RecipientResult] = field(default_factory=list)
    batch_ids: list[str] = field(default_factory=list)
    background_send_ids: list[str] = field(default_factory=list)
    text_replacements: dict[str, str] = field(default_factory=dict)
    """Characters replaced to fit the GSM alphabet before sending (``{"\u2019": "'"}``), see ``replace_typographic``."""
    #: Recipients whose fate is unknown (the answer was lost, or the gateway may have acted before
    #: failing): neither accepted nor rejected, never re-sent blindly.
    in_doubt: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> list[RecipientResult]:
        return [r for r in self.results if r.accepted]

    @property
    def rejected(self) -> list[RecipientResult]:
        """Recipients the gateway (or validation) refused; suppressed ones are counted apart."""
        return [r for r in self.results if not r.accepted and r.status is not DeliveryStatus.SUPPRESSED]

    @property
    def suppressed(self) -> list[RecipientResult]:
        """Recipients not sent to because they opted out (see ``honour_opt_outs`` on the send operators)."""
        return [r for r in self.results if r.status is DeliveryStatus.SUPPRESSED]

    @property
    def recipient_count(self) -> int:
        """Recipients with an outcome (accepted or rejected; not those in doubt)."""
        return len(self.results)

    @property
    def accepted_count(self) -> int:
        return sum(1 for r in self.results if r.accepted)

    @property
    def rejected_count(self) -> int:
        return sum(1 for r in self.results if not r.accepted)

    def extend(self, other: SendResult) -> None:
        self.results.extend(other.results)
        self._extend_rest(other)

    def _extend_rest(self, other: SendResult) -> None:
        """Everything of ``other`` but its per-recipient results."""
        self.batch_ids.extend(b for b in other.batch_ids if b not in self.batch_ids)
        self.background_send_ids.extend(b for b in other.background_send_ids if b not in self.background_send_ids)
        self.text_replacements.update(other.text_replacements)
        self.in_doubt.extend(other.in_doubt)

    def to_dict(self, *, per_recipient: bool = True) -> dict[str, Any]:
        rejected = self.rejected
        suppressed = self.suppressed
        data: dict[str, Any] = {
            "gateway": self.gateway,
            "accepted_count": len(self.results) - len(rejected) - len(suppressed),
            "rejected_count": len(rejected),
            "suppressed_count": len(suppressed),
            "in_doubt_count": len(self.in_doubt),
            "in_doubt": list(self.in_doubt),
            "batch_ids": list(self.batch_ids),
            "background_send_ids": list(self.background_send_ids),
            "text_replacements": dict(self.text_replacements),
        }
        if per_recipient or not (self.batch_ids or self.background_send_ids):
            # Statuses are read per batch where there are batches; only then are ids redundant.
            data["message_ids"] = [r.message_id for r in self.results if r.accepted and r.message_id]
        else:
            data["message_ids"] = []
        if per_recipient:
            data["results"] = [r.to_dict() for r in self.results]
        else:
            data["rejected"] = [r.to_dict() for r in rejected]
            data["suppressed"] = [r.recipient for r in suppressed]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SendResult:
        return cls(
            gateway=data["gateway"],
            results=[RecipientResult.from_dict(r) for r in data.get("results", data.get("rejected", []))]
            + ([] if "results" in data else [suppressed_result(n) for n in data.get("suppressed", [])]),
            batch_ids=list(data.get("batch_ids", [])),
            background_send_ids=list(data.get("background_send_ids", [])),
            text_replacements=dict(data.get("text_replacements", {})),
            in_doubt=list(data.get("in_doubt", [])),
        )


#: ``code`` and ``text`` of the result of a recipient skipped because it opted out.
SUPPRESSED_CODE = "suppressed"
SUPPRESSED_TEXT = "not sent: the number opted out (replied with a stop word)"


def suppressed_result(recipient: str) -> RecipientResult:
    """The per-recipient result of a number skipped because it is on the suppression list."""
    return RecipientResult(recipient, False, SUPPRESSED_CODE, SUPPRESSED_TEXT, status=DeliveryStatus.SUPPRESSED)


_ACCEPTED = itemgetter(1)


@dataclass
class SendSummary(SendResult):
    """A :class:`SendResult` for big sends whose XCom keeps a summary: once more than ``keep``
    recipients have an outcome, accepted recipients are counted instead of kept (their message ids
    are kept only while the send has no batch ids, as the summary shows them only then).

    ``to_dict(per_recipient=False)`` gives exactly what the full result would; ``results`` holds
    every outcome up to ``keep`` of them and the rejected ones after that.
    """

    keep: int = 0
    folded: bool = False
    _accepted_folded: int = 0
    _message_ids: list[str] = field(default_factory=list)

    @property
    def recipient_count(self) -> int:
        return len(self.results) + self._accepted_folded

    @property
    def accepted_count(self) -> int:
        return self._accepted_folded + sum(1 for r in self.results if r.accepted)

    @property
    def accepted(self) -> list[RecipientResult]:
        """The accepted recipients still kept (all of them until the summary folds them)."""
        return [r for r in self.results if r.accepted]

    def extend(self, other: SendResult) -> None:
        self._extend_rest(other)
        results = other.results
        if not self.folded:
            self.results.extend(results)
            if len(self.results) <= self.keep:
                return
            self.folded = True
            results, self.results = self.results, []
        if self._batched and _all_accepted(results):  # a whole chunk accepted: counted at once
            self._accepted_folded += len(results)
            self._message_ids.clear()
            return
        for row in results:
            if row.accepted:
                self._accepted_folded += 1
                if row.message_id and not self._batched:
                    self._message_ids.append(row.message_id)
            else:
                self.results.append(row)
        if self._batched:
            self._message_ids.clear()

    @property
    def _batched(self) -> bool:
        return bool(self.batch_ids or self.background_send_ids)

    def to_dict(self, *, per_recipient: bool = True) -> dict[str, Any]:
        if not self.folded:
            return super().to_dict(per_recipient=per_recipient)
        if per_recipient:
            raise ValueError("the per-recipient results of this send were summarised (more than "
                             f"{self.keep} recipients)")
        data = super().to_dict(per_recipient=False)
        data["accepted_count"] += self._accepted_folded
        if not self._batched:
            data["message_ids"] = list(self._message_ids)  # the rows kept are all rejected
        return data


@dataclass(frozen=True)
class MessageStatus:
    """The current status of one message to one recipient."""

    status: DeliveryStatus
    recipient: str | None = None
    message_id: str | None = None
    batch_id: str | None = None
    code: str | None = None
    text: str | None = None

    @property
    def key(self) -> str:
        """What identifies this message for the caller: its id, else batch and recipient."""
        if self.message_id:
            return self.message_id
        return f"{self.batch_id}:{self.recipient}"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "recipient": self.recipient, "message_id": self.message_id,
                "batch_id": self.batch_id, "code": self.code, "text": self.text, "final": self.status.is_final}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageStatus:
        fields = {k: v for k, v in data.items() if k != "final"}
        return cls(**{**fields, "status": DeliveryStatus(fields["status"])})


def statuses_to_dicts(statuses: Iterable[MessageStatus]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in statuses]


@dataclass(frozen=True)
class BackgroundMessage:
    """One message of a background send (``GetBGMessages``)."""

    message_id: str
    destination: str
    status_word: str
    status: DeliveryStatus

    def to_message_status(self, background_send_id: str | None = None) -> MessageStatus:
        return MessageStatus(
            status=self.status,
            recipient=self.destination,
            message_id=self.message_id,
            batch_id=background_send_id,
            code=self.status_word,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "destination": self.destination,
            "status_word": self.status_word,
            "status": self.status.value,
            "final": self.status.is_final,
        }


@dataclass(frozen=True)
class BackgroundSend:
    """A background send (a group/list send run by the gateway): its messages, or ``finished=False`` while it runs."""

    background_send_id: str
    finished: bool
    messages: tuple[BackgroundMessage, ...] = ()

    def statuses(self) -> list[MessageStatus]:
        return [m.to_message_status(self.background_send_id) for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        return {
            "background_send_id": self.background_send_id,
            "finished": self.finished,
            "messages": [m.to_dict() for m in self.messages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackgroundSend:
        return cls(
            background_send_id=str(data["background_send_id"]),
            finished=bool(data["finished"]),
            messages=tuple(
                BackgroundMessage(
                    message_id=str(m["message_id"]),
                    destination=str(m["destination"]),
                    status_word=str(m["status_word"]),
                    status=DeliveryStatus(m["status"]),
                )
                for m in data.get("messages", ())
            ),
        )
