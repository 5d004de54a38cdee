"""What the provider's sensors share: poke or defer with the same options, and reading XCom input."""

from __future__ import annotations

import ast
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.triggers.base import BaseTrigger

__all__ = ["RESUME_GUARD_SECONDS", "SmsDeferrableSensor", "load_xcom"]

#: The trigger of a deferred sensor polls first after this long (then every ``poke_interval``). The
#: sensor has just looked; and a trigger that fires within a second or two of the deferral races
#: Airflow's own bookkeeping: the executor's "the task process ended" report arrives while the task
#: is already queued to resume, and the scheduler fails the try ("executor reported success, but the
#: task instance is queued"; seen in real deployments on 3.1 and 3.3).
RESUME_GUARD_SECONDS = 10.0


def load_xcom(value: Any, field: str = "input") -> Any:
    """Read a rendered XCom (a JSON or Python literal string) back into data; other values pass through.

    :raises SmsValidationError: naming ``field`` when the text looks like a list or dict but is neither.
    """
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # nested too deep is "not JSON" too; literal_eval gives the error
            pass
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            from airflow_provider_sms.exceptions import Problem, SmsValidationError

            raise SmsValidationError([Problem(field, "looks like a rendered list or dict but cannot be read as one",
                                              value[:80])]) from None
    return value


class SmsDeferrableSensor(BaseSensorOperator):
    """A sensor that pokes, or (``deferrable=True``) checks once and then waits in the triggerer.

    Subclasses implement :meth:`poke` (returning a :class:`PokeReturnValue`), :meth:`trigger` and
    :meth:`conclude_event` (turning the trigger's payload into the same return value).
    """

    def __init__(self, *, sms_conn_id: str,
                 deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
                 poke_interval: float = 30.0, **kwargs: Any) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.sms_conn_id = sms_conn_id
        self.deferrable = deferrable

    def poke(self, context: Context) -> PokeReturnValue:
        raise NotImplementedError

    def trigger(self, context: Context) -> BaseTrigger:
        raise NotImplementedError

    def conclude_event(self, context: Context, event: dict[str, Any]) -> Any:
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        trigger = self.trigger(context)
        from airflow_provider_sms.triggers.base import GatewayPollingTrigger

        if isinstance(trigger, GatewayPollingTrigger):
            trigger.first_poll_after = RESUME_GUARD_SECONDS
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=float(self.timeout)) if self.timeout else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: its event becomes the task's result (or failure)."""
        if not event or event.get("status") != "done":
            text = f"waiting failed: {(event or {}).get('message', 'no event')}"
            if event and event.get("retryable"):
                raise AirflowException(text)  # the gateway kept failing for now: a task retry may do
            raise AirflowFailException(text)
        return self.conclude_event(context, event)
