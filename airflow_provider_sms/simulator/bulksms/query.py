"""JSON API message queries: submission ids and the ``filter`` of ``GET /v1/messages``.

The filter follows the vendor's OpenAPI description: clauses ``name=value`` joined by ``&``
(all inside the one URL-encoded ``filter`` value, e.g. ``filter=submission.id%3D1-00000000000000012345%26id<99``);
the clauses form a conjunction; a clause with an empty value is ignored. Fields:

==================  ==========================  =================================================
field               operators                   notes
==================  ==========================  =================================================
``id``              ``=`` ``<`` ``>``           page newest-first with ``id<`` the smallest id seen
``type``            ``=``                       ``SENT``; ``RECEIVED`` matches nothing here
``submission.id``   ``=``                       as answered by ``POST /v1/messages`` (an EAPI
                                                ``batch_id`` is accepted too: one store)
``submission.date`` ``= < <= > >=``             ISO-8601 with offset
``status.type``     ``=``                       ACCEPTED, SCHEDULED, SENT, DELIVERED, FAILED...
``status.id``       ``=``                       e.g. ``FAILED.EXPIRED``
``userSuppliedId``  ``=``
==================  ==========================  =================================================

Anything else (an unknown field, an operator the field does not take, RSQL-style ``==`` or
``;``) is a 400, as the vendor answers "bad_request" for an invalid clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sms.simulator.timeutil import parse_iso_with_offset

_CLAUSE = re.compile(
    r"^(id|type|submission\.id|submission\.date|status\.type|status\.id|userSuppliedId)(<=|>=|=|<|>)(.*)$"
)
_OPERATORS = {"id": ("=", "<", ">"), "submission.date": ("=", "<", "<=", ">", ">=")}
_STATUS_ID = re.compile(r"^[A-Z]+\.[A-Za-z_]+$")
STATUS_TYPES = ("ACCEPTED", "SCHEDULED", "SENT", "DELIVERED", "UNKNOWN", "FAILED")
_SUBMISSION_ID = re.compile(r"^(?:\d+-)?(\d{1,20})$")


def format_submission_id(batch_id: int) -> str:
    """The JSON API form of a batch id, shaped like the vendor's (``1-00000000000522347562``)."""
    return f"1-{batch_id:020d}"


def parse_submission_id(text: str) -> int | None:
    """The batch id inside a JSON submission id (or a bare EAPI batch id); None if malformed."""
    match = _SUBMISSION_ID.match(text.strip())
    return int(match.group(1)) if match else None


@dataclass
class MessageFilter:
    """A parsed ``filter``: id bounds and submission pick the rows, the rest is checked per message."""

    id_low: int = 0  # inclusive
    id_high: int = 2**63  # exclusive
    submission: int | None = None
    received_only: bool = False
    equals: dict[str, str] = field(default_factory=dict)  # status.type / status.id / userSuppliedId
    dates: list[tuple[str, float]] = field(default_factory=list)

    def accepts(self, message: dict[str, Any], submitted_at: float) -> bool:
        """Whether a ``Message`` object (submitted at ``submitted_at``) passes the other clauses."""
        status = message["status"]
        actual = {"status.type": status["type"], "status.id": status["id"], "userSuppliedId": message["userSuppliedId"]}
        if any(actual[name] != value for name, value in self.equals.items()):
            return False
        return all(_compare(submitted_at, op, when) for op, when in self.dates)


def parse_filter(text: str) -> MessageFilter:
    """Parse a ``filter`` value; ValueError (with a reason) for anything the vendor would reject."""
    result = MessageFilter()
    for clause in text.split("&"):
        if not clause.strip():
            continue
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise ValueError(f"invalid filter clause {clause!r}: expected name=value, clauses joined by &")
        name, op, value = match.groups()
        if op not in _OPERATORS.get(name, ("=",)):
            raise ValueError(f"filter field {name} does not take the operator {op}")
        if value == "":
            continue  # "A value for a field is optional"
        if name == "id":
            number = _int(value, name)
            if op == "=":
                result.id_low, result.id_high = max(result.id_low, number), min(result.id_high, number + 1)
            elif op == "<":
                result.id_high = min(result.id_high, number)
            else:
                result.id_low = max(result.id_low, number + 1)
        elif name == "submission.id":
            result.submission = parse_submission_id(value)
            if result.submission is None:
                raise ValueError(f"invalid submission.id {value!r}")
        elif name == "type":
            if value not in ("SENT", "RECEIVED"):
                raise ValueError("type must be SENT or RECEIVED")
            result.received_only = value == "RECEIVED"
        elif name == "submission.date":
            try:
                result.dates.append((op, parse_iso_with_offset(value)))
            except ValueError:
                raise ValueError("submission.date must be ISO-8601 with an offset") from None
        else:
            if name == "status.type" and value not in STATUS_TYPES:
                raise ValueError(f"status.type must be one of {', '.join(STATUS_TYPES)}")
            if name == "status.id" and _STATUS_ID.match(value) is None:
                raise ValueError("status.id looks like TYPE.SUBTYPE, e.g. FAILED.EXPIRED or DELIVERED.null")
            result.equals[name] = value
    return result


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"filter field {name} needs an integer") from None


def _compare(actual: float, op: str, bound: float) -> bool:
    if op == "<":
        return actual < bound
    if op == "<=":
        return actual <= bound
    if op == ">":
        return actual > bound
    if op == ">=":
        return actual >= bound
    return abs(actual - bound) < 0.001
