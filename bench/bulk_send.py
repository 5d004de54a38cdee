"""Bulk send: 100,000 recipients through ``SmsSendOperator`` vs hand-written batched clients vs a plain loop.

Contenders (each run in a subprocess of its own, so its peak RSS and CPU time are its own; the
simulator runs in yet another process, ``_simhost.py``):

* ``operator`` - ``SmsSendOperator(to=<100,000 numbers>).execute(context)`` with a fake task
  instance, as the tests do: validation of every number (libphonenumber), chunking, dedupe keys,
  the send journal (SQLite), the opt-out look-up, results as the operator returns them by default
  (``xcom_results="auto"``: a summary above 10,000 recipients). The modules it imports lazily are
  imported before the measurement, as the other contenders import ``requests`` first.
* ``batched`` - a minimal hand-written client: one ``requests.Session``, the operator's chunk size
  (``hook.max_recipients_per_request``), EAPI: comma-joined ``msisdn`` form POSTs to send_sms;
  JSON: ``POST /v1/messages`` with ``[{"to": [...], "body": ...}]`` and the answer parsed.
  No validation, no retries, no dedupe keys. It is given bare digits (``447700000000``), ready to send.
* ``validated`` - the same batched client written carefully: it first validates and normalises
  every number with ``phonenumbers`` (``parse(n, "GB")``, ``is_valid_number``, E.164 without the
  ``+``) and sends nothing if any is invalid. It gets the numbers in the operator's input format
  (``--number-format``), so operator/validated is the like-for-like comparison.
* ``plain`` - what a naive user writes: one fresh ``requests.post`` per recipient (new connection
  each time). Only a sample (``--plain-sample``, default 2,000) is sent and timed; its rate is
  extrapolated to the full list.

Each round runs every contender once (the order rotates per round); rates are medians over the
rounds, ratios the median of the per-round (paired) ratios. After every contender the simulator
is checked: each recipient received exactly one message with the right text, nobody else
received anything. Then it is reset.

The operator and ``validated`` get the numbers as E.164 (``+447700000000``) by default, the usual
form of a bulk list; ``--number-format digits`` gives them bare digits instead.

Run: ``.venv/bin/python bench/bulk_send.py [--quick] [--rounds 3] [--apis eapi,json]``.
Exit status 1 only on a correctness failure; missed speed targets print MISSED.
"""

from __future__ import annotations

import argparse
import os
import sys

from _common import (
    EAPI_SEND_SMS,
    JSON_MESSAGES,
    PASSWORD,
    USERNAME,
    ChildFailed,
    Runs,
    SimHost,
    SummaryRow,
    airflow_env,
    bench_context,
    bulksms_connection,
    emit_result,
    fmt_mb,
    fmt_rate,
    import_send_modules,
    measured,
    median,
    numbers,
    run_child,
    temp_dir,
    verdict,
    write_summary,
)

# 447700000000..447700099999: valid GB mobile numbers for libphonenumber; ``--first`` for bigger
# runs (447400000000..447400999999 are a million valid ones). Children read it from the environment.
FIRST = int(os.environ.get("BENCH_FIRST_NUMBER", "447700000000"))
# ``--shuffle``: every contender gets the list in one random order (seeded, the same for all), as a
# query without ORDER BY gives it; the operator then sorts it into its canonical order.
SHUFFLE = os.environ.get("BENCH_SHUFFLE") == "1"
TEXT = "Your parcel arrives today between 10:00 and 12:00. Reply STOP to opt out."
CONTENDERS = ("operator", "batched", "validated", "plain")
TARGET_VS_BATCHED = 0.9
TARGET_CPU_VS_BATCHED = 2.0  # issue 13: client CPU per message within 2x of the batched client, validating
TARGET_VS_PLAIN = 20.0
HTTP_TIMEOUT = 120.0


# -- children -------------------------------------------------------------------------------------


def recipients(count: int, fmt: str = "digits") -> list[str]:
    """The list a contender is given: ``count`` numbers from ``FIRST``, shuffled with ``--shuffle``."""
    to = numbers(FIRST, count, fmt)
    if SHUFFLE:
        import random

        random.Random(13).shuffle(to)
    return to


def child_probe(api: str) -> None:
    """Report ``hook.max_recipients_per_request`` for ``api`` (the batched client's chunk size)."""
    from airflow_provider_sms.hooks.base import get_sms_hook

    hook = get_sms_hook("bulksms_default")
    emit_result(measured().m, chunk=hook.max_recipients_per_request)


def child_operator(api: str, count: int, fmt: str, xcom_results: str) -> None:
    # The modules the send uses are imported before the measurement (see ``SEND_MODULES``).
    import_send_modules()
    from airflow_provider_sms.operators.send import SmsSendOperator

    to = recipients(count, fmt)
    op = SmsSendOperator(task_id="bulk_send", sms_conn_id="bulksms_default", to=to, message=TEXT,
                         xcom_results=xcom_results)  # type: ignore[arg-type]

    with measured() as m:
        result = op.execute(bench_context())  # type: ignore[arg-type]
    emit_result(m, sent=int(result["accepted_count"]), rejected=int(result["rejected_count"]),
                batches=len(result["batch_ids"]))


def send_batches(api: str, url: str, to: list[str], chunk: int) -> int:
    """The batched clients' sending loop: ``chunk`` numbers per request on one session; returns the count sent."""
    import requests

    sent = 0
    with requests.Session() as session:
        for start in range(0, len(to), chunk):
            part = to[start:start + chunk]
            if api == "eapi":
                form = {"username": USERNAME, "password": PASSWORD, "msisdn": ",".join(part), "message": TEXT,
                        "want_report": "1"}
                answer = session.post(url + EAPI_SEND_SMS, data=form, timeout=HTTP_TIMEOUT)
                answer.raise_for_status()
                if not answer.text.startswith("0|"):
                    raise RuntimeError(f"send_sms refused: {answer.text[:80]}")
                sent += len(part)
            else:
                answer = session.post(url + JSON_MESSAGES, json=[{"to": part, "body": TEXT}],
                                      auth=(USERNAME, PASSWORD), timeout=HTTP_TIMEOUT)
                answer.raise_for_status()
                sent += len(answer.json())
    return sent


def child_batched(api: str, url: str, count: int, chunk: int) -> None:
    import requests  # noqa: F401 - imported before the measurement, as the other contenders do

    to = recipients(count)
    with measured() as m:
        sent = send_batches(api, url, to, chunk)
    emit_result(m, sent=sent)


def child_validated(api: str, url: str, count: int, fmt: str, chunk: int) -> None:
    import phonenumbers
    import requests  # noqa: F401 - imported before the measurement, as the other contenders do

    to = recipients(count, fmt)
    e164 = phonenumbers.PhoneNumberFormat.E164
    with measured() as m:
        valid: list[str] = []
        invalid: list[str] = []
        for raw in to:
            try:
                parsed = phonenumbers.parse(raw, "GB")
            except phonenumbers.NumberParseException:
                invalid.append(raw)
                continue
            if phonenumbers.is_valid_number(parsed):
                valid.append(phonenumbers.format_number(parsed, e164)[1:])
            else:
                invalid.append(raw)
        if invalid:
            raise RuntimeError(f"{len(invalid)} invalid numbers, nothing sent: {invalid[:5]}")
        sent = send_batches(api, url, valid, chunk)
    emit_result(m, sent=sent)


def child_plain(api: str, url: str, count: int) -> None:
    import requests

    to = recipients(count)
    sent = 0
    with measured() as m:
        for number in to:
            if api == "eapi":
                form = {"username": USERNAME, "password": PASSWORD, "msisdn": number, "message": TEXT}
                answer = requests.post(url + EAPI_SEND_SMS, data=form, timeout=HTTP_TIMEOUT)
                sent += answer.text.startswith("0|")
            else:
                answer = requests.post(url + JSON_MESSAGES, json={"to": number, "body": TEXT},
                                       auth=(USERNAME, PASSWORD), timeout=HTTP_TIMEOUT)
                sent += answer.status_code == 201
    emit_result(m, sent=sent)


# -- parent ---------------------------------------------------------------------------------------




def run_contender(name: str, api: str, sim: SimHost, env: dict[str, str], args: argparse.Namespace,
                  chunk: int, runs: Runs) -> None:
    script = __file__
    if name == "operator":
        argv = [script, "--child", name, "--api", api, "--n", str(runs.count), "--number-format", args.number_format,
                "--xcom-results", args.xcom_results]
    elif name == "batched":
        argv = [script, "--child", name, "--api", api, "--url", sim.url, "--n", str(runs.count), "--chunk", str(chunk)]
    elif name == "validated":
        argv = [script, "--child", name, "--api", api, "--url", sim.url, "--n", str(runs.count), "--chunk", str(chunk),
                "--number-format", args.number_format]
    else:
        argv = [script, "--child", name, "--api", api, "--url", sim.url, "--n", str(runs.count)]
    sim.call("reset")
    server_cpu = sim.cpu_seconds()
    try:
        result = run_child(argv, env)
    except ChildFailed as exc:
        runs.failures.append(str(exc))
        print(f"  {api:4} {name:9} FAILED: {exc}", flush=True)
        return
    server_cpu = sim.cpu_seconds() - server_cpu
    check = sim.call("verify", first=FIRST, count=runs.count, text=TEXT)
    problems = []
    if not check["ok"]:
        problems.append(f"simulator received {check['total']} messages in {check['batches']} batches for "
                        f"{runs.count} recipients: {check['missing']} missing, {check['duplicated']} twice, "
                        f"{check['unexpected']} unexpected, {check['wrong_text']} wrong text {check['sample']}")
    if result.get("sent") != runs.count or result.get("rejected", 0):
        problems.append(f"client counted {result.get('sent')} sent, {result.get('rejected', 0)} rejected")
    rate = runs.record(result, server_cpu)
    status = "ok" if not problems else "WRONG COUNTS"
    print(f"  {api:4} {name:9} {runs.count:>7,} msgs {result['elapsed']:7.2f} s {fmt_rate(rate):>9} msg/s | client CPU "
          f"{result['cpu'] / runs.count * 1e6:6.1f} us/msg | server CPU {server_cpu / runs.count * 1e6:6.1f} us/msg | "
          f"peak RSS {fmt_mb(result['lifetime_peak'])} (work +{fmt_mb(result['peak'] - result['rss_before'])}) "
          f"| check {status}", flush=True)
    runs.failures.extend(problems)


def bench_api(api: str, sim: SimHost, env: dict[str, str], args: argparse.Namespace,
              rows: list[SummaryRow], lines: list[str]) -> bool:
    api_env = {**env, "AIRFLOW_CONN_BULKSMS_DEFAULT": bulksms_connection(sim.url, api)}
    chunk = int(run_child([__file__, "--child", "probe", "--api", api], api_env)["chunk"])
    print(f"bulk_send {api}: {args.n:,} recipients, chunk size {chunk} (hook.max_recipients_per_request), "
          f"plain loop sampled on {args.plain_sample:,}", flush=True)
    all_runs = {name: Runs(args.plain_sample if name == "plain" else args.n) for name in CONTENDERS}
    for round_no in range(args.rounds):
        shift = round_no % len(CONTENDERS)
        order = CONTENDERS[shift:] + CONTENDERS[:shift]
        for name in order:
            run_contender(name, api, sim, api_env, args, chunk, all_runs[name])
    op, batched, validated, plain = (all_runs[n] for n in CONTENDERS)
    failures = [f"{name}: {f}" for name, r in all_runs.items() for f in r.failures]
    label = f"bulk_send {api}"
    if failures or not all(r.rates for r in all_runs.values()):
        for failure in failures:
            print(f"  CORRECTNESS FAILURE {failure}", flush=True)
        line = f"{label}: FAILED ({len(failures)} correctness failures)"
        rows.append(SummaryRow(label, "correctness", f"{len(failures)} failures", "0", "FAILED"))
        lines.append(line)
        print(line, flush=True)
        return False
    # Paired: each round's operator run against the same round's others, then the median.
    per_round_b = [o / b for o, b in zip(op.rates, batched.rates, strict=True)]
    per_round_v = [o / v for o, v in zip(op.rates, validated.rates, strict=True)]
    per_round_p = [o / p for o, p in zip(op.rates, plain.rates, strict=True)]
    vs_batched, vs_validated, vs_plain = median(per_round_b), median(per_round_v), median(per_round_p)
    ok_b, ok_p = vs_batched >= TARGET_VS_BATCHED, vs_plain >= TARGET_VS_PLAIN
    cpu_vs_batched = median([o / b for o, b in zip(op.cpu_per_unit, batched.cpu_per_unit, strict=True)])
    ok_cpu = cpu_vs_batched <= TARGET_CPU_VS_BATCHED
    line = (
        f"{label}: operator {fmt_rate(op.rate())} msg/s | batched {fmt_rate(batched.rate())} msg/s | "
        f"validated {fmt_rate(validated.rate())} msg/s | "
        f"plain {fmt_rate(plain.rate())} msg/s (sampled {plain.count:,}, extrapolated) | "
        f"ratio vs batched {vs_batched:.2f}x (rounds {min(per_round_b):.2f}-{max(per_round_b):.2f}; target >= "
        f"{TARGET_VS_BATCHED}) {verdict(ok_b)} | vs validated {vs_validated:.2f}x (rounds {min(per_round_v):.2f}-"
        f"{max(per_round_v):.2f}; like for like, no target) | vs plain {vs_plain:.0f}x (rounds {min(per_round_p):.0f}-"
        f"{max(per_round_p):.0f}; target >= {TARGET_VS_PLAIN:.0f}) {verdict(ok_p)} | "
        f"peak RSS operator {fmt_mb(median(op.peaks))} (work +{fmt_mb(median(op.growths))}), "
        f"batched {fmt_mb(median(batched.peaks))} (+{fmt_mb(median(batched.growths))}), "
        f"validated {fmt_mb(median(validated.peaks))} (+{fmt_mb(median(validated.growths))}), "
        f"plain {fmt_mb(median(plain.peaks))} | client CPU us/msg operator {median(op.cpu_per_unit) * 1e6:.1f}, "
        f"batched {median(batched.cpu_per_unit) * 1e6:.1f}, validated {median(validated.cpu_per_unit) * 1e6:.1f}; "
        f"operator/batched {cpu_vs_batched:.2f}x (target <= {TARGET_CPU_VS_BATCHED}x) {verdict(ok_cpu)} | "
        f"numbers given as {args.number_format} | rates: medians of {args.rounds} rounds, ratios: median "
        f"of per-round ratios | checks OK"
    )
    rows += [
        SummaryRow(label, "operator / batched (msg/s)", f"{vs_batched:.2f}x", f">= {TARGET_VS_BATCHED}x",
                   verdict(ok_b)),
        SummaryRow(label, "operator / validated (msg/s, like for like)", f"{vs_validated:.2f}x", "-", "info"),
        SummaryRow(label, "operator / plain loop (msg/s)", f"{vs_plain:.0f}x", f">= {TARGET_VS_PLAIN:.0f}x",
                   verdict(ok_p)),
        SummaryRow(label, "operator client CPU per message / batched (validating every number)",
                   f"{cpu_vs_batched:.2f}x", f"<= {TARGET_CPU_VS_BATCHED}x", verdict(ok_cpu)),
        SummaryRow(label, "operator client CPU / validated",
                   f"{median(op.cpu_per_unit) / median(validated.cpu_per_unit):.1f}x", "-", "info"),
        SummaryRow(label, "operator peak RSS (work growth)",
                   f"{fmt_mb(median(op.peaks))} (+{fmt_mb(median(op.growths))})", "-", "info"),
        SummaryRow(label, "correctness (1 msg per recipient)", "all runs", "exact", "OK"),
    ]
    lines.append(line)
    print(line, flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="recipients (default 100,000)")
    parser.add_argument("--plain-sample", type=int, default=2_000, help="recipients the plain loop really sends")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--apis", default="eapi,json")
    parser.add_argument("--number-format", choices=("digits", "e164"), default="e164",
                        help="how the operator and the validated client get the numbers: +447700000000 "
                             "(default) or 447700000000")
    parser.add_argument("--xcom-results", choices=("auto", "per_recipient", "summary"), default="auto",
                        help="the operator's xcom_results (default: its own default, auto)")
    parser.add_argument("--quick", action="store_true", help="small run for a smoke test (10,000 / 300, 1 round)")
    parser.add_argument("--summary-json", help="write results for run_all.py here")
    parser.add_argument("--child", choices=("probe", *CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shuffle", action="store_true", help="give every contender the numbers in a random "
                        "(seeded) order instead of ascending")
    parser.add_argument("--first", type=int, help="first number (default 447700000000; 447400000000 for 1,000,000)")
    args = parser.parse_args(argv)
    if args.first is not None:
        global FIRST
        FIRST = args.first
        os.environ["BENCH_FIRST_NUMBER"] = str(args.first)  # the children's environment is built from it
    if args.shuffle:
        global SHUFFLE
        SHUFFLE = True
        os.environ["BENCH_SHUFFLE"] = "1"

    if args.child == "probe":
        child_probe(args.api)
        return 0
    if args.child == "operator":
        child_operator(args.api, args.n, args.number_format, args.xcom_results)
        return 0
    if args.child == "batched":
        child_batched(args.api, args.url, args.n, args.chunk)
        return 0
    if args.child == "validated":
        child_validated(args.api, args.url, args.n, args.number_format, args.chunk)
        return 0
    if args.child == "plain":
        child_plain(args.api, args.url, args.n)
        return 0

    if args.quick:
        args.n, args.plain_sample, args.rounds = 10_000, 300, 1
    args.plain_sample = min(args.plain_sample, args.n)
    rows: list[SummaryRow] = []
    lines: list[str] = []
    ok = True
    with temp_dir("bench-airflow-home-") as home, SimHost() as sim:
        env = airflow_env(home)
        for api in args.apis.split(","):
            ok &= bench_api(api.strip(), sim, env, args, rows, lines)
    write_summary(args.summary_json, rows, lines)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
