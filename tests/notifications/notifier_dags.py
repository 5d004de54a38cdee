"""DAGs for running the notifier through real ``dag.test()`` callbacks.

``dag.test()`` parses the DAG folder to serialise the DAG, then runs the in-memory DAG's tasks
and callbacks; so the file written into the temporary DAG folder builds the same shape with no
notifiers, and the test runs its own copy carrying them.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def build_dag(dag_id: str, *, retries: int = 1, task_callbacks: Sequence[Any] = (),
              retry_callbacks: Sequence[Any] = (), dag_callbacks: Sequence[Any] = ()) -> DAG:
    """One task that always fails with a two-line ValueError, retried ``retries`` times at once."""
    with DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False,
             on_failure_callback=list(dag_callbacks) or None) as dag:

        @task(task_id="load", retries=retries, retry_delay=dt.timedelta(0),
              on_failure_callback=list(task_callbacks) or None, on_retry_callback=list(retry_callbacks) or None)
        def load() -> None:
            raise ValueError("boom: disk full\nsecond line of detail")

        load()
    return dag


def write_dag_file(folder: Path, dag_id: str, retries: int = 1) -> None:
    """The parse-time twin of :func:`build_dag` for ``dag.test()``'s DAG-folder sync.

    It declares a DAG failure callback: the serialised DAG's ``has_on_failure_callback`` decides
    whether ``dag.test()`` runs the in-memory DAG's callbacks at all.
    """
    # "airflow" and "dag" must both appear, or DAG discovery's safe mode skips the file.
    (folder / f"{dag_id}.py").write_text(textwrap.dedent(f"""
        # airflow DAG for the notifier tests
        from tests.notifications.notifier_dags import build_dag
        dag = build_dag({dag_id!r}, retries={retries}, dag_callbacks=[print])
    """))
