"""Run every benchmark one after another and print one summary table (``make bench``).

Each benchmark runs as a subprocess with its own output shown live; options after ``--`` go to
all of them (e.g. ``--quick``). Exit status 1 when any benchmark found a correctness failure (or
crashed); missed speed/memory targets are shown as MISSED but do not fail the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from _common import BENCH, PYTHON, REPO, SummaryRow, temp_dir

BENCHMARKS = ("bulk_send", "report_pull", "contacts_import", "import_cost", "latency_send", "skycore_throughput",
              "receipt_callbacks")
TIMEOUT = 4 * 3600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small smoke-test sizes for every benchmark")
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")

    rows: list[SummaryRow] = []
    lines: list[str] = []
    failed: list[str] = []
    with temp_dir("bench-summary-") as work:
        for name in chosen:
            summary = work / f"{name}.json"
            command = [PYTHON, str(BENCH / f"{name}.py"), "--summary-json", str(summary)]
            if args.quick:
                command.append("--quick")
            print(f"\n=== {name} {'(quick)' if args.quick else ''}", flush=True)
            started = time.monotonic()
            try:
                code = subprocess.run(command, cwd=REPO, timeout=TIMEOUT, check=False).returncode
            except subprocess.TimeoutExpired:
                code = -1
            print(f"=== {name} finished in {time.monotonic() - started:.0f} s (exit {code})", flush=True)
            if summary.exists():
                data = json.loads(summary.read_text())
                rows += [SummaryRow(**row) for row in data["rows"]]
                lines += data["lines"]
            if code != 0:
                failed.append(name)
                if not summary.exists():
                    rows.append(SummaryRow(name, "run", f"exit {code}", "exit 0", "FAILED"))

    widths = [max(len(getattr(r, f)) for r in [*rows, SummaryRow("benchmark", "metric", "value", "target", "result")])
              for f in ("benchmark", "metric", "value", "target", "status")]
    print("\n" + "=" * 40 + " summary (ratios measured side by side; medians) " + "=" * 40)
    header = ("benchmark", "metric", "value", "target", "result")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        cells = (row.benchmark, row.metric, row.value, row.target, row.status)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    print()
    for line in lines:
        print(line)
    missed = sum(r.status == "MISSED" for r in rows)
    print(f"\n{len(rows)} results: {missed} target(s) MISSED; correctness failures in: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
