"""Helpers every protocol needs when reading an answer: decoding, headers, and error text safe to show.

Error text is built from gateway descriptions, which can echo what was sent (some gateways repeat
the username, or a token, in their error text, or the whole request): :func:`scrub` removes the
credentials and cuts the text short, so no exception ever carries a secret or a whole response
body. An echo shows a secret as it went on the wire -- URL-encoded, inside a base64 Basic
``Authorization`` value, JSON- or HTML-escaped -- so :func:`secret_forms` derives every such form
once, and protocols and hooks scrub (and mask) all of them.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "ERROR_TEXT_LIMIT",
    "MAX_NUMBER_DIGITS",
    "decode_body",
    "header",
    "is_number",
    "load_json",
    "parse_retry_after",
    "preview",
    "scrub",
    "secret_forms",
]

ERROR_TEXT_LIMIT = 200
"""Gateway descriptions are cut to this many characters in error text (never a whole body)."""


def decode_body(body: bytes) -> str:
    """Decode an answer body: UTF-8 when it is valid UTF-8, else ISO-8859-1 (which never fails).

    EAPI pages say nothing about the answer's charset while requests must be ISO-8859-1, so both
    may occur. Latin-1 text with accented letters is almost never valid UTF-8, so trying strict
    UTF-8 first does not misread it.
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("iso-8859-1")


MAX_NUMBER_DIGITS = 100
"""Longest run of digits read as a number from an answer (codes, ids): Python refuses to convert
more than 4,300, and no gateway code or id comes near 100."""


def is_number(text: str) -> bool:
    """True for ASCII digits only, at most :data:`MAX_NUMBER_DIGITS` of them: safe for ``int()``."""
    return 0 < len(text) <= MAX_NUMBER_DIGITS and text.isascii() and text.isdigit()


def load_json(text: str | bytes) -> Any:
    """``json.loads`` that fails only with ``ValueError``: also for nesting too deep to parse
    (``RecursionError``) and integers too long to convert."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Look up an HTTP header by name, ignoring case (transports differ in how they store them)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP date. ``None`` if absent or unreadable.

    :param now: the current time for the HTTP-date form (injected by tests); defaults to the clock.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
        when = when.replace(tzinfo=dt.UTC)
    current = now if now is not None else dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def preview(text: str, limit: int = 20) -> str:
    """The start of a message body for a validation problem: enough to recognise it, not its content."""
    return text if len(text) <= limit else text[:limit] + "…"


_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def secret_forms(secrets: Iterable[str | None], *, basic_auth: tuple[str, str] | None = None) -> tuple[str, ...]:
    """Every form the ``secrets`` take on the wire or in an echo of a request, longest first.

    Raw; URL-encoded with ``quote`` (with and without ``/`` kept) and ``quote_plus``, in UTF-8 and
    ISO-8859-1, with upper- and lower-case hex; JSON-escaped (ASCII and not); HTML/XML-escaped; the
    raw and escaped forms also as UTF-8 read as ISO-8859-1 (an echo that garbles them); and
    the base64 ``Authorization: Basic`` value of ``basic_auth`` (user, password) in UTF-8 and
    ISO-8859-1 (``httpx`` and ``requests`` differ). Pass the result to :func:`scrub`.
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        # A gateway that reads our UTF-8 as ISO-8859-1 echoes a non-ASCII secret garbled ("é" as "Ã©").
        for text in {secret, secret.encode("utf-8", "surrogatepass").decode("iso-8859-1")}:
            forms |= {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1],
                      html.escape(text), html.escape(text, quote=False)}
        for encoding in ("utf-8", "iso-8859-1"):
            try:
                quoted = {quote(secret, safe="", encoding=encoding), quote(secret, encoding=encoding),
                          quote_plus(secret, encoding=encoding)}
            except UnicodeEncodeError:
                continue  # not sendable in this charset, so never on the wire in it
            forms |= quoted | {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), q) for q in quoted}
    if basic_auth is not None and basic_auth[1]:
        for encoding in ("utf-8", "iso-8859-1"):
            try:
                forms.add(base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode(encoding)).decode("ascii"))
            except UnicodeEncodeError:
                continue
    return tuple(sorted(forms, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str | None], limit: int = ERROR_TEXT_LIMIT) -> str:
    """Gateway text made fit for an error message: each secret replaced by ``***``, one line,
    at most ``limit`` characters.

    :param secrets: the strings to remove, in order: pass :func:`secret_forms` so every encoding
        of a credential goes (longest first, so no form is left half-replaced).

    Scrubbing runs before cutting, so a secret cut in half at the limit cannot leak a prefix.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
