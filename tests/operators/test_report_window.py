"""The report window on every kind of DAG run (pure: contexts built by hand, real Airflow timetables)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_sms.operators.report_window import (
    ReportWindow,
    ReportWindowError,
    format_window_path,
    resolve_report_window,
)

UTC = dt.UTC
D = dt.datetime(2026, 11, 20, tzinfo=UTC)  # midnight of "day D"
DAY = dt.timedelta(days=1)


def _dag(schedule: Any) -> Any:
    return DAG(dag_id="w", schedule=schedule, start_date=dt.datetime(2026, 1, 1, tzinfo=UTC))


def _ctx(schedule: Any = "@daily", *, logical: dt.datetime | None = None, run_after: dt.datetime | None = None,
         interval: tuple[dt.datetime, dt.datetime] | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"dag": _dag(schedule), "dag_run": SimpleNamespace(run_after=run_after or logical)}
    if logical is not None:
        ctx["logical_date"] = logical
    if interval is not None:
        ctx["data_interval_start"], ctx["data_interval_end"] = interval
    return ctx


def test_a_real_data_interval_is_the_window() -> None:
    window = resolve_report_window(_ctx(logical=D - DAY, interval=(D - DAY, D)))
    assert window == ReportWindow(D - DAY, D, "data_interval")


def test_zero_width_scheduled_interval_covers_the_previous_day() -> None:
    # Airflow 3 default (create_cron_data_intervals=False): the @daily run at midnight of D has start = end = D.
    window = resolve_report_window(_ctx(logical=D, interval=(D, D)))
    assert window == ReportWindow(D - DAY, D, "schedule")
    assert not window.empty


def test_backfill_and_past_date_runs_cover_the_day_before_their_logical_date() -> None:
    past = D - 10 * DAY
    backfill = resolve_report_window(_ctx(logical=past, interval=(past, past), run_after=D + dt.timedelta(hours=5)))
    assert (backfill.start, backfill.end) == (past - DAY, past)


def test_manual_run_without_logical_date_anchors_at_run_after() -> None:
    window = resolve_report_window(_ctx(run_after=D + dt.timedelta(hours=14, minutes=32)))
    assert window == ReportWindow(D - DAY, D, "schedule")  # yesterday, whatever the hour


def test_cron_with_weekdays_and_a_local_time_zone() -> None:
    import pendulum

    from airflow_provider_sms.operators.report_window import _cron_period

    # 08:00 on weekdays, London: a Monday-morning run covers Friday 08:00 to Monday 08:00 (UTC in winter).
    monday = dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
    start, end = _cron_period("0 8 * * 1-5", pendulum.timezone("Europe/London"), monday)
    assert (start, end) == (dt.datetime(2026, 11, 20, 8, tzinfo=UTC), dt.datetime(2026, 11, 23, 8, tzinfo=UTC))
    summer = _cron_period("0 0 * * *", "Europe/London", dt.datetime(2026, 7, 2, 12, tzinfo=UTC))
    assert summer == (dt.datetime(2026, 6, 30, 23, tzinfo=UTC), dt.datetime(2026, 7, 1, 23, tzinfo=UTC))


def test_timedelta_schedule_ends_at_the_anchor() -> None:
    window = resolve_report_window(_ctx(dt.timedelta(hours=6), logical=D))
    assert (window.start, window.end) == (D - dt.timedelta(hours=6), D)


def test_explicit_start_and_end_win_and_may_be_strings() -> None:
    window = resolve_report_window(_ctx(logical=D, interval=(D, D)), "2026-01-01T00:00:00+00:00",
                                   "2026-01-02T00:00:00Z")
    assert window == ReportWindow(dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 2, tzinfo=UTC),
                                  "explicit")
    half = resolve_report_window(_ctx(logical=D, interval=(D, D)), start=D - 3 * DAY)
    assert (half.start, half.end, half.source) == (D - 3 * DAY, D, "explicit")


def test_no_schedule_and_no_interval_asks_for_start_and_end() -> None:
    with pytest.raises(ReportWindowError, match=r"give start= and end="):
        resolve_report_window(_ctx(None, run_after=D))


def test_naive_or_unparseable_times_are_refused_by_name() -> None:
    with pytest.raises(ReportWindowError, match=r"start .* no time zone"):
        resolve_report_window(_ctx(logical=D), start=dt.datetime(2026, 1, 1), end=D)
    with pytest.raises(ReportWindowError, match="end 'yesterday' is not a date"):
        resolve_report_window(_ctx(logical=D), start=D, end="yesterday")


def test_window_placeholders_fill_only_their_own_braces() -> None:
    window = ReportWindow(D - DAY, D, "schedule")
    assert format_window_path("/r/{window_start:%Y-%m-%d}/{x}/{window_end}.csv", window) == \
        "/r/2026-11-19/{x}/2026-11-20T00:00:00+00:00.csv"
