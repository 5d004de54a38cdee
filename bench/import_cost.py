"""Import cost: what a DAG file pays to import the provider's operators and sensor, over Airflow's own.

Fresh interpreters (the test environment: temporary ``AIRFLOW_HOME``, unit-test mode), run
alternately, ``--runs`` each (default 7), after one unmeasured warm-up of each:

* ``baseline`` - ``import airflow.sdk`` alone;
* ``provider`` - ``import airflow.sdk``, then (timed on their own) ``airflow_provider_sms.operators.send``,
  ``.operators.reports`` and ``.sensors.message_status``;
* ``dag`` - ``from airflow.sdk import DAG, BaseOperator`` (what a real DAG file does first), then
  the provider imports, timed on their own: the share of our cost that is really Airflow's
  lazily-loaded modules, which any DAG file loads anyway;
* ``runtime`` - for information: the provider imports plus what ``execute`` loads lazily (the
  BulkSMS hook, phone-number parsing, the HTTP transport), paid by the task, not by DAG parsing.

The headline is the median of the provider imports timed after ``import airflow.sdk`` (target
<= 50 ms); as a cross-check, median(provider total) - median(baseline total) is printed too. Then
one ``-X importtime`` run lists the modules our imports pull in, heaviest first.

Run: ``.venv/bin/python bench/import_cost.py [--runs 7] [--top 25]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass

from _common import PYTHON, REPO, SummaryRow, airflow_env, median, temp_dir, verdict, write_summary

TARGET_MS = 50.0
MARK = "@@provider-imports-start@@"
PROVIDER_MODULES = (
    "airflow_provider_sms.operators.send",
    "airflow_provider_sms.operators.reports",
    "airflow_provider_sms.sensors.message_status",
)
#: What ``execute`` imports lazily (not paid when the DAG file is parsed): shown for information.
RUNTIME_MODULES = (
    "airflow_provider_sms.hooks.bulksms",
    "airflow_provider_sms.core.recipients",
    "airflow_provider_sms.transport",
    "requests",
)

# Plain import statements (not importlib.import_module, which -X importtime does not report).
_PROGRAM = """
import json, sys, time
t0 = time.perf_counter()
{airflow_import}
t1 = time.perf_counter()
sys.stderr.write({mark!r} + "\\n"); sys.stderr.flush()
{provider_imports}
t2 = time.perf_counter()
print(json.dumps({{"airflow": t1 - t0, "provider": t2 - t1, "total": t2 - t0}}))
"""

VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "baseline": ("import airflow.sdk", ()),
    "provider": ("import airflow.sdk", PROVIDER_MODULES),
    "dag": ("from airflow.sdk import DAG, BaseOperator", PROVIDER_MODULES),
    "runtime": ("import airflow.sdk", (*PROVIDER_MODULES, *RUNTIME_MODULES)),
}


def program(variant: str) -> str:
    airflow_import, modules = VARIANTS[variant]
    imports = "\n".join(f"import {name}" for name in modules)
    return _PROGRAM.format(airflow_import=airflow_import, mark=MARK, provider_imports=imports)


def run_once(variant: str, env: dict[str, str], *flags: str) -> tuple[dict[str, float], str]:
    proc = subprocess.run([PYTHON, *flags, "-c", program(variant)], env=env, capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} import failed:\n{proc.stderr[-3000:]}")
    timings: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return timings, proc.stderr


@dataclass
class ImportLine:
    self_us: int
    cumulative_us: int
    level: int
    name: str


def parse_importtime(stderr: str) -> list[ImportLine]:
    """The ``-X importtime`` lines printed after the marker (the provider's imports only)."""
    found: list[ImportLine] = []
    after = False
    for line in stderr.splitlines():
        if line.strip() == MARK:
            after = True
            continue
        if not after or not line.startswith("import time:") or "imported package" in line:
            continue
        _, self_us, cumulative, name = (part for part in line.replace("import time:", "|", 1).split("|"))
        spaces = len(name) - len(name.lstrip(" "))
        found.append(ImportLine(int(self_us), int(cumulative), max(0, (spaces - 1) // 2), name.strip()))
    return found


def show_importtime(title: str, lines: list[ImportLine], top: int) -> None:
    """Print what ``-X importtime`` saw: by package, the heaviest modules, the outermost imports."""
    total_us = sum(line.self_us for line in lines)
    by_package: dict[str, int] = defaultdict(int)
    for line in lines:
        by_package[line.name.split(".")[0]] += line.self_us
    print(f"\n  -X importtime, {title}: {len(lines)} modules, {total_us / 1000:.1f} ms self time in all")
    print("  by top-level package (self time):")
    for package, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {us / 1000:8.1f} ms  {package}")
    print(f"  top {top} modules by self time:")
    for line in sorted(lines, key=lambda entry: -entry.self_us)[:top]:
        print(f"    {line.self_us / 1000:8.1f} ms self {line.cumulative_us / 1000:8.1f} ms cumulative  {line.name}")
    outer = [line for line in lines if line.level == 0]
    print("  what each outermost import pulled in (cumulative):")
    for line in sorted(outer, key=lambda entry: -entry.cumulative_us)[:15]:
        print(f"    {line.cumulative_us / 1000:8.1f} ms  {line.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=25, help="modules to list from -X importtime")
    parser.add_argument("--quick", action="store_true", help="3 runs each")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3

    times: dict[str, list[dict[str, float]]] = defaultdict(list)
    with temp_dir("bench-import-home-") as home:
        env = airflow_env(home)
        for variant in VARIANTS:  # warm-up: byte-code caches, Airflow's first-run config file
            run_once(variant, env)
        for _ in range(args.runs):
            for variant in VARIANTS:
                timings, _ = run_once(variant, env)
                times[variant].append(timings)
        _, stderr = run_once("provider", env, "-X", "importtime")
        _, runtime_stderr = run_once("runtime", env, "-X", "importtime")

    def med(variant: str, key: str) -> float:
        return median([t[key] for t in times[variant]]) * 1000

    provider_ms = med("provider", "provider")
    difference_ms = med("provider", "total") - med("baseline", "total")
    dag_ms = med("dag", "provider")
    spread = sorted(t["provider"] * 1000 for t in times["provider"])
    print(f"import_cost: {args.runs} fresh interpreters per variant, alternating (medians):")
    print(f"  import airflow.sdk alone                       {med('baseline', 'total'):8.1f} ms")
    print(f"  provider imports after import airflow.sdk      {provider_ms:8.1f} ms  "
          f"(runs: {', '.join(f'{s:.0f}' for s in spread)})")
    print(f"  cross-check: provider total - baseline total   {difference_ms:8.1f} ms  (noisy: Airflow's own "
          f"import varies by more than this)")
    print(f"  from airflow.sdk import DAG, BaseOperator      {med('dag', 'airflow'):8.1f} ms")
    print(f"  provider imports after that                    {dag_ms:8.1f} ms")
    runtime_ms = med("runtime", "provider")
    print(f"  at task run time, + hook/phonenumbers/requests {runtime_ms:8.1f} ms  (not paid by parsing)")

    show_importtime("DAG parse: provider imports after import airflow.sdk", parse_importtime(stderr), args.top)
    show_importtime("task run time: the same plus hook, phonenumbers, requests", parse_importtime(runtime_stderr),
                    args.top)

    ok = provider_ms <= TARGET_MS
    line = (f"import_cost: provider imports over import airflow.sdk {provider_ms:.0f} ms (target <= {TARGET_MS:.0f}) "
            f"{verdict(ok)} | over 'from airflow.sdk import DAG, BaseOperator' {dag_ms:.0f} ms | task run time "
            f"(+ lazy hook/phonenumbers/requests) {runtime_ms:.0f} ms | median of {args.runs}")
    print(line, flush=True)
    rows = [
        SummaryRow("import_cost", "provider imports over airflow.sdk", f"{provider_ms:.0f} ms", "<= 50 ms",
                   verdict(ok)),
        SummaryRow("import_cost", "... over 'from airflow.sdk import DAG'", f"{dag_ms:.0f} ms", "-", "info"),
    ]
    write_summary(args.summary_json, rows, [line])
    return 0


if __name__ == "__main__":
    sys.exit(main())
