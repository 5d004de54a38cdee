"""Reading a connection's extras strictly: every bad value is a :class:`SmsConfigurationError` naming the
connection, the extra and its limit.

Airflow's ``Connection.extra_dejson`` logs extras that are not valid JSON and returns ``{}``, so a
typo in the extras would send with every default (no ``default_region``, no timeout of yours). The
raw ``extra`` is read here instead. URI-form connections turn every extra into text, so numbers and
flags are read from text too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_sms.exceptions import SmsConfigurationError

__all__ = ["ExtrasReader", "load_extra"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def load_extra(conn: Any, gateway: str) -> dict[str, Any]:
    """The connection's extras as a dict; invalid JSON, or JSON that is not an object, is refused."""
    raw = getattr(conn, "extra", None)
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    conn_id = getattr(conn, "conn_id", None)
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError, RecursionError) as exc:
        # The position only: the text itself may hold a secret.
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise SmsConfigurationError(f"connection {conn_id!r}: extras are not valid JSON{where}; fix the "
                                    "connection's Extra field", gateway=gateway) from None
    if not isinstance(parsed, dict):
        raise SmsConfigurationError(f"connection {conn_id!r}: extras must be a JSON object, got a JSON "
                                    f"{type(parsed).__name__}", gateway=gateway)
    return parsed


class ExtrasReader:
    """Typed access to one connection's extras, with errors naming the connection and the extra."""

    def __init__(self, extra: Mapping[str, Any], *, conn_id: str | None, gateway: str) -> None:
        self.extra = extra
        self.conn_id = conn_id
        self.gateway = gateway

    def error(self, name: str, limit: str, value: Any) -> SmsConfigurationError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
        return SmsConfigurationError(f"connection {self.conn_id!r}: extra {name!r} must be {limit}, got {shown}",
                                     gateway=self.gateway)

    def number(self, name: str, value: Any, *, minimum: float, maximum: float, whole: bool = False,
               above_minimum: bool = False) -> float:
        """``value`` as a number in the range (``above_minimum``: the minimum itself excluded)."""
        low = "above" if above_minimum else "at least"
        kind = "a whole number" if whole else "a number"
        limit = f"{kind} {low} {minimum:g} and at most {maximum:g}"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(name, limit, value)
        try:
            number = float(value)
        except ValueError:
            raise self.error(name, limit, value) from None
        if not math.isfinite(number) or (whole and not number.is_integer()):
            raise self.error(name, limit, value)
        if number < minimum or (above_minimum and number == minimum) or number > maximum:
            raise self.error(name, limit, value)
        return number

    def flag(self, name: str, value: Any) -> bool:
        """``value`` as a boolean: true/false, yes/no, on/off, 1/0 (text or JSON)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
        raise self.error(name, "true or false", value)

    def choice(self, name: str, value: Any, allowed: tuple[str, ...]) -> str:
        """``value`` as one of ``allowed`` (compared case-insensitively)."""
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise self.error(name, "one of " + ", ".join(repr(a) for a in allowed), value)
        return value.strip().lower()

    def url(self, name: str, value: Any) -> str | None:
        """``value`` as an absolute ``http(s)`` URL with a host (None when empty); no spaces or control
        characters, which a gateway would receive as part of the URL."""
        if value is None or value == "":
            return None
        limit = "an http(s) URL with a host"
        if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
            raise self.error(name, limit, value)
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise self.error(name, limit, value)
        return value

    def identifier(self, name: str, value: Any, default: str) -> str:
        """``value`` as a parameter name (letters, digits, ``_``, ``-``, ``.``); ``default`` when empty."""
        if value is None or value == "":
            return default
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            raise self.error(name, "a parameter name (letters, digits, '_', '-', '.')", value)
        return value

    def text(self, name: str, value: Any) -> str | None:
        """``value`` as one line of text (a whole number is taken as its digits); None when empty."""
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
            raise self.error(name, "text (one line) or a whole number", value)
        return value.strip() or None
