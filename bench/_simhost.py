"""Run the gateway simulator in this process and obey JSON commands, one per line on stdin.

Started by :class:`_common.SimHost`. Prints ``{"url": ...}`` once listening, then answers each
command with one JSON line on stdout:

* ``{"cmd": "reset"}`` - forget every message (credits back to the configured balance).
* ``{"cmd": "verify", "first": F, "count": N, "text": T}`` - did numbers F..F+N-1 each receive
  exactly one message with text T, and nobody else anything? Reads the simulator's state directly
  (``BulkSmsState.batches()``), one pass over every stored recipient.
* ``{"cmd": "seed", "first": F, "count": N, "text": T}`` - store one batch of N recipients
  directly (``BulkSmsState.record``), then advance the virtual clock past the delivery delay so
  every status is final. Answers the batch id.
* ``{"cmd": "verify_contacts", "first": F, "count": N, "absent": [i, ...], "name": NF, "email": EF}`` - does the
  NetMessenger demo account's address book hold exactly the contacts ``i`` in ``0..N-1`` not in
  ``absent``, once each: number ``F + i``, name ``NF.format(i=i)``, email ``EF.format(i=i)``?
  Reads the book's columns directly (``AddressBook.columns()``), one pass; counts contacts that
  are none of these (``unexpected``).
* ``{"cmd": "verify_handsets", "gateway": G, "first": F, "count": N, "text": T}`` - the same check for
  ``netmessenger`` or ``skycore`` (their stores of received messages).
* ``{"cmd": "requests"}`` - how many gateway requests each simulated gateway has answered so far.
* ``{"cmd": "stop"}`` - stop the server and exit.

Options: ``--latency`` (seconds every gateway request waits, ``SimulatorConfig.latency``) and
``--skycore-throughput`` (the Skycore demo account's calls per second; E113 above it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from airflow_provider_sms.simulator import BulkSmsAccount, NetMessengerAccount, SimulatorConfig, SkycoreAccount
from airflow_provider_sms.simulator.bulksms.state import Batch, Content
from airflow_provider_sms.simulator.server import SimulatorServer

MAX_COMMANDS = 100_000  # bounded command loop


def verify(server: SimulatorServer, first: int, count: int, text: str) -> dict[str, Any]:
    """Compare what the simulator received with ``count`` numbers from ``first``, one message each."""
    received: Counter[str] = Counter()
    wrong_text = 0
    batches = server.bulksms.batches()
    for batch in batches:
        received.update(batch.msisdns)
        for index in range(len(batch.msisdns)) if batch.content_index is not None else ():
            wrong_text += batch.content(index).text != text
        if batch.content_index is None and batch.contents[0].text != text:
            wrong_text += len(batch.msisdns)
    return _compare(received, wrong_text, len(batches), first, count)


def verify_handsets(server: SimulatorServer, gateway: str, first: int, count: int, text: str) -> dict[str, Any]:
    """:func:`verify` for NetMessenger or Skycore: every message each number received."""
    received: Counter[str] = Counter()
    wrong_text = 0
    if gateway == "netmessenger":
        messages = [(m["number"], m["body"]) for m in server.netmessenger.received()]
    else:
        messages = [(m["number"], m["text"]) for m in server.skycore.received()]
    for number, body in messages:
        received[number] += 1
        wrong_text += body != text
    checked = _compare(received, wrong_text, len(messages), first, count)
    if gateway == "skycore":
        checked["calls"] = server.skycore.requests.count("sendSMS")  # E113 answers included
    return checked


def _compare(received: Counter[str], wrong_text: int, batches: int, first: int, count: int) -> dict[str, Any]:
    expected = {str(first + i) for i in range(count)}
    missing = [n for n in expected if n not in received]
    twice = [n for n in expected if received.get(n, 0) > 1]
    strangers = [n for n in received if n not in expected]
    total = sum(received.values())
    ok = total == count and not missing and not twice and not strangers and not wrong_text
    return {
        "ok": ok,
        "total": total,
        "batches": batches,
        "missing": len(missing),
        "duplicated": len(twice),
        "unexpected": len(strangers),
        "wrong_text": wrong_text,
        "sample": sorted(missing)[:3] + sorted(twice)[:3] + sorted(strangers)[:3],
    }


def verify_contacts(server: SimulatorServer, first: int, count: int, absent: list[int], name: str,
                    email: str) -> dict[str, Any]:
    """Compare the NetMessenger address book with the expected contacts (see the module docstring)."""
    with server.netmessenger.lock:
        columns = server.netmessenger.account().book.columns()
        skip = set(absent)
        seen: Counter[int] = Counter()
        unexpected = wrong_fields = 0
        sample: list[str] = []
        for row in range(columns.count):
            number = columns.numbers[row]
            index = number - first
            if not 0 <= index < count or index in skip:
                unexpected += 1
                if len(sample) < 3:
                    sample.append(f"unexpected {number}")
                continue
            seen[index] += 1
            if columns.names[row] != name.format(i=index) or columns.emails[row] != email.format(i=index):
                wrong_fields += 1
                if len(sample) < 6:
                    sample.append(f"{number}: {columns.names[row]!r}, {columns.emails[row]!r}")
    missing = count - len(skip) - len(seen)
    duplicated = sum(1 for times in seen.values() if times > 1)
    ok = columns.count == count - len(skip) and not missing and not duplicated and not unexpected and not wrong_fields
    return {
        "ok": ok,
        "total": columns.count,
        "missing": missing,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "wrong_fields": wrong_fields,
        "sample": sample,
    }


def seed(server: SimulatorServer, first: int, count: int, text: str) -> dict[str, Any]:
    """One batch of ``count`` recipients, straight into the store, all final by the time it returns."""
    state = server.bulksms
    batch = state.record(
        state.account(),
        api="eapi",
        msisdns=[str(first + i) for i in range(count)],
        contents=[Content(text)],
        content_index=None,
        send_at=server.clock.now(),
    )
    if not isinstance(batch, Batch):
        return {"error": f"the simulator refused the seed batch (code {batch})"}
    server.clock.advance(server.config.delivery_delay + 1)
    return {"batch_id": batch.batch_id, "recipients": len(batch.msisdns)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credits", type=int, default=10_000_000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--skycore-throughput", type=float, default=None)
    parser.add_argument("--delivery-delay", type=float, default=5.0, help="virtual seconds to a final status")
    args = parser.parse_args()
    config = SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=float(args.credits))],
                             netmessenger_accounts=[NetMessengerAccount(credits=args.credits)],
                             skycore_accounts=[SkycoreAccount(throughput=args.skycore_throughput)],
                             latency=args.latency, delivery_delay=args.delivery_delay)
    server = SimulatorServer(config).start()
    out = sys.stdout

    def answer(data: dict[str, Any]) -> None:
        out.write(json.dumps(data) + "\n")
        out.flush()

    answer({"url": server.url})
    try:
        for _, line in zip(range(MAX_COMMANDS), sys.stdin, strict=False):
            command: dict[str, Any] = json.loads(line)
            name = command.get("cmd")
            if name == "stop":
                answer({"stopped": True})
                return 0
            if name == "reset":
                server.reset()
                answer({"reset": True})
            elif name == "verify":
                answer(verify(server, int(command["first"]), int(command["count"]), str(command["text"])))
            elif name == "verify_handsets":
                answer(verify_handsets(server, str(command["gateway"]), int(command["first"]), int(command["count"]),
                                       str(command["text"])))
            elif name == "verify_contacts":
                answer(verify_contacts(server, int(command["first"]), int(command["count"]),
                                       [int(i) for i in command["absent"]], str(command["name"]),
                                       str(command["email"])))
            elif name == "requests":
                answer({"bulksms": len(server.bulksms.requests), "netmessenger": len(server.netmessenger.requests)})
            elif name == "seed":
                answer(seed(server, int(command["first"]), int(command["count"]), str(command["text"])))
            else:
                answer({"error": f"unknown command {name!r}"})
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
