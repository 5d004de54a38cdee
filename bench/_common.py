"""Shared plumbing of the benchmarks: child processes, the simulator host, RSS, formatting.

Nothing here imports Airflow: the parent processes stay light, and only the children that run the
provider's operators import it (after :func:`airflow_env` has set their environment).
"""

from __future__ import annotations

import json
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable

#: The simulator's default BulkSMS account (a published demo credential).
USERNAME = "demo"
PASSWORD = "demo-secret-pass"
#: Enough for every benchmark; the simulator charges one credit per message part.
BENCH_CREDITS = 10_000_000
#: The simulator's NetMessenger demo account token (``simulator.config.DEFAULT_NETMESSENGER_TOKEN``).
NETMESSENGER_TOKEN = "nm-demo-token-0001"

EAPI_SEND_SMS = "/eapi/submission/send_sms/2/2.0"
EAPI_GET_REPORT = "/eapi/status_reports/get_report/2/2.0"
JSON_MESSAGES = "/v1/messages"
NETMESSENGER_API = "/api"

RESULT_PREFIX = "RESULT "
#: Upper bound on any one child process (a hung child must not hang the benchmark).
CHILD_TIMEOUT = 1800.0
MB = 1024 * 1024


# -- environment ----------------------------------------------------------------------------------


def airflow_env(airflow_home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the tests use (see ``tests/conftest.py``), for a child that imports Airflow."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags" / "examples"),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
    )
    return env


def bulksms_connection(url: str, api: str) -> str:
    """An ``AIRFLOW_CONN_BULKSMS_DEFAULT`` value pointing at the simulator."""
    return json.dumps(
        {
            "conn_type": "bulksms",
            "host": url,
            "login": USERNAME,
            "password": PASSWORD,
            "extra": {"api": api, "default_region": "GB"},
        }
    )


def netmessenger_connection(url: str, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_NETMESSENGER_DEFAULT`` value pointing at the simulator."""
    return json.dumps(
        {
            "conn_type": "netmessenger",
            "host": url,
            "password": NETMESSENGER_TOKEN,
            "extra": {"default_region": "GB", **extra},
        }
    )


#: The simulator's Skycore demo account (``simulator.config.DEFAULT_SKYCORE_API_KEY``) and its API path.
SKYCORE_API_KEY = "sky-demo-key-0001"
SKYCORE_API = "/API/wxml/1.3/"


def skycore_connection(url: str, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_SKYCORE_DEFAULT`` value pointing at the simulator."""
    return json.dumps(
        {
            "conn_type": "skycore",
            "host": url + SKYCORE_API,
            "password": SKYCORE_API_KEY,
            "extra": {"default_region": "GB", "short_code": "60856", **extra},
        }
    )


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory removed afterwards, whatever happens."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def numbers(first: int, count: int, fmt: str = "digits") -> list[str]:
    """``count`` consecutive numbers from ``first``: ``digits`` (447700000000) or ``e164`` (+447700000000)."""
    prefix = "+" if fmt == "e164" else ""
    return [f"{prefix}{first + i}" for i in range(count)]


# -- memory ---------------------------------------------------------------------------------------


def current_rss() -> int:
    """Resident set size of this process now, in bytes."""
    import psutil

    rss: int = psutil.Process().memory_info().rss
    return rss


def peak_rss() -> int:
    """Peak RSS of this process in bytes (since start, or since :func:`reset_peak_rss`)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs``), so the next peak is the work's own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


@dataclass
class Measure:
    """What a child measures around its work: wall and CPU time, RSS before and peak during."""

    elapsed: float = 0.0
    cpu: float = 0.0
    rss_before: int = 0
    peak: int = 0
    lifetime_peak: int = 0
    peak_reset: bool = False

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.rss_before)


class measured:  # used like a function: ``with measured() as m:``
    """Context manager filling a :class:`Measure` (peak RSS is read right at the end of the work)."""

    def __init__(self) -> None:
        self.m = Measure()
        self._t0 = 0.0
        self._c0 = 0.0

    def __enter__(self) -> Measure:
        self.m.lifetime_peak = peak_rss()
        self.m.rss_before = current_rss()
        self.m.peak_reset = reset_peak_rss()
        self._c0 = _cpu()
        self._t0 = time.perf_counter()
        return self.m

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.m.elapsed = time.perf_counter() - self._t0
        self.m.cpu = _cpu() - self._c0
        self.m.peak = max(peak_rss(), self.m.rss_before)
        self.m.lifetime_peak = max(self.m.lifetime_peak, self.m.peak)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit_result(measure: Measure, **extra: Any) -> None:
    """Print the child's result line (the parent reads the last line starting with ``RESULT``)."""
    print(RESULT_PREFIX + json.dumps({**asdict(measure), **extra}), flush=True)


# -- child processes ------------------------------------------------------------------------------


class ChildFailed(RuntimeError):
    """A child process exited non-zero or printed no result."""


def run_child(
    args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = CHILD_TIMEOUT
) -> dict[str, Any]:
    """Run ``python <args>`` and return its ``RESULT`` JSON; its logs are shown only if it fails."""
    proc = subprocess.run(
        [PYTHON, *args], env=dict(env) if env is not None else None, capture_output=True, text=True,
        timeout=timeout, check=False, cwd=REPO,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise ChildFailed(f"child {' '.join(args)} exited {proc.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX):])
    return result


class SimHost:
    """The gateway simulator in a process of its own (``bench/_simhost.py``), driven over a pipe.

    Keeping the simulator out of the contenders' processes means their peak RSS and CPU time are
    the client's alone, and the server does not compete with the client for one GIL.
    """

    def __init__(self, credits: int = BENCH_CREDITS, timeout: float = 60.0, *, latency: float = 0.0,
                 skycore_throughput: float | None = None, delivery_delay: float = 5.0) -> None:
        extra = ["--latency", str(latency), "--delivery-delay", str(delivery_delay)]
        if skycore_throughput is not None:
            extra += ["--skycore-throughput", str(skycore_throughput)]
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH / "_simhost.py"), "--credits", str(credits), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO,
        )
        ready = self._read(timeout)
        self.url: str = ready["url"]
        self.pid = self.proc.pid

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + timeout
        while not buffer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildFailed("the simulator host did not answer in time")
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ChildFailed(f"the simulator host exited (code {self.proc.poll()})")
                buffer += chunk
        answer: dict[str, Any] = json.loads(buffer)
        if "error" in answer:
            raise ChildFailed(f"simulator host: {answer['error']}")
        return answer

    def call(self, cmd: str, timeout: float = 600.0, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **params}) + "\n").encode())
        self.proc.stdin.flush()
        return self._read(timeout)

    def cpu_seconds(self) -> float:
        """CPU time the simulator process has used so far."""
        import psutil

        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        if self.proc.poll() is None:
            with suppress(ChildFailed, OSError):
                self.call("stop", timeout=30)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # only our own child, by its handle
                self.proc.wait(timeout=30)

    def __enter__(self) -> SimHost:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- summaries ------------------------------------------------------------------------------------


@dataclass
class SummaryRow:
    """One line of ``run_all``'s table."""

    benchmark: str
    metric: str
    value: str
    target: str
    status: str  # OK, MISSED, FAILED, info


def write_summary(path: str | None, rows: Sequence[SummaryRow], lines: Sequence[str]) -> None:
    """Write rows and final lines as JSON for ``run_all.py`` (when it asked for them)."""
    if path:
        Path(path).write_text(json.dumps({"rows": [asdict(r) for r in rows], "lines": list(lines)}))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def fmt_mb(size: float) -> str:
    return f"{size / MB:,.1f} MB"


@dataclass
class Runs:
    """Every run of one contender on one workload (an API, a file size, ...)."""

    count: int
    rates: list[float] = field(default_factory=list)
    cpu_per_unit: list[float] = field(default_factory=list)
    server_cpu_per_unit: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    growths: list[int] = field(default_factory=list)
    junk_imported: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def rate(self) -> float:
        return median(self.rates)

    def record(self, result: dict[str, Any], server_cpu: float) -> float:
        """Add one child's measurements; returns its rate (units per second)."""
        rate = self.count / float(result["elapsed"])
        self.rates.append(rate)
        self.cpu_per_unit.append(result["cpu"] / self.count)
        self.server_cpu_per_unit.append(server_cpu / self.count)
        self.peaks.append(int(result["lifetime_peak"]))
        self.growths.append(int(result["peak"]) - int(result["rss_before"]))
        return rate


class BenchTaskInstance:
    """The little of a task instance that ``execute`` reads (the benchmarks call it directly).

    Every instance is a run of its own: the send journal remembers what a run already sent, so a
    second round under the same run id would (rightly) send nothing.
    """

    map_index = -1
    try_number = 1

    def __init__(self) -> None:
        self.run_id = f"manual__bench_{uuid.uuid4().hex}"

    def xcom_push(self, key: str, value: Any) -> None:
        """XCom is not measured: drop it."""


#: What a send imports lazily, inside ``execute`` (listed from ``sys.modules`` around a first send).
#: The operator's children import them before the measurement, as the clients import ``requests``
#: first: a task process has Airflow's task runner loaded, and importing is not a per-message cost.
SEND_MODULES = (
    "phonenumbers", "requests",
    "airflow.sdk.definitions.connection", "airflow.sdk.execution_time.cache", "airflow.sdk.execution_time.supervisor",
    "airflow_provider_sms._airflow_errors", "airflow_provider_sms.core.address_book",
    "airflow_provider_sms.core.dedupe", "airflow_provider_sms.core.receipts",
    "airflow_provider_sms.core.recipient_set", "airflow_provider_sms.deadline",
    "airflow_provider_sms.hooks.bulksms", "airflow_provider_sms.hooks.netmessenger",
    "airflow_provider_sms.journal.store", "airflow_provider_sms.operators.journaled_send",
    "airflow_provider_sms.operators.opt_outs", "airflow_provider_sms.receipts.cursors",
    "airflow_provider_sms.receipts.suppression",
    "airflow_provider_sms.operators.send",
)


def import_send_modules() -> None:
    """Import :data:`SEND_MODULES` (call it in the child, after :func:`airflow_env` took effect)."""
    import importlib

    for name in SEND_MODULES:
        importlib.import_module(name)


def bench_context() -> dict[str, Any]:
    """A minimal execution context for ``operator.execute``."""
    ti = BenchTaskInstance()
    return {"ti": ti, "run_id": ti.run_id}
