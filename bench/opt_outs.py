"""Opt-out filtering on a big send: what ``honour_opt_outs=True`` adds, side by side with number validation.

Every send already validates and normalises each number (``normalise_numbers``, libphonenumber);
with ``honour_opt_outs=True`` (the default) it also catches up on stored replies and reads the
suppression list for its numbers (``SuppressionList.catch_up`` + ``suppressed``, what
``operators.opt_outs.drop_opted_out`` does). Both run here on the same 100,000 numbers, against
suppression lists of several sizes in a SQLite file (the default store), interleaved over rounds;
printed: medians and the ratio filter / validation. Target: the filter costs at most 10% of the
validation every send already pays, for suppression lists of up to 10,000 numbers; a list as large
as the send (100,000) is shown for information (the whole list is read then).

Correctness: the filter must find exactly the listed numbers among the send's (half the list is
among them); exit status 1 otherwise.

Run: ``.venv/bin/python bench/opt_outs.py [--quick] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.10
TARGET_LIST = 10_000


def _numbers(count: int, start: int) -> list[str]:
    return [str(start + i) for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 numbers, one round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    size = 10_000 if args.quick else 100_000
    rounds = 1 if args.quick else args.rounds
    list_sizes = tuple(dict.fromkeys((0, 1_000, min(TARGET_LIST, size), size)))

    from sqlalchemy import insert

    from airflow_provider_sms.core.recipients import normalise_numbers
    from airflow_provider_sms.journal.database import database_for_url
    from airflow_provider_sms.receipts.suppression import SuppressionList, suppressions

    send = _numbers(size, 447700000000)
    written = [f"+{n}" for n in send]  # E.164, as bulk lists usually come
    failures = 0
    print(f"opt-out filter vs validation, {size:,} numbers, {rounds} rounds")
    print(f"  {'suppression list':>18} {'validate (s)':>13} {'filter (s)':>11} {'filter/validate':>16}")
    with tempfile.TemporaryDirectory(prefix="bench-opt-outs-") as folder:
        for listed in list_sizes:
            listing = SuppressionList(database_for_url(f"sqlite:///{Path(folder) / f'{listed}.db'}", shared=True))
            # Half the list is among the send's numbers, half elsewhere.
            entries = _numbers(listed // 2, 447700000000) + _numbers(listed - listed // 2, 447800000000)
            now = dt.datetime.now(dt.UTC)
            with listing.database.engine.begin() as conn:
                if entries:
                    conn.execute(insert(suppressions), [{"number": n, "source": "manual", "created_at": now}
                                                        for n in entries])
            expected = set(entries) & set(send)
            validate_times, filter_times = [], []
            for index in range(rounds):
                order = ("validate", "filter") if index % 2 == 0 else ("filter", "validate")
                for contender in order:
                    started = time.perf_counter()
                    if contender == "validate":
                        normalised = normalise_numbers(written, "GB", "valid", field="to", gateway="bench")
                        validate_times.append(time.perf_counter() - started)
                        failures += normalised != send
                    else:
                        listing.catch_up()
                        found = listing.suppressed(send)
                        filter_times.append(time.perf_counter() - started)
                        failures += found != expected
            validate, filtered = statistics.median(validate_times), statistics.median(filter_times)
            ratio = statistics.median(f / v for f, v in zip(filter_times, validate_times, strict=True))
            verdict = "" if ratio <= TARGET or listed > TARGET_LIST else "  MISSED"
            print(f"  {listed:>18,} {validate:>13.3f} {filtered:>11.3f} {ratio:>15.3f}x{verdict}")
            listing.database.close()
    if failures:
        print(f"CORRECTNESS FAILURE: {failures} rounds found the wrong numbers")
        return 1
    print(f"target: filter/validate <= {TARGET:.2f} for lists up to {TARGET_LIST:,} numbers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
