"""A big send to a gateway far away: ``SmsSendOperator`` against a hand-written client with the
same number of requests in flight, with the simulator's latency at 50 ms and 200 ms.

On loopback with no latency the CPU per message decides (``bulk_send.py``); a real gateway is
50-200 ms away, and there what counts is how many requests are in flight. Per latency, gateway
(BulkSMS EAPI, BulkSMS JSON, NetMessenger) and number of requests in flight (1 and 8):

* ``operator``: ``SmsSendOperator(to=<N numbers, E.164>, max_in_flight=<1 or 8>)`` -- set
  explicitly, since BulkSMS's default is 1 and NetMessenger's 2 -- with the default
  ``xcom_results`` (a summary above 10,000 recipients): validation, chunking, dedupe keys, the
  send journal (SQLite), per-chunk outcomes. The modules the send uses are imported before the
  measurement (as the client imports ``requests`` first).
* ``client``: a hand-written client: the numbers already as bare digits, the operator's chunk size
  (``hook.max_recipients_per_request``), one ``requests.Session`` per thread, a thread pool with
  that many requests in flight, answers checked. No validation, journal or retries.

Each contender runs in its own process against the simulator in another (``_simhost.py`` with
``--latency``: every gateway request waits that long before it is processed, concurrently);
rounds are interleaved (the order alternates) and the figure is the median of the per-round
ratios operator time / client time (target: at most 1.1). After every run the simulator's
handsets are checked: each recipient received exactly one message with the right text.

Run: ``.venv/bin/python bench/latency_send.py [--recipients 100000] [--rounds 3] [--quick]``.
Exit status 1 only on a correctness failure; missed targets print MISSED.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from _common import (
    EAPI_SEND_SMS,
    JSON_MESSAGES,
    NETMESSENGER_API,
    NETMESSENGER_TOKEN,
    PASSWORD,
    USERNAME,
    ChildFailed,
    SimHost,
    SummaryRow,
    airflow_env,
    bench_context,
    bulksms_connection,
    emit_result,
    import_send_modules,
    measured,
    median,
    netmessenger_connection,
    numbers,
    run_child,
    temp_dir,
    verdict,
    write_summary,
)

FIRST = 447700000000  # valid GB mobile numbers for libphonenumber
TEXT = "Your parcel arrives today between 10:00 and 12:00. Reply STOP to opt out."
SENDER = "Parcels"
GATEWAYS = ("eapi", "json", "netmessenger")
CONTENDERS = ("operator", "client")
TARGET = 1.1
HTTP_TIMEOUT = 120.0
CONN_VARS = {"eapi": "AIRFLOW_CONN_BULKSMS_DEFAULT", "json": "AIRFLOW_CONN_BULKSMS_DEFAULT",
             "netmessenger": "AIRFLOW_CONN_NETMESSENGER_DEFAULT"}
CONN_IDS = {"eapi": "bulksms_default", "json": "bulksms_default", "netmessenger": "netmessenger_default"}


def connection(gateway: str, url: str) -> str:
    if gateway == "netmessenger":
        return netmessenger_connection(url)
    return bulksms_connection(url, gateway)


# -- children -------------------------------------------------------------------------------------


def child_probe(gateway: str) -> None:
    from airflow_provider_sms.hooks.base import get_sms_hook

    hook = get_sms_hook(CONN_IDS[gateway])
    emit_result(measured().m, chunk=hook.max_recipients_per_request, default_in_flight=hook.max_in_flight)


def child_operator(gateway: str, count: int, in_flight: int) -> None:
    # Imported before the measurement, as the client imports requests first: a worker that has run
    # a task has them loaded; what is measured is the send.
    import_send_modules()
    from airflow_provider_sms.operators.send import SmsSendOperator

    to = numbers(FIRST, count, "e164")
    op = SmsSendOperator(task_id="latency_send", sms_conn_id=CONN_IDS[gateway], to=to, message=TEXT,
                         sender=SENDER, max_in_flight=in_flight)
    with measured() as m:
        result = op.execute(bench_context())  # type: ignore[arg-type]
    emit_result(m, sent=int(result["accepted_count"]), rejected=int(result["rejected_count"]))


def _post(session: Any, gateway: str, url: str, part: list[str]) -> int:
    """One request of the hand-written client; returns how many recipients the gateway accepted."""
    if gateway == "eapi":
        form = {"username": USERNAME, "password": PASSWORD, "msisdn": ",".join(part), "message": TEXT,
                "sender": SENDER, "want_report": "1"}
        answer = session.post(url + EAPI_SEND_SMS, data=form, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        if not answer.text.startswith("0|"):
            raise RuntimeError(f"send_sms refused: {answer.text[:80]}")
        return len(part)
    if gateway == "json":
        answer = session.post(url + JSON_MESSAGES, json=[{"to": part, "from": SENDER, "body": TEXT}],
                              auth=(USERNAME, PASSWORD), timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        return len(answer.json())
    form = {"Token": NETMESSENGER_TOKEN, "Action": "Send", "DestinationAddress": ",".join(part),
            "SourceAddress": SENDER, "Body": TEXT, "SourceTON": "5", "ValidityPeriod": "86400"}
    answer = session.post(url + NETMESSENGER_API, data=form, timeout=HTTP_TIMEOUT)
    answer.raise_for_status()
    ids = [t for t in answer.text.splitlines()[0].split(",") if t.strip()]
    if not all(t.strip().isdigit() and int(t) > 0 for t in ids):
        raise RuntimeError(f"Send refused: {answer.text[:80]}")
    return len(ids)


def child_client(gateway: str, url: str, count: int, chunk: int, in_flight: int) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    to = numbers(FIRST, count)
    local = threading.local()

    def one(part: list[str]) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        return _post(session, gateway, url, part)

    with measured() as m:
        parts = [to[start:start + chunk] for start in range(0, len(to), chunk)]
        if in_flight == 1:
            sent = sum(one(p) for p in parts)
        else:
            with ThreadPoolExecutor(in_flight) as pool:
                sent = sum(pool.map(one, parts))
    emit_result(m, sent=sent)


# -- parent ---------------------------------------------------------------------------------------


def run_one(name: str, gateway: str, in_flight: int, sim: SimHost, env: dict[str, str], count: int,
            chunk: int, failures: list[str]) -> float | None:
    script = __file__
    argv = [script, "--child", name, "--gateway", gateway, "--recipients", str(count), "--in-flight", str(in_flight)]
    if name == "client":
        argv += ["--url", sim.url, "--chunk", str(chunk)]
    sim.call("reset")
    try:
        result = run_child(argv, env)
    except ChildFailed as exc:
        failures.append(f"{gateway} {name} x{in_flight}: {exc}")
        print(f"    {name:8} FAILED: {exc}", flush=True)
        return None
    if gateway == "netmessenger":
        check = sim.call("verify_handsets", gateway=gateway, first=FIRST, count=count, text=TEXT)
    else:
        check = sim.call("verify", first=FIRST, count=count, text=TEXT)
    ok = check["ok"] and result.get("sent") == count and not result.get("rejected", 0)
    if not ok:
        failures.append(f"{gateway} {name} x{in_flight}: simulator {json.dumps(check)}, client {result.get('sent')} "
                        f"sent, {result.get('rejected', 0)} rejected")
    print(f"    {name:8} x{in_flight}: {result['elapsed']:7.2f} s | client CPU {result['cpu']:6.2f} s | "
          f"handsets {'ok' if ok else 'WRONG'}", flush=True)
    return float(result["elapsed"]) if ok else None


def bench_latency(latency: float, args: argparse.Namespace, env: dict[str, str], rows: list[SummaryRow],
                  lines: list[str]) -> bool:
    ok = True
    with SimHost(latency=latency) as sim:
        for gateway in args.gateways.split(","):
            gw_env = {**env, CONN_VARS[gateway]: connection(gateway, sim.url)}
            probe = run_child([__file__, "--child", "probe", "--gateway", gateway], gw_env)
            chunk = int(probe["chunk"])
            requests_needed = -(-args.recipients // chunk)
            print(f"latency {latency * 1000:.0f} ms, {gateway}: {args.recipients:,} recipients, chunks of {chunk} "
                  f"({requests_needed} requests), gateway default {probe['default_in_flight']} in flight", flush=True)
            for in_flight in args.in_flight:
                times: dict[str, list[float | None]] = {name: [] for name in CONTENDERS}
                failures: list[str] = []
                for round_no in range(args.rounds):
                    order = CONTENDERS if round_no % 2 == 0 else CONTENDERS[::-1]
                    for name in order:
                        times[name].append(run_one(name, gateway, in_flight, sim, gw_env, args.recipients, chunk,
                                                   failures))
                label = f"latency_send {gateway} {latency * 1000:.0f} ms x{in_flight}"
                pairs = [(o, c) for o, c in zip(times["operator"], times["client"], strict=True)
                         if o is not None and c is not None]
                if failures or not pairs:
                    ok = False
                    for failure in failures:
                        print(f"  CORRECTNESS FAILURE {failure}", flush=True)
                    rows.append(SummaryRow(label, "correctness", f"{len(failures)} failures", "0", "FAILED"))
                    lines.append(f"{label}: FAILED")
                    continue
                ratios = [o / c for o, c in pairs]
                ratio = median(ratios)
                op_time, client_time = median([o for o, _ in pairs]), median([c for _, c in pairs])
                line = (f"{label}: operator {op_time:.2f} s, hand-written client {client_time:.2f} s "
                        f"({args.recipients:,} recipients, {requests_needed} requests of {chunk}); operator/client "
                        f"{ratio:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}; target <= {TARGET}) "
                        f"{verdict(ratio <= TARGET)} | medians of {len(pairs)} rounds | handsets checked")
                print(line, flush=True)
                lines.append(line)
                rows.append(SummaryRow(label, "operator time / hand-written client time", f"{ratio:.2f}x",
                                       f"<= {TARGET}x", verdict(ratio <= TARGET)))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--latencies", default="0.05,0.2", help="seconds, comma-separated (default 0.05,0.2)")
    parser.add_argument("--gateways", default=",".join(GATEWAYS))
    parser.add_argument("--in-flight", default="1,8", help="requests in flight, comma-separated (default 1,8)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10,000 recipients, 1 round: a smoke test")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    parser.add_argument("--child", choices=("probe", *CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--gateway", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "probe":
        child_probe(args.gateway)
        return 0
    if args.child == "operator":
        child_operator(args.gateway, args.recipients, int(args.in_flight))
        return 0
    if args.child == "client":
        child_client(args.gateway, args.url, args.recipients, args.chunk, int(args.in_flight))
        return 0

    if args.quick:
        args.recipients, args.rounds = 10_000, 1
    args.in_flight = [int(n) for n in args.in_flight.split(",")]
    rows: list[SummaryRow] = []
    lines: list[str] = []
    ok = True
    with temp_dir("bench-airflow-home-") as home:
        env = airflow_env(home)
        for latency in (float(x) for x in args.latencies.split(",")):
            ok &= bench_latency(latency, args, env, rows, lines)
    write_summary(args.summary_json, rows, lines)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
