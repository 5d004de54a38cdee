"""Which time window a report run covers, on every kind of DAG run.

Airflow 3 gives a run a real data interval only on some schedules: with the default
``[scheduler] create_cron_data_intervals = False`` a cron run's interval is zero-width
(start = end = the fire time), and a manual run has no interval and often no logical date.
A report window built from that would be empty (or undefined), so:

1. explicit ``start``/``end`` win;
2. else a data interval with ``start < end`` is the window;
3. else the window is the schedule's last complete period at the run's *anchor* (its logical
   date, or ``run_after`` when it has none): for a cron schedule, from the fire time before the
   last fire time at or before the anchor, to that last fire time (``@daily`` run at midnight of
   day D, or a manual run during day D: day D-1); for a ``timedelta`` schedule, the delta ending
   at the anchor;
4. else (no schedule period, e.g. ``schedule=None``) there is no window: an error asks for
   ``start``/``end``.

A window with ``start >= end`` is an error unless the caller allows an empty window.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ReportWindow", "ReportWindowError", "format_window_path", "resolve_report_window"]


class ReportWindowError(ValueError):
    """No usable report window: the text says why and what to pass."""


@dataclass(frozen=True)
class ReportWindow:
    """``[start, end)`` and where it came from (``explicit``, ``data_interval`` or ``schedule``)."""

    start: dt.datetime
    end: dt.datetime
    source: str

    @property
    def empty(self) -> bool:
        return self.start >= self.end

    def describe(self) -> str:
        """``start .. end (why)`` for logs and errors."""
        why = {"explicit": "start/end given", "data_interval": "the run's data interval",
               "schedule": "the schedule's last period"}.get(self.source, self.source)
        return f"{self.start.isoformat()} .. {self.end.isoformat()} ({why})"


def _as_datetime(value: Any, name: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed: Any = value
    else:
        import pendulum

        try:
            parsed = pendulum.parse(str(value))
        except Exception as error:  # pendulum raises its own ParserError family
            raise ReportWindowError(f"{name} {value!r} is not a date and time") from error
        if not isinstance(parsed, dt.datetime):
            raise ReportWindowError(f"{name} {value!r} is not a date and time")
    if parsed.tzinfo is None:
        raise ReportWindowError(f"{name} {value!r} has no time zone; give an aware time (e.g. ...+00:00)")
    return dt.datetime.fromtimestamp(parsed.timestamp(), dt.UTC)


def _anchor(context: Mapping[str, Any]) -> dt.datetime | None:
    logical = context.get("logical_date")
    if logical is not None:
        return _as_datetime(logical, "logical_date")
    dag_run = context.get("dag_run")
    run_after = getattr(dag_run, "run_after", None)
    return _as_datetime(run_after, "run_after") if run_after is not None else None


def _timetable_attr(timetable: Any, name: str) -> Any:
    # Airflow 3.3's SDK timetables expose ``expression``/``timezone``/``delta``; 3.1's core ones
    # keep them as ``_expression``/``_timezone``/``_delta``.
    value = getattr(timetable, name, None)
    return value if value is not None else getattr(timetable, f"_{name}", None)


def _schedule_period(timetable: Any, anchor: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    expression = _timetable_attr(timetable, "expression")
    if isinstance(expression, str):
        return _cron_period(expression, _timetable_attr(timetable, "timezone"), anchor)
    delta = _timetable_attr(timetable, "delta")
    if isinstance(delta, dt.timedelta):
        return anchor - delta, anchor
    if delta is not None:  # relativedelta
        start: dt.datetime = anchor - delta
        return start, anchor
    return None


def _cron_period(expression: str, timezone: Any, anchor: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    import pendulum
    from croniter import croniter

    zone = pendulum.timezone(timezone) if isinstance(timezone, str) else (timezone or pendulum.UTC)
    local = pendulum.instance(anchor).in_timezone(zone).naive()
    end_local = local if croniter.match(expression, local) else croniter(expression, local).get_prev(dt.datetime)
    start_local = croniter(expression, end_local).get_prev(dt.datetime)

    def utc(naive: dt.datetime) -> dt.datetime:
        aware = pendulum.instance(naive, tz=zone)
        return dt.datetime.fromtimestamp(aware.timestamp(), dt.UTC)

    return utc(start_local), utc(end_local)


def resolve_report_window(context: Mapping[str, Any], start: Any = None, end: Any = None) -> ReportWindow:
    """The window a report task covers (rules in the module docstring). Does not judge emptiness."""
    explicit_start = _as_datetime(start, "start")
    explicit_end = _as_datetime(end, "end")
    if explicit_start and explicit_end:
        return ReportWindow(explicit_start, explicit_end, "explicit")
    interval_start = _as_datetime(context.get("data_interval_start"), "data_interval_start")
    interval_end = _as_datetime(context.get("data_interval_end"), "data_interval_end")
    if interval_start and interval_end and interval_start < interval_end:
        return ReportWindow(explicit_start or interval_start, explicit_end or interval_end,
                            "explicit" if explicit_start or explicit_end else "data_interval")
    anchor = _anchor(context)
    dag = context.get("dag")
    period = _schedule_period(getattr(dag, "timetable", None), anchor) if anchor else None
    if period is None:
        raise ReportWindowError(
            "no report window: the run has no data interval and its DAG's schedule has no period "
            "(e.g. schedule=None); give start= and end=")
    return ReportWindow(explicit_start or period[0], explicit_end or period[1],
                        "explicit" if explicit_start or explicit_end else "schedule")


_PLACEHOLDER = re.compile(r"\{(window_start|window_end)(?::([^{}]*))?\}")


def format_window_path(path: str, window: ReportWindow) -> str:
    """Fill ``{window_start}``/``{window_end}`` (optionally with a strftime format, e.g.
    ``{window_start:%Y-%m-%d}``) in ``path``; other braces are left alone."""

    def fill(match: re.Match[str]) -> str:
        value = window.start if match.group(1) == "window_start" else window.end
        return value.strftime(match.group(2)) if match.group(2) else value.isoformat()

    return _PLACEHOLDER.sub(fill, path)
