"""The default alert text from each shape of callback context Airflow 3 hands over."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_provider_sms.notifications.rendering import alert_facts, default_message


def _ti(**overrides: object) -> SimpleNamespace:
    values: dict[str, object] = {"dag_id": "nightly", "task_id": "load", "run_id": "manual__1", "map_index": -1,
                                 "try_number": 3, "max_tries": 2, "state": "failed"}
    return SimpleNamespace(**{**values, **overrides})


def test_task_failure_with_link() -> None:
    context = {"ti": _ti(), "exception": RuntimeError("disk full\nTraceback ...")}
    text = default_message(alert_facts(context), "https://af.example.com/")
    assert text == ("Airflow: task load in DAG nightly failed (try 3 of 3), run manual__1: RuntimeError: disk full "
                    "https://af.example.com/dags/nightly/runs/manual__1/tasks/load")


def test_mapped_task_retry_without_base_url() -> None:
    facts = alert_facts({"ti": _ti(map_index=4, try_number=1, state="up_for_retry"), "exception": "Timeout"})
    assert facts.retries_remain
    assert default_message(facts) == ("Airflow: task load[4] in DAG nightly failed, will retry (try 1 of 3), "
                                      "run manual__1: Timeout")


def test_fail_exception_is_final_even_with_tries_left() -> None:
    assert not alert_facts({"ti": _ti(try_number=1, state="failed")}).retries_remain


def test_dag_callback_without_ti() -> None:
    # The shape DagRun.execute_dag_callbacks builds when it has no task instance to hand over.
    context = {"dag": SimpleNamespace(dag_id="nightly"), "run_id": "api__2", "reason": "all_tasks_deadlocked"}
    text = default_message(alert_facts(context), "https://af.example.com")
    assert text == ("Airflow: DAG nightly failed, run api__2 (all_tasks_deadlocked). "
                    "https://af.example.com/dags/nightly/runs/api__2")


def test_deadline_alert_context() -> None:
    # What the scheduler hands a deadline callback: plain JSON dicts; the run has no logical date.
    context = {"dag_run": {"dag_id": "nightly", "run_id": "manual__3", "logical_date": None, "state": "running"},
               "deadline": {"id": "0199", "deadline_time": "2026-11-29T03:00:00+00:00"}}
    text = default_message(alert_facts(context))
    assert text == "Airflow: DAG nightly missed its deadline (2026-11-29T03:00:00+00:00), run manual__3."


def test_empty_context_still_renders() -> None:
    assert default_message(alert_facts({})) == "Airflow: DAG ? failed."


def test_long_exception_line_is_cut() -> None:
    text = default_message(alert_facts({"ti": _ti(), "exception": ValueError("x" * 500)}))
    assert text.endswith("...") and len(text) < 250
