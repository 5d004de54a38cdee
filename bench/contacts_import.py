"""Contact import: 100,000 and 1,000,000 CSV rows through ``SmsContactImportOperator`` vs a hand-written client.

The parent writes one CSV file per size to a temporary directory (header ``Full name,Mobile,Email``;
contact ``i`` is ``Contact 0000042``, ``+447712000042``, ``contact42@example.com``; every
1,000th row, ~0.1%, has an invalid number instead: too long, outside the UK numbering plan, or not a
number at all). Then, each in a subprocess of its own, against the NetMessenger gateway of the
simulator (in yet another process, ``_simhost.py``):

* ``operator`` - ``SmsContactImportOperator(source=<csv>, columns={"name": "Full name",
  "number": "Mobile", "email": "Email"}, chunk_size=5000, rejects_path=...).execute(context)`` on a
  ``netmessenger`` connection: the whole file checked first (UTF-8, NUL bytes, CSV, header) before
  any upload, then every row validated (libphonenumber's number plan), invalid rows written to the
  rejects file, the others uploaded 5,000 at a time with ``ImportContactsCSV``, the connection's
  ``max_in_flight`` at once.
* ``handwritten`` - a minimal hand-written client: ``csv.reader`` over the file, chunks of 5,000
  rows comma-joined into ``ContactsCSV``, form POSTs to ``{url}/api`` on one
  ``requests.Session``, the ``Success`` lines of each answer counted. No validation, no check of
  the file before the first upload, no rejects file: it does less than the operator must (it
  imports the invalid numbers that look like digits to the gateway).

Both contenders run at each ``--in-flight`` level (default 1 and 2, NetMessenger's default): the
operator with the connection extra ``max_in_flight``, the hand-written client with a thread pool
of that many workers, one session each, at most that many chunks read ahead (at 1, the loop above,
unchanged). The ratio is always taken at equal concurrency.

Reported per size and level: rows/s of each (all rows of the file, over the median of the rounds), the
operator/hand-written ratio (median of the per-round ratios; target >= 0.7x), client CPU and simulator
CPU per row, the file size, and the peak RSS growth during the import over the RSS just before it
(the kernel's peak mark is reset right before; imports, the connection lookup and the first number
check happen before). The point of the chunking: the growth must not depend on the file size, so
the operator's growth at 1,000,000 rows is compared with its growth at 100,000 (target: within
5 MB).

Checks after every run: the simulator's address book holds exactly the valid contacts, once each,
with their names and emails (read from its state directly); for the operator, the rejects file
lists exactly the invalid rows and its counts add up. The hand-written client does not validate,
so the simulator stores whatever invalid numbers look like digits to it: these are counted and
shown, not treated as a failure, as long as every valid contact is there once.

Run: ``.venv/bin/python bench/contacts_import.py [--quick] [--rounds 3] [--sizes 100000,1000000] [--in-flight 1,2]``.
Exit status 1 only on a correctness failure; a missed target prints MISSED.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    MB,
    NETMESSENGER_API,
    NETMESSENGER_TOKEN,
    ChildFailed,
    Measure,
    Runs,
    SimHost,
    SummaryRow,
    airflow_env,
    bench_context,
    emit_result,
    fmt_mb,
    fmt_rate,
    measured,
    median,
    netmessenger_connection,
    run_child,
    temp_dir,
    verdict,
    write_summary,
)

FIRST = 447712000000  # 447712000000..447712999999: valid GB mobile numbers for libphonenumber
HEADER = ("Full name", "Mobile", "Email")
COLUMNS = {"name": "Full name", "number": "Mobile", "email": "Email"}
NAME = "Contact {i:07d}"
EMAIL = "contact{i}@example.com"
INVALID_EVERY = 1000  # row i is invalid when i % INVALID_EVERY == INVALID_AT: 0.1% of the rows
INVALID_AT = 500
CHUNK = 5000
CONTENDERS = ("operator", "handwritten")
TARGET_VS_HANDWRITTEN = 0.7  # the operator's rows/s over the hand-written client's (issue 13)
TARGET_GROWTH_DIFF = 5 * MB
HTTP_TIMEOUT = 300.0


def invalid_rows(count: int) -> list[int]:
    """Indexes of the rows that carry an invalid number."""
    return list(range(INVALID_AT, count, INVALID_EVERY))


def invalid_number(index: int) -> str:
    """An invalid number for row ``index``, of one of three kinds in turn (the digit ones unique per row)."""
    kind = (index // INVALID_EVERY) % 3
    if kind == 0:
        return f"+44771{index:09d}"  # too long for a UK mobile
    if kind == 1:
        return f"+4410{index:08d}"  # no UK number starts with 10
    return "not known"


def write_contacts(path: Path, count: int) -> int:
    """Write ``count`` contacts to ``path`` as CSV; return the file size in bytes."""
    bad = set(invalid_rows(count))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(
            (NAME.format(i=i), invalid_number(i) if i in bad else f"+{FIRST + i}", EMAIL.format(i=i))
            for i in range(count)
        )
    return path.stat().st_size


# -- children -------------------------------------------------------------------------------------


def child_operator(source: Path, rejects: Path, chunk: int) -> None:
    import airflow_provider_sms.gateways.netmessenger.api
    import airflow_provider_sms.gateways.netmessenger.csvio  # noqa: F401 - loaded before the measurement
    from airflow_provider_sms.core.recipients import normalise_number
    from airflow_provider_sms.hooks.base import get_sms_hook
    from airflow_provider_sms.operators.contacts import SmsContactImportOperator

    # Imports, the connection lookup and the first number check are not part of the measured work.
    get_sms_hook("netmessenger_default")
    normalise_number(f"+{FIRST}", "GB")
    op = SmsContactImportOperator(task_id="contacts_import", sms_conn_id="netmessenger_default", source=str(source),
                                  columns=COLUMNS, chunk_size=chunk, rejects_path=str(rejects))

    with measured() as m:
        result = op.execute(bench_context())  # type: ignore[arg-type]
    counts = {k: v for k, v in result.items() if isinstance(v, int)}
    emit_result(m, **counts)


def _handwritten_in_flight(source: Path, chunk: int, in_flight: int,
                           upload: Callable[[Any, list[list[str]]], int]) -> tuple[int, int, Measure]:
    """The hand-written loop with ``in_flight`` uploads at once: a thread pool, one session per
    thread, at most ``in_flight`` chunks read ahead of the answers."""
    import threading
    from concurrent.futures import Future, ThreadPoolExecutor

    import requests

    local = threading.local()
    sessions: list[requests.Session] = []

    def upload_on_own_session(lines: list[list[str]]) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            sessions.append(session)
        return upload(session, lines)

    rows = success = 0
    with measured() as m, source.open(newline="", encoding="utf-8") as handle, \
            ThreadPoolExecutor(in_flight) as pool:
        reader = csv.reader(handle)
        next(reader)  # the header
        pending: list[Future[int]] = []
        lines: list[list[str]] = []
        for line in reader:
            rows += 1
            lines.append(line)
            if len(lines) >= chunk:
                pending.append(pool.submit(upload_on_own_session, lines))
                lines = []
                if len(pending) >= in_flight:
                    success += pending.pop(0).result()
        if lines:
            pending.append(pool.submit(upload_on_own_session, lines))
        success += sum(f.result() for f in pending)
    for session in sessions:
        session.close()
    return rows, success, m


def child_handwritten(url: str, source: Path, chunk: int, in_flight: int = 1) -> None:
    import requests

    rows = success = 0

    def upload(session: requests.Session, lines: list[list[str]]) -> int:
        form = {"Token": NETMESSENGER_TOKEN, "Action": "ImportContactsCSV",
                "ContactsCSV": "\n".join(",".join(line) for line in lines)}
        answer = session.post(url + NETMESSENGER_API, data=form, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        if answer.text.startswith("-"):
            raise RuntimeError(f"ImportContactsCSV refused: {answer.text[:80]}")
        return sum(1 for line in answer.text.splitlines() if line.endswith(" : Success"))

    if in_flight > 1:
        rows, success, m = _handwritten_in_flight(source, chunk, in_flight, upload)
        emit_result(m, rows=rows, success=success)
        return
    with measured() as m, source.open(newline="", encoding="utf-8") as handle, requests.Session() as session:
        reader = csv.reader(handle)
        next(reader)  # the header
        lines: list[list[str]] = []
        for line in reader:
            rows += 1
            lines.append(line)
            if len(lines) >= chunk:
                success += upload(session, lines)
                lines = []
        if lines:
            success += upload(session, lines)
    emit_result(m, rows=rows, success=success)


# -- parent ---------------------------------------------------------------------------------------




def check_rejects(path: Path, count: int) -> list[str]:
    """The rejects file must list exactly the invalid rows (1-based data rows), with their numbers."""
    expected = {i + 1: invalid_number(i) for i in invalid_rows(count)}
    if not expected:
        return [] if not path.exists() else [f"rejects file {path.name} exists, but no row is invalid"]
    if not path.exists():
        return [f"no rejects file, {len(expected)} invalid rows expected"]
    seen: dict[int, str] = {}
    problems = []
    with path.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            row = int(record["row"])
            if row in seen:
                problems.append(f"rejects file lists row {row} twice")
            seen[row] = record["number"]
            if record["stage"] != "validation" or record["outcome"] != "invalid":
                problems.append(f"row {row} rejected at {record['stage']}/{record['outcome']}: {record['reason']}")
    if seen != expected:
        wrong = sorted(set(seen.items()) ^ set(expected.items()))[:5]
        problems.append(f"rejects file has {len(seen)} rows, {len(expected)} expected; differences {wrong}")
    return problems[:10]


def run_contender(name: str, sim: SimHost, env: dict[str, str], work: Path, source: Path, runs: Runs,
                  chunk: int, in_flight: int) -> None:
    rejects = work / f"rejects-{runs.count}.csv"
    rejects.unlink(missing_ok=True)
    if name == "operator":
        argv = [__file__, "--child", name, "--csv", str(source), "--rejects", str(rejects), "--chunk", str(chunk)]
        env = {**env, "AIRFLOW_CONN_NETMESSENGER_DEFAULT": netmessenger_connection(sim.url, max_in_flight=in_flight)}
    else:
        argv = [__file__, "--child", name, "--csv", str(source), "--url", sim.url, "--chunk", str(chunk),
                "--in-flight", str(in_flight)]
    sim.call("reset")
    server_cpu = sim.cpu_seconds()
    try:
        result = run_child(argv, env)
    except ChildFailed as exc:
        runs.failures.append(str(exc))
        print(f"  {runs.count:>9,} x{in_flight} {name:11} FAILED: {exc}", flush=True)
        return
    server_cpu = sim.cpu_seconds() - server_cpu
    absent = invalid_rows(runs.count)
    valid = runs.count - len(absent)
    check = sim.call("verify_contacts", first=FIRST, count=runs.count, absent=absent, name=NAME, email=EMAIL)
    problems = []
    junk = int(check["unexpected"])
    if name == "operator":
        problems += check_rejects(rejects, runs.count)
        expected = {"rows": runs.count, "invalid": len(absent), "success": valid, "rejected": len(absent)}
        got = {key: result.get(key) for key in expected}
        others = {k: v for k, v in result.items() if k in ("partial", "failed", "duplicate_name", "duplicate_number",
                                                             "unknown") and v}
        if got != expected or others:
            problems.append(f"operator counted {got} {others}, expected {expected}")
        if not check["ok"]:
            problems.append(f"address book: {check}")
    else:
        if result.get("rows") != runs.count:
            problems.append(f"client read {result.get('rows')} rows of {runs.count}")
        # No validation: whatever the simulator took for a number is in the book. Fine, if every
        # valid contact is there exactly once and the client's Success count matches the book.
        if check["missing"] or check["duplicated"] or check["wrong_fields"] or check["total"] != result.get("success"):
            problems.append(f"address book: {check}; client counted {result.get('success')} Success")
        runs.junk_imported.append(junk)
    rate = runs.record(result, server_cpu)
    status = "ok" if not problems else "WRONG"
    extra = f" ({junk} invalid numbers imported)" if name == "handwritten" else ""
    print(f"  {runs.count:>9,} x{in_flight} {name:11} {result['elapsed']:7.2f} s {fmt_rate(rate):>8} rows/s | "
          "client CPU "
          f"{result['cpu'] / runs.count * 1e6:5.1f} us/row | server CPU {server_cpu / runs.count * 1e6:5.1f} us/row | "
          f"peak RSS {fmt_mb(result['lifetime_peak'])} (import +{fmt_mb(result['peak'] - result['rss_before'])}) "
          f"| check {status}{extra}", flush=True)
    runs.failures.extend(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="rows per file, comma-separated (default "
                        "100000,1000000); the memory comparison is between the smallest and the largest")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="rows per upload, both contenders (default 5000)")
    parser.add_argument("--in-flight", default="1,2", help="uploads at once, comma-separated levels (default 1,2: "
                        "one after another, and NetMessenger's default); both contenders get the same number")
    parser.add_argument("--quick", action="store_true", help="small run for a smoke test (5,000 and 50,000, 1 round)")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rejects", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.in_flight = args.in_flight.split(",")[-1]

    if args.child == "operator":
        child_operator(args.csv, args.rejects, args.chunk)
        return 0
    if args.child == "handwritten":
        child_handwritten(args.url, args.csv, args.chunk, int(args.in_flight))
        return 0

    if args.quick:
        args.sizes, args.rounds = "5000,50000", 1
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    levels = [int(n) for n in args.in_flight.split(",")]
    rows: list[SummaryRow] = []
    lines: list[str] = []
    with temp_dir("bench-contacts-") as work, temp_dir("bench-airflow-home-") as home, SimHost() as sim:
        env = airflow_env(home)
        files: dict[int, tuple[Path, int]] = {}
        for size in sizes:
            path = work / f"contacts-{size}.csv"
            files[size] = (path, write_contacts(path, size))
            print(f"contacts_import: {size:,} rows ({len(invalid_rows(size)):,} invalid) in {path.name}, "
                  f"{fmt_mb(files[size][1])}", flush=True)
        print(f"contacts_import: chunks of {args.chunk:,}, {args.rounds} rounds, NetMessenger simulator at {sim.url}",
              flush=True)
        all_runs = {(size, level, name): Runs(size) for size in sizes for level in levels for name in CONTENDERS}
        for round_no in range(args.rounds):
            shift = round_no % len(CONTENDERS)
            order = CONTENDERS[shift:] + CONTENDERS[:shift]
            for size in sizes:
                for level in levels:
                    for name in order:
                        run_contender(name, sim, env, work, files[size][0], all_runs[size, level, name], args.chunk,
                                      level)
    ok = report(sizes, levels, files, all_runs, args, rows, lines)
    write_summary(args.summary_json, rows, lines)
    return 0 if ok else 1


def report(sizes: list[int], levels: list[int], files: dict[int, tuple[Path, int]],
           all_runs: dict[tuple[int, int, str], Runs], args: argparse.Namespace, rows: list[SummaryRow],
           lines: list[str]) -> bool:
    failures = [f"{size:,} x{level} {name}: {f}" for (size, level, name), r in all_runs.items() for f in r.failures]
    if failures or not all(r.rates for r in all_runs.values()):
        for failure in failures:
            print(f"  CORRECTNESS FAILURE {failure}", flush=True)
        line = f"contacts_import: FAILED ({len(failures)} correctness failures)"
        rows.append(SummaryRow("contacts_import", "correctness", f"{len(failures)} failures", "0", "FAILED"))
        lines.append(line)
        print(line, flush=True)
        return False
    parts = []
    for size, level in ((size, level) for size in sizes for level in levels):
        op, hand = all_runs[size, level, "operator"], all_runs[size, level, "handwritten"]
        per_round = [o / h for o, h in zip(op.rates, hand.rates, strict=True)]
        ratio = median(per_round)
        label = f"contacts_import {size:,}, {level} in flight"
        parts.append(
            f"{size:,} rows ({fmt_mb(files[size][1])}), {level} uploads in flight: operator "
            f"{fmt_rate(op.rate())} rows/s, hand-written "
            f"{fmt_rate(hand.rate())} rows/s, ratio {ratio:.2f}x (rounds {min(per_round):.2f}-{max(per_round):.2f}), "
            f"import growth operator +{fmt_mb(median(op.growths))}, hand-written +{fmt_mb(median(hand.growths))}, "
            f"client CPU us/row operator {median(op.cpu_per_unit) * 1e6:.1f}, hand-written "
            f"{median(hand.cpu_per_unit) * 1e6:.1f}, simulator {median(op.server_cpu_per_unit) * 1e6:.1f}; "
            f"hand-written imported {median(hand.junk_imported):.0f} invalid numbers"
        )
        rows += [
            SummaryRow(label, "operator rows/s", fmt_rate(op.rate()), "-", "info"),
            SummaryRow(label, "operator / hand-written (rows/s)", f"{ratio:.2f}x", f">= {TARGET_VS_HANDWRITTEN}x",
                       verdict(ratio >= TARGET_VS_HANDWRITTEN)),
            SummaryRow(label, "operator import RSS growth", f"+{fmt_mb(median(op.growths))}", "-", "info"),
            SummaryRow(label, "file size", fmt_mb(files[size][1]), "-", "info"),
        ]
    small, large = sizes[0], sizes[-1]
    growth_small = median(all_runs[small, levels[0], "operator"].growths)
    growth_large = median(all_runs[large, levels[0], "operator"].growths)
    difference = growth_large - growth_small
    ok = difference <= TARGET_GROWTH_DIFF
    rows += [
        SummaryRow("contacts_import", f"operator RSS growth {large:,} minus {small:,} ({levels[0]} in flight)",
                   f"{difference / MB:+,.1f} MB", f"<= {TARGET_GROWTH_DIFF / MB:.0f} MB", verdict(ok)),
        SummaryRow("contacts_import", "correctness (valid contacts once, rejects exact)", "all runs", "exact", "OK"),
    ]
    line = (
        "contacts_import: " + " | ".join(parts) + f" | operator growth {large:,} - {small:,} rows: "
        f"{difference / MB:+,.1f} MB (target <= {TARGET_GROWTH_DIFF / MB:.0f} MB) {verdict(ok)} | rates: medians of "
        f"{args.rounds} rounds, ratios: median of per-round ratios | checks OK"
    )
    lines.append(line)
    print(line, flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
