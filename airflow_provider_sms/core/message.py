"""A message ready to be sent: who to, what, and the caller's options, in gateway-neutral terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = ["OutgoingMessage", "TestMode", "validity_seconds"]

TestMode = Literal["succeed", "fail"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One text to a set of recipients, as one gateway request will carry it.

    ``numbers`` are already normalised (international digits, no ``+``); ``groups`` are
    gateway-side names or ids (contacts, groups, lists) and are never parsed as numbers.
    """

    text: str
    numbers: Sequence[str] = ()
    groups: Sequence[str] = ()
    sender: str | None = None
    unicode: bool | None = None  # None: decide from the text; False: refuse non-GSM text; True: force UCS-2
    max_parts: int | None = None  # None: the gateway's default
    want_report: bool = True
    send_at: dt.datetime | None = None  # timezone-aware
    dedupe_key: int | None = None  # stable across task retries; see core.dedupe
    client_ref: str | None = None  # the caller's own id, where the gateway keeps one
    test_mode: TestMode | None = None  # gateway test flags: validate but do not deliver
    validity: int | None = None  # seconds the gateway keeps trying; None: the gateway's default
    extras: Mapping[str, str] = field(default_factory=dict)  # gateway-specific parameters, passed through

    @property
    def recipient_count(self) -> int:
        return len(self.numbers) + len(self.groups)


def validity_seconds(value: int | dt.timedelta | None) -> int | None:
    """A validity period given as whole seconds or a :class:`~datetime.timedelta`, in whole seconds.

    The range is the gateway's to check (NetMessenger: 1 to 86,400); here only the form.

    :raises SmsValidationError: not a whole number of seconds, or not an int/timedelta.
    """
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if seconds == int(seconds):
            return int(seconds)
        reason = "must be a whole number of seconds"
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    else:
        reason = f"must be whole seconds (int) or a datetime.timedelta, got {type(value).__name__}"
    raise SmsValidationError([Problem("validity", reason, str(value))])
