"""Destructive address-book operations: empty or delete a group, delete all contacts or all groups.

Each needs ``confirm`` set to the action's own name, so a copied task whose action was changed
does not run by accident, and each says what it removed (counted from the address book first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.hooks.base import SmsHook

__all__ = ["AddressBookAction", "SmsAddressBookCleanupOperator"]

AddressBookAction = Literal["empty_group", "delete_group", "delete_all_contacts", "delete_all_groups"]
_ACTIONS = ("empty_group", "delete_group", "delete_all_contacts", "delete_all_groups")


def _column(header: Sequence[str], *names: str) -> int | None:
    lowered = [h.strip().lower().replace(" ", "") for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def _group_members(hook: SmsHook, group: str) -> int:
    """How many contacts are in ``group`` (reading the contacts list as a stream)."""
    header, rows = hook.iter_report("contacts")
    group_columns = [i for i, h in enumerate(header) if "group" in h.lower()]
    wanted = group.strip().lower()
    count = 0
    for row in rows:
        cells = [row[i] for i in group_columns if i < len(row)]
        names = {n.strip().lower() for cell in cells for n in cell.split(";")}
        count += wanted in names
    return count


def _count_rows(hook: SmsHook, kind: str) -> tuple[int, list[str]]:
    """How many entries a listing has, and (for groups) their names."""
    header, rows = hook.iter_report(kind)
    name_at = _column(header, "name", "groupname", "group")
    count = 0
    names: list[str] = []
    for row in rows:
        count += 1
        if kind == "groups" and name_at is not None and name_at < len(row) and len(names) < 1000:
            names.append(row[name_at])
    return count, names


class SmsAddressBookCleanupOperator(BaseOperator):
    """Empty or delete a group, or delete every contact or every group, on the gateway's address book.

    :param sms_conn_id: SMS connection. Templated.
    :param action: ``empty_group``, ``delete_group``, ``delete_all_contacts`` or ``delete_all_groups``.
    :param group: the group, for ``empty_group``/``delete_group``. Templated.
    :param confirm: must equal ``action`` (e.g. ``confirm="delete_all_contacts"``): nothing is removed otherwise.
    :return: ``{"action", "group", "removed": {"contacts": n} or {"groups": n, "names": [...]}}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "group")
    ui_color = "#ffebee"

    def __init__(self, *, sms_conn_id: str, action: AddressBookAction, group: str | None = None,
                 confirm: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if action not in _ACTIONS:
            raise ValueError(f"action must be one of {_ACTIONS}, got {action!r}")
        self.sms_conn_id = sms_conn_id
        self.action = action
        self.group = group
        self.confirm = confirm

    def _check_group(self) -> None:
        """The group is one name: text without control characters (refused naming it, nothing removed)."""
        from airflow_provider_sms.exceptions import Problem, SmsValidationError
        from airflow_provider_sms.operators.inputs import as_names

        if not isinstance(self.group, str) or not self.group.strip():
            kind = "nothing" if self.group is None else f"a {type(self.group).__name__}"
            raise SmsValidationError([Problem("group", f"{self.action} needs a group name (text), got {kind}",
                                              None if self.group is None else str(self.group)[:80])])
        as_names([self.group], "group")  # control characters refused

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.hooks.capabilities import Capability

        if self.confirm != self.action:
            raise AirflowFailException(f"{self.action} removes data for good: set confirm={self.action!r} to run it")
        needs_group = self.action in ("empty_group", "delete_group")
        with airflow_errors():
            if needs_group:
                self._check_group()
            hook = get_sms_hook(self.sms_conn_id)
            hook.require(Capability.ADDRESS_BOOK)
            removed: dict[str, Any]
            if self.action == "delete_all_contacts":
                removed = {"contacts": _count_rows(hook, "contacts")[0]}
                hook.delete_all_contacts()
            elif self.action == "delete_all_groups":
                count, names = _count_rows(hook, "groups")
                removed = {"groups": count, "names": names}
                hook.delete_all_groups()
            else:
                group = str(self.group).strip()
                removed = {"contacts": _group_members(hook, group)}
                if self.action == "empty_group":
                    hook.empty_group(group)
                else:
                    removed["groups"] = 1
                    hook.delete_group(group)
        self.log.warning("%s on %s removed %s", self.action, hook.gateway, removed)
        return {"action": self.action, "group": self.group if needs_group else None, "removed": removed}
