"""Address-book entries written among phone numbers: ``group:Name`` and ``contact:Name``.

Some gateways (Bulletin Messenger) take numbers and address-book names in one recipient list. A
name is only ever taken from an explicit prefix, so a mistyped number is reported as a bad number
and never sent as a name. The prefix is kept in what travels through the generic layers (results
name the recipient as the user wrote it); each gateway strips it on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from operator import contains

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.text import control_chars
from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = ["ADDRESS_BOOK_KINDS", "AddressBookEntry", "parse_entry", "split_address_book", "with_recipients"]

ADDRESS_BOOK_KINDS = ("group", "contact")


@dataclass(frozen=True)
class AddressBookEntry:
    """One address-book name: ``kind`` is ``group`` or ``contact``."""

    kind: str
    name: str

    @property
    def written(self) -> str:
        """The entry in its canonical written form, ``group:Name``."""
        return f"{self.kind}:{self.name}"


def parse_entry(item: str) -> AddressBookEntry | None:
    """The entry ``item`` names (prefix case-insensitive, name stripped), or None when it has no prefix."""
    head, colon, rest = item.partition(":")
    kind = head.strip().lower()
    if not colon or kind not in ADDRESS_BOOK_KINDS:
        return None
    return AddressBookEntry(kind, rest.strip())


def split_address_book(items: Iterable[str], *, field: str = "to",
                       gateway: str | None = None) -> tuple[list[str], list[AddressBookEntry]]:
    """Separate prefixed address-book entries from everything else (numbers, in order).

    Entries are de-duplicated (case-insensitively, as address books compare names).

    :raises SmsValidationError: an entry with an empty name, or one holding control characters.
    """
    items = list(items)
    if not any(map(contains, items, repeat(":"))):  # the common case, bulk lists of numbers: one C pass
        return items, []
    numbers: list[str] = []
    entries: dict[tuple[str, str], AddressBookEntry] = {}
    problems: list[Problem] = []
    append = numbers.append
    for index, item in enumerate(items):
        if ":" not in item:  # the common case, bulk lists of numbers: no parsing
            append(item)
            continue
        entry = parse_entry(item)
        if entry is None:
            numbers.append(item)
        elif not entry.name:
            problems.append(Problem(field, f"{entry.kind} name must not be empty", item, index))
        elif controls := control_chars(entry.name):
            shown = ", ".join(f"U+{ord(c):04X}" for c in controls)
            problems.append(Problem(field, f"{entry.kind} name holds control characters: {shown}", item, index))
        else:
            entries.setdefault((entry.kind, entry.name.lower()), entry)
    if problems:
        raise SmsValidationError(problems, gateway=gateway)
    return numbers, list(entries.values())


def with_recipients(template: OutgoingMessage, recipients: Sequence[str]) -> OutgoingMessage:
    """``template`` addressed to ``recipients``: numbers in ``numbers``, written entries in ``groups``.

    Numbers never hold a colon (they are normalised digits), so the split needs no parsing.
    """
    if ":" not in "".join(recipients):  # numbers only (once a chunk, so one search, not one per entry)
        return replace(template, numbers=list(recipients), groups=[])
    return replace(template, numbers=[r for r in recipients if ":" not in r],
                   groups=[r for r in recipients if ":" in r])
