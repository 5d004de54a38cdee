"""Fault switches only the NetMessenger simulator can apply: they depend on the ``Action`` (every
call shares ``/api``, so the path-based switches of :mod:`..faults` cannot single out a Send) or on
the rows of a report.

* :meth:`NetMessengerFaults.error_after_send`: the next Sends are carried out -- the handsets are
  texted, credits charged -- and then answered with an error code (default -511 "The system is down
  for maintenance") instead of their message ids: the gateway acted, then said it failed.
* :meth:`NetMessengerFaults.truncate_reports`: the next ``Report`` answers stop after ``rows`` data
  rows, well-formed and without any sign of it (a report that is incomplete or cut short).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_sms.simulator.faults import CountedSwitch
from airflow_provider_sms.simulator.netmessenger.codes import ERROR_TEXTS, MAINTENANCE

__all__ = ["NetMessengerFaults", "truncated"]


class NetMessengerFaults:
    """The armed NetMessenger-only faults (cleared when the simulator is reset)."""

    def __init__(self) -> None:
        self._after_send = CountedSwitch()
        self._truncate = CountedSwitch()

    def error_after_send(self, code: int = MAINTENANCE, count: int | None = 1) -> None:
        """Carry out the next ``count`` Sends (every Send when None), then answer ``code``."""
        if code not in ERROR_TEXTS:
            raise ValueError(f"{code} is not a NetMessenger error code")
        self._after_send.arm(code, count)

    def truncate_reports(self, rows: int, count: int | None = 1) -> None:
        """Cut the next ``count`` Report answers (every one when None) to ``rows`` data rows."""
        if rows < 0:
            raise ValueError("rows must be >= 0")
        self._truncate.arm(rows, count)

    def take_error_after_send(self) -> int | None:
        """The code to answer a Send just carried out with, if armed."""
        code = self._after_send.take()
        return None if code is None else int(code)

    def take_report_rows(self) -> int | None:
        """How many data rows the next report may have, if armed."""
        rows = self._truncate.take()
        return None if rows is None else int(rows)

    def clear(self) -> None:
        self._after_send.clear()
        self._truncate.clear()

    def describe(self) -> dict[str, Any]:
        return {"error_after_send": self._after_send.armed, "truncate_reports": self._truncate.armed}

    def configure(self, spec: dict[str, Any]) -> None:
        """Arm from JSON: ``{"fault": "error_after_send", "code": -511, "count": 1}``,
        ``{"fault": "truncate_reports", "rows": 300}``, ``{"fault": "clear"}``."""
        kind = spec.get("fault")
        count = spec.get("count", 1)
        count = None if count is None else int(count)
        if kind == "error_after_send":
            self.error_after_send(int(spec.get("code", MAINTENANCE)), count)
        elif kind == "truncate_reports":
            self.truncate_reports(int(spec["rows"]), count)
        elif kind == "clear":
            self.clear()
        else:
            raise ValueError(f"unknown NetMessenger fault {kind!r}")


def truncated(chunks: Iterator[str], rows: int) -> Iterator[str]:
    """The CSV ``chunks`` (header first) with at most ``rows`` data rows, still well-formed."""
    left = rows + 1  # the header line
    for chunk in chunks:
        lines = chunk.splitlines(keepends=True)
        if len(lines) >= left:
            yield "".join(lines[:left])
            return
        left -= len(lines)
        yield chunk
