r"""Parse EAPI ``send_batch`` ``batch_data``: CSV with a header line and backslash escapes.

Values may be double-quoted; inside quotes ``\"`` is a quote, ``\\`` a backslash and a
backslash before a newline keeps the newline in the value. Parsing is lenient like the vendor's:
a line that cannot be read is skipped, not fatal.
"""

from __future__ import annotations

import re

# One field and the separator after it. Quoted fields may span lines through escapes.
_FIELD = re.compile(
    r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^,\r\n"]*))[ \t]*(,|\r\n|\n|\r|$)',
    re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_LINE_END = re.compile(r"\r\n|\n|\r")


def parse_batch_data(text: str) -> tuple[list[str], list[list[str]], int]:
    """Split ``batch_data`` into (header names lower-cased, data rows, number of unreadable lines)."""
    rows: list[list[str]] = []
    skipped = 0
    row: list[str] = []
    position = 0
    end = len(text)
    while position < end:
        match = _FIELD.match(text, position)
        if match is None or match.end() == position:
            # Unreadable line (e.g. a stray quote): skip to the next line ending.
            skipped += 1
            row = []
            newline = _LINE_END.search(text, position)
            position = end if newline is None else newline.end()
            continue
        quoted, bare, separator = match.groups()
        row.append(_ESCAPE.sub(r"\1", quoted) if quoted is not None else bare)
        position = match.end()
        if separator != ",":
            if row != [""]:  # blank lines are not records
                rows.append(row)
            row = []
    if row:
        rows.append(row)
    if not rows:
        return [], [], skipped
    header = [name.strip().lower() for name in rows[0]]
    return header, rows[1:], skipped
