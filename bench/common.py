"""Helpers shared by the benchmarks: throwaway OVN, raw ovsdbapp access, figures, output.

Imported as `common` from the benchmark scripts in this directory (running
`python bench/<script>.py` puts bench/ first on sys.path). What concerns a running
`neutrino serve` (start, HTTP, journal, /metrics) lives next door in `serve.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.ovn_northbound import impl_idl

from neutrino.ovn import local
from neutrino.ovn.client import NorthboundClient, _WatchedIdl
from neutrino.ovn.local import LocalOvn
from neutrino.settings import DEFAULT_QUOTAS

T = TypeVar("T")

# Benchmarks create far more than Neutron's default quotas allow one project.
UNLIMITED_QUOTAS = {f"NEUTRINO_QUOTA_{name.upper()}": "-1" for name in DEFAULT_QUOTAS}
SYNC_TIMEOUT = 120.0  # seconds for every watched port to show up in NB


# --- neutrino and OVN ----------------------------------------------------------------------


def neutrino_env(directory: Path, ovn: LocalOvn) -> dict[str, str]:
    """The settings every benchmark gives neutrino: its own state, this OVN, no limits.

    Start-up sync is off because the run starts from an empty database and NB, where it
    could only add time before the measurements; quotas are off because the scenarios
    create far more than one project may by default.
    """
    return {"NEUTRINO_STATE_DIR": str(directory / "state"), "NEUTRINO_OVN_NB": ovn.nb,
            "NEUTRINO_OVN_SB": ovn.sb, "NEUTRINO_STARTUP_SYNC": "off", **UNLIMITED_QUOTAS}


def free_port() -> int:
    """A loopback TCP port nothing listens on right now, for a server started next."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_ovn(prefix: str = "nb") -> Iterator[tuple[Path, LocalOvn]]:
    """A private NB/SB/northd in a short /tmp directory, stopped and removed afterwards.

    The directory is short on purpose: the unix sockets inside must stay under 107 bytes.
    """
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        yield directory, local.up(directory / "ovn")
    finally:
        local.down(directory / "ovn")
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def ovsdbapp_nb(nb: str, timeout: float = 30.0) -> Iterator[impl_idl.OvnNbApiIdlImpl]:
    """Plain ovsdbapp OVN NB API on its own IDL connection, stopped afterwards.

    ovsdbapp keeps the connection on the Backend *class*, so each call gets a throwaway
    subclass: two of these (or one after another) never share a connection by accident.
    Its IDL reads with python-ovs's C parser, as neutrino's connections do: importing
    `neutrino.ovn.client` above loaded it for this process (`neutrino.ovn.json_parser`).
    """
    idl = connection.OvsdbIdl.from_server(nb, "OVN_Northbound")
    conn = connection.Connection(idl, timeout=timeout)
    api: impl_idl.OvnNbApiIdlImpl = type("Api", (impl_idl.OvnNbApiIdlImpl,), {})(conn)
    try:
        yield api
    finally:
        api.ovsdb_connection.stop(timeout=5)


class _CreationIdl(_WatchedIdl):
    """The server's kind of IDL (it reads an update without yielding after each row),
    calling `seen` with each Logical_Switch_Port's name as its row first arrives."""

    seen: Callable[[str], None] | None = None

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        if event == "create" and row._table.name == "Logical_Switch_Port" and self.seen:
            self.seen(row.name)


class LspWatcher(NorthboundClient):
    """Timestamps the moment each Logical_Switch_Port first appears in NB.

    It holds its own IDL connection (independent of the server's), whose `notify` the IDL
    calls from its own thread for every LSP "create" event, i.e. as soon as the NB update
    reaches this process: no polling, no table scans. (Not the client's `on_port_up`, which
    reports a port only once ovn-northd has written its `up`.) The timestamps are
    `time.perf_counter()`, the clock the HTTP threads use too.
    """

    # Only the table it watches: monitoring all of NB, it spent as much time on every
    # change of a big Port_Group (all ports are members) as the server's own IDL does
    # (O(members) in python-ovs), and that was timed as the server's sync latency.
    tables = ("Logical_Switch_Port",)

    def __init__(self, nb: str) -> None:
        super().__init__(nb)
        self.first_seen: dict[str, float] = {}

    def _new_idl(self, helper: Any) -> connection.OvsdbIdl:
        idl = _CreationIdl(self.remote, helper)
        idl.seen = self._seen
        return idl

    def __enter__(self) -> LspWatcher:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _seen(self, name: str) -> None:
        self.first_seen.setdefault(name, time.perf_counter())

    def wait_for(self, names: Sequence[str], timeout: float = SYNC_TIMEOUT) -> list[str]:
        return wait_seen(self.first_seen, names, timeout)


def wait_seen(first_seen: dict[str, float], names: Sequence[str],
              timeout: float = SYNC_TIMEOUT) -> list[str]:
    """Wait until every name is in `first_seen` (filled by an IDL thread); return those still
    missing at the deadline."""
    deadline = time.monotonic() + timeout
    missing = [n for n in names if n not in first_seen]
    while missing and time.monotonic() < deadline:
        time.sleep(0.005)
        missing = [n for n in missing if n not in first_seen]
    return missing


# --- figures -------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def sec(seconds: float) -> float:
    """Seconds rounded to the millisecond: finer is noise at these durations."""
    return round(seconds, 3)


def percentile_cuts(values: Sequence[float]) -> list[float]:
    """The 99 cut points of `values`, by linear interpolation (numpy's default "linear").

    `statistics.quantiles(..., method="inclusive")` treats the sample as the whole
    population, so p99 of 300 values lies between the 297th and 298th smallest values,
    rather than being extrapolated beyond the largest one. quantiles() needs two points, so
    a single value is doubled: every percentile is that value.
    """
    points = list(values) * 2 if len(values) == 1 else list(values)
    return statistics.quantiles(points, n=100, method="inclusive")


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/min in milliseconds of `values` (seconds); {} for no values."""
    if not values:
        return {}
    cuts = percentile_cuts(values)
    return {"p50_ms": ms(cuts[49]), "p95_ms": ms(cuts[94]), "p99_ms": ms(cuts[98]),
            "max_ms": ms(max(values)), "min_ms": ms(min(values))}


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """fn's result and the wall seconds it took."""
    started = time.perf_counter()
    return fn(), time.perf_counter() - started


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `size` items: one transaction's or one request's worth."""
    for first in range(0, len(items), size):
        yield items[first:first + size]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either figure is missing (or zero below)."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def machine() -> dict[str, Any]:
    """CPU count, Python version, platform and ovsdb-server version of this run."""
    version = subprocess.run(["ovsdb-server", "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "ovsdb_server": version[0] if version else None}


def emit(result: dict[str, Any], out: Path | None) -> None:
    """Print the one JSON document on stdout and, with --out, also write it to a file."""
    document = json.dumps(result, indent=2)
    if out:
        out.write_text(document + "\n")
    print(document)


@contextlib.contextmanager
def cluster() -> Iterator[tuple[Path, LocalOvn]]:
    """NB and SB as 3-member RAFT clusters (and northd) in a short /tmp directory."""
    directory = Path(tempfile.mkdtemp(prefix="ncl", dir="/tmp"))
    try:
        yield directory, local.up(directory / "ovn", cluster=3)
    finally:
        local.down(directory / "ovn")
        shutil.rmtree(directory, ignore_errors=True)
