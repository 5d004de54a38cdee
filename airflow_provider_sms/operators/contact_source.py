"""Where contacts come from (a CSV file, object storage, rows), checked whole before the first upload.

A contact import must not stop half-way because of the file itself: :meth:`ContactSource.check`
reads the whole source once, streaming (memory does not grow with its size), and refuses an empty
file, a header without the name or number column, a file with no rows, bytes that are not UTF-8,
NUL bytes (as UTF-16 files hold) and lines the CSV reader cannot read, naming the line.
:meth:`ContactSource.rows` then reads it again for the upload. Rows that are readable but bad (no
name, invalid number) are not refused here: the operator reports them as rejects and imports the rest.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = ["REQUIRED_FIELDS", "ContactSource"]

REQUIRED_FIELDS = ("name", "number")
_FIELD = "source"


def _fail(reason: str, value: str | None = None) -> SmsValidationError:
    return SmsValidationError([Problem(_FIELD, reason, value)])


def _decoded(lines: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 text of each line (a leading byte-order mark dropped), naming the first line that is not UTF-8."""
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = raw[exc.start:exc.start + 1].hex()
            raise _fail(f"line {number} is not valid UTF-8 (byte 0x{byte} at position {exc.start + 1}); "
                        "save the file as UTF-8") from None
        if "\x00" in text:  # UTF-16 text decodes as "valid" UTF-8 full of NULs
            raise _fail(f"line {number} holds a NUL byte (is the file UTF-16?); save the file as UTF-8")
        yield text.removeprefix("\ufeff") if number == 1 else text


class _NulFound(Exception):
    """A NUL byte in the file: the line-by-line read names its line."""


_UNREADABLE = (UnicodeDecodeError, csv.Error, _NulFound)


class _NulGuard(io.BufferedIOBase):
    """A binary file as the ``io`` module reads it, refusing NUL bytes (UTF-16 files are full of
    them, and they decode as "valid" UTF-8); the file itself is closed by its owner."""

    def __init__(self, handle: Any) -> None:
        super().__init__()
        self._handle = handle

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._checked(self._handle.read(size))

    def read1(self, size: int = -1) -> bytes:
        reader = getattr(self._handle, "read1", None)
        return self._checked(reader(size) if reader is not None else self._handle.read(size if size > 0 else 65536))

    @staticmethod
    def _checked(data: bytes) -> bytes:
        if b"\x00" in data:
            raise _NulFound
        return data


def _picked(records: Iterator[list[str]], present: Sequence[int], absent: int) -> Iterator[list[str]]:
    """The stripped values at ``present`` of each non-blank record, then ``absent`` empty ones (the
    usual layout: the fields a file lacks are the last asked for, the groups)."""
    pick = operator.itemgetter(*present, *present[-1:])  # always a tuple, one value too many
    need = max(present) + 1
    pad = [""] * need
    tail = [""] * absent
    for record in records:
        if not record:
            continue
        if len(record) < need:
            record = (record + pad)[:need]
        values = list(map(str.strip, pick(record)))
        values[-1:] = tail
        yield values


class ContactSource:
    """A contact source: a local CSV path, an object-storage URL or ``ObjectStoragePath``, or rows.

    :param source: as given to the operator (an XCom of rows, rendered or not, is read back first).
    :param columns: the column holding each contact field (fields not given: the column of that name).
    """

    def __init__(self, source: Any, columns: Mapping[str, str]) -> None:
        from airflow_provider_sms.sensors.base import load_xcom

        source = load_xcom(source, _FIELD)
        if isinstance(source, str) and "://" in source:
            from airflow.providers.common.compat.sdk import ObjectStoragePath

            source = ObjectStoragePath(source)
        if not (isinstance(source, str) or hasattr(source, "open") or isinstance(source, Iterable)) or isinstance(
                source, bytes | Mapping):
            raise _fail(f"must be a CSV path, an object-storage path or a list of rows, got a {type(source).__name__}")
        self.source = source
        self.columns = columns
        # A one-shot iterator (a generator) cannot be read twice: its rows are checked as they are uploaded.
        self.one_pass = not isinstance(source, str) and not hasattr(source, "open") and iter(source) is source

    @property
    def is_file(self) -> bool:
        return isinstance(self.source, str) or hasattr(self.source, "open")

    def _column(self, field: str) -> str:
        return self.columns.get(field, field)

    def _open(self) -> Any:
        return open(self.source, "rb") if isinstance(self.source, str) else self.source.open("rb")

    @contextmanager
    def _reader(self) -> Iterator[Iterator[list[str]]]:
        """The CSV reader over the file, decoded and read by the ``io`` and ``csv`` modules in C;
        iterating it raises ``UnicodeDecodeError``, ``csv.Error`` or ``_NulFound`` on a bad file."""
        guarded: Any = _NulGuard  # a BufferedIOBase, which typeshed's TextIOWrapper does not list
        with self._open() as handle, io.TextIOWrapper(guarded(handle), encoding="utf-8-sig", newline="") as text:
            yield csv.reader(text)

    def _records(self) -> Iterator[list[str]]:
        """Header then rows of the CSV file, as lists of strings.

        Read in C (a million-row file twice, once to check and once to upload); at the first
        undecodable byte, NUL or unreadable line the file is read again line by line, which names
        the line and the reason.
        """
        delivered = 0
        try:
            with self._reader() as reader:
                for record in reader:
                    delivered += 1
                    yield record
            return
        except _UNREADABLE:
            pass
        for seen, record in enumerate(self._records_line_by_line(), start=1):
            if seen > delivered:  # not reached for a bad file: the line-by-line read fails first
                yield record
        raise _fail("cannot be read as UTF-8 CSV")

    def _records_line_by_line(self) -> Iterator[list[str]]:
        """:meth:`_records` the slow way, with an error naming the line."""
        # Closed by the with below, once the generator is exhausted or closed.
        with self._open() as handle:
            reader = csv.reader(_decoded(handle))
            try:
                yield from reader
            except csv.Error as exc:
                raise _fail(f"line {reader.line_num} cannot be read as CSV: {exc}") from None

    def check(self) -> int:
        """Read the whole source once; return its number of rows.

        :raises SmsValidationError: naming ``source``: empty, header without the name or number
            column (or a column named in ``columns``), no rows, not UTF-8, unreadable CSV, a row
            that is not a mapping.
        """
        if self.one_pass:
            return 0
        if self.is_file:
            return self._check_file()
        return self._check_rows()

    def _needed(self) -> list[str]:
        return list(dict.fromkeys([*(self._column(f) for f in REQUIRED_FIELDS), *self.columns.values()]))

    def _check_file(self) -> int:
        try:
            with self._reader() as reader:
                self._check_header(next(reader, None))
                count = sum(map(bool, reader))  # blank lines are no rows; counted in C
        except _UNREADABLE:
            for _ in self._records_line_by_line():  # names the line and the reason
                pass
            raise _fail("cannot be read as UTF-8 CSV") from None
        if not count:
            raise _fail("the file has a header but no contact rows")
        return count

    def _check_header(self, header: Sequence[str] | None) -> None:
        if header is None:
            raise _fail("the file is empty: it needs a header line naming its columns, then one row per contact")
        missing = [c for c in self._needed() if c not in header]
        if missing:
            raise _fail(f"the header has no column {', '.join(repr(c) for c in missing)} (it has "
                        f"{', '.join(repr(h) for h in header[:20])}); name the columns with columns={{...}}")

    def _check_rows(self) -> int:
        count = 0
        seen: set[str] = set()
        for index, row in enumerate(self.source):
            if not isinstance(row, Mapping):
                raise SmsValidationError([Problem(_FIELD, f"rows must be mappings, got a {type(row).__name__}",
                                                  index=index)])
            seen.update(str(k) for k in row)
            count += 1
        if not count:
            raise _fail("no contact rows given")
        missing = [c for c in self._needed() if c not in seen]
        if missing:
            raise _fail(f"no row has the key {', '.join(repr(c) for c in missing)}; name the keys with "
                        "columns={...}")
        return count

    def values(self, keys: Sequence[str]) -> Iterator[list[str]]:
        """Every row as the values under ``keys``, stripped (``""`` where the row has none), read again
        from the start: what ``str(row.get(key) or "").strip()`` gives for each key of each of :meth:`rows`.

        A file's records are read as lists, not made into a mapping each (a million-row import).
        """
        if not self.is_file:
            yield from self._values_of_rows(keys)
            return
        try:
            with self._reader() as reader:
                header: Sequence[str] = next(reader, [])
                at = {name: index for index, name in enumerate(header)}  # a repeated column: the last, as in rows()
                present = [at[key] for key in keys if key in at]
                if not present or any(key not in at for key in keys[:len(present)]):
                    unusual = True  # a mapping per row, below
                else:
                    unusual = False
                    yield from _picked(reader, present, len(keys) - len(present))
        except _UNREADABLE:
            for _ in self._records_line_by_line():  # the file changed since the check: name the line
                pass
            raise _fail("cannot be read as UTF-8 CSV") from None
        if unusual:
            yield from self._values_of_rows(keys)

    def _values_of_rows(self, keys: Sequence[str]) -> Iterator[list[str]]:
        for row in self.rows():
            yield [str(row.get(key) or "").strip() for key in keys]

    def rows(self) -> Iterator[Mapping[str, Any]]:
        """Every row as a mapping of column name to value (read again from the start)."""
        if self.is_file:
            records = self._records()
            header: Sequence[str] = next(records, [])
            for record in records:
                if record:
                    yield dict(zip(header, record, strict=False))
            return
        for index, row in enumerate(self.source):
            if not isinstance(row, Mapping):
                raise SmsValidationError([Problem(_FIELD, f"rows must be mappings, got a {type(row).__name__}",
                                                  index=index)])
            yield row
