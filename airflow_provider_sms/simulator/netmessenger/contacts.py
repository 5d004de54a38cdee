"""A NetMessenger address book: contacts, the groups they belong to, and ``ImportContactsCSV``.

Contacts are columns, not objects (a million contacts must fit comfortably, about 100 bytes
each): names and emails in :class:`~.columns.TextColumn` buffers, numbers in an
``array('q')``, each contact's groups as the index of an interned tuple of group ids (so a million
contacts of the same group share one tuple). Two array-backed hash indexes find duplicates by
number and by name. A group keeps the ids of the contacts that joined it (joining order; contact order once
rebuilt); operations that take contacts out of groups only mark the groups stale, and the next
read rebuilds their member lists in one pass over the contacts.

Import rules (the vendor page plus the choices the page leaves open):

* one result line ``"<n> : <result>"`` per CSV record (``csv`` quoting allowed, no header,
  ``name,number,email,group1,group2,group3``; further columns are ignored);
* ``Failed`` when the name is blank (``No name``) - a blank line is a record without a name -
  else when the number is no international number (``Invalid number (<as given>)``); only the
  first reason is given;
* a number already in the book answers ``Duplicate Number``, else a name already in the book
  ``Duplicate Name``; nothing is stored for them;
* ``IgnoreDupes=1``: the page says the system then "will allow duplicate contacts (name or number)
  to be created", so the duplicate is created as another contact and answers ``Success``;
* ``OverwriteDupes=1`` (wins over ``IgnoreDupes``): a duplicate number overwrites that contact
  (name, email and groups replaced) and answers ``Success``; a duplicate name with another number
  creates a new contact, as the page says;
* groups named in columns 4-6 are created on the fly; a group name longer than 50 characters
  cannot be created, so the contact is stored without it and the line answers ``Partial`` with
  the detail ``Group name too long (<name>)``;
* when any line is ``Partial`` or ``Failed``, the result lines are followed by one empty line
  (the page's prose: "there will be a blank line, followed by text with details"; its example
  as captured shows two) and one detail line ``<n> : <reason>`` per problem, in line order;
  every line ends with ``\\n``.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from airflow_provider_sms.simulator.netmessenger.columns import IntIndex, TextColumn
from airflow_provider_sms.simulator.netmessenger.text import normalize_number

MAX_GROUP_NAME = 50
#: Groups per import line (columns 4-6); contacts never hold more, so exports fit the same layout.
MAX_GROUPS_PER_CONTACT = 3
SUCCESS = "Success"
PARTIAL = "Partial"
FAILED = "Failed"
DUPLICATE_NAME = "Duplicate Name"
DUPLICATE_NUMBER = "Duplicate Number"


@dataclass(slots=True)
class Group:
    """A contact group: its id, name and member contact ids (joining order)."""

    group_id: int
    name: str
    members: array[int] = field(default_factory=lambda: array("I"))


@dataclass(frozen=True, slots=True)
class ContactColumns:
    """The first ``count`` contacts, frozen for export while the book keeps changing.

    The column lists are the book's own (an import appends beyond ``count``, an overwrite
    changes a row in place, deleting everything swaps in new lists), so no copy is needed.
    """

    count: int
    names: TextColumn
    numbers: array[int]
    emails: TextColumn
    groups_of: array[int]
    group_sets: list[tuple[int, ...]]
    group_names: dict[int, str]

    def rows(self, start: int, stop: int) -> Iterator[tuple[str, int, str, tuple[str, ...]]]:
        """``(name, number, email, group names)`` of contacts ``start`` to ``stop``."""
        names, numbers, emails, groups_of, sets, group_names = (
            self.names,
            self.numbers,
            self.emails,
            self.groups_of,
            self.group_sets,
            self.group_names,
        )
        for i in range(start, min(stop, self.count)):
            yield names[i], numbers[i], emails[i], tuple(group_names.get(g, "") for g in sets[groups_of[i]])


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact as handed to callers (storage is columnar)."""

    contact_id: int
    name: str
    number: str
    email: str
    groups: tuple[str, ...]


class AddressBook:
    """Contacts and groups of one account. Not locked: the owning state serialises access."""

    def __init__(self) -> None:
        self._clear_contacts()
        self._clear_groups()
        self._next_group_id = 1

    def _clear_contacts(self) -> None:
        # New objects rather than emptied ones: exports in progress keep their snapshot.
        self._names = TextColumn()
        self._numbers: array[int] = array("q")
        self._emails = TextColumn()
        self._groups_of: array[int] = array("I")  # index into _group_sets
        self._by_number = IntIndex()
        self._by_name = IntIndex()

    def _clear_groups(self) -> None:
        self._groups: dict[str, Group] = {}
        self._group_names: dict[int, str] = {}
        self._group_sets: list[tuple[int, ...]] = [()]
        self._set_ids: dict[tuple[int, ...], int] = {(): 0}
        # Groups whose member arrays may list contacts that left them (rebuilt on read).
        self._stale: set[int] = set()

    # -- import -----------------------------------------------------------------------------------

    def import_csv(self, text: str, *, ignore_dupes: bool, overwrite_dupes: bool) -> str:
        """Import ``ContactsCSV`` and write the vendor's answer (see the module docstring)."""
        results: list[str] = []
        details: list[str] = []
        for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            result, reasons = self._import_row(row, ignore_dupes=ignore_dupes, overwrite_dupes=overwrite_dupes)
            results.append(f"{line_no} : {result}")
            details.extend(f"{line_no} : {reason}" for reason in reasons)
        answer = "\n".join(results) + "\n"
        if details:
            answer += "\n" + "\n".join(details) + "\n"
        return answer

    def _import_row(self, row: Sequence[str], *, ignore_dupes: bool, overwrite_dupes: bool) -> tuple[str, list[str]]:
        name = row[0].strip() if row else ""
        if not name:
            return FAILED, ["No name"]
        raw_number = row[1].strip() if len(row) > 1 else ""
        number = normalize_number(raw_number)
        if number is None:
            return FAILED, [f"Invalid number ({raw_number})"]
        email = row[2].strip() if len(row) > 2 else ""
        group_names = [g.strip() for g in row[3 : 3 + MAX_GROUPS_PER_CONTACT] if g.strip()]
        existing = self._by_number.find(number)
        if existing is not None and overwrite_dupes:
            problems = self._overwrite(existing, name, email, group_names)
        elif existing is not None and not ignore_dupes:
            return DUPLICATE_NUMBER, []
        elif not (ignore_dupes or overwrite_dupes) and self._find_name(name) is not None:
            return DUPLICATE_NAME, []
        else:
            problems = self._create(name, number, email, group_names)
        return (PARTIAL if problems else SUCCESS), problems

    # -- contacts ---------------------------------------------------------------------------------

    def add(self, name: str, number: str, email: str = "", groups: Iterable[str] = ()) -> int:
        """Add one contact (control API); ValueError for what an import would refuse."""
        digits = normalize_number(number)
        if not name.strip() or digits is None:
            raise ValueError(f"contact needs a name and an international number, got {name!r}, {number!r}")
        names = [g.strip() for g in groups if g.strip()]
        if len(names) > MAX_GROUPS_PER_CONTACT or any(len(g) > MAX_GROUP_NAME for g in names):
            raise ValueError(f"at most {MAX_GROUPS_PER_CONTACT} groups of at most {MAX_GROUP_NAME} characters")
        self._create(name.strip(), digits, email.strip(), names)
        return len(self._numbers) - 1

    def _find_name(self, name: str) -> int | None:
        names = self._names
        return self._by_name.find(hash(name), lambda contact_id: names[contact_id] == name)

    def _index_name(self, name: str, contact_id: int) -> None:
        if self._find_name(name) is None:
            self._by_name.add(hash(name), contact_id)

    def _create(self, name: str, number: int, email: str, group_names: list[str]) -> list[str]:
        contact_id = len(self._numbers)
        self._names.append(name)
        self._numbers.append(number)
        self._emails.append(email)
        if self._by_number.find(number) is None:
            self._by_number.add(number, contact_id)
        self._index_name(name, contact_id)
        group_ids, problems = self._resolve_groups(group_names)
        self._groups_of.append(self._intern(group_ids))
        for group_id in group_ids:
            self._groups[self._group_names[group_id]].members.append(contact_id)
        return problems

    def _overwrite(self, contact_id: int, name: str, email: str, group_names: list[str]) -> list[str]:
        self._names.set(contact_id, name)
        self._emails.set(contact_id, email)
        self._index_name(name, contact_id)
        group_ids, problems = self._resolve_groups(group_names)
        old = self._group_sets[self._groups_of[contact_id]]
        self._groups_of[contact_id] = self._intern(group_ids)
        self._stale.update(g for g in old if g not in group_ids)
        for group_id in group_ids:
            if group_id not in old:
                self._groups[self._group_names[group_id]].members.append(contact_id)
        return problems

    def _resolve_groups(self, group_names: list[str]) -> tuple[tuple[int, ...], list[str]]:
        ids: list[int] = []
        problems: list[str] = []
        for name in group_names:
            if len(name) > MAX_GROUP_NAME:
                problems.append(f"Group name too long ({name})")
                continue
            group_id = self._group(name).group_id
            if group_id not in ids:
                ids.append(group_id)
        return tuple(ids), problems

    def _group(self, name: str) -> Group:
        group = self._groups.get(name)
        if group is None:
            group = Group(self._next_group_id, name)
            self._next_group_id += 1
            self._groups[name] = group
            self._group_names[group.group_id] = name
        return group

    def _intern(self, group_ids: tuple[int, ...]) -> int:
        set_id = self._set_ids.get(group_ids)
        if set_id is None:
            set_id = self._set_ids[group_ids] = len(self._group_sets)
            self._group_sets.append(group_ids)
        return set_id

    def __len__(self) -> int:
        return len(self._numbers)

    def contacts(self) -> Iterator[Contact]:
        """Every contact, in creation order."""
        for contact_id in range(len(self._numbers)):
            yield self.contact(contact_id)

    def columns(self) -> ContactColumns:
        """A snapshot to export from (see :class:`ContactColumns`)."""
        return ContactColumns(
            len(self._numbers),
            self._names,
            self._numbers,
            self._emails,
            self._groups_of,
            self._group_sets,
            dict(self._group_names),
        )

    def contact(self, contact_id: int) -> Contact:
        """One contact by id."""
        return Contact(
            contact_id,
            self._names[contact_id],
            str(self._numbers[contact_id]),
            self._emails[contact_id],
            tuple(self._group_names[g] for g in self._group_sets[self._groups_of[contact_id]]),
        )

    # -- groups -----------------------------------------------------------------------------------

    def group_names(self) -> list[str]:
        """Group names in creation order."""
        return list(self._groups)

    def group_numbers(self, name: str) -> list[int] | None:
        """Numbers of a group's members, joining order, each number once; None for an unknown group."""
        group = self._groups.get(name)
        if group is None:
            return None
        self._refresh()
        numbers = self._numbers
        return list(dict.fromkeys(numbers[c] for c in group.members))

    def groups(self) -> list[tuple[int, str, int]]:
        """``(group_id, name, member count)`` of every group."""
        self._refresh()
        return [(g.group_id, g.name, len(g.members)) for g in self._groups.values()]

    def empty_group(self, name: str) -> bool:
        """Take every contact out of a group (they stay contacts); False when unknown."""
        group = self._groups.get(name)
        if group is None:
            return False
        self._drop_group_from_contacts(group.group_id)
        group.members = array("I")
        return True

    def delete_group(self, name: str) -> bool:
        """Delete a group (its members stay contacts); False when unknown."""
        if not self.empty_group(name):
            return False
        group = self._groups.pop(name)
        del self._group_names[group.group_id]
        self._stale.discard(group.group_id)
        return True

    def delete_all_contacts(self) -> None:
        """Remove every contact; groups stay, empty."""
        self._clear_contacts()
        for group in self._groups.values():
            group.members = array("I")
        self._stale.clear()

    def delete_all_groups(self) -> None:
        """Remove every group; contacts stay, in no group."""
        self._clear_groups()
        self._groups_of = array("I", bytes(4 * len(self._numbers)))

    def _drop_group_from_contacts(self, group_id: int) -> None:
        group = self._groups[self._group_names[group_id]]
        self._refresh()
        groups_of, sets = self._groups_of, self._group_sets
        for contact_id in group.members:
            groups_of[contact_id] = self._intern(tuple(g for g in sets[groups_of[contact_id]] if g != group_id))

    def _refresh(self) -> None:
        """Rebuild the member lists of stale groups in one pass over the contacts."""
        if not self._stale:
            return
        stale = {self._group_names[g]: array("I") for g in self._stale if g in self._group_names}
        by_id = {self._groups[name].group_id: members for name, members in stale.items()}
        sets = self._group_sets
        for contact_id, set_id in enumerate(self._groups_of):
            for group_id in sets[set_id]:
                members = by_id.get(group_id)
                if members is not None:
                    members.append(contact_id)
        for name, members in stale.items():
            self._groups[name].members = members
        self._stale.clear()
