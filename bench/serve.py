"""A real `neutrino serve` for the benchmarks: start it, call its API, watch its journal.

Imported as `serve` from the benchmark scripts in this directory, like `common`. Everything
here talks to the server only as a client would (HTTP, `/healthz`, `/metrics`), so what the
benchmarks measure includes the whole server process.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx2 as httpx
from common import free_port, neutrino_env
from prometheus_client.parser import text_string_to_metric_families

from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn

T = TypeVar("T")

PROJECT = "bench"  # X-Project-Id of every API request
HEALTH_TIMEOUT = 60.0  # seconds for the server to migrate its database and reach OVN NB
STOP_TIMEOUT = 20.0  # seconds after SIGTERM before SIGKILL
HTTP_TIMEOUT = 120.0
IDLE_TIMEOUT = 600.0  # seconds for the journal to apply everything the API accepted
IDLE_POLL = 0.02  # seconds between /healthz polls while waiting for the journal
LOG_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")
LOG_ERROR = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")
# /metrics samples the benchmarks read, by the name they get in the figures.
METRICS = {
    # Every NB transaction of the server's client, reads included (maintenance, plans).
    "nb_transactions": "neutrino_ovsdb_transaction_seconds_count",
    "nb_transaction_seconds": "neutrino_ovsdb_transaction_seconds_sum",
    # One observation per journal batch applied, i.e. per journal OVSDB write transaction;
    # its time includes loading the resources from the database and translating them.
    "journal_transactions": "neutrino_journal_apply_seconds_count",
    "journal_apply_seconds": "neutrino_journal_apply_seconds_sum",
    "resources_applied": "neutrino_journal_batch_size_sum",
    "errors": "neutrino_ovsdb_errors_total",  # journal transactions NB refused
    "unavailable": "neutrino_ovsdb_unavailable_total",  # journal batches that found NB down
}


# --- the server process --------------------------------------------------------------------


@dataclass
class Server:
    """A running `neutrino serve`: its base URL, its log, and the environment it got.

    The environment is kept so that `neutrino` CLI commands run by a benchmark see the very
    same database and OVN as the server.
    """

    base: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    pid: int = 0  # the server process, for its memory (`rss_kib`)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_lines(self, start: int = 0, end: int | None = None) -> list[str]:
        """The log's lines between two byte offsets (from `log_size`), to look at one part."""
        return self.log_path.read_bytes()[start:end].decode(errors="replace").splitlines()


@contextlib.contextmanager
def neutrino_server(directory: Path, ovn: LocalOvn, **extra_env: str) -> Iterator[Server]:
    """`neutrino serve` on a free port with `common.neutrino_env`; yields once healthy.

    It runs as `sys.executable -m neutrino.cli`, so it is the installation under test. Its
    log stays in `<directory>/serve.log` and its tail is added to any failure, so a benchmark
    that dies because of the server says why. The server is stopped even then.
    """
    port = free_port()
    env = dict(os.environ, **neutrino_env(directory, ovn), NEUTRINO_BIND=f"127.0.0.1:{port}",
               **extra_env)
    server = Server(f"http://127.0.0.1:{port}", directory / "serve.log", env)
    with open(server.log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "neutrino.cli", "serve"], env=env,
                                cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    server.pid = proc.pid
    try:
        _wait_healthy(server, proc)
        yield server
    except Exception as exc:
        raise RuntimeError(f"{exc}\n--- serve.log (tail) ---\n{server.log_tail()}") from exc
    finally:
        _stop(proc)


def _wait_healthy(server: Server, proc: subprocess.Popen[bytes]) -> None:
    """Block until /healthz answers 200 with NB connected, or fail early if the server died."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    with httpx.Client(base_url=server.base, timeout=2.0) as http:
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                response = http.get("/healthz")
                if response.status_code == 200 and response.json().get("ovn_nb") == "connected":
                    return
            time.sleep(0.1)
    raise RuntimeError(f"neutrino serve did not become healthy (exit {proc.poll()})")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the server has not exited in time: never leave it behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def server_pids(http: httpx.Client, server: Server) -> dict[str, int]:
    """The server's processes: the API's, and its journal process's when it runs apart."""
    child = health(http).get("journal_process")
    return {"api": server.pid, **({"journal": child["pid"]} if child else {})}


def rss_kib(pid: int) -> dict[str, Any]:
    """A server's resident memory now (`VmRSS`) and at its peak (`VmHWM`), in KiB: its
    process and its children (the journal process), summed, and each process's RSS
    (`per_process`, the server's first)."""
    found: dict[str, Any] = {"VmRSS": 0, "VmHWM": 0, "per_process": []}
    for each in with_children(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                kib = int(value.split()[0])
                found[key] += kib
                if key == "VmRSS":
                    found["per_process"].append(kib)
    return found


def with_children(pid: int) -> list[int]:
    """A process and its direct children (`neutrino serve` and its journal process)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


# --- HTTP ----------------------------------------------------------------------------------


def client(base: str, timeout: float = HTTP_TIMEOUT) -> httpx.Client:
    """An HTTP client acting for the benchmark's project (noauth takes X-Project-Id).

    `verify=False`: the server is plain HTTP on loopback, and a verifying client loads the CA
    bundle when it is made, 22 ms of CPU each. `in_threads` makes one a thread, and at 32
    threads `cpu_per_port` counted that making as the clients' CPU a port (5.8 ms, 0.75
    without it).
    """
    return httpx.Client(base_url=base, timeout=timeout, headers={"X-Project-Id": PROJECT},
                        verify=False)


def call(http: httpx.Client, method: str, path: str, expected: int,
         **kwargs: Any) -> dict[str, Any]:
    """One request whose status must be `expected`; its JSON body.

    A benchmark that carried on after a refused request would measure the wrong thing, so
    anything else raises, with the start of the server's answer.
    """
    response = http.request(method, path, **kwargs)
    if response.status_code != expected:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    result: dict[str, Any] = response.json()
    return result


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return call(http, "POST", path, 201, json=body)


def put(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return call(http, "PUT", path, 200, json=body)


def get(http: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    return call(http, "GET", path, 200, params=params)


def create_network(http: httpx.Client, name: str, cidr: str, subnet_name: str | None = None,
                   **attributes: Any) -> tuple[str, str]:
    """(network id, subnet id) of a network with one IPv4 subnet, two requests."""
    net = post(http, "/v2.0/networks", {"network": {"name": name, **attributes}})["network"]
    subnet = post(http, "/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": cidr, "ip_version": 4,
        "name": subnet_name or name}})["subnet"]
    return str(net["id"]), str(subnet["id"])


def in_threads(base: str, items: Iterable[T], threads: int,
               task: Callable[[httpx.Client, T], None], what: str,
               timeout: float = HTTP_TIMEOUT) -> float:
    """`task(client, item)` for every item, from `threads` threads draining one queue.

    Each thread has its own client, like as many independent callers. They are all released
    at once, and the wall seconds from that moment until the last one finished are returned.
    A failed task ends its thread; afterwards the first failure is raised, with a count.
    """
    todo: queue.SimpleQueue[T] = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        with client(base, timeout) as http:
            start.wait()
            try:
                while True:
                    task(http, todo.get_nowait())
            except queue.Empty:
                return
            except Exception as exc:  # reported by the calling thread below
                errors.append(exc)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} {what} failed; first: {errors[0]!r}")
    return wall


# --- the journal, through /healthz ---------------------------------------------------------


def health(http: httpx.Client) -> dict[str, Any]:
    """/healthz as JSON; 503 (degraded, e.g. NB down) still reports the journal."""
    result: dict[str, Any] = http.get("/healthz").json()
    return result


def journal_counts(report: dict[str, Any]) -> dict[str, int]:
    """`journal.counts` of a /healthz report: entries `pending`, `processing`, `completed`
    and `failed`."""
    counts: dict[str, int] = (report.get("journal") or {}).get("counts") or {}
    return counts


def busy(counts: dict[str, int]) -> int:
    """Entries the journal still has to apply."""
    return counts.get("pending", 0) + counts.get("processing", 0)


def wait_journal_idle(http: httpx.Client, timeout: float = IDLE_TIMEOUT,
                      poll: float = IDLE_POLL) -> tuple[float, dict[str, Any]]:
    """Poll /healthz until no entry is pending or processing: everything accepted is in NB.

    Returns the perf_counter moment it was first seen idle (exact to within `poll`) and that
    /healthz report.
    """
    deadline = time.monotonic() + timeout
    while True:
        report = health(http)
        if not busy(journal_counts(report)):
            return time.perf_counter(), report
        if time.monotonic() > deadline:
            raise RuntimeError(f"journal not idle after {timeout}s: {report.get('journal')}")
        time.sleep(poll)


# --- /metrics ------------------------------------------------------------------------------


def scrape(http: httpx.Client) -> dict[str, float]:
    """Every sample of /metrics, keyed by name (and `|le` for histogram buckets)."""
    response = http.get("/metrics")
    response.raise_for_status()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            le = sample.labels.get("le")
            found[f"{sample.name}|{le}" if le is not None else sample.name] = sample.value
    return found


def metric_deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How much each of METRICS grew between two scrapes (0 for one the server lacks)."""
    return {key: after.get(name, 0.0) - before.get(name, 0.0) for key, name in METRICS.items()}


@dataclass
class Settled(Generic[T]):
    """An API scenario followed until OVN has it (see `until_settled`)."""

    result: T  # what the scenario returned
    idle_at: float  # perf_counter moment the journal was first seen idle
    report: dict[str, Any]  # that /healthz report
    delta: dict[str, float]  # `metric_deltas` from before the scenario until then


def until_settled(http: httpx.Client, scenario: Callable[[], T]) -> Settled[T]:
    """Run `scenario`, then wait until the journal has applied all of it to NB.

    /metrics is read just before and just after, so the deltas are the OVSDB work the
    scenario caused (and whatever the server did meanwhile, such as maintenance reads).
    """
    before = scrape(http)
    result = scenario()
    idle_at, report = wait_journal_idle(http)
    return Settled(result, idle_at, report, metric_deltas(before, scrape(http)))


@dataclass
class Drained(Generic[T]):
    """An API scenario run while NB was stopped, then the journal's drain once NB was back.

    `apply_s` is the journal's apply alone: from the moment the server reports NB connected
    again until nothing is pending, with no API request running meanwhile. What comes
    before it (ovsdbapp's reconnect back-off, up to several seconds) is `reconnect_s`.
    """

    result: T
    api_s: float  # the scenario's API calls, NB down
    reconnect_s: float  # NB started -> the server reports it connected
    apply_s: float  # connected -> the journal idle
    report: dict[str, Any]  # /healthz once idle
    delta: dict[str, float]  # `metric_deltas` from before the scenario until idle


def with_nb_down(server: Server, ovn: LocalOvn, scenario: Callable[[], T]) -> Drained[T]:
    """Stop NB, run `scenario`, start NB again and time the journal's drain (see Drained)."""
    with client(server.base) as http:
        wait_journal_idle(http)
        before = scrape(http)
        local.stop(ovn.directory, "ovnnb_db")
        try:
            # Until the server has seen NB go, its worker may still claim the first entries
            # and put them into back-off, which would then count as apply time.
            _wait_nb_state(http, connected=False)
            started = time.perf_counter()
            result = scenario()
            api_s = time.perf_counter() - started
        finally:
            local.up(ovn.directory)
        nb_started = time.perf_counter()
        deadline = time.monotonic() + IDLE_TIMEOUT
        connected: float | None = None
        while True:
            report = health(http)
            now = time.perf_counter()
            if connected is None and report.get("ovn_nb") == "connected":
                connected = now
            if connected is not None and not busy(journal_counts(report)):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"journal not idle after NB came back: {report}")
            time.sleep(IDLE_POLL)
        return Drained(result, round(api_s, 3), round(connected - nb_started, 3),
                       round(now - connected, 3), report, metric_deltas(before, scrape(http)))


def _wait_nb_state(http: httpx.Client, connected: bool, timeout: float = HEALTH_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while (health(http).get("ovn_nb") == "connected") != connected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"NB still {'dis' if connected else ''}connected after {timeout}s")
        time.sleep(IDLE_POLL)
