"""Journal benchmark: draining a backlog after an NB outage, and sync latency under load.

Two measurements against one real `neutrino serve` process, each with a baseline taken in the
same run against the same OVN NB:

1. **Backlog drain.** NB's ovsdb-server is stopped, N ports are created through the API
   (bulk POSTs of 500), NB is started again and the time until the journal is empty is
   measured. Baseline: plain ovsdbapp inserting the same N LSPs (copied from what neutrino
   wrote) into a fresh switch in transactions of 200 rows, neutrino's default batch size;
   and since session 8, when neutrino's journal applies a bulk's entries in one transaction
   (`NEUTRINO_JOURNAL_BULK_BATCH_SIZE`), also in transactions of 500 rows, the bulk POSTs'
   size (`baseline_batched_per_bulk`): the drain's ratio is given against both, and
   against the faster (`..._vs_best_raw_batched_...`).
2. **Steady load.** With NB up, ports are created at a fixed rate while a separate IDL
   timestamps when each LSP appears in NB. Baseline: one ovsdbapp transaction per LSP.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/journal.py [--backlog N] [--db sqlite|postgresql]
        [--load-seconds S] [--rate R] [--out FILE]

Percentiles of measured samples: `statistics.quantiles(values, n=100, method="inclusive")`.
Percentiles from neutrino's own histogram: Prometheus' `histogram_quantile` method (linear
interpolation inside the bucket). See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import (
    LspWatcher,
    chunks,
    emit,
    free_port,
    machine,
    ms,
    ovsdbapp_nb,
    percentiles,
    ratio,
    sec,
    throwaway_ovn,
    timed,
)
from ovsdbapp.schema.ovn_northbound import impl_idl
from serve import (
    LOG_ERROR,
    Server,
    busy,
    client,
    create_network,
    health,
    journal_counts,
    metric_deltas,
    neutrino_server,
    post,
    scrape,
    wait_journal_idle,
)

from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn

BULK_PORTS = 500  # ports per bulk POST while NB is down
BATCH_ROWS = 200  # rows per baseline transaction: neutrino's default journal batch size
PORTS_PER_NETWORK = 50_000  # a /16 holds 65,534 addresses; stay well below
MIN_NETWORKS = 4
RAW_SINGLE = 300  # LSPs inserted one transaction each for the phase-2 baseline
LOAD_THREADS = 8  # client threads that send the paced requests (open loop)
IDLE_TIMEOUT = 1800.0  # seconds for the journal to apply everything
POLL = 0.05  # seconds between /healthz polls while waiting for the journal
HTTP_TIMEOUT = 300.0
OVSDB_TIMEOUT = 120.0
LSP_COLUMNS = ["name", "type", "addresses", "port_security", "options", "enabled",
               "external_ids", "dhcpv4_options", "dhcpv6_options"]
OPTIONAL_SINGLE = ("enabled", "dhcpv4_options", "dhcpv6_options")
LOG_WARNING = re.compile(r"\bWARNING\b")
SYNC_METRIC = "neutrino_sync_latency_seconds"


# --- Prometheus histograms -----------------------------------------------------------------


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile on cumulative (upper bound, count) pairs, +Inf last.

    Finds the bucket holding rank q × total and interpolates linearly between its lower and
    upper bound (the lower bound of the first bucket is 0). A rank in the +Inf bucket gives
    the largest finite bound.
    """
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, count
    return lower


# --- PostgreSQL ----------------------------------------------------------------------------


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


def _pg(argv: list[str]) -> None:
    subprocess.run(_as_postgres(argv), check=True, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A private PostgreSQL cluster on a free loopback port; yields a SQLAlchemy URL."""
    import psycopg

    directory = Path(tempfile.mkdtemp(prefix="jpg", dir="/tmp"))
    data, bin_dir, port = directory / "data", _pg_bin(), free_port()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    started = False
    try:
        _pg([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8"])
        _pg([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
             str(directory / "log"), "-w", "start"])
        started = True
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE neutrino")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/neutrino"
    finally:
        if started:
            subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                         "fast", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


# --- the serve log -------------------------------------------------------------------------


def log_report(lines: list[str]) -> dict[str, Any]:
    """ERROR/CRITICAL/Traceback lines (first 20) and WARNING counts by message shape."""
    warnings: dict[str, int] = {}
    for line in lines:
        if LOG_WARNING.search(line):
            shape = re.sub(r"[0-9a-f-]{36}|\d+(\.\d+)?", "#", line.split("WARNING", 1)[1])[:90]
            warnings[shape.strip()] = warnings.get(shape.strip(), 0) + 1
    return {"errors": [line for line in lines if LOG_ERROR.search(line)][:20],
            "warnings": dict(sorted(warnings.items(), key=lambda kv: -kv[1])[:10])}


# --- the journal, through /healthz and /metrics --------------------------------------------


def wait_idle(http: httpx.Client, timeout: float = IDLE_TIMEOUT) -> dict[str, int]:
    """`journal.counts` once no journal entry is pending or processing."""
    return journal_counts(wait_journal_idle(http, timeout, POLL)[1])


def sync_histogram(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """neutrino_sync_latency_seconds observed between two scrapes, with p50/p99 estimates."""
    prefix = f"{SYNC_METRIC}_bucket|"
    bounds = sorted((float(k.removeprefix(prefix)), k) for k in after if k.startswith(prefix))
    buckets = [(le, after[k] - before.get(k, 0.0)) for le, k in bounds]
    p50, p99 = histogram_quantile(0.5, buckets), histogram_quantile(0.99, buckets)
    return {"observations": int(buckets[-1][1]) if buckets else 0,
            "p50_ms": ms(p50) if p50 is not None else None,
            "p99_ms": ms(p99) if p99 is not None else None,
            "buckets": {("+Inf" if math.isinf(le) else f"{le:g}"): int(c) for le, c in buckets}}


def journal_figures(delta: dict[str, float]) -> dict[str, Any]:
    """The journal's OVSDB work over a phase, from `serve.metric_deltas`.

    Transactions are journal write transactions (`neutrino_journal_apply_seconds_count`, one
    per batch applied), and their mean time is that of applying a batch: loading, translating
    and the OVSDB transaction. `neutrino_ovsdb_transaction_seconds` would count the server's
    NB reads too.
    """
    transactions = delta["journal_transactions"]
    return {"ovsdb_transactions": int(transactions),
            "resources_applied": int(delta["resources_applied"]),
            "mean_batch_size": round(delta["resources_applied"] / transactions, 2)
            if transactions else None,
            "mean_transaction_ms": ms(delta["journal_apply_seconds"] / transactions)
            if transactions else None,
            "ovsdb_errors": int(delta["errors"]),
            "ovsdb_unavailable": int(delta["unavailable"])}


# --- setup ---------------------------------------------------------------------------------


def create_indexed_network(http: httpx.Client, index: int) -> str:
    """A network with the /16 subnet 10.<index>.0.0/16."""
    return create_network(http, f"bench-{index}", f"10.{index}.0.0/16")[0]


def backlog_networks(count: int) -> int:
    return max(MIN_NETWORKS, math.ceil(count / PORTS_PER_NETWORK))


# --- phase 1: backlog after an NB outage ---------------------------------------------------


@dataclass
class Backlog:
    """The ports created while NB was down, and how long the API took."""

    port_ids: list[str] = field(default_factory=list)
    request_latencies: list[float] = field(default_factory=list)
    wall: float = 0.0


def create_backlog(http: httpx.Client, networks: Sequence[str], count: int) -> Backlog:
    """Bulk POSTs of BULK_PORTS ports, spread round-robin over the networks."""
    backlog = Backlog()
    targets = [networks[i % len(networks)] for i in range(count)]
    started = time.perf_counter()
    for chunk in chunks(targets, BULK_PORTS):
        sent = time.perf_counter()
        ports = post(http, "/v2.0/ports",
                     {"ports": [{"network_id": net} for net in chunk]})["ports"]
        backlog.request_latencies.append(time.perf_counter() - sent)
        backlog.port_ids.extend(str(p["id"]) for p in ports)
    backlog.wall = time.perf_counter() - started
    return backlog


@dataclass
class Drain:
    """Timestamps (perf_counter) while the backlog drains after NB is started again."""

    nb_started: float = 0.0
    reconnected: float | None = None
    first_applied: float | None = None
    empty: float = 0.0
    completed_before: int = 0
    completed_after: int = 0
    failed: int = 0


def drain(http: httpx.Client, ovn: LocalOvn, completed_before: int) -> Drain:
    """Start NB again and poll /healthz until no entry is pending or processing.

    drain_s runs from the moment `local.up` returns (NB answers on its socket).
    """
    result = Drain(completed_before=completed_before)
    local.up(ovn.directory)
    result.nb_started = time.perf_counter()
    deadline = time.monotonic() + IDLE_TIMEOUT
    while time.monotonic() < deadline:
        report = health(http)
        now, counts = time.perf_counter(), journal_counts(report)
        if result.reconnected is None and report.get("ovn_nb") == "connected":
            result.reconnected = now
        if result.first_applied is None and counts.get("completed", 0) > completed_before:
            result.first_applied = now
        if not busy(counts):
            result.empty, result.completed_after = now, counts.get("completed", 0)
            result.failed = counts.get("failed", 0)
            return result
        time.sleep(POLL)
    raise RuntimeError(f"journal still busy {IDLE_TIMEOUT}s after NB came back")


def drain_figures(result: Drain) -> dict[str, Any]:
    entries = result.completed_after - result.completed_before
    drain_s = result.empty - result.nb_started
    applying = result.empty - result.first_applied if result.first_applied else None

    def since_start(moment: float | None) -> float | None:
        return sec(moment - result.nb_started) if moment is not None else None

    return {"drain_s": sec(drain_s), "entries_applied": entries,
            "entries_per_s": round(entries / drain_s, 1) if drain_s > 0 else None,
            "nb_reconnected_after_s": since_start(result.reconnected),
            "first_applied_after_s": since_start(result.first_applied),
            "applying_s": sec(applying) if applying is not None else None,
            "entries_per_s_while_applying": round(entries / applying, 1)
            if applying else None,
            "failed_entries": result.failed}


def run_backlog(server: Server, ovn: LocalOvn, count: int) -> tuple[dict[str, Any], list[str]]:
    """Phase 1 end to end; returns its figures and the ids of the ports it created."""
    with client(server.base, HTTP_TIMEOUT) as http:
        networks = [create_indexed_network(http, i) for i in range(backlog_networks(count))]
        before_counts = wait_idle(http, timeout=60)
        before = scrape(http)
        local.stop(ovn.directory, "ovnnb_db")
        try:
            backlog = create_backlog(http, networks, count)
            during = journal_counts(health(http))
        except BaseException:
            local.up(ovn.directory)  # leave NB running for the teardown and the log
            raise
        result = drain(http, ovn, before_counts.get("completed", 0))
        after = scrape(http)
    api = {"wall_s": sec(backlog.wall), "ports_per_s": round(count / backlog.wall, 1),
           "requests": len(backlog.request_latencies), "ports_per_request": BULK_PORTS,
           "request_latency": percentiles(backlog.request_latencies),
           "request_s_in_order": [sec(x) for x in backlog.request_latencies]}
    figures = {"networks": len(networks), "api_while_nb_down": api,
               "journal_when_nb_started": during, **drain_figures(result),
               **journal_figures(metric_deltas(before, after)),
               "sync_latency_histogram": sync_histogram(before, after)}
    return figures, backlog.port_ids


# --- reading NB (through a plain ovsdbapp IDL, no neutrino code) ---------------------------


def read_lsps(api: impl_idl.OvnNbApiIdlImpl) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.db_list(
        "Logical_Switch_Port", columns=LSP_COLUMNS).execute(check_error=True)
    return rows


def check_backlog_in_nb(lsps: list[dict[str, Any]], port_ids: list[str]) -> dict[str, Any]:
    """NB must hold exactly one LSP per backlog port, and no other LSP."""
    wanted = set(port_ids)
    names = [row["name"] for row in lsps]
    ours = [name for name in names if name in wanted]
    return {"lsps_total": len(names), "lsps_of_backlog_ports": len(ours),
            "distinct_backlog_ports_in_nb": len(set(ours)),
            "exactly_backlog": len(ours) == len(set(ours)) == len(wanted) == len(names)}


def _lsp_copy(row: dict[str, Any]) -> dict[str, Any]:
    """lsp_add columns copied from a row neutrino wrote; optional singletons as lists."""
    columns = {k: v for k, v in row.items() if k != "name" and k not in OPTIONAL_SINGLE}
    for key in OPTIONAL_SINGLE:
        value = row.get(key)
        columns[key] = [] if value in (None, []) else [value]
    return columns


@contextlib.contextmanager
def fresh_switch(api: impl_idl.OvnNbApiIdlImpl) -> Iterator[str]:
    """A new Logical_Switch, deleted afterwards (with its ports) so NB stays as neutrino left
    it for the next phase. Neither step is timed."""
    name = f"bl-{uuid.uuid4().hex[:8]}"
    api.ls_add(name).execute(check_error=True)
    try:
        yield name
    finally:
        api.ls_del(name, if_exists=True).execute(check_error=True)


def baseline_batched(api: impl_idl.OvnNbApiIdlImpl, rows: list[dict[str, Any]],
                     per_transaction: int = BATCH_ROWS) -> dict[str, Any]:
    """The same LSPs, `per_transaction` per ovsdbapp transaction, into a fresh switch;
    timed."""
    with fresh_switch(api) as switch:
        commands = [api.lsp_add(switch, str(uuid.uuid4()), **_lsp_copy(row)) for row in rows]
        started = time.perf_counter()
        for chunk in chunks(commands, per_transaction):
            with api.transaction(check_error=True) as txn:
                for command in chunk:
                    txn.add(command)
        wall = time.perf_counter() - started
        inserted = len(api.lsp_list(switch).execute(check_error=True))
    return {"rows": len(rows), "rows_per_transaction": per_transaction,
            "transactions": math.ceil(len(rows) / per_transaction), "wall_s": sec(wall),
            "rows_per_s": round(len(rows) / wall, 1) if wall else None,
            "verified": inserted == len(rows)}


def baseline_single(api: impl_idl.OvnNbApiIdlImpl, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One ovsdbapp transaction per LSP (each waits for the commit reply); per-LSP latency."""
    latencies = []
    with fresh_switch(api) as switch:
        for row in rows:
            started = time.perf_counter()
            api.lsp_add(switch, str(uuid.uuid4()), **_lsp_copy(row)).execute(check_error=True)
            latencies.append(time.perf_counter() - started)
    return {"lsps": len(rows), "latency": percentiles(latencies)}


# --- phase 2: steady load ------------------------------------------------------------------


@dataclass
class Load:
    """Per port: (scheduled, request sent, 201 read), perf_counter seconds."""

    requests: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0


def run_load(base: str, network_id: str, rate: float, seconds: float) -> Load:
    """Open loop: request i is due at t0 + i/rate, sent by one of LOAD_THREADS clients."""
    load, clients, mine = Load(), [], threading.local()
    lock = threading.Lock()

    def http() -> httpx.Client:
        """This thread's own client, made on first use and closed after the load."""
        if not hasattr(mine, "http"):
            mine.http = client(base, HTTP_TIMEOUT)
            with lock:
                clients.append(mine.http)
        return mine.http  # type: ignore[no-any-return]

    def one(due: float) -> None:
        time.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        try:
            port = post(http(), "/v2.0/ports", {"port": {"network_id": network_id}})
            load.requests[str(port["port"]["id"])] = (due, sent, time.perf_counter())
        except Exception as exc:  # noqa: BLE001 - counted and reported by the caller
            load.errors.append(repr(exc)[:300])

    t0 = time.perf_counter() + 0.2
    try:
        with ThreadPoolExecutor(LOAD_THREADS) as pool:
            for i in range(int(rate * seconds)):
                pool.submit(one, t0 + i / rate)
        load.wall = time.perf_counter() - t0
    finally:
        for each in clients:
            each.close()
    return load


def load_figures(load: Load, watcher: LspWatcher, rate: float) -> dict[str, Any]:
    missing = watcher.wait_for(list(load.requests))
    seen = {p: watcher.first_seen[p] for p in load.requests if p in watcher.first_seen}
    count = len(load.requests)
    return {"target_rate_per_s": rate, "ports": count,
            "achieved_rate_per_s": round(count / load.wall, 1) if load.wall else None,
            "request_errors": len(load.errors), "first_errors": load.errors[:3],
            "max_behind_schedule_ms": ms(max((s - d for d, s, _ in load.requests.values()),
                                             default=0.0)),
            "api_latency": percentiles([done - sent for _, sent, done in
                                        load.requests.values()]),
            "sync_latency": percentiles([t - load.requests[p][2] for p, t in seen.items()]),
            "missing_in_nb": len(missing)}


def run_steady(server: Server, ovn: LocalOvn, rate: float, seconds: float) -> dict[str, Any]:
    """Phase 2: paced API load with NB up, sync latency seen by an independent IDL."""
    with client(server.base, HTTP_TIMEOUT) as http, LspWatcher(ovn.nb) as watcher:
        network_id = create_indexed_network(http, 200)
        wait_idle(http, timeout=60)
        before = scrape(http)
        load = run_load(server.base, network_id, rate, seconds)
        figures = load_figures(load, watcher, rate)
        figures["journal_at_end"] = wait_idle(http)
        after = scrape(http)
    figures["neutrino_sync_latency_histogram"] = sync_histogram(before, after)
    figures.update(journal_figures(metric_deltas(before, after)))
    return figures


# --- main ----------------------------------------------------------------------------------


def measure(server: Server, ovn: LocalOvn, args: argparse.Namespace) -> dict[str, Any]:
    """Both phases and their baselines, against one server and one NB."""
    backlog, port_ids = run_backlog(server, ovn, args.backlog)
    with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
        lsps = read_lsps(api)
        backlog["nb_check"] = check_backlog_in_nb(lsps, port_ids)
        mark = server.log_size()  # the baseline's LSPs are unknown to the server
        batched = baseline_batched(api, lsps)
        per_bulk = baseline_batched(api, lsps, BULK_PORTS)
    # No baseline IDL during the load: it would compete for the CPUs.
    steady = run_steady(server, ovn, args.rate, args.load_seconds)
    with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
        single = baseline_single(api, lsps[:RAW_SINGLE])
    return {"backlog": backlog, "baseline_batched": batched,
            "baseline_batched_per_bulk": per_bulk, "steady_load": steady,
            "baseline_single_txn": single, "_log_mark": mark}


def ratios(result: dict[str, Any]) -> dict[str, float | None]:
    """Above 1: slower than (entries/s: as fast as) the raw baseline, as named."""
    backlog, steady = result["backlog"], result["steady_load"]
    raw_p50 = result["baseline_single_txn"]["latency"].get("p50_ms")
    sync_p50 = steady["sync_latency"].get("p50_ms")
    api_p50 = steady["api_latency"].get("p50_ms")
    return {
        "drain_entries_per_s_vs_raw_batched_rows_per_s":
            ratio(backlog["entries_per_s"], result["baseline_batched"]["rows_per_s"]),
        "applying_entries_per_s_vs_raw_batched_rows_per_s":
            ratio(backlog["entries_per_s_while_applying"],
                  result["baseline_batched"]["rows_per_s"]),
        "drain_entries_per_s_vs_raw_batched_per_bulk_rows_per_s":
            ratio(backlog["entries_per_s"], result["baseline_batched_per_bulk"]["rows_per_s"]),
        "drain_entries_per_s_vs_best_raw_batched_rows_per_s":
            ratio(backlog["entries_per_s"],
                  max(result["baseline_batched"]["rows_per_s"] or 0,
                      result["baseline_batched_per_bulk"]["rows_per_s"] or 0) or None),
        "sync_p50_vs_raw_single_txn_p50": ratio(sync_p50, raw_p50),
        "api_plus_sync_p50_vs_raw_single_txn_p50":
            ratio(api_p50 + sync_p50 if api_p50 is not None and sync_p50 is not None
                  else None, raw_p50),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Everything in throwaway OVN (and PostgreSQL), torn down even when a step fails."""
    load_at_start = os.getloadavg()
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(throwaway_postgres()) if args.db == "postgresql" else None
        directory, ovn = stack.enter_context(throwaway_ovn("jb"))
        extra = {"NEUTRINO_DB_URL": db_url} if db_url else {}
        server = stack.enter_context(neutrino_server(directory, ovn, **extra))
        result, total = timed(lambda: measure(server, ovn, args))
        lines = server.log_lines()
        mark = result.pop("_log_mark")
        logs = {"before_baselines": log_report(server.log_lines(0, mark)), "whole_run":
                log_report(lines)}
    return {"benchmark": "journal", "db": args.db, "backlog_ports": args.backlog,
            "load": {"rate_per_s": args.rate, "seconds": args.load_seconds},
            "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in load_at_start]},
            **result, "ratios": ratios(result), "serve_log": logs, "run_s": sec(total)}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backlog", type=int, default=10000,
                        help="ports created while NB is down (default 10000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--load-seconds", type=float, default=20.0,
                        help="duration of the steady load (default 20)")
    parser.add_argument("--rate", type=float, default=50.0,
                        help="ports per second during the steady load (default 50)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if args.backlog < 1 or args.rate <= 0 or args.load_seconds <= 0:
        parser.error("--backlog, --rate and --load-seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args)
    emit(result, args.out)
    healthy = (result["backlog"]["nb_check"]["exactly_backlog"]
               and result["steady_load"]["missing_in_nb"] == 0
               and result["backlog"]["ovsdb_errors"] == 0
               and result["baseline_batched"]["verified"]
               and result["baseline_batched_per_bulk"]["verified"])
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
