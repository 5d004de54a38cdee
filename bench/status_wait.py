"""Status waits: requests per poll, trigger kwargs, event and XCom size, event-loop stalls (issue 13).

For each gateway that polls (BulkSMS EAPI, BulkSMS JSON, NetMessenger) and each size (10,000 and
100,000 messages) a child process sends the messages with ``SmsSendOperator`` (the simulator then
checks that each recipient received exactly one message), and another child waits for them:

* ``SmsMessageStatusSensor(deferrable=True).execute`` -- its first poke reads every message, then
  it defers; the trigger's kwargs are measured as serialised JSON;
* the trigger, rebuilt from those kwargs as the triggerer does, polls once while every message is
  still pending (``pending poll``), the virtual clock moves past delivery, and it polls again
  (``final poll``) and yields its event; ``execute_complete`` turns the event into the XCom;
* side by side, in the same process and round, the **previous behaviour** (``before``): one
  ``aget_statuses`` over the sensor's original refs (whole batches, every message each poll; a
  new HTTP client per request), whose event carried every status (``{"statuses": [...]}``) and
  whose trigger kwargs carried every ref as a dict.

Requests are counted below the transport (each HTTP exchange, sync or async) and cross-checked
against the simulator's own request log. The longest event-loop stall during a poll is measured
by a 1 ms ticker running beside it. Rounds alternate which of ``before`` and the trigger polls
first; figures are medians over the rounds (request counts and sizes do not vary).

Run: ``.venv/bin/python bench/status_wait.py [--quick] [--rounds 3] [--sizes 10000,100000]``.
Exit status 1 only on a correctness failure (wrong counts, a recipient not texted exactly once).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _common import (
    ChildFailed,
    SimHost,
    SummaryRow,
    airflow_env,
    bench_context,
    bulksms_connection,
    emit_result,
    measured,
    median,
    netmessenger_connection,
    numbers,
    run_child,
    temp_dir,
    verdict,
    write_summary,
)

FIRST = 447700000000
TEXT = "Your parcel arrives today between 10:00 and 12:00."
GATEWAYS = ("eapi", "json", "netmessenger")
EVENT_TARGET = 1_000_000  # bytes, at 100,000 messages
KB = 1024


def _conn_id(gateway: str) -> str:
    return "netmessenger_default" if gateway == "netmessenger" else "bulksms_default"


# -- children -------------------------------------------------------------------------------------


def child_send(gateway: str, count: int, out: str) -> None:
    from airflow_provider_sms.operators.send import SmsSendOperator

    kwargs: dict[str, Any] = {"sender": "Shop"} if gateway == "netmessenger" else {}
    op = SmsSendOperator(task_id="send", sms_conn_id=_conn_id(gateway), to=numbers(FIRST, count), message=TEXT,
                         **kwargs)
    with measured() as m:
        result = op.execute(bench_context())  # type: ignore[arg-type]
    Path(out).write_text(json.dumps(result))
    emit_result(m, sent=int(result["accepted_count"]))


class _Counter:
    """Counts HTTP exchanges of both transports and the async clients opened."""

    def __init__(self) -> None:
        from airflow_provider_sms import transport

        self.requests = 0
        self.clients = 0
        counter = self
        sync_open, async_exchange = transport.SyncTransport._open, transport.AsyncTransport._exchange
        new_client = transport.AsyncTransport._new_client

        def counted_open(this: Any, *args: Any, **kwargs: Any) -> Any:
            counter.requests += 1
            return sync_open(this, *args, **kwargs)

        async def counted_exchange(this: Any, *args: Any, **kwargs: Any) -> Any:
            counter.requests += 1
            return await async_exchange(this, *args, **kwargs)

        def counted_client(this: Any) -> Any:
            counter.clients += 1
            return new_client(this)

        transport.SyncTransport._open = counted_open  # type: ignore[method-assign,assignment]
        transport.AsyncTransport._exchange = counted_exchange  # type: ignore[method-assign,assignment]
        transport.AsyncTransport._new_client = counted_client  # type: ignore[method-assign,assignment]

    def take(self) -> tuple[int, int]:
        out = (self.requests, self.clients)
        self.requests = self.clients = 0
        return out


async def _stall_during(work: Any) -> tuple[Any, float]:
    """Run ``work`` beside a 1 ms ticker; the result and the longest gap the ticker saw (s)."""
    import asyncio
    import time

    longest = 0.0
    done = False

    async def tick() -> None:
        nonlocal longest
        while not done:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            longest = max(longest, time.perf_counter() - started - 0.001)

    ticker = asyncio.ensure_future(tick())
    try:
        result = await work
    finally:
        done = True
        await ticker
    return result, longest


def child_wait(gateway: str, url: str, sent_path: str, before_first: bool) -> None:
    import asyncio

    import requests
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_sms.core.results import MessageStatus
    from airflow_provider_sms.hooks.base import get_sms_hook
    from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
    from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger

    sent = json.loads(Path(sent_path).read_text())
    conn_id = _conn_id(gateway)
    counter = _Counter()
    sensor = SmsMessageStatusSensor(task_id="wait", sms_conn_id=conn_id, messages=sent, deferrable=True,
                                    success_when="all_final", poke_interval=1, timeout=3600)
    refs = sensor._refs(lambda: get_sms_hook(conn_id))
    since = sensor._since()
    old_kwargs = len(json.dumps([r.to_dict() for r in refs]))
    figures: dict[str, Any] = {}

    async def old_poll() -> list[MessageStatus]:
        hook = get_sms_hook(conn_id)  # no session: a client per request, as before
        return await hook.aget_statuses(refs, since)

    with measured() as m:
        try:
            sensor.execute(bench_context())  # type: ignore[arg-type]
            raise RuntimeError("the sensor finished on its first poke: nothing was pending")
        except TaskDeferred as deferred:
            figures["first_poke_requests"], _ = counter.take()
            _, kwargs = deferred.trigger.serialize()
        figures["kwargs_bytes"] = len(json.dumps(kwargs))
        figures["old_kwargs_bytes"] = old_kwargs
        trigger = SmsMessageStatusTrigger(**kwargs)
        hook = get_sms_hook(conn_id)

        async def scenario() -> dict[str, Any]:
            async with hook.async_session():
                for phase in ("pending", "final"):
                    if phase == "final":
                        requests.post(f"{url}/_sim/advance", params={"seconds": 3600}, timeout=60)
                    order = ("old", "new") if before_first else ("new", "old")
                    for who in order:
                        if who == "old":
                            statuses, stall = await _stall_during(old_poll())
                            figures[f"old_{phase}_requests"], figures[f"old_{phase}_clients"] = counter.take()
                            figures[f"old_{phase}_stall"] = stall
                            if phase == "final":
                                figures["old_event_bytes"] = len(json.dumps(
                                    {"status": "done", "statuses": [s.to_dict() for s in statuses]}))
                        else:
                            payload, stall = await _stall_during(trigger.poll_once(hook))
                            figures[f"{phase}_requests"], figures[f"{phase}_clients"] = counter.take()
                            figures[f"{phase}_stall"] = stall
                            if phase == "pending" and payload is not None:
                                raise RuntimeError("the trigger finished while messages were pending")
                            if phase == "final":
                                if payload is None:
                                    raise RuntimeError("the trigger did not finish after delivery")
                                figures["event"] = {"status": "done", **payload}
            return figures

        asyncio.run(scenario())
    event = figures.pop("event")
    figures["event_bytes"] = len(json.dumps(event))
    xcom = sensor.execute_complete(bench_context(), event=event)  # type: ignore[arg-type]
    figures["xcom_bytes"] = len(json.dumps(xcom))
    figures["total"] = xcom["total"]
    figures["delivered"] = xcom["delivered"]
    emit_result(m, **figures)


# -- parent ---------------------------------------------------------------------------------------


def run_one(gateway: str, count: int, sim: SimHost, env: dict[str, str], work: Path, before_first: bool,
            failures: list[str]) -> dict[str, Any] | None:
    sim.call("reset")
    sent_path = work / f"sent-{gateway}-{count}.json"
    try:
        sent = run_child([__file__, "--child", "send", "--gateway", gateway, "--n", str(count),
                          "--out", str(sent_path)], env)
    except ChildFailed as exc:
        failures.append(str(exc))
        return None
    check = (sim.call("verify_handsets", gateway="netmessenger", first=FIRST, count=count, text=TEXT)
             if gateway == "netmessenger" else sim.call("verify", first=FIRST, count=count, text=TEXT))
    if not check["ok"] or sent["sent"] != count:
        failures.append(f"{gateway} {count}: send check failed: {check}")
        return None
    before = sim.call("requests")
    try:
        result = run_child([__file__, "--child", "wait", "--gateway", gateway, "--url", sim.url,
                            "--sent", str(sent_path), *(["--before-first"] if before_first else [])], env)
    except ChildFailed as exc:
        failures.append(str(exc))
        return None
    after = sim.call("requests")
    key = "netmessenger" if gateway == "netmessenger" else "bulksms"
    seen = after[key] - before[key]
    counted = sum(int(result[k]) for k in result if k.endswith("_requests"))
    if seen != counted:
        failures.append(f"{gateway} {count}: the simulator answered {seen} requests, the client counted {counted}")
    if result["total"] != count or result["delivered"] != count:
        failures.append(f"{gateway} {count}: the wait saw {result['total']} messages, {result['delivered']} "
                        f"delivered; expected {count}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=["send", "wait"])
    parser.add_argument("--gateway", choices=GATEWAYS)
    parser.add_argument("--gateways", default=",".join(GATEWAYS))
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--out", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--sent", default="")
    parser.add_argument("--before-first", action="store_true")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 messages, one round")
    parser.add_argument("--summary-json", default=None)
    args = parser.parse_args(argv)
    if args.child == "send":
        child_send(args.gateway, args.n, args.out)
        return 0
    if args.child == "wait":
        child_wait(args.gateway, args.url, args.sent, args.before_first)
        return 0

    sizes = [1_000, 5_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    gateways = [g for g in args.gateways.split(",") if g]
    failures: list[str] = []
    rows: list[SummaryRow] = []
    lines: list[str] = []
    print(f"status wait: {', '.join(gateways)}; sizes {sizes}; {rounds} rounds", flush=True)
    with temp_dir("sms-bench-wait-") as work, SimHost(delivery_delay=1800) as sim:
        env = airflow_env(work / "airflow")
        env["AIRFLOW_CONN_BULKSMS_DEFAULT"] = bulksms_connection(sim.url, "json")
        env["AIRFLOW_CONN_NETMESSENGER_DEFAULT"] = netmessenger_connection(sim.url)
        env["AIRFLOW_CONN_SMS_JOURNAL_DEFAULT"] = json.dumps({"conn_type": "sqlite",
                                                              "host": str(work / "journal.db")})
        header = (f"{'gateway':12} {'messages':>8} | {'requests/poll: first poke, pending, final':>42} | "
                  f"{'before':>6} | {'kwargs':>9} {'before':>9} | {'event':>9} {'before':>9} | {'XCom':>9} | "
                  f"{'stall ms':>9} {'before':>7}")
        table: list[str] = [header, "-" * len(header)]
        for gateway in gateways:
            genv = dict(env)
            if gateway != "netmessenger":
                genv["AIRFLOW_CONN_BULKSMS_DEFAULT"] = bulksms_connection(sim.url, gateway)
            for count in sizes:
                results = [r for i in range(rounds)
                           if (r := run_one(gateway, count, sim, genv, work, i % 2 == 0, failures)) is not None]
                if not results:
                    continue

                def med(key: str, results: list[dict[str, Any]] = results) -> float:
                    return median([float(r[key]) for r in results])

                polls = f"{med('first_poke_requests'):.0f}, {med('pending_requests'):.0f}, {med('final_requests'):.0f}"
                line = (f"{gateway:12} {count:>8,} | {polls:>42} | {med('old_final_requests'):>6.0f} | "
                        f"{med('kwargs_bytes') / KB:>7.0f}KB {med('old_kwargs_bytes') / KB:>7.0f}KB | "
                        f"{med('event_bytes') / KB:>7.0f}KB {med('old_event_bytes') / KB:>7.0f}KB | "
                        f"{med('xcom_bytes') / KB:>7.0f}KB | {med('final_stall') * 1000:>9.1f} "
                        f"{med('old_final_stall') * 1000:>7.1f}")
                table.append(line)
                print(line, flush=True)
                clients = med("pending_clients") + med("final_clients")
                rows.append(SummaryRow("status_wait", f"{gateway} {count:,}: requests per poll (pending/final; "
                                       f"before)", f"{med('pending_requests'):.0f}/{med('final_requests'):.0f}; "
                                       f"{med('old_final_requests'):.0f}", "-", "info"))
                before_clients = med("old_pending_clients") + med("old_final_clients")
                rows.append(SummaryRow("status_wait", f"{gateway} {count:,}: httpx clients opened by two polls",
                                       f"{clients:.0f} (before: {before_clients:.0f})",
                                       "1 per trigger run", verdict(clients == 0)))
                ok = count < 100_000 or max(med("event_bytes"), med("kwargs_bytes")) < EVENT_TARGET
                rows.append(SummaryRow("status_wait", f"{gateway} {count:,}: event / kwargs / XCom bytes",
                                       f"{med('event_bytes'):,.0f} / {med('kwargs_bytes'):,.0f} / "
                                       f"{med('xcom_bytes'):,.0f} (before: event {med('old_event_bytes'):,.0f}, "
                                       f"kwargs {med('old_kwargs_bytes'):,.0f})",
                                       "< 1 MB at 100k", verdict(ok)))
        print("\n".join(table), flush=True)
        lines.extend(table)
    for failure in failures:
        print(f"FAILED: {failure}", flush=True)
    write_summary(args.summary_json, rows, lines)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
