"""What both BulkSMS APIs share: credentials, result pages, input rules and safe error text.

The EAPI and the JSON API differ in wire format but enforce the same account-level rules
(sender id, ``source_id``/``userSuppliedId`` length, dedupe id range, one recipient list per
request), so those checks live here once, in :class:`BulkSmsApiBase`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import MessageStatus
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsCapabilityError,
    SmsError,
    SmsRetryableError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import (
    ERROR_TEXT_LIMIT,
    decode_body,
    header,
    parse_retry_after,
    preview,
    scrub,
    secret_forms,
)
from airflow_provider_sms.gateways.checks import number_problems
from airflow_provider_sms.gateways.http import HttpResponse

__all__ = [
    "DEDUPE_KEY_MAX",
    "ERROR_TEXT_LIMIT",
    "GATEWAY",
    "BulkSmsApiBase",
    "BulkSmsCredentials",
    "StatusPage",
    "decode_body",
    "header",
    "parse_retry_after",
    "preview",
]

GATEWAY = "bulksms"

DEDUPE_KEY_MAX = 2_147_483_647
"""Largest ``stop_dup_id`` (EAPI) / ``deduplication-id`` (JSON, int32); both start at 1."""

_ALNUM_SENDER_MAX = 11
_NUMERIC_SENDER_MAX = 15
_CLIENT_REF_MAX = 20


@dataclass(frozen=True)
class BulkSmsCredentials:
    """A BulkSMS username and password (or JSON API token id and secret). ``repr`` hides the password."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class StatusPage:
    """One answer of a status query.

    :param next_cursor: pass it back to ``status_request`` for the next page; ``None`` when the
        answer was complete.
    """

    statuses: list[MessageStatus]
    next_cursor: str | None = None


def _has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


class BulkSmsApiBase:
    """Shared behaviour of :class:`BulkSmsEapi` and :class:`BulkSmsJsonApi`.

    Subclasses set :attr:`api`, the part limits and :attr:`numeric_sender_min`, and add their own
    checks in ``check``.
    """

    gateway: str = GATEWAY
    api: str = ""
    api_label: str = ""
    """How error text names the API, e.g. "BulkSMS EAPI"."""
    max_parts_default: int = 1
    max_parts_limit: int = 1
    numeric_sender_min: int = 1
    """Fewest digits of a numeric sender id."""
    numeric_group_ids: bool = True
    """True when groups must be given by numeric id (EAPI ``dest_group_id``)."""

    def __init__(self, credentials: BulkSmsCredentials) -> None:
        self._credentials = credentials
        # Derived once: every encoding of the password (and the Basic value), then the username.
        self._secret_forms = (*secret_forms([credentials.password],
                                            basic_auth=(credentials.username, credentials.password)),
                              credentials.username)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(username={self._credentials.username!r})"

    # ---------------------------------------------------------------- input rules

    def max_parts_for(self, message: OutgoingMessage) -> int:
        """The part limit that applies to ``message``: its own, else this API's default."""
        return message.max_parts or self.max_parts_default

    def _text_max_parts(self, message: OutgoingMessage) -> int:
        # An out-of-range max_parts is reported as its own problem; the text is then measured
        # against the nearest valid value so its problems are still listed in the same error.
        return min(max(self.max_parts_for(message), 1), self.max_parts_limit)

    def _common_problems(self, message: OutgoingMessage, *, recipients: bool = True) -> list[Problem]:
        """Problems every BulkSMS API rejects, in the order a reader of the message meets them.

        :param recipients: False when the recipients come from elsewhere (EAPI send_batch rows).
        """
        if message.validity is not None:
            # Neither send_sms nor SubmissionEntry has a validity field: ignoring it would deliver
            # after the time the caller asked for.
            raise SmsCapabilityError(self.gateway, "validity", f"the {self.api_label} has no validity-period "
                                     "parameter; leave validity unset")
        problems: list[Problem] = []
        if recipients:
            problems += self._recipient_problems(message.numbers, message.groups)
        problems += self._sender_problems(message.sender)
        if message.client_ref is not None:
            ref = message.client_ref
            if not ref.strip():
                problems.append(Problem("client_ref", "must not be empty", ref))
            elif len(ref) > _CLIENT_REF_MAX:
                problems.append(Problem("client_ref", f"at most {_CLIENT_REF_MAX} characters, got {len(ref)}", ref))
            elif _has_control_chars(ref):
                problems.append(Problem("client_ref", "must not contain control characters", ref))
        problems += self._dedupe_problems(message.dedupe_key)
        if message.max_parts is not None and not 1 <= message.max_parts <= self.max_parts_limit:
            reason = f"must be between 1 and {self.max_parts_limit} for the {self.api_label}"
            problems.append(Problem("max_parts", reason, str(message.max_parts)))
        if message.send_at is not None and message.send_at.utcoffset() is None:
            # The EAPI's send_time is in the account's time zone, which we cannot know; a naive
            # datetime would be guessed one way or the other. Refuse instead.
            problems.append(Problem("send_at", "must be timezone-aware", message.send_at.isoformat()))
        for key, value in message.extras.items():
            if not isinstance(value, str):
                problems.append(Problem("extras", f"value must be a string, got {type(value).__name__}", key))
        return problems

    def _recipient_problems(self, numbers: Sequence[str], groups: Sequence[str]) -> list[Problem]:
        problems: list[Problem] = []
        if not numbers and not groups:
            problems.append(Problem("recipients", "at least one number or group is needed"))
        problems += number_problems(numbers)
        seen: set[str] = set()
        for index, group in enumerate(groups):
            if not group.strip():
                problems.append(Problem("groups", "must not be empty", group, index))
            elif self.numeric_group_ids and not (group.isascii() and group.isdigit()):
                problems.append(Problem("groups", f"the {self.api_label} takes numeric group ids only", group, index))
            elif group in seen:
                problems.append(Problem("groups", "duplicate group", group, index))
            seen.add(group)
        return problems

    def _sender_problems(self, sender: str | None) -> list[Problem]:
        if sender is None:
            return []
        digits = sender[1:] if sender.startswith("+") else sender
        if not sender.strip():
            return [Problem("sender", "must not be empty", sender)]
        if digits.isascii() and digits.isdigit():
            # A numeric sender is a phone number: it may be longer than the 11 characters of an
            # alphanumeric sender id.
            low, high = self.numeric_sender_min, _NUMERIC_SENDER_MAX
            if not low <= len(digits) <= high:
                span = f"at most {high}" if low <= 1 else f"{low} to {high}"
                return [Problem("sender", f"a numeric sender has {span} digits, got {len(digits)}", sender)]
            return []
        if len(sender) > _ALNUM_SENDER_MAX:
            reason = f"an alphanumeric sender has at most {_ALNUM_SENDER_MAX} characters, got {len(sender)}"
            return [Problem("sender", reason, sender)]
        if _has_control_chars(sender):
            return [Problem("sender", "must not contain control characters", sender)]
        return []

    @staticmethod
    def _dedupe_problems(key: int | None) -> list[Problem]:
        if key is None or (not isinstance(key, bool) and isinstance(key, int) and 1 <= key <= DEDUPE_KEY_MAX):
            return []
        return [Problem("dedupe_key", f"must be an integer from 1 to {DEDUPE_KEY_MAX}", str(key))]

    def _unprotected_server_error(self, response: HttpResponse, message: OutgoingMessage) -> None:
        """A 5xx (or timeout status) to a send without a dedupe id may hide an accepted send: raise it
        as ambiguous so it is never blindly repeated. With a dedupe id, a repeat is harmless and the
        caller's transient handling (retry) applies."""
        status = response.status
        if message.dedupe_key is None and message.test_mode is None and (status >= 500 or status in (408, 425)):
            raise SmsAmbiguousError(
                f"send answered HTTP {status}; it may have been accepted, and it carries no dedupe id",
                gateway=self.gateway, recipients_in_doubt=[*message.numbers, *message.groups])

    def _raise_problems(self, problems: Iterable[Problem]) -> None:
        found = list(problems)
        if found:
            raise SmsValidationError(found, gateway=self.gateway)

    # ---------------------------------------------------------------- safe error text

    def safe_text(self, text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
        """Gateway text made fit for an error message: credentials replaced by ``***``, one
        line, at most ``limit`` characters.

        Scrubbing runs before cutting, so a secret cut in half at the limit cannot leak a prefix.
        """
        return scrub(text, self._secret_forms, limit)

    def _error(
        self,
        cls: type[SmsError],
        message: str,
        *,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> SmsError:
        if issubclass(cls, SmsRetryableError):
            return cls(message, gateway=self.gateway, code=code, retry_after=retry_after)
        return cls(message, gateway=self.gateway, code=code)
