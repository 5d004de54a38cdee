"""SubmissionEntry details of the BulkSMS JSON API: body templates, ``messageClass``, ``protocolId``.

As the vendor's API description (OpenAPI, "Send Messages") tells them:

* **Body templates.** ``{F0###}``, ``{F1###}``, ... take the recipient's ``fields`` (zero-based;
  the first field is ``F0``); ``{fn###}`` / ``{sn###}`` the phonebook contact's first name and
  surname. The whole placeholder's length -- braces, name and ``#`` included -- is the most the
  value may take (``{F0#}`` allows 5 characters); longer data is truncated. A field the recipient
  did not supply is empty, and so are ``fn``/``sn`` here: the simulated phonebook keeps numbers,
  not names.
* **messageClass**: an integer 0-3 or ``FLASH_SMS``, ``ME_SPECIFIC``, ``SIM_SPECIFIC`` (the
  default, 2), ``TE_SPECIFIC``.
* **protocolId**: an integer (TP-PID, 0-255) or one of the listed mnemonics; default 0 (IMPLICIT).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_MESSAGE_CLASS",
    "DEFAULT_PROTOCOL_ID",
    "fill_template",
    "has_template",
    "message_class",
    "protocol_id",
]

DEFAULT_MESSAGE_CLASS = 2
DEFAULT_PROTOCOL_ID = 0

MESSAGE_CLASSES = {"FLASH_SMS": 0, "ME_SPECIFIC": 1, "SIM_SPECIFIC": 2, "TE_SPECIFIC": 3}
PROTOCOL_IDS = {
    "IMPLICIT": 0,
    "SHORT_MESSAGE_TYPE_0": 64,
    "REPLACE_MESSAGE_1": 65,
    "REPLACE_MESSAGE_2": 66,
    "REPLACE_MESSAGE_3": 67,
    "REPLACE_MESSAGE_4": 68,
    "REPLACE_MESSAGE_5": 69,
    "REPLACE_MESSAGE_6": 70,
    "REPLACE_MESSAGE_7": 71,
    "RETURN_CALL": 95,
    "ME_DOWNLOAD": 125,
    "ME_DEPERSONALIZE": 126,
    "SIM_DOWNLOAD": 127,
}

_PLACEHOLDER = re.compile(r"\{(F(\d+)|fn|sn)#*\}")


def has_template(body: str) -> bool:
    """Whether ``body`` holds a placeholder."""
    return _PLACEHOLDER.search(body) is not None


def fill_template(body: str, fields: Sequence[str]) -> str:
    """``body`` with every placeholder replaced by its (truncated) value."""

    def value(match: re.Match[str]) -> str:
        index = match.group(2)
        data = fields[int(index)] if index is not None and int(index) < len(fields) else ""
        return data[: len(match.group(0))]

    return _PLACEHOLDER.sub(value, body)


def _coded(raw: Any, names: dict[str, int], low: int, high: int) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if low <= raw <= high else None
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            return _coded(int(text), names, low, high)
        return names.get(text)
    return None


def message_class(raw: Any) -> int | None:
    """The class 0-3 for ``raw`` (integer or mnemonic; None/absent is the default), or None when invalid."""
    return DEFAULT_MESSAGE_CLASS if raw is None else _coded(raw, MESSAGE_CLASSES, 0, 3)


def protocol_id(raw: Any) -> int | None:
    """The TP-PID for ``raw`` (integer 0-255 or mnemonic; None/absent is 0), or None when invalid."""
    return DEFAULT_PROTOCOL_ID if raw is None else _coded(raw, PROTOCOL_IDS, 0, 255)
