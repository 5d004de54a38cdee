"""Check the account's credit balance before a big send."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["SmsCreditCheckOperator"]


class SmsCreditCheckOperator(BaseOperator):
    """Fail (without retry) when the balance is below ``min_credits``; return the balance.

    :param sms_conn_id: SMS connection. Templated.
    :param min_credits: the least balance to go on with (e.g. recipients times parts of the coming send);
        a number of at least 0, checked before the gateway is asked. Templated.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "min_credits")

    def __init__(self, *, sms_conn_id: str, min_credits: float | str = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.min_credits = min_credits

    def execute(self, context: Context) -> float:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.operators.inputs import as_number

        with airflow_errors():
            needed = as_number(self.min_credits, "min_credits", minimum=0)
            hook = get_sms_hook(self.sms_conn_id)
            balance = hook.get_credits()
        if balance < needed:
            raise AirflowFailException(f"{hook.gateway} balance is {balance:g} credits, below the {needed:g} needed")
        self.log.info("%s balance: %g credits", hook.gateway, balance)
        return balance
