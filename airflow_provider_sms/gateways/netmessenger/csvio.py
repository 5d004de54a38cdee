"""NetMessenger CSV in both directions, streamed: report answers in, contact uploads out.

* :func:`iter_report_rows` reads the CSV that ``Report``, ``GetAllContacts`` and ``GetAllGroups``
  answer with (a header row, double-quoted values) one record at a time, from any iterable of
  lines: a file, or a transport's streamed lines with their line ends already stripped. A
  million-row report is never held whole.
* :func:`build_contacts_csv` writes the ``ContactsCSV`` value of ``ImportContactsCSV`` from rows
  (dicts). It takes whatever iterable it is given and returns one upload: the caller chunks.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, repeat
from typing import Any

from airflow_provider_sms.exceptions import Problem, SmsGatewayError, SmsValidationError

__all__ = ["CONTACT_COLUMNS", "MAX_CONTACT_GROUPS", "build_contacts_csv", "iter_report_rows"]

CONTACT_COLUMNS: tuple[str, ...] = ("name", "number", "email", "group1", "group2", "group3")
"""The fields of one ``ContactsCSV`` line, in order: ``name,number,email,group1,group2,group3``."""

MAX_CONTACT_GROUPS = 3
_GATEWAY = "netmessenger"


def _with_line_ends(lines: Iterable[str]) -> Iterator[str]:
    # csv needs the line ends to keep a newline that sits inside a quoted value (a message body
    # in the *WithBodies reports); streamed lines arrive without them. A byte-order mark must go
    # before csv sees it, or the quoted first header value is not read as quoted.
    first = True
    for line in lines:
        if first:
            line = line.lstrip("\ufeff")
            first = False
        yield line if line.endswith(("\n", "\r")) else line + "\n"


def iter_report_rows(lines: Iterable[str]) -> Iterator[list[str]]:
    """Yield every CSV record of a report answer, the header row first.

    Quoted values (with commas, doubled quotes, or line breaks inside) are read as CSV; blank
    lines are skipped; a UTF-8 byte-order mark before the header is dropped. Memory use does not
    depend on the size of the report.

    Error answers (a negative code on the first line) are the business of
    :meth:`~airflow_provider_sms.gateways.netmessenger.api.NetMessengerApi.open_report`, which
    calls this after checking the first line.

    :raises SmsGatewayError: the answer is not CSV the ``csv`` module can read.
    """
    reader = csv.reader(_with_line_ends(lines))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
            raise SmsGatewayError(f"the report is not readable CSV at line {reader.line_num} ({exc})",
                                  gateway=_GATEWAY) from None
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        yield record


def build_contacts_csv(
    rows: Iterable[Mapping[str, Any]],
    columns: Mapping[str, str] | None = None,
    *,
    group: str | None = None,
) -> str:
    """Build the ``ContactsCSV`` value for one ``ImportContactsCSV`` upload.

    :param rows: the contacts of this upload (the caller decides the chunk size).
    :param columns: which key of a row holds each NetMessenger field, e.g.
        ``{"name": "Full name", "number": "Mobile"}``; fields not mentioned are read from the key
        of the same name (``name``, ``number``, ``email``, ``group1`` .. ``group3``). Missing keys
        and ``None`` are empty.
    :param group: put every contact in this group as well (first free group field, unless the
        row already names it).
    :returns: one line per row, ``name,number,email[,group1[,group2[,group3]]]``, ``\\n``-separated.
        Line *n* of the answer is row *n-1* of ``rows``. A value with a comma or a double quote is
        double-quoted CSV-style (UNCERTAIN: the vendor shows no quoting; a gateway that splits on
        bare commas rejects such a line as Failed instead of importing it wrongly).
    :raises SmsValidationError: listing every bad row (``index`` is the row's position): no
        name, a number that is not international digits, a line break in a value, more than
        three groups; and unknown field names in ``columns``.
    """
    mapping = {name: name for name in CONTACT_COLUMNS}
    problems: list[Problem] = []
    for name, key in (columns or {}).items():
        if name not in mapping:
            problems.append(Problem("columns", "unknown field; one of " + ", ".join(CONTACT_COLUMNS), name))
        else:
            mapping[name] = key
    if group is not None and not group.strip():
        problems.append(Problem("group", "must not be empty", group))
    keys = [mapping[name] for name in CONTACT_COLUMNS]
    extra_group = group.strip() if group is not None and group.strip() else None
    if not problems:
        rows = rows if isinstance(rows, list) else list(rows)
        body = _plain_body(rows, keys, extra_group)
        if body is not None:
            return body
    return _checked_body(rows, keys, extra_group, problems)


def _writer() -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def _plain_body(rows: list[Mapping[str, Any]], keys: list[str], extra_group: str | None) -> str | None:
    """The ``ContactsCSV`` of rows that need nothing done (what an import operator hands over:
    every field a string, stripped, names given, numbers in international digits, no line break,
    no group but ``extra_group``), written in C-speed passes; None for anything else, which
    :func:`_checked_body` writes (or refuses) the same way it always did."""
    pick = operator.itemgetter(*keys)
    try:
        records = list(map(pick, rows))
    except (KeyError, TypeError):  # a missing field (read as empty), or not a mapping
        return None
    if not records:
        return None
    cells = list(chain.from_iterable(records))
    if set(map(type, cells)) != {str}:
        return None
    text = "".join(cells)
    if "\n" in text or "\r" in text or list(map(str.strip, cells)) != cells:
        return None
    names, numbers, emails, *given = zip(*records, strict=True)
    digits = "".join(numbers)
    if "" in names or "" in numbers or not (digits.isascii() and digits.isdigit()) or any(map(any, given)):
        return None
    lines = zip(names, numbers, emails, strict=True) if extra_group is None else \
        zip(names, numbers, emails, repeat(extra_group), strict=False)
    if "," not in text and '"' not in text and (extra_group is None or not _needs_quotes(extra_group)):
        return "\n".join(map(",".join, lines))  # nothing to quote: what the csv writer would write
    buffer, writer = _writer()
    writer.writerows(lines)
    return buffer.getvalue().rstrip("\n")


def _needs_quotes(value: str) -> bool:
    return any(c in value for c in ',"\r\n')


def _checked_body(rows: Iterable[Mapping[str, Any]], keys: list[str], extra_group: str | None,
                  problems: list[Problem]) -> str:
    """The ``ContactsCSV`` of any rows, one row at a time, with every problem named."""
    buffer, writer = _writer()
    count = 0
    for index, row in enumerate(rows):
        count += 1
        get = row.get  # a plain loop over plain lists: this runs once per contact of a big import
        cells = [get(key) for key in keys]
        name, number, email, *given = ["" if v is None else str(v).strip() for v in cells]
        if not name:
            problems.append(Problem("rows", "name is missing", None, index))
        digits = number[1:] if number.startswith("+") else number
        if not number:
            problems.append(Problem("rows", "number is missing", None, index))
        elif not (digits.isascii() and digits.isdigit()):
            problems.append(Problem("rows", "number must be international digits only", number, index))
        joined = "".join((name, number, email, *given))
        if "\n" in joined or "\r" in joined:
            # The answer is one line per input line: a line break would shift every later result.
            problems.append(Problem("rows", "values must not contain line breaks", name or None, index))
        groups = [g for g in given if g]
        if extra_group is not None and extra_group not in groups:
            groups.append(extra_group)
        if len(groups) > MAX_CONTACT_GROUPS:
            reason = f"at most {MAX_CONTACT_GROUPS} groups per contact, got {len(groups)}"
            problems.append(Problem("rows", reason, name or None, index))
        if not problems:
            writer.writerow([name, digits, email, *groups])
    if count == 0:
        problems.append(Problem("rows", "at least one contact is needed"))
    if problems:
        raise SmsValidationError(problems, gateway=_GATEWAY)
    return buffer.getvalue().rstrip("\n")
