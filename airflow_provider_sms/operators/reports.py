"""Pull a gateway report and stream it to CSV (local path or ``ObjectStoragePath``), never whole in memory."""

from __future__ import annotations

import csv
import io
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
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


class SmsReportOperator(BaseOperator):
    """Pull a report from the gateway of ``sms_conn_id`` and write it as CSV.

    :param sms_conn_id: SMS connection. Templated.
    :param report: report name; the gateway lists what it has (BulkSMS: ``delivery``, ``inbox`` on EAPI).
    :param output_path: local path or object-storage URL (``s3://...``, ``file://...``). Templated.
    :param batch_ids: for delivery reports: batch ids, or a send operator's return value. Templated.
    :param start: start of the report window (timezone-aware datetime or ISO 8601 string with an
        offset; a time without a zone is refused) for gateways whose reports cover a time window
        (NetMessenger); default: the DAG run's data interval start. Templated.
    :param end: end of the window; default: the data interval end. Templated.
    :param report_params: other gateway-specific parameters, a dict (e.g. ``{"optional_fields": ["body"]}``). Templated.
    :return: ``{"path", "rows", "report", "gateway"}``.
    """

    template_fields: Sequence[str] = ("sms_conn_id", "output_path", "batch_ids", "start", "end", "report_params")
    template_fields_renderers = {"report_params": "json"}
    ui_color = "#ede7f6"

    def __init__(self, *, sms_conn_id: str, output_path: str | Any, report: str = "delivery",
                 batch_ids: Any = None, start: Any = None, end: Any = None,
                 report_params: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sms_conn_id = sms_conn_id
        self.output_path = output_path
        self.report = report
        self.batch_ids = batch_ids
        self.start = start
        self.end = end
        self.report_params = report_params or {}

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_sms._airflow_errors import airflow_errors
        from airflow_provider_sms.hooks.base import get_sms_hook
        from airflow_provider_sms.operators.inputs import as_datetime, as_mapping
        from airflow_provider_sms.sensors.base import load_xcom

        with airflow_errors():
            params = dict(as_mapping(self.report_params, "report_params"))
            batches = load_xcom(self.batch_ids, "batch_ids")
            if isinstance(batches, dict):
                batches = batches.get("batch_ids", [])
            if batches:
                params["batch_ids"] = [str(b) for b in ([batches] if isinstance(batches, str | int) else batches)]
            params["start"] = as_datetime(self.start, "start") or context.get("data_interval_start")
            params["end"] = as_datetime(self.end, "end") or context.get("data_interval_end")
            hook = get_sms_hook(self.sms_conn_id)
            header, rows = hook.iter_report(self.report, **params)
            count = write_csv(self.output_path, header, rows)
        self.log.info("wrote %d %s report rows to %s", count, self.report, self.output_path)
        return {"path": str(self.output_path), "rows": count, "report": self.report, "gateway": hook.gateway}
