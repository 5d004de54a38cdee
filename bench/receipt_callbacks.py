"""Receipts: 10,000 callbacks on loopback into the receiver, none lost, vs a bare endpoint that only answers 200.

Two server processes (``_receiver_host.py``), one at a time, each under uvicorn on a loopback port
and mounted at ``/sms-callbacks`` as Airflow's API server mounts plugin apps:

* ``receiver`` - the provider's callback receiver: constant-time secret check, body limit,
  hardened XML parse of a Skycore inbound postback, the idempotent write to the receipts store
  (a SQLite file, the default for one machine) *before* the 200 answer;
* ``bare`` - the same path, reading the body and answering 200 (the floor: HTTP and uvicorn only).

The client (this process) sends N postbacks, each with its own ``TRANSACTIONID``, from
``--clients`` threads with keep-alive sessions, and times them. Rounds alternate the contenders.
Afterwards the store is read back with the stdlib ``sqlite3``: the rows stored must equal the
callbacks sent (each id once) -- a missing or doubled row is a FAILED run.

Run: ``.venv/bin/python bench/receipt_callbacks.py [--quick] [--rounds 3] [--n 10000] [--clients 8]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
from _common import BENCH, PYTHON, REPO, SummaryRow, airflow_env, fmt_rate, median, temp_dir, write_summary

SECRET = "bench-callback-secret-0123456789"
CONN_ID = "skycore_default"
CONTENDERS = ("receiver", "bare")
PATH = f"/sms-callbacks/skycore/{CONN_ID}/postback"
BODY = ("<?xml version='1.0'?><POSTBACK><ORIGIN>SMS_MO</ORIGIN><CODE>N211</CODE><FROM>1202555{n:04d}</FROM>"
        "<TO>60856</TO><TEXT>Reply number {n}</TEXT><RECEIVED>2026-11-29T06:00:00-05:00</RECEIVED>"
        "<TRANSACTIONID>{run}-{n:07d}</TRANSACTIONID></POSTBACK>")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Host:
    """One server process (``receiver`` or ``bare``) on a free loopback port."""

    def __init__(self, mode: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen([PYTHON, str(BENCH / "_receiver_host.py"), mode, str(self.port)], cwd=REPO,
                                        env=env, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise RuntimeError(f"the {mode} host did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}?secret={SECRET}"

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def send_all(url: str, run: str, n: int, clients: int) -> dict[str, Any]:
    """POST ``n`` postbacks from ``clients`` threads; wall time, answers by status, latencies."""
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        local: dict[int, int] = {}
        times: list[float] = []
        with requests.Session() as session:
            for i in range(index, n, clients):
                started = time.perf_counter()
                try:
                    code = session.post(url, data=BODY.format(n=i, run=run).encode(),
                                        headers={"Content-Type": "text/xml"}, timeout=30).status_code
                except requests.RequestException:
                    code = 0
                times.append(time.perf_counter() - started)
                local[code] = local.get(code, 0) + 1
        with lock:
            for code, count in local.items():
                statuses[code] = statuses.get(code, 0) + count
            latencies.extend(times)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"wall": wall, "rate": n / wall, "statuses": statuses,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def stored(database: Path, run: str) -> tuple[int, int]:
    """Rows of this run in the store, and distinct event ids among them."""
    with sqlite3.connect(database) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM sms_reply_events WHERE event_id LIKE ?",
            (f"{run}-%",)).fetchone()
    return int(total), int(distinct)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1,000 callbacks, one round")
    parser.add_argument("--summary-json")
    args = parser.parse_args(argv)
    n, rounds = (1000, 1) if args.quick else (args.n, args.rounds)

    rates: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    p99: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    failures: list[str] = []
    with temp_dir("bench-receipts-") as work:
        database = work / "receipts.db"
        env = airflow_env(work / "airflow")
        env["AIRFLOW_CONN_SMS_JOURNAL_DEFAULT"] = json.dumps({"conn_type": "sqlite", "host": str(database)})
        env["AIRFLOW_CONN_SKYCORE_DEFAULT"] = json.dumps({"conn_type": "skycore", "host": "https://unused.invalid",
                                                          "password": "unused", "extra": {"callback_secret": SECRET}})
        for round_number in range(1, rounds + 1):
            for mode in CONTENDERS:
                host = Host(mode, env)
                try:
                    # One warm-up request (schema set-up, first connection) outside the timing.
                    requests.post(host.url, data=BODY.format(n=0, run=f"warm{round_number}").encode(), timeout=30)
                    run = f"r{round_number}{mode[0]}"
                    result = send_all(host.url, run, n, args.clients)
                finally:
                    host.close()
                rates[mode].append(result["rate"])
                p99[mode].append(result["p99_ms"])
                line = (f"round {round_number} {mode:8s}: {n} callbacks in {result['wall']:.2f} s = "
                        f"{fmt_rate(result['rate'])}/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                        f"answers {result['statuses']}")
                if mode == "receiver":
                    total, distinct = stored(database, run)
                    line += f", stored {total} ({distinct} distinct)"
                    if result["statuses"] != {200: n} or total != n or distinct != n:
                        failures.append(f"round {round_number}: answers {result['statuses']}, stored {total}/{n}")
                print(line, flush=True)

    receiver, bare = median(rates["receiver"]), median(rates["bare"])
    ratio = receiver / bare if bare else float("nan")
    rows = [
        SummaryRow("receipt_callbacks", f"receiver rate ({n} callbacks, {args.clients} clients)",
                   f"{fmt_rate(receiver)}/s", "-", "info"),
        SummaryRow("receipt_callbacks", "bare 200 endpoint rate", f"{fmt_rate(bare)}/s", "-", "info"),
        SummaryRow("receipt_callbacks", "receiver / bare", f"{ratio:.2f}", "-", "info"),
        SummaryRow("receipt_callbacks", "stored = sent (none lost, none doubled)",
                   "yes" if not failures else "; ".join(failures), "yes", "OK" if not failures else "FAILED"),
    ]
    lines = [f"receipts: receiver {fmt_rate(receiver)}/s (p99 {median(p99['receiver']):.1f} ms) vs bare "
             f"{fmt_rate(bare)}/s (p99 {median(p99['bare']):.1f} ms): ratio {ratio:.2f}; "
             f"{'every callback stored once' if not failures else 'LOST OR DOUBLED: ' + '; '.join(failures)}"]
    for line in lines:
        print(line)
    write_summary(args.summary_json, rows, lines)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
