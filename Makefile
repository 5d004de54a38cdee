# Two entry points for a fresh machine (Python 3.11 on PATH):
#   make demo   build the environment, run the example DAGs against the local gateway simulator
#   make test   build the environments, lint, type-check and test on Airflow 3.3 and 3.1
#   make e2e    real Airflow deployments (3.3 and 3.1) on loopback, the connection forms in Chromium,
#               and a CeleryExecutor deployment with two workers (3.3)
# Everything is installed from this repository's own pinned constraints files.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV31 := .venv-af31
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck unit unit-af31 e2e bench clean

$(VENV)/.installed: pyproject.toml constraints/airflow-3.3.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -c constraints/airflow-3.3.txt -e ".[test]"
	touch $@

$(VENV31)/.installed: pyproject.toml constraints/airflow-3.1.txt
	test -x $(VENV31)/bin/python || $(PYTHON) -m venv $(VENV31)
	$(VENV31)/bin/pip install $(PIP_FLAGS) -c constraints/airflow-3.1.txt -e ".[test]"
	touch $@

$(VENV)/.e2e-installed: $(VENV)/.installed
	$(VENV)/bin/pip install $(PIP_FLAGS) -c constraints/airflow-3.3.txt -e ".[test,e2e,celery]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -q

unit-af31: $(VENV31)/.installed
	$(VENV31)/bin/pytest -q

test: lint typecheck unit unit-af31

# Each run starts the simulator and Airflow's API server, scheduler, DAG processor and triggerer,
# then the browser test starts each version's API server, then the Celery deployment (PostgreSQL, Redis,
# two workers) runs on 3.3; every process is stopped at the end.
e2e: $(VENV)/.e2e-installed $(VENV31)/.installed
	scripts/install-chromium.sh
	scripts/install-redis.sh
	$(VENV)/bin/python scripts/e2e/run.py --venv $(VENV)
	$(VENV)/bin/python scripts/e2e/run.py --venv $(VENV31)
	$(VENV)/bin/python scripts/e2e/browser.py --venv $(VENV) --venv $(VENV31)
	$(VENV)/bin/python scripts/e2e/multi_worker.py --venv $(VENV)

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/run_all.py

clean:
	rm -rf $(VENV) $(VENV31) .demo-airflow .e2e
