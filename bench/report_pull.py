"""Report pull: a 1,000,000-recipient delivery report through ``SmsReportOperator`` vs a raw streamed download.

The simulator (in its own process, ``_simhost.py``) gets one batch of 1,000,000 recipients stored
directly through its state API (``BulkSmsState.record``, no HTTP), and its virtual clock is
advanced past the delivery delay so every status is final. Then, each in a subprocess of its own:

* ``operator`` - ``SmsReportOperator(report="delivery", batch_ids=[id]).execute(context)`` on an
  EAPI connection: get_report streamed, parsed row by row, written as CSV to a local file.
* ``raw`` - ``requests.post(get_report, stream=True)`` + ``iter_content(65536)`` straight to a
  file (the EAPI's own ``msisdn|status`` lines, no parsing: the floor for "download to disk").
* ``handwritten`` - a hand-written parser producing the identical CSV: the same streamed
  request, ``iter_lines``, split on ``|``, the status word from a dict of the EAPI codes,
  ``csv.writer``. No size caps, deadlines or retries. Its file must be byte-for-byte the
  operator's (checked by SHA-256); target: the operator within 1.5x of its time.

Reported: wall time of each and their ratio, peak RSS growth over the RSS just before the pull
(the kernel's peak mark is reset right before it; target < 50 MB for the operator), and the rows
written, checked afterwards by reading each file back: 1,000,000 rows, each number of the batch
once (count and sum of the numbers), every status "delivered" (11).

Run: ``.venv/bin/python bench/report_pull.py [--quick] [--rounds 3] [--n 1000000]``.
Exit status 1 only on a correctness failure; a missed target prints MISSED.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from _common import (
    EAPI_GET_REPORT,
    MB,
    PASSWORD,
    USERNAME,
    ChildFailed,
    SimHost,
    SummaryRow,
    airflow_env,
    bulksms_connection,
    emit_result,
    fmt_mb,
    measured,
    median,
    run_child,
    temp_dir,
    verdict,
    write_summary,
)

FIRST = 447700000000
TEXT = "Your parcel arrives today."
TARGET_GROWTH = 50 * MB
CONTENDERS = ("operator", "handwritten", "raw")
TARGET_VS_HANDWRITTEN = 1.5
#: The hand-written parser's own table of EAPI status codes (reference 2.7) -> status word.
EAPI_STATUS_WORDS = {
    **dict.fromkeys(("0", "1", "10", "12", "61", "62"), "pending"),
    "11": "delivered", "22": "failed", "23": "failed", "24": "failed", "25": "failed", "26": "failed",
    "27": "failed", "28": "failed", "29": "failed", "31": "failed", "32": "failed", "33": "failed",
    "40": "failed", "41": "failed", "42": "failed", "43": "failed", "44": "failed", "45": "failed",
    "46": "failed", "47": "failed", "48": "failed", "49": "failed", "50": "failed", "51": "failed",
    "52": "failed", "53": "expired", "70": "unknown",
}
HTTP_TIMEOUT = 300.0


def _check_rows(rows: Any, batch_id: str) -> dict[str, int]:
    """Count rows, sum their numbers and count those that are not delivered (11) or of another batch."""
    count = total = bad = 0
    for row_batch, msisdn, code in rows:
        count += 1
        total += int(msisdn)
        bad += code != "11" or row_batch != batch_id
    return {"rows": count, "msisdn_sum": total, "bad_rows": bad}


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def child_handwritten(url: str, path: Path, batch_id: str) -> None:
    import requests

    form = {"username": USERNAME, "password": PASSWORD, "batch_id": batch_id}
    words = EAPI_STATUS_WORDS
    count = 0
    with (
        measured() as m,
        requests.post(url + EAPI_GET_REPORT, data=form, stream=True, timeout=HTTP_TIMEOUT) as answer,
        path.open("w", newline="", encoding="utf-8") as handle,
    ):
        answer.raise_for_status()
        lines = answer.iter_lines(65536)
        if not next(lines, b"").startswith(b"0|"):
            raise RuntimeError("get_report refused")
        writer = csv.writer(handle)
        writer.writerow(["batch_id", "msisdn", "status_code", "status"])
        for line in lines:
            if not line.strip():
                continue
            msisdn, code = line.decode("iso-8859-1").split("|")[:2]
            writer.writerow((batch_id, msisdn.strip(), code, words.get(code, "unknown")))
            count += 1
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        checked = _check_rows(((r[0], r[1], r[2]) for r in reader), batch_id)
    emit_result(m, reported_rows=count, file_bytes=path.stat().st_size, sha256=_digest(path), **checked)


def child_operator(path: Path, batch_id: str) -> None:
    from airflow_provider_sms.operators.reports import SmsReportOperator

    op = SmsReportOperator(task_id="report", sms_conn_id="bulksms_default", output_path=str(path),
                           report="delivery", batch_ids=[batch_id])
    with measured() as m:
        result = op.execute({})  # type: ignore[arg-type]
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        checked = _check_rows(((r[0], r[1], r[2]) for r in reader), batch_id)
    emit_result(m, reported_rows=int(result["rows"]), header=header, file_bytes=path.stat().st_size,
                sha256=_digest(path), **checked)


def child_raw(url: str, path: Path, batch_id: str) -> None:
    import requests

    form = {"username": USERNAME, "password": PASSWORD, "batch_id": batch_id}
    with (
        measured() as m,
        requests.post(url + EAPI_GET_REPORT, data=form, stream=True, timeout=HTTP_TIMEOUT) as answer,
        path.open("wb") as handle,
    ):
        answer.raise_for_status()
        for chunk in answer.iter_content(65536):
            handle.write(chunk)
    with path.open(encoding="iso-8859-1") as handle:
        first = handle.readline()
        lines = (line.rstrip("\n").split("|") for line in handle if line.strip())
        checked = _check_rows(((batch_id, p[0], p[1]) for p in lines), batch_id)
    emit_result(m, status_line=first.strip(), file_bytes=path.stat().st_size, **checked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="recipients in the report (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small run for a smoke test (100,000 rows, 1 round)")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--batch-id", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "operator":
        child_operator(Path(args.out), args.batch_id)
        return 0
    if args.child == "raw":
        child_raw(args.url, Path(args.out), args.batch_id)
        return 0
    if args.child == "handwritten":
        child_handwritten(args.url, Path(args.out), args.batch_id)
        return 0

    if args.quick:
        args.n, args.rounds = 100_000, 1
    expected_sum = args.n * FIRST + args.n * (args.n - 1) // 2
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    failures: list[str] = []
    with temp_dir("bench-report-") as work, SimHost() as sim:
        connection = bulksms_connection(sim.url, "eapi")
        env = {**airflow_env(work / "airflow-home"), "AIRFLOW_CONN_BULKSMS_DEFAULT": connection}
        seeded = sim.call("seed", first=FIRST, count=args.n, text=TEXT)
        batch_id = str(seeded["batch_id"])
        print(f"report_pull: batch {batch_id} of {seeded['recipients']:,} recipients seeded, all final", flush=True)
        for round_no in range(args.rounds):
            order = CONTENDERS if round_no % 2 == 0 else CONTENDERS[::-1]
            for name in order:
                out = work / f"{name}-{round_no}.{'csv' if name == 'operator' else 'txt'}"
                argv_child = [__file__, "--child", name, "--out", str(out), "--batch-id", batch_id]
                if name != "operator":
                    argv_child += ["--url", sim.url]
                try:
                    result = run_child(argv_child, env)
                except ChildFailed as exc:
                    failures.append(f"{name}: {exc}")
                    print(f"  {name:8} FAILED: {exc}", flush=True)
                    continue
                finally:
                    out.unlink(missing_ok=True)
                problems = []
                if result["rows"] != args.n or result["msisdn_sum"] != expected_sum or result["bad_rows"]:
                    problems.append(f"{result['rows']:,} rows (want {args.n:,}), {result['bad_rows']} bad, "
                                    f"numbers {'match' if result['msisdn_sum'] == expected_sum else 'DIFFER'}")
                if name != "raw" and result["reported_rows"] != result["rows"]:
                    problems.append(f"{name} said {result['reported_rows']} rows, file has {result['rows']}")
                failures += [f"{name}: {p}" for p in problems]
                results[name].append(result)
                growth = result["peak"] - result["rss_before"]
                note = "" if result["peak_reset"] else ", peak mark not reset: includes start-up"
                print(f"  {name:8} {result['elapsed']:7.2f} s | {result['rows']:>9,} rows | "
                      f"{result['file_bytes'] / MB:6.1f} MB file | RSS before {fmt_mb(result['rss_before'])}, "
                      f"peak {fmt_mb(result['peak'])} (growth {fmt_mb(growth)}{note}) | "
                      f"client CPU {result['cpu']:.2f} s | check {'ok' if not problems else 'WRONG ROWS'}", flush=True)

    rows: list[SummaryRow] = []
    label = "report_pull"
    if failures or not all(results.values()):
        for failure in failures:
            print(f"  CORRECTNESS FAILURE {failure}", flush=True)
        line = f"{label}: FAILED ({len(failures)} correctness failures)"
        rows.append(SummaryRow(label, "correctness", f"{len(failures)} failures", "0", "FAILED"))
        write_summary(args.summary_json, rows, [line])
        print(line, flush=True)
        return 1
    op_time = median([r["elapsed"] for r in results["operator"]])
    raw_time = median([r["elapsed"] for r in results["raw"]])
    # Paired per round (both ran in every round, in alternating order), then the median.
    pairs = zip(results["operator"], results["raw"], strict=True)
    slowdown = median([op["elapsed"] / raw["elapsed"] for op, raw in pairs])
    hand_time = median([r["elapsed"] for r in results["handwritten"]])
    vs_hand = median([op["elapsed"] / hw["elapsed"]
                      for op, hw in zip(results["operator"], results["handwritten"], strict=True)])
    ok_hand = vs_hand <= TARGET_VS_HANDWRITTEN
    differ = sum(op["sha256"] != hw["sha256"] for op, hw in zip(results["operator"], results["handwritten"],
                                                                 strict=True))
    if differ:
        print(f"  CORRECTNESS FAILURE: the operator's CSV differs from the hand-written one in {differ} rounds")
        rows.append(SummaryRow(label, "identical CSV", f"differs in {differ} rounds", "identical", "FAILED"))
        write_summary(args.summary_json, rows, [f"{label}: FAILED (CSV differs)"])
        return 1
    op_growth = median([r["peak"] - r["rss_before"] for r in results["operator"]])
    raw_growth = median([r["peak"] - r["rss_before"] for r in results["raw"]])
    ok_growth = op_growth < TARGET_GROWTH
    line = (
        f"{label}: operator {op_time:.2f} s ({args.n / op_time:,.0f} rows/s) | hand-written parser, identical CSV "
        f"{hand_time:.2f} s | operator/hand-written time {vs_hand:.2f}x (target <= {TARGET_VS_HANDWRITTEN}x) "
        f"{verdict(ok_hand)} | raw stream {raw_time:.2f} s "
        f"({args.n / raw_time:,.0f} rows/s) | operator/raw time {slowdown:.1f}x | "
        f"RSS growth operator {fmt_mb(op_growth)} (target < 50 MB) {verdict(ok_growth)}, raw {fmt_mb(raw_growth)} | "
        f"rows {args.n:,} / {args.n:,} both, checked | median of {args.rounds} rounds"
    )
    rows += [
        SummaryRow(label, "operator / hand-written parser, identical CSV (wall time)", f"{vs_hand:.2f}x",
                   f"<= {TARGET_VS_HANDWRITTEN}x", verdict(ok_hand)),
        SummaryRow(label, "operator / raw stream (wall time)", f"{slowdown:.1f}x", "-", "info"),
        SummaryRow(label, "operator peak RSS growth", fmt_mb(op_growth), "< 50 MB", verdict(ok_growth)),
        SummaryRow(label, "rows written (operator, raw)", f"{args.n:,}, {args.n:,}", f"{args.n:,}", "OK"),
    ]
    write_summary(args.summary_json, rows, [line])
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
