"""``[core] hostname_callable`` of the Celery deployment test's workers.

Both workers run on this one machine, so Airflow's default (the machine's FQDN) would record the
same host for every task try. Each worker is started with its own ``E2E_WORKER_NAME`` and this
callable, so a try's ``hostname`` says which worker ran it, as it would on separate machines.
"""

from __future__ import annotations

import os


def hostname() -> str:
    """The name of the worker this process belongs to."""
    return os.environ["E2E_WORKER_NAME"]
