"""Turn the provider's error tree into Airflow's retry semantics in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsValidationError,
)

__all__ = ["airflow_errors", "as_airflow_error"]

# Retrying these can only repeat the failure, or (ambiguous: the gateway may have acted) do twice
# what must happen once. Operators that can resolve ambiguity themselves catch it before this.
_FATAL = (SmsConfigurationError, SmsValidationError, SmsGatewayError, SmsAmbiguousError)


def as_airflow_error(error: SmsError, *, fatal: bool | None = None) -> AirflowException:
    """``AirflowFailException`` (no task retry) for fatal errors, ``AirflowException`` otherwise."""
    if fatal is None:
        fatal = isinstance(error, _FATAL)
    cls = AirflowFailException if fatal else AirflowException
    return cls(str(error))


@contextmanager
def airflow_errors() -> Iterator[None]:
    """Re-raise provider errors as Airflow errors, keeping the original as ``__cause__``."""
    try:
        yield
    except SmsError as error:
        raise as_airflow_error(error) from error
