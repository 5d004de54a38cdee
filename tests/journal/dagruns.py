"""Running send tasks for real with ``dag.test()``: Airflow's own retry loop, clears and re-runs.

The example DAG ``example_sms_retry_safe_send`` gives the tasks a serialized home in the DAGs folder
(``dag.test()`` needs one, and Airflow 3.1's execution API looks each task up there); each test
points one of its tasks (``text_numbers``, ``text_later``, ``text_group``) at what it needs and runs
only that task (the others are marked successful). ``dag.test()`` retries a failed task
as the scheduler would (``retries``, no delay here) and, given the run's logical date and run_after
again, clears the run's tasks and runs them again under the same run id: a cleared, re-run task.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections import Counter
from pathlib import Path
from typing import Any

from airflow_provider_sms.simulator import SimulatorServer

# Not imported from tests.conftest: worker processes import this module and must keep the
# AIRFLOW_HOME they were given.
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "dags" / "examples" / "example_sms_retry_safe_send.py"


def load_dag() -> Any:
    spec = importlib.util.spec_from_file_location(EXAMPLE.stem, EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def configure(dag: Any, task_id: str, *, retries: int = 1, **attributes: Any) -> Any:
    """Point the example's task ``task_id`` at ``attributes``, with ``retries`` immediate retries."""
    task = dag.get_task(task_id)
    for name, value in attributes.items():
        if not hasattr(task, name):
            raise AttributeError(f"{task_id} has no {name!r}")
        setattr(task, name, value)
    task.retries = retries
    task.retry_delay = dt.timedelta(0)
    return task


def run_task(dag: Any, task_id: str, *, again: Any = None) -> Any:
    """Run ``task_id`` only (its retries included); ``again``: clear and re-run that earlier run."""
    others = f"(?!{task_id}$).*"
    if again is None:
        return dag.test(mark_success_pattern=others)
    return dag.test(logical_date=again.logical_date, run_after=again.run_after, mark_success_pattern=others)


def task_outcome(run: Any, task_id: str) -> tuple[str, int]:
    """``(state, try_number)`` of the task in ``run``."""
    ti = next(t for t in run.get_task_instances() if t.task_id == task_id)
    return str(ti.state), int(ti.try_number)


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    """The XCom ``key`` the task pushed in ``run`` (None when it pushed none)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(XComModel.get_many(run_id=run.run_id, key=key, task_ids=task_id,
                                                 dag_ids=run.dag_id)).first()
        return None if row is None else XComModel.deserialize_value(row)


def netmessenger_handsets(server: SimulatorServer) -> Counter[str]:
    """Messages per number (scheduled ones included: they will go out)."""
    return Counter(item["number"] for item in server.netmessenger.received(include_scheduled=True))


def bulksms_handsets(server: SimulatorServer) -> Counter[str]:
    return Counter(item["msisdn"] for item in server.bulksms.received(include_scheduled=True))
