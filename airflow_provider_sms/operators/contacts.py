"""Import contacts into the gateway's address book, in chunks, from a CSV file, object storage or rows."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_sms.core.contacts import ImportResult
    from airflow_provider_sms.hooks.base import SmsHook
    from airflow_provider_sms.operators.contact_source import ContactSource

__all__ = ["SmsContactImportOperator"]

DuplicatePolicy = Literal["ignore", "overwrite", "error", "allow"]
_FIELDS = ("name", "number", "email", "group1", "group2", "group3")
REJECT_COLUMNS = ("row", "name", "number", "stage", "outcome", "reason")


class _Rejects:
    """Writes rejected rows to a CSV as they are found, and keeps the first few for the task log."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.count = 0
        self.sample: list[dict[str, Any]] = []
        self._handle: Any = None
        self._writer: Any = None

    def add(self, row: int, name: str, number: str, stage: str, outcome: str, reason: str) -> None:
        self.count += 1
        record = dict(zip(REJECT_COLUMNS, (row, name, number, stage, outcome, reason), strict=True))
        if len(self.sample) < 20:
            self.sample.append(record)
        if self.path is None:
            return
        if self._writer is None:
            from pathlib import Path

            target = Path(self.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._handle = target.open("w", newline="", encoding="utf-8")
            self._writer = csv.DictWriter(self._handle, REJECT_COLUMNS)
            self._writer.writeheader()
        self._writer.writerow(record)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class _Batch:
    """One upload's contacts (with their 1-based row numbers) and the invalid rows read before them."""

    rows: list[int] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    invalid: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, name, number, reason


class SmsContactImportOperator(BaseOperator):
    """Import contacts through the gateway of ``sms_conn_id`` (NetMessenger ``ImportContactsCSV``).

    The whole source is read once before anything is uploaded (streaming: memory does not grow with
    its size): an empty file, a header without the name or number column, a header and no rows, bytes
    that are not UTF-8 or lines that are not CSV fail the task (without retry) naming the line, and
    nothing is imported. Then every row is checked (a name, a valid number); bad rows are reported,
    good rows are uploaded ``chunk_size`` at a time, so a million-row file never sits in memory. (A
    one-shot iterator of rows, such as a generator, cannot be read twice: its rows are checked as
    they are uploaded. Give a list or a file for the all-or-nothing check.)

    :param sms_conn_id: SMS connection. Templated.
    :param source: a local UTF-8 CSV path (first line = header), an object-storage URL or
        ``ObjectStoragePath``, or rows (a list of dicts, or an XCom of one). Templated.
    :param columns: where each contact field is in a row: ``{"name": "Full name", "number": "Mobile",
        "email": "Email", "group1": ...}``; fields not given are read from the column of the same name.
    :param group: also put every contact in this group. Templated.
    :param duplicates: what to do with a contact whose number (or name) is already in the address book:

        - ``ignore`` (default): leave the existing contact, count the line as a duplicate;
        - ``overwrite``: replace the contact with the same number (vendor ``OverwriteDupes=1``);
        - ``error``: like ``ignore``, then fail the task listing the duplicates;
        - ``allow``: create the duplicate anyway (vendor ``IgnoreDupes=1``). Not retry-safe: a retried
          task would import the already-uploaded chunks again, so a retry with ``allow`` refuses to run.

        With the first three, uploading a line twice never makes two contacts: a retried task (or
        a chunk whose answer was lost, which is uploaded once more) finds the earlier lines as
        duplicates or overwrites them with the same data.
    :param chunk_size: rows per upload.
    :param rejects_path: write every rejected row here as CSV (row, name, number, stage, outcome, reason). Templated.
    :param max_rejects: fail the task when more rows than this were rejected (None: never).
    :return: counts: ``rows``, ``invalid`` (refused before upload), ``success``, ``partial``,
        ``failed``, ``duplicate_name``, ``duplicate_number``, ``unknown``, ``rejected``, ``rejects_path``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "source", "group", "rejects_path")
    ui_color = "#e8f5e9"

    def __init__(self, *, sms_conn_id: str, source: Any, columns: Mapping[str, str] | None = None,
                 group: str | None = None, duplicates: DuplicatePolicy = "ignore", chunk_size: int = 5000,
                 rejects_path: str | None = None, max_rejects: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if duplicates not in ("ignore", "overwrite", "error", "allow"):
            raise ValueError(f"duplicates must be ignore, overwrite, error or allow, got {duplicates!r}")
        unknown = set(columns or {}) - set(_FIELDS)
        if unknown:
            raise ValueError(f"columns: unknown contact fields {sorted(unknown)}; use {list(_FIELDS)}")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.sms_conn_id = sms_conn_id
        self.source = source
        self.columns = dict(columns or {})
        self.group = group
        self.duplicates = duplicates
        self.chunk_size = chunk_size
        self.rejects_path = rejects_path
        self.max_rejects = max_rejects

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.core.recipients import number_normaliser
        from airflow_provider_sms.exceptions import Problem, SmsValidationError
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.hooks.capabilities import Capability
        from airflow_provider_sms.operators.contact_source import ContactSource
        from airflow_provider_sms.operators.send import gc_paused

        ti = context.get("ti")
        if self.duplicates == "allow" and getattr(ti, "try_number", 1) > 1:
            raise AirflowFailException("duplicates='allow' is not retry-safe: the chunks uploaded by the failed try "
                                       "would be imported twice. Re-run with duplicates='ignore' or 'overwrite'.")
        rejects = _Rejects(self.rejects_path)
        totals: dict[str, int] = {"rows": 0, "invalid": 0}
        try:
            with airflow_errors(), gc_paused():
                hook = get_sms_hook(self.sms_conn_id)
                hook.require(Capability.CONTACT_IMPORT)
                settings = hook.settings
                source = ContactSource(self.source, self.columns)
                expected = source.check()  # the whole file, before the first upload
                self.log.info("contact source checked: %d rows", expected)
                batches = self._batches(source, number_normaliser(settings.default_region, settings.number_check),
                                        totals)
                # Uploads go out like a send's requests: the connection's max_in_flight at once, one
                # rate limit; the results are counted in file order, as one upload after another would.
                for batch, answer in hook.each_in_flight(partial(self._upload, hook), batches):
                    self._count(batch, answer, totals, rejects)
                if not totals["rows"]:
                    raise SmsValidationError([Problem("source", "no contact rows given")])
        finally:
            rejects.close()
        result = {**totals, "rejected": rejects.count, "rejects_path": self.rejects_path if rejects.count else None}
        self.log.info("contact import: %s", result)
        for sample in rejects.sample:
            self.log.warning("rejected row %(row)s (%(name)s, %(number)s): %(outcome)s: %(reason)s", sample)
        duplicates = totals.get("duplicate_name", 0) + totals.get("duplicate_number", 0)
        if self.duplicates == "error" and duplicates:
            raise AirflowFailException(f"{duplicates} contacts were already in the address book (duplicates='error')")
        if self.max_rejects is not None and rejects.count > self.max_rejects:
            raise AirflowFailException(f"{rejects.count} rows were rejected, more than max_rejects={self.max_rejects}")
        return result

    def _batches(self, source: ContactSource, normalise: Callable[[str], str],
                 totals: dict[str, int]) -> Iterator[_Batch]:
        """The rows in batches of ``chunk_size`` valid contacts, each with the invalid rows read before it."""
        from airflow_provider_sms.core.recipients import NumberProblem

        batch = _Batch()
        rows, contacts, size = batch.rows, batch.contacts, self.chunk_size
        index = 0  # a plain loop with local names: this runs once per row of a million-row file
        for index, values in enumerate(source.values([self.columns.get(f, f) for f in _FIELDS]), start=1):
            name = values[0]
            if not name:
                batch.invalid.append((index, name, values[1], "no name"))
                continue
            try:
                values[1] = normalise(values[1])
            except NumberProblem as problem:
                batch.invalid.append((index, name, values[1], f"invalid number: {problem.reason}"))
                continue
            rows.append(index)
            contacts.append(dict(zip(_FIELDS, values)))  # noqa: B905 - six values, always
            if len(contacts) >= size:
                yield batch
                batch = _Batch()
                rows, contacts = batch.rows, batch.contacts
        totals["rows"] = index
        if batch.rows or batch.invalid:
            yield batch

    def _upload(self, hook: SmsHook, batch: _Batch) -> ImportResult | None:
        """Upload one batch (in an upload thread); a lost answer is uploaded once more (idempotent
        unless ``duplicates="allow"``)."""
        from airflow_provider_sms.exceptions import SmsAmbiguousError

        if not batch.contacts:
            return None
        try:
            return hook.import_contacts(batch.contacts, group=self.group, duplicates=self.duplicates)
        except SmsAmbiguousError as error:
            if self.duplicates == "allow":
                raise AirflowFailException(f"{error}; not uploaded again, as duplicates='allow' would create "
                                           "them twice") from error
            # Idempotent under the other policies: lines that did arrive come back as duplicates.
            self.log.warning("answer to a chunk of %d contacts was lost; uploading it once more", len(batch.contacts))
            try:
                return hook.import_contacts(batch.contacts, group=self.group, duplicates=self.duplicates)
            except SmsAmbiguousError as again:
                raise AirflowException(str(again)) from again

    @staticmethod
    def _count(batch: _Batch, result: ImportResult | None, totals: dict[str, int], rejects: _Rejects) -> None:
        """Add one batch's invalid rows and upload result, in the order one upload after another gives."""
        for row, name, number, reason in batch.invalid:
            totals["invalid"] += 1
            rejects.add(row, name, number, "validation", "invalid", reason)
        if result is None:
            return
        for outcome, count in result.counts.items():
            totals[outcome] = totals.get(outcome, 0) + count
        for line in result.rejects:
            if 1 <= line.line <= len(batch.rows):
                contact = batch.contacts[line.line - 1]
                rejects.add(batch.rows[line.line - 1], contact["name"], contact["number"], "gateway",
                            line.outcome.value, "; ".join(line.reasons) or line.result)
