"""Pull a gateway report and stream it to CSV (local path or ``ObjectStoragePath``), never whole in memory."""

from __future__ import annotations

import csv
import io
import itertools
import operator
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["SmsReportOperator", "write_csv"]


def write_csv(target: Any, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write ``header`` and ``rows`` to ``target`` (a path string, ``Path`` or ``ObjectStoragePath``).

    Local files are written to a temporary name and renamed, so a failed pull never leaves a
    half-written report where the next task would read it. Returns the number of data rows.
    """
    count = 0
    if isinstance(target, str) and "://" in target:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        target = ObjectStoragePath(target)
    if isinstance(target, str | Path):
        final = Path(target)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.partial")
        try:
            with partial.open("w", newline="", encoding="utf-8") as handle:
                count = _write(handle, header, rows)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        return count
    target.parent.mkdir(parents=True, exist_ok=True)  # local/NFS-style stores need it; object stores ignore it
    with target.open("wb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        count = _write(handle, header, rows)
    return count


def _write(handle: Any, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    writer = csv.writer(handle)
    writer.writerow(header)
    # writerows over C-level map/zip: no Python step per row, the counter counts them on the way.
    counter = itertools.count()
    writer.writerows(map(operator.itemgetter(0), zip(rows, counter, strict=False)))
    return next(counter)


class SmsReportOperator(BaseOperator):
    """Pull a report from the gateway of ``sms_conn_id`` and write it as CSV.

    :param sms_conn_id: SMS connection. Templated.
    :param report: report name; the gateway lists what it has (BulkSMS: ``delivery``, ``inbox`` on EAPI).
    :param output_path: local path or object-storage URL (``s3://...``, ``file://...``). Templated.
        ``{window_start}``/``{window_end}``, optionally with a strftime format
        (``{window_start:%Y-%m-%d}``), are filled with the report window, so a folder can name the
        day it covers on every kind of run.
    :param batch_ids: for delivery reports: batch ids, or a send operator's return value. Templated.
    :param start: start of the report window (timezone-aware datetime or ISO 8601 string with an
        offset; a time without a zone is refused) for gateways whose
        reports cover a time window (NetMessenger). Templated. Default: the run's data interval
        when it is not empty; else (zero-width cron intervals, manual runs, backfills and runs for
        a past date on Airflow 3) the schedule's last complete period at the run's logical date,
        or at ``run_after`` when it has none: for ``@daily``, the day before. See
        ``operators.report_window``.
    :param end: end of the window; same defaults. Templated.
    :param allow_empty_window: accept a window with ``start >= end``, or no window at all (reports
        that take none, such as NetMessenger's ``contacts``); by default both fail the task
        before the gateway is called. Delivery reports by ``batch_ids`` need no window.
    :param report_params: other gateway-specific parameters (e.g. ``{"optional_fields": ["body"]}``). Templated.
    :return: ``{"path", "rows", "report", "gateway", "window_start", "window_end"}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "output_path", "batch_ids", "start", "end", "report_params")
    template_fields_renderers = {"report_params": "json"}
    ui_color = "#ede7f6"

    def __init__(self, *, sms_conn_id: str, output_path: str | Any, report: str = "delivery",
                 batch_ids: Any = None, start: Any = None, end: Any = None,
                 report_params: dict[str, Any] | None = None, allow_empty_window: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.output_path = output_path
        self.report = report
        self.batch_ids = batch_ids
        self.start = start
        self.end = end
        self.report_params = report_params or {}
        self.allow_empty_window = allow_empty_window

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowFailException

        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.operators.inputs import as_datetime, as_mapping
        from airflow_provider_sms.operators.report_window import (
            ReportWindowError,
            format_window_path,
            resolve_report_window,
        )
        from airflow_provider_sms.sensors.base import load_xcom

        with airflow_errors():
            params = dict(as_mapping(self.report_params, "report_params"))
            batches = load_xcom(self.batch_ids, "batch_ids")
            if isinstance(batches, dict):
                batches = batches.get("batch_ids", [])
            if batches:
                params["batch_ids"] = [str(b) for b in ([batches] if isinstance(batches, str | int) else batches)]
            needs_window = not batches and not self.allow_empty_window
            try:
                window = resolve_report_window(context, as_datetime(self.start, "start"), as_datetime(self.end, "end"))
            except ReportWindowError as error:
                if needs_window:
                    raise AirflowFailException(f"{self.report} report: {error}") from error
                window = None
            if window is not None and window.empty and needs_window:
                raise AirflowFailException(
                    f"{self.report} report: the window {window.describe()} is empty; give start=/end=, or "
                    "allow_empty_window=True if an empty report is wanted")
            output = self.output_path
            if window is not None:
                params["start"], params["end"] = window.start, window.end
                self.log.info("%s report window %s", self.report, window.describe())
                if isinstance(output, str):
                    output = format_window_path(output, window)
            hook = get_sms_hook(self.sms_conn_id)
            header, rows = hook.iter_report(self.report, **params)
            count = write_csv(output, header, rows)
        self.log.info("wrote %d %s report rows to %s", count, self.report, output)
        return {"path": str(output), "rows": count, "report": self.report, "gateway": hook.gateway,
                "window_start": window.start.isoformat() if window else None,
                "window_end": window.end.isoformat() if window else None}
