"""One Airflow worker in its own process: runs a send task of the example DAG with ``dag.test()``.

``python -m tests.journal.worker '<json spec>'``; the spec names the task (``numbers``), its retries,
and optionally the run to clear and run again (``logical_date``, ``run_after``). The last line
printed is JSON: ``run_id, logical_date, run_after, state, try_number, xcom``. Connections (the
gateway and the journal) come from the environment, like on a real worker.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any


def main(argv: list[str]) -> int:
    from tests.journal.dagruns import configure, load_dag, task_outcome, xcom

    spec: dict[str, Any] = json.loads(argv[0])
    dag = load_dag()
    configure(dag, "text_numbers", sms_conn_id=spec["conn_id"], to=spec["numbers"], message=spec["message"],
              sender="Ops", retries=int(spec.get("retries", 0)))
    others = "(?!text_numbers$).*"
    if spec.get("logical_date"):
        run = dag.test(logical_date=dt.datetime.fromisoformat(spec["logical_date"]),
                       run_after=dt.datetime.fromisoformat(spec["run_after"]), mark_success_pattern=others)
    else:
        run = dag.test(mark_success_pattern=others)
    state, tries = task_outcome(run, "text_numbers")
    pushed = xcom(run, "text_numbers") if state == "success" else xcom(run, "text_numbers", "send_result")
    print(json.dumps({"run_id": run.run_id, "logical_date": run.logical_date.isoformat(),
                      "run_after": run.run_after.isoformat(), "state": state, "try_number": tries,
                      "xcom": pushed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
