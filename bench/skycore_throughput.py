"""Skycore: a big send against an account limited to a fixed rate, 50 ms away.

Skycore takes one recipient per request and answers E113 ("API exceeded: throttle back and
retry") past the account's throughput. The simulator (``_simhost.py --skycore-throughput R
--latency 0.05``) counts calls in a sliding one-second window and answers E113 above ``R``.

* ``operator``: ``SmsSendOperator(to=<N numbers>)`` on a ``skycore`` connection with
  ``messages_per_second=R`` and the gateway's default requests in flight (8): paced by one shared
  token bucket; an E113 lowers the rate for every request and the refused call goes again until
  it clears.
* ``sequential``: the plain loop: one request at a time on one ``requests.Session``, an E113
  answered by waiting a second and asking again. Sends a sample (``--sequential-sample``, default
  2,000) and its rate is extrapolated.

Printed: each contender's messages per second, the operator's rate against the configured ``R``
(target: within 10%), E113 errors that reached the operator's result (target: none) and E113
answers the simulator gave (retried inside the send). After every run the handsets are checked:
each recipient received exactly one message with the right text.

Run: ``.venv/bin/python bench/skycore_throughput.py [--recipients 10000] [--rate 50] [--quick]``.
Exit status 1 only on a correctness failure; missed targets print MISSED.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from _common import (
    SKYCORE_API,
    SKYCORE_API_KEY,
    ChildFailed,
    SimHost,
    SummaryRow,
    airflow_env,
    bench_context,
    emit_result,
    measured,
    median,
    numbers,
    run_child,
    skycore_connection,
    temp_dir,
    verdict,
    write_summary,
)

FIRST = 447700000000
TEXT = "Flash sale: 20% off everything until midnight. Reply STOP to opt out."
LATENCY = 0.05
TARGET_SHARE = 0.9  # at least 90% of the configured rate
HTTP_TIMEOUT = 60.0


def child_operator(count: int) -> None:
    import requests  # noqa: F401 - imported before the measurement, as the loop does

    import airflow_provider_sms.hooks.skycore
    import airflow_provider_sms.journal.store  # noqa: F401
    from airflow_provider_sms.operators.send import SmsSendOperator

    to = numbers(FIRST, count, "e164")
    op = SmsSendOperator(task_id="skycore_send", sms_conn_id="skycore_default", to=to, message=TEXT)
    with measured() as m:
        result = op.execute(bench_context())  # type: ignore[arg-type]
    e113 = sum(1 for r in result.get("rejected", result.get("results", [])) if r.get("code") == "E113")
    emit_result(m, sent=int(result["accepted_count"]), rejected=int(result["rejected_count"]), e113=e113)


def child_sequential(url: str, count: int) -> None:
    from xml.sax.saxutils import escape

    import requests

    to = numbers(FIRST, count)
    sent = throttled = 0
    with measured() as m, requests.Session() as session:
        for number in to:
            body = (f"<REQUEST><ACTION>sendSMS</ACTION><API_KEY>{SKYCORE_API_KEY}</API_KEY><TO>{number}</TO>"
                    f"<FROM>60856</FROM><TEXT>{escape(TEXT)}</TEXT></REQUEST>").encode()
            while True:
                answer = session.post(url + SKYCORE_API, data=body, timeout=HTTP_TIMEOUT,
                                      headers={"Content-Type": "text/xml; charset=utf-8"})
                if "<STATUS>Success</STATUS>" in answer.text:
                    sent += 1
                    break
                if "E113" not in answer.text:
                    raise RuntimeError(f"sendSMS refused: {answer.text[:120]}")
                throttled += 1
                time.sleep(1.0)
    emit_result(m, sent=sent, e113=throttled)


def run_one(name: str, sim: SimHost, env: dict[str, str], count: int, failures: list[str]) -> dict[str, Any] | None:
    argv = [__file__, "--child", name, "--recipients", str(count)]
    if name == "sequential":
        argv += ["--url", sim.url]
    sim.call("reset")
    try:
        result = run_child(argv, env)
    except ChildFailed as exc:
        failures.append(f"{name}: {exc}")
        print(f"  {name:10} FAILED: {exc}", flush=True)
        return None
    check = sim.call("verify_handsets", gateway="skycore", first=FIRST, count=count, text=TEXT)
    ok = check["ok"] and result.get("sent") == count and not result.get("rejected", 0)
    if not ok:
        failures.append(f"{name}: simulator {json.dumps(check)}, client {result.get('sent')} sent, "
                        f"{result.get('rejected', 0)} rejected")
    result["rate"] = count / float(result["elapsed"])
    result["e113_answered"] = int(check["calls"]) - int(check["total"])
    print(f"  {name:10} {count:>6,} msgs {result['elapsed']:7.1f} s {result['rate']:7.1f} msg/s | E113 answered "
          f"{result['e113_answered']}, reaching the result {result.get('e113', 0) if name == 'operator' else '-'} | "
          f"handsets {'ok' if ok else 'WRONG'}", flush=True)
    return result if ok else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="the account's throughput, calls per second")
    parser.add_argument("--sequential-sample", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 recipients, a 200 sample: a smoke test")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    parser.add_argument("--child", choices=("operator", "sequential"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "operator":
        child_operator(args.recipients)
        return 0
    if args.child == "sequential":
        child_sequential(args.url, args.recipients)
        return 0

    if args.quick:
        args.recipients, args.sequential_sample = 1_000, 200
    sample = min(args.sequential_sample, args.recipients)
    rows: list[SummaryRow] = []
    lines: list[str] = []
    failures: list[str] = []
    label = "skycore_throughput"
    runs: dict[str, list[dict[str, Any]]] = {"operator": [], "sequential": []}
    with temp_dir("bench-airflow-home-") as home, SimHost(latency=LATENCY, skycore_throughput=args.rate) as sim:
        env = {**airflow_env(home),
               "AIRFLOW_CONN_SKYCORE_DEFAULT": skycore_connection(sim.url, messages_per_second=args.rate)}
        print(f"{label}: {args.recipients:,} recipients, account limited to {args.rate:g} calls/s, "
              f"{LATENCY * 1000:.0f} ms latency; sequential loop sampled on {sample:,}", flush=True)
        for round_no in range(args.rounds):
            order = ("operator", "sequential") if round_no % 2 == 0 else ("sequential", "operator")
            for name in order:
                result = run_one(name, sim, env, args.recipients if name == "operator" else sample, failures)
                if result is not None:
                    runs[name].append(result)
    if failures or not all(runs.values()):
        for failure in failures:
            print(f"  CORRECTNESS FAILURE {failure}", flush=True)
        rows.append(SummaryRow(label, "correctness", f"{len(failures)} failures", "0", "FAILED"))
        lines.append(f"{label}: FAILED")
        write_summary(args.summary_json, rows, lines)
        return 1
    op_rate = median([r["rate"] for r in runs["operator"]])
    seq_rate = median([r["rate"] for r in runs["sequential"]])
    share = op_rate / args.rate
    surfaced = max(int(r.get("e113", 0)) for r in runs["operator"])
    answered = median([r["e113_answered"] for r in runs["operator"]])
    ok_rate, ok_e113 = TARGET_SHARE <= share <= 1.0 + (1 - TARGET_SHARE), surfaced == 0
    line = (f"{label}: operator {op_rate:.1f} msg/s = {share:.0%} of the configured {args.rate:g}/s (target within "
            f"10%) {verdict(ok_rate)} | E113 reaching the result {surfaced} (target 0) {verdict(ok_e113)}, E113 "
            f"answered and retried inside the send {answered:.0f} | sequential one-at-a-time loop {seq_rate:.1f} "
            f"msg/s (sampled {sample:,}, extrapolated: {args.recipients / seq_rate:.0f} s for {args.recipients:,}) | "
            f"operator {args.recipients / op_rate:.0f} s | {args.rounds} round(s) | handsets checked")
    print(line, flush=True)
    lines.append(line)
    rows += [
        SummaryRow(label, "operator rate / configured rate", f"{share:.0%}", "90-110%", verdict(ok_rate)),
        SummaryRow(label, "E113 reaching the result", str(surfaced), "0", verdict(ok_e113)),
        SummaryRow(label, "operator / sequential loop (msg/s)", f"{op_rate / seq_rate:.1f}x", "-", "info"),
    ]
    write_summary(args.summary_json, rows, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
