"""Child accounts and credit transfers between accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["SmsCreateSubAccountOperator", "SmsTransferCreditsOperator"]


class SmsCreateSubAccountOperator(BaseOperator):
    """Create a child account under the connection's account (NetMessenger ``CreateUser``).

    :param sms_conn_id: SMS connection. Templated.
    :param username: the child's user name. Templated.
    :param password: the child's password. Not templated (rendered fields are stored in the metadata
        DB), masked in logs, never returned. Pass it from a secrets backend at run time, e.g. build
        the operator inside a ``@task`` that reads ``Variable.get(...)``, not at DAG parse time.
    :param details: gateway-specific fields: ``first_name``, ``last_name``, ``email``, ``credits``,
        ``access_level`` (``Normal``/``Admin``), ``telephone``, ``credit_reminder``, ``alert``. Templated.
    :return: ``{"username", "created": True}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "username", "details")
    template_fields_renderers = {"details": "json"}

    def __init__(self, *, sms_conn_id: str, username: str, password: str, details: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.username = username
        self.password = password
        self.details = details or {}

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import mask_secret

        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook

        mask_secret(self.password)
        details = dict(self.details)
        for name in ("credits", "credit_reminder", "alert"):  # templated values render as text
            if isinstance(details.get(name), str) and str(details[name]).strip().lstrip("-").isdigit():
                details[name] = int(details[name])
        with airflow_errors():
            get_sms_hook(self.sms_conn_id).create_sub_account(self.username, self.password, **details)
        self.log.info("created child account %s", self.username)
        return {"username": self.username, "created": True}


class SmsTransferCreditsOperator(BaseOperator):
    """Move credits to a child account (negative ``quantity`` takes them back).

    Not retried after a lost answer (the transfer may have happened): check the balances first.

    :param sms_conn_id: SMS connection. Templated.
    :param child_username: the child account. Templated.
    :param quantity: whole credits (a whole number, or its text); anything else fails before any call. Templated.
    :return: ``{"child_username", "quantity"}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "child_username", "quantity")

    def __init__(self, *, sms_conn_id: str, child_username: str, quantity: int | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.child_username = child_username
        self.quantity = quantity

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.operators.inputs import as_number

        with airflow_errors():
            quantity = int(as_number(self.quantity, "quantity", whole=True))
            get_sms_hook(self.sms_conn_id).transfer_credits(self.child_username, quantity)
        self.log.info("moved %d credits to %s", quantity, self.child_username)
        return {"child_username": self.child_username, "quantity": quantity}
