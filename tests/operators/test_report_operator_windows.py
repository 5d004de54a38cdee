"""SmsReportOperator picks the right window on each kind of run and refuses empty ones (NetMessenger simulator)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.operators.helpers import context

UTC = dt.UTC
DAY = dt.timedelta(days=1)
TODAY = dt.datetime.combine(dt.datetime.now(UTC).date(), dt.time(), tzinfo=UTC)


def _run_ctx(schedule: Any, **values: Any) -> dict[str, Any]:
    dag = DAG(dag_id="w", schedule=schedule, start_date=dt.datetime(2026, 1, 1, tzinfo=UTC))
    return {**context(), "dag": dag, "dag_run": SimpleNamespace(run_after=values.pop("run_after", None)), **values}


@pytest.fixture
def seeded(nm_conn: str, sms_simulator: SimulatorServer) -> str:
    noon = dt.time(12)
    for days_ago, count in ((1, 11), (4, 7)):
        day = dt.datetime.combine((TODAY - days_ago * DAY).date(), noon, tzinfo=UTC)
        sms_simulator.netmessenger.seed_messages(count, 447700400001 + 100 * days_ago, day.timestamp())
    sms_simulator.clock.advance(600)
    return nm_conn


def _report(conn: str, tmp_path: Path, **kwargs: Any) -> SmsReportOperator:
    return SmsReportOperator(task_id="r", sms_conn_id=conn, report="Messages",
                             output_path=str(tmp_path / "{window_start:%Y-%m-%d}" / "Messages.csv"), **kwargs)


@pytest.mark.parametrize(("kind", "values", "rows", "day"), [
    ("scheduled, zero-width interval", {"logical_date": TODAY, "data_interval_start": TODAY,
                                        "data_interval_end": TODAY}, 11, 1),
    ("manual, no logical date", {"run_after": TODAY + dt.timedelta(hours=3)}, 11, 1),
    ("backfill / past date", {"logical_date": TODAY - 3 * DAY, "data_interval_start": TODAY - 3 * DAY,
                              "data_interval_end": TODAY - 3 * DAY, "run_after": TODAY}, 7, 4),
    ("real data interval", {"logical_date": TODAY - 4 * DAY, "data_interval_start": TODAY - 4 * DAY,
                            "data_interval_end": TODAY - 3 * DAY}, 7, 4),
])
def test_window_and_rows_per_kind_of_run(seeded: str, tmp_path: Path, kind: str, values: dict[str, Any],
                                         rows: int, day: int) -> None:
    result = _report(seeded, tmp_path).execute(_run_ctx("@daily", **values))
    covered = (TODAY - day * DAY).date().isoformat()
    assert result["rows"] == rows, kind
    assert result["path"] == str(tmp_path / covered / "Messages.csv")
    assert result["window_start"] == (TODAY - day * DAY).isoformat()
    assert Path(result["path"]).read_text().count("\n") == rows + 1


def test_empty_window_fails_before_calling_the_gateway(seeded: str, sms_simulator: SimulatorServer,
                                                       tmp_path: Path) -> None:
    before = len(sms_simulator.netmessenger.requests)
    with pytest.raises(AirflowFailException, match=r"Messages report: the window .* is empty; give start=/end="):
        _report(seeded, tmp_path, start=TODAY, end=TODAY).execute(_run_ctx("@daily", logical_date=TODAY))
    assert not list(tmp_path.rglob("*.csv"))
    assert len(sms_simulator.netmessenger.requests) == before
    allowed = _report(seeded, tmp_path, start=TODAY, end=TODAY, allow_empty_window=True).execute(
        _run_ctx("@daily", logical_date=TODAY))
    assert allowed["rows"] == 0


def test_unscheduled_dag_needs_an_explicit_window(seeded: str, tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match=r"no report window: .* give start= and end="):
        _report(seeded, tmp_path).execute(_run_ctx(None, run_after=TODAY))
    explicit = _report(seeded, tmp_path, start=(TODAY - 5 * DAY).isoformat(), end=TODAY.isoformat()).execute(
        _run_ctx(None, run_after=TODAY))
    assert explicit["rows"] == 18
