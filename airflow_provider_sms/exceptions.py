"""The provider's error tree, named by what the caller should do.

Pure Python: importable from ``core/``, ``gateways/`` and the simulator without Airflow.

::

    SmsError
     ├── SmsConfigurationError        fix the connection or the call; never retried
     │    ├── SmsAuthenticationError  the gateway refused the credentials
     │    └── SmsCapabilityError      the gateway cannot do what was asked
     ├── SmsValidationError           bad input found before anything was sent (lists every problem)
     ├── SmsGatewayError              the gateway refused the request for good (credits, quota, ...)
     ├── SmsRetryableError            nothing was accepted; the same request may be sent again
     │    ├── SmsRateLimitedError     slow down first (``retry_after`` when the gateway hints)
     │    └── SmsTransientError       5xx, connect failure, "temporarily unavailable"
     ├── SmsAmbiguousError            the request may have been accepted; re-send only under a dedupe key
     └── SmsPartialFailure            some recipients accepted, some rejected (``result`` has both)

Error text never carries a credential or a whole response body: gateways put only the
gateway code and its short description into messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Problem",
    "SmsAmbiguousError",
    "SmsAuthenticationError",
    "SmsCapabilityError",
    "SmsConfigurationError",
    "SmsError",
    "SmsGatewayError",
    "SmsPartialFailure",
    "SmsRateLimitedError",
    "SmsRetryableError",
    "SmsTransientError",
    "SmsValidationError",
]


class SmsError(Exception):
    """Base class of every error raised by this provider.

    :param message: human readable text (never holds secrets).
    :param gateway: gateway name, e.g. ``"bulksms"``, when known.
    :param code: the gateway's own status or error code, when there is one.
    """

    retryable: bool = False

    def __init__(self, message: str, *, gateway: str | None = None, code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.gateway = gateway
        self.code = code

    def __str__(self) -> str:
        prefix = f"[{self.gateway}] " if self.gateway else ""
        suffix = f" (gateway code {self.code})" if self.code is not None else ""
        return f"{prefix}{self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class SmsConfigurationError(SmsError):
    """The connection or the call is wrong; retrying will not help."""


class SmsAuthenticationError(SmsConfigurationError):
    """The gateway refused the credentials."""


class SmsCapabilityError(SmsConfigurationError):
    """The gateway behind the connection cannot do what was asked."""

    def __init__(self, gateway: str, capability: str, hint: str = "") -> None:
        text = f"gateway {gateway!r} does not support {capability}"
        super().__init__(f"{text}; {hint}" if hint else text, gateway=gateway)
        self.capability = capability


@dataclass(frozen=True)
class Problem:
    """One offending input: which field, which value (or its position) and why."""

    field: str
    reason: str
    value: str | None = None
    index: int | None = None

    def __str__(self) -> str:
        where = self.field if self.index is None else f"{self.field}[{self.index}]"
        shown = f" {self.value!r}" if self.value is not None else ""
        return f"{where}{shown}: {self.reason}"


class SmsValidationError(SmsError):
    """Input was rejected before anything was sent. ``problems`` lists every offending input."""

    def __init__(self, problems: Sequence[Problem], *, gateway: str | None = None, limit: int = 20) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:limit])
        more = f"; ... and {len(self.problems) - limit} more" if len(self.problems) > limit else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} invalid input {noun}, nothing was sent: {shown}{more}", gateway=gateway)


class SmsGatewayError(SmsError):
    """The gateway refused the request for a reason retrying will not fix (credits, quota, data)."""


class SmsRetryableError(SmsError):
    """Nothing was accepted; sending the same request again is safe."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        gateway: str | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, code=code)
        self.retry_after = retry_after


class SmsRateLimitedError(SmsRetryableError):
    """The gateway asked us to slow down."""


class SmsTransientError(SmsRetryableError):
    """A temporary failure (HTTP 5xx, connect error, gateway "temporarily unavailable")."""


class SmsAmbiguousError(SmsError):
    """The request may or may not have been accepted (timeout after sending, connection dropped).

    Never re-sent blindly. ``recipients_in_doubt`` names who may or may not have been texted.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str | None = None,
        recipients_in_doubt: Sequence[str] = (),
        code: str | int | None = None,
    ) -> None:
        self.recipients_in_doubt = list(recipients_in_doubt)
        if self.recipients_in_doubt:
            sample = ", ".join(self.recipients_in_doubt[:10])
            more = "" if len(self.recipients_in_doubt) <= 10 else f" and {len(self.recipients_in_doubt) - 10} more"
            message = f"{message}; recipients in doubt: {sample}{more}"
        super().__init__(message, gateway=gateway, code=code)


class SmsPartialFailure(SmsError):
    """Some recipients were accepted and some rejected. ``result`` carries both (JSON-serialisable)."""

    def __init__(self, message: str, *, gateway: str | None = None, result: Any = None) -> None:
        super().__init__(message, gateway=gateway)
        self.result = result
