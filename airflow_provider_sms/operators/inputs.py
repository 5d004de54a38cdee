"""Reading operator arguments strictly: every bad value is a :class:`SmsValidationError` naming the field and the limit.

Operator arguments arrive as Python values, rendered templates (always strings) or XComs. What can
be read unambiguously is read; anything else is refused before anything is sent, never guessed:
a dict is not a list of numbers, a float is not a phone number, a time without a zone is not a time.
Validation errors are fatal for Airflow (``AirflowFailException``, no retry).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_sms.exceptions import Problem, SmsValidationError

if TYPE_CHECKING:
    from airflow_provider_sms.core.message import OutgoingMessage
    from airflow_provider_sms.hooks.base import SmsHook

__all__ = [
    "MAX_GROUPS",
    "MAX_RECIPIENTS",
    "XCOM_RESULTS",
    "as_datetime",
    "as_items",
    "as_mapping",
    "as_names",
    "as_number",
    "check_send_options",
    "fit_to_alphabet",
    "mms_option_problems",
    "send_option_problems",
]

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 1_000_000
"""Most recipients one send task takes (a bigger list is almost always a wrong XCom)."""
MAX_GROUPS = 1_000
"""Most groups one group send takes."""
XCOM_RESULTS = ("auto", "per_recipient", "summary")
_TEST_MODES = (None, "succeed", "fail")
_ITEM_TYPES = "a string, a whole number, or a list/tuple of them"


def _type(value: Any) -> str:
    return type(value).__name__


def _fail(field: str, reason: str, value: Any = None, index: int | None = None) -> SmsValidationError:
    shown = None if value is None else str(value)[:80]
    return SmsValidationError([Problem(field, reason, shown, index)])


def _parse_rendered_list(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # nested too deep is "not JSON" too; literal_eval gives the error
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise _fail(field, "looks like a rendered list but cannot be read as one", text) from None


def _item_problem(item: Any) -> str | None:
    if isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)):
        return None
    if isinstance(item, float):
        return "a float loses digits; write numbers as strings"
    return f"entries must be strings or whole numbers, got a {_type(item)}"


def as_items(value: Any, field: str = "to", *, max_items: int = MAX_RECIPIENTS) -> list[str] | str:
    """Read recipients (or groups): a list/tuple, a comma/semicolon/newline separated string, a
    whole number, or a rendered XCom list (``"['4477...', ...]"``).

    :raises SmsValidationError: naming ``field``: any other type (a dict, a set, ``None``, a float,
        a bool), an entry that is not a string or whole number, more than ``max_items`` entries.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            raise _fail(field, f"a rendered mapping is not a list; give {_ITEM_TYPES}", text)
        if not text.startswith("["):
            return text
        value = _parse_rendered_list(text, field)
        if not isinstance(value, list | tuple):
            raise _fail(field, f"must be {_ITEM_TYPES}, got a rendered {_type(value)}", text)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Sequence):
        raise _fail(field, f"must be {_ITEM_TYPES}, got a {_type(value)}")
    items = value if type(value) is list else list(value)  # not copied: read, never changed
    if len(items) > max_items:
        raise _fail(field, f"at most {max_items:,} entries per task, got {len(items):,}")
    if list(map(type, items)).count(str) == len(items):  # the bulk case, in C passes (half the time of all())
        return items
    problems = [Problem(field, reason, str(item)[:80], index)
                for index, item in enumerate(items) if (reason := _item_problem(item)) is not None]
    if problems:
        raise SmsValidationError(problems)
    return [str(item) for item in items]


def as_names(value: Any, field: str = "group", *, max_items: int = MAX_GROUPS) -> list[str]:
    """Gateway-side names (groups, lists, subscriber references) from :func:`as_items`, split and
    de-duplicated in order. A name is one line of text: control characters (tab included) are
    refused naming the entry, as they would reach the gateway as part of the name.
    """
    from airflow_provider_sms.core.recipients import split_recipients

    names = list(dict.fromkeys(split_recipients(as_items(value, field, max_items=max_items))))
    problems = [Problem(field, "a name must not hold control characters: "
                               + ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(_NAME_CONTROL.findall(name))),
                        name[:80], index)
                for index, name in enumerate(names) if _NAME_CONTROL.search(name)]
    if problems:
        raise SmsValidationError(problems)
    return names


_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def as_datetime(value: Any, field: str = "send_at") -> dt.datetime | None:
    """Read a date and time: a timezone-aware ``datetime`` or an ISO 8601 string with an offset.

    A time without a zone is refused, whether a naive ``datetime`` or a string such as
    ``2027-06-01T09:00:00``: the gateways read times in the account's zone and a guess sends texts
    at the wrong hour. ``None`` and ``""`` mean "not given".

    :raises SmsValidationError: naming ``field``: unparseable text, no offset, another type.
    """
    if value is None or value == "":
        return None
    example = "e.g. 2027-06-01T09:00:00+01:00 or 2027-06-01T08:00:00Z"
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail(field, f"is not an ISO 8601 date and time ({example})", value) from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise _fail(field, f"must be a timezone-aware datetime or an ISO 8601 string ({example}), "
                           f"got a {_type(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _fail(field, f"must be timezone-aware: add a UTC offset ({example}) or use "
                           "pendulum.datetime(..., tz='Europe/London')", value)
    return parsed


def as_number(value: Any, field: str, *, minimum: float | None = None, whole: bool = False) -> float:
    """Read a number given as a number or as text (templated fields render to text).

    :raises SmsValidationError: naming ``field``: not a number, not whole when ``whole``, below ``minimum``.
    """
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(field, f"must be {kind}, got a {_type(value)}")
    try:
        number = float(value)
    except ValueError:
        raise _fail(field, f"must be {kind}", value) from None
    if number != number or number in (float("inf"), float("-inf")) or (whole and not number.is_integer()):
        raise _fail(field, f"must be {kind}", value)
    if minimum is not None and number < minimum:
        raise _fail(field, f"must be at least {minimum:g}", value)
    return number


def as_mapping(value: Any, field: str) -> Mapping[str, Any]:
    """A mapping given as a dict or a rendered one (templated fields render to text).

    :raises SmsValidationError: naming ``field`` for anything else.
    """
    from airflow_provider_sms.sensors.base import load_xcom

    value = load_xcom(value, field) if isinstance(value, str) else value
    if not isinstance(value, Mapping):
        raise _fail(field, f"must be a mapping (a dict), got a {_type(value)}")
    return value


def _bool_problem(field: str, value: Any, *, optional: bool = False) -> list[Problem]:
    if isinstance(value, bool) or (optional and value is None):
        return []
    allowed = "True, False or None" if optional else "True or False"
    return [Problem(field, f"must be {allowed}, got a {_type(value)}", str(value)[:80])]


def _optional_text_problem(field: str, value: Any, hint: str = "") -> list[Problem]:
    if value is None or isinstance(value, str):
        return []
    return [Problem(field, f"must be text, got a {_type(value)}{hint}", str(value)[:80])]


def _control_problem(field: str, value: Any) -> list[Problem]:
    """Control characters in text that goes to the gateway as it is (refused on every gateway)."""
    from airflow_provider_sms.core.text import control_chars

    controls = control_chars(value) if isinstance(value, str) else ()
    if not controls:
        return []
    return [Problem(field, "control characters are not allowed: " + ", ".join(f"U+{ord(c):04X}" for c in controls),
                    value[:80])]


def _extras_problems(extras: Any) -> list[Problem]:
    if not isinstance(extras, Mapping):
        return [Problem("extras", f"must be a mapping of parameter names to values, got a {_type(extras)}")]
    problems = [Problem("extras", f"values must be strings or numbers, got a {_type(v)}", str(k))
                for k, v in extras.items()
                if not isinstance(k, str) or not isinstance(v, str | int | float) or isinstance(v, bool)]
    for key, value in extras.items():
        problems += _control_problem(f"extras.{key}", key) + _control_problem(f"extras.{key}", value)
    return problems


def send_option_problems(op: Any) -> list[Problem]:
    """What is wrong with a send operator's options (everything but recipients, text and the schedule,
    which have their own checks): types, enums, ranges the gateways share."""
    problems = [
        *_optional_text_problem("message", getattr(op, "message", None)),
        *_optional_text_problem("sender", op.sender, "; write a numeric sender as a string"),
        *_optional_text_problem("client_ref", op.client_ref),
        *_control_problem("client_ref", op.client_ref),
        *_bool_problem("unicode", op.unicode, optional=True),
        *_bool_problem("want_report", op.want_report),
        *_bool_problem("allow_partial_failure", op.allow_partial_failure),
        *_bool_problem("replace_typographic", getattr(op, "replace_typographic", True)),
        *_bool_problem("honour_opt_outs", getattr(op, "honour_opt_outs", True)),
        *_extras_problems(op.extras),
    ]
    if op.message is None:
        problems.append(Problem("message", "must be given"))
    max_parts = op.max_parts
    if max_parts is not None and (isinstance(max_parts, bool) or not isinstance(max_parts, int) or max_parts < 1):
        problems.append(Problem("max_parts", "must be a whole number of at least 1 (or None for the gateway's "
                                             "default)", str(max_parts)))
    if op.test_mode not in _TEST_MODES:
        problems.append(Problem("test_mode", "must be 'succeed', 'fail' or None", str(op.test_mode)))
    in_flight = getattr(op, "max_in_flight", None)
    if in_flight is not None and (isinstance(in_flight, bool) or not isinstance(in_flight, int)
                                  or not 1 <= in_flight <= 64):
        problems.append(Problem("max_in_flight", "must be a whole number from 1 to 64 (or None for the "
                                                 "connection's setting)", str(in_flight)))
    if op.xcom_results not in XCOM_RESULTS:
        problems.append(Problem("xcom_results", f"must be one of {', '.join(XCOM_RESULTS)}", str(op.xcom_results)))
    return problems


def _id_problem(field: str, value: Any) -> list[Problem]:
    """Gateway ids (saved content, campaigns) are text or a whole number; None when not given."""
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return []
    return [Problem(field, f"must be an id (text or a whole number), got a {_type(value)}", str(value)[:80])]


def _mapping_problems(field: str, value: Any, *, keys: str) -> list[Problem]:
    """``value`` must be a mapping (or None) whose keys are slide numbers (``keys="slide"``) or
    names (``keys="name"``) and whose values are text or numbers."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [Problem(field, f"must be a mapping (a dict), got a {_type(value)}")]
    problems = []
    for key, item in value.items():
        if keys == "slide" and not ((isinstance(key, int) and not isinstance(key, bool))
                                    or (isinstance(key, str) and key.strip().isdigit())):
            problems.append(Problem(field, "keys must be slide numbers (1, 2, ...)", str(key)[:40]))
        elif keys == "name" and not isinstance(key, str):
            problems.append(Problem(field, f"keys must be field names (text), got a {_type(key)}", str(key)[:40]))
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            problems.append(Problem(f"{field}.{key}", f"must be text or a number, got a {_type(item)}"))
    return problems


def mms_option_problems(op: Any) -> list[Problem]:
    """What is wrong with :class:`~..operators.mms.MmsSendOperator`'s options (types; recipients,
    slides and the gateway's limits have their own checks)."""
    return [
        *(p for name in ("name", "subject", "fallback_text", "custom_subject")
          for p in _optional_text_problem(name, getattr(op, name))),
        *_optional_text_problem("sender", op.sender, "; write a numeric sender as a string"),
        *(p for name in ("mms_id", "campaign", "campaign_ref") for p in _id_problem(name, getattr(op, name))),
        *_mapping_problems("custom_texts", op.custom_texts, keys="slide"),
        *_mapping_problems("merge_data", op.merge_data, keys="name"),
        *_bool_problem("allow_partial_failure", op.allow_partial_failure),
        *_bool_problem("honour_opt_outs", op.honour_opt_outs),
    ]


def check_send_options(op: Any) -> None:
    """Raise one :class:`SmsValidationError` listing :func:`send_option_problems`, if any."""
    problems = send_option_problems(op)
    if problems:
        raise SmsValidationError(problems)


def fit_to_alphabet(message: OutgoingMessage, hook: SmsHook, *,
                    replace: bool) -> tuple[OutgoingMessage, dict[str, str]]:
    """Where ``message`` cannot go as UCS-2 (``unicode=False``, or a gateway/connection without
    Unicode), replace typographic characters (curly quotes, dashes, ellipsis, no-break spaces) by
    their GSM 03.38 stand-ins, so ``We\u2019re open`` is sent rather than refused.

    :param replace: False leaves the text alone, so the gateway's check refuses those characters.
    :return: the message to send and what was replaced (``{"\u2019": "'"}``; logged here).
    """
    from dataclasses import replace as with_fields

    from airflow_provider_sms.core.text import replace_typographic

    if not replace or (message.unicode is not False and hook.supports_unicode()):
        return message, {}
    text, replaced = replace_typographic(message.text)
    if replaced:
        shown = ", ".join(f"{k!r}->{v!r}" for k, v in replaced.items())
        log.info("%s sends GSM 03.38 text only here: replaced %s (replace_typographic=False refuses instead)",
                 hook.gateway, shown)
    return with_fields(message, text=text), replaced
