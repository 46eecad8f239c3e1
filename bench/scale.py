"""Scale benchmark: one `neutrino serve` grown to 100,000 ports, measured at each size.

One real server on a throwaway NB (and SQLite, or with `--database postgresql` a throwaway
PostgreSQL) gets `--networks` networks with a /24 subnet each, then grows through bulk POSTs
(each POST on one network, the networks in turn; each port with its own `device_id`) to each of
`--levels` ports. At each level, once the journal has applied everything:

- **single creates**: `--singles` sequential one-port POSTs; their API latency, the sync
  latency from the 201 to the row in NB (an IDL of the benchmark's own timestamps it), and
  each process's CPU a create (`cpu_per_port.budget`: the server's two, the ovsdb-servers,
  the benchmark's own), with how long each waited for a core;
- **NB's floor for a port** (`wire.port_floor`): as many ports written straight to NB's
  socket in the journal's shape (the switch port, its switch's and both Port_Groups'
  `ports`), one transaction after another, no IDL: ovsdb-server's own round trip at this
  size, which the sync latency is set against;
- **listing**: `GET /v2.0/ports?limit=100`, the next page through its `next` link (marker),
  a `device_id` filter; medians of `--repeat` requests;
- **server RSS** (`VmRSS` / `VmHWM` of the server process);
- **journal drain**: NB is stopped, `--backlog` of the level's ports are created, NB is
  started, and the journal's rate while applying is set against plain ovsdbapp inserting the
  same LSPs in transactions of 200 into the same NB (`journal.baseline_batched`);
- **sync**: `neutrino sync --mode log` (the CLI, wall time) against a raw floor: a plain
  ovsdbapp IDL connecting to the same NB and listing its LSPs, plus `SELECT * FROM ports`;
  the maintenance drift audit (`maintenance.jobs.journal_drift`, in this process, NB
  connected beforehand); a full repair (`SyncRunner.repair`, in this process: see
  `full_repair`) of a fresh empty NB against plain ovsdbapp writing the same rows into
  another one (`sync_repair.raw_batched`).

ovn-northd is not run (see bench/README.md, "Scale"): every figure is measured to NB.

    /work/main/.venv/bin/python bench/scale.py [--levels 1000,10000,100000]
        [--database sqlite|postgresql] [--networks 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import (
    LspWatcher,
    chunks,
    emit,
    machine,
    ms,
    ovsdbapp_nb,
    percentiles,
    ratio,
    sec,
    throwaway_ovn,
    timed,
)
from cpu_per_port import budget
from journal import baseline_batched, read_lsps, throwaway_postgres
from serve import (
    Server,
    call,
    client,
    health,
    journal_counts,
    neutrino_server,
    post,
    rss_kib,
    server_pids,
    wait_journal_idle,
)
from sqlalchemy import text
from sync_repair import NbRows, raw_batched
from wire import port_floor

from neutrino.bootstrap import build
from neutrino.maintenance import jobs
from neutrino.ovn import local
from neutrino.ovn.local import LocalOvn
from neutrino.settings import load_settings

# Ports per bulk POST, all on one network (the networks take turns), as a VM-boot burst
# would. (A first run spread each POST over 500 networks: 34.6 ms a port against 29.7 ms
# like this, both at load ~10: the spread is not what a bulk create costs.)
BULK = 100
NET_BULK = 200  # networks (and subnets) per bulk POST
PAGE = 100
HTTP_TIMEOUT = 600.0
IDLE_TIMEOUT = 3600.0
POLL = 0.05
CLI_TIMEOUT = 3600.0
REPAIR_TIMEOUT = 600.0  # seconds for one NB transaction of the in-process repair


# --- OVN without northd --------------------------------------------------------------------


def no_northd(ovn: LocalOvn) -> None:
    """Stop ovn-northd (`local.up` starts it, also when it only restarts NB)."""
    local.stop(ovn.directory, local.NORTHD)


@contextlib.contextmanager
def ovn_without_northd(prefix: str) -> Iterator[tuple[Path, LocalOvn]]:
    with throwaway_ovn(prefix) as (directory, ovn):
        no_northd(ovn)
        yield directory, ovn


# --- growing -------------------------------------------------------------------------------


def create_networks(http: httpx.Client, count: int) -> list[str]:
    """`count` networks with one /24 subnet each (10.0.0.0/24, 10.0.1.0/24, ...)."""
    ids: list[str] = []
    for first in range(0, count, NET_BULK):
        size = min(NET_BULK, count - first)
        nets = post(http, "/v2.0/networks", {"networks": [
            {"name": f"scale-{first + i}"} for i in range(size)]})["networks"]
        ids.extend(str(net["id"]) for net in nets)
    cidrs = ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=24)
    pairs = list(zip(ids, cidrs, strict=False))
    for chunk in chunks(pairs, NET_BULK):
        post(http, "/v2.0/subnets", {"subnets": [
            {"network_id": net, "cidr": str(cidr), "ip_version": 4} for net, cidr in chunk]})
    return ids


def default_security_group(http: httpx.Client) -> str:
    """The one security group the ports get (the project's default)."""
    groups = call(http, "GET", "/v2.0/security-groups", 200,
                  params={"name": "default"})["security_groups"]
    if len(groups) != 1:
        raise RuntimeError(f"{len(groups)} default security groups")
    return str(groups[0]["id"])


class Population:
    """The ports created so far (bulk-created ones are numbered for their device_id)."""

    def __init__(self, networks: list[str]) -> None:
        self.networks = networks
        self.created = 0  # bulk-created ports, numbered 0..created-1
        self.singles = 0  # single-port POSTs
        self.posts = 0  # bulk POSTs, each into the next network in turn
        self.last_ids: list[str] = []  # ids of the ports the last `grow` created

    @property
    def total(self) -> int:
        return self.created + self.singles

    def grow(self, http: httpx.Client, count: int) -> list[float]:
        """`count` more ports in bulk POSTs; each POST's seconds."""
        seconds = []
        self.last_ids = []
        for chunk in chunks(range(self.created, self.created + count), BULK):
            network = self.networks[self.posts % len(self.networks)]
            self.posts += 1
            body = {"ports": [{"network_id": network, "device_id": f"dev-{i}",
                               "device_owner": "compute:nova"} for i in chunk]}
            made, took = timed(lambda b=body: post(http, "/v2.0/ports", b))
            seconds.append(took)
            self.last_ids.extend(str(p["id"]) for p in made["ports"])
        self.created += count
        return seconds


def bulk_figures(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {}
    return {"requests": len(seconds), "ms_per_port_median": ms(statistics.median(seconds) / BULK),
            "api_wall_s": sec(sum(seconds))}


# --- measurements at one level -------------------------------------------------------------


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        _, took = timed(fn)
        times.append(took)
    return ms(statistics.median(times))


def singles(server: Server, ovn: LocalOvn, pop: Population, count: int) -> dict[str, Any]:
    """Sequential one-port creates; API latency, 201 -> LSP in NB, and what each process
    (the server's two, the ovsdb-servers, this one with its watcher) spent a create: the
    watcher is connected first, so its copy of NB is not counted."""
    answered: dict[str, float] = {}
    api: list[float] = []
    missing: list[str] = []
    with LspWatcher(ovn.nb) as watcher, client(server.base, HTTP_TIMEOUT) as http:

        def creates() -> None:
            for i in range(count):
                net = pop.networks[(pop.created + i) % len(pop.networks)]
                sent = time.perf_counter()
                port = post(http, "/v2.0/ports", {"port": {"network_id": net}})["port"]
                answered[port["id"]] = time.perf_counter()
                api.append(answered[port["id"]] - sent)
            missing.extend(watcher.wait_for(list(answered)))

        cpu = budget(ovn, server_pids(http, server), creates, count)
        sync = [watcher.first_seen[p] - t for p, t in answered.items() if p in watcher.first_seen]
    pop.singles += count
    return {"ports": count, "api_latency": percentiles(api), "sync_latency": percentiles(sync),
            "missing_in_nb": len(missing), "cpu_ms_per_create": cpu}


def listing(http: httpx.Client, pop: Population, repeat: int) -> dict[str, Any]:
    first = call(http, "GET", "/v2.0/ports", 200, params={"limit": PAGE})
    nxt = next((link["href"] for link in first.get("ports_links", [])
                if link["rel"] == "next"), None)
    if len(first["ports"]) != PAGE or nxt is None:
        raise RuntimeError(f"first page: {len(first['ports'])} ports, next link {nxt}")
    second = call(http, "GET", nxt, 200)
    device = f"dev-{pop.created // 2}"
    found = call(http, "GET", "/v2.0/ports", 200, params={"device_id": device})["ports"]
    if len(found) != 1:
        raise RuntimeError(f"device_id={device}: {len(found)} ports")
    return {
        "first_page_ms": median_ms(
            lambda: call(http, "GET", "/v2.0/ports", 200, params={"limit": PAGE}), repeat),
        "next_page_by_marker_ms": median_ms(lambda: call(http, "GET", nxt, 200), repeat),
        "next_page_items": len(second["ports"]),
        "device_id_filter_ms": median_ms(
            lambda: call(http, "GET", "/v2.0/ports", 200, params={"device_id": device}),
            repeat),
    }


def drain(server: Server, ovn: LocalOvn, pop: Population, count: int) -> dict[str, Any]:
    """NB down, `count` ports, NB up: the journal's rate while applying them, vs raw."""
    with client(server.base, HTTP_TIMEOUT) as http:
        completed_before = journal_counts(wait_journal_idle(http, IDLE_TIMEOUT, POLL)[1]).get(
            "completed", 0)
        local.stop(ovn.directory, "ovnnb_db")
        try:
            pop.grow(http, count)
        finally:
            local.up(ovn.directory)
            no_northd(ovn)
        started = time.perf_counter()
        first_applied = None
        while True:
            counts = journal_counts(health(http))
            now = time.perf_counter()
            if first_applied is None and counts.get("completed", 0) > completed_before:
                first_applied = now
            if not counts.get("pending", 0) + counts.get("processing", 0):
                break
            if now - started > IDLE_TIMEOUT:
                raise RuntimeError(f"journal still busy after {IDLE_TIMEOUT}s: {counts}")
            time.sleep(POLL)
        entries = counts.get("completed", 0) - completed_before
    # One poll can see the first entry applied and the last: then count from NB's start.
    applying = now - first_applied if first_applied and now > first_applied else now - started
    ids = set(pop.last_ids)
    with ovsdbapp_nb(ovn.nb, timeout=HTTP_TIMEOUT) as api:
        rows = [row for row in read_lsps(api) if row["name"] in ids]
        base = baseline_batched(api, rows)
    rate = round(entries / applying, 1) if applying else None
    return {"backlog_ports": count, "entries_applied": entries, "failed": counts.get("failed", 0),
            "after_nb_start_s": sec(now - started),
            "applying_s": sec(applying),
            "entries_per_s_while_applying": rate, "baseline_raw_batched": base,
            "ratio_vs_raw_batched": ratio(rate, base["rows_per_s"])}


def cli_sync(env: dict[str, str], mode: str) -> tuple[dict[str, Any], float]:
    proc, took = timed(lambda: subprocess.run(
        [sys.executable, "-m", "neutrino.cli", "sync", "--mode", mode, "--json"], env=env,
        capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False))
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"neutrino sync --mode {mode}: exit {proc.returncode}\n"
                           f"{proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout)
    return report, took


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v if not isinstance(v, list) else len(v) for k, v in report.items()}


def sync_figures(server: Server, ovn: LocalOvn, repeat_audit: int = 1,
                 repair: bool = True) -> dict[str, Any]:
    try:
        log_report, log_s = cli_sync(server.env, "log")
        cli: dict[str, Any] = {"wall_s": sec(log_s), "report": _summary(log_report)}
    except RuntimeError as exc:  # the CLI's NB connect has bootstrap.OVSDB_TIMEOUT (10 s)
        log_s, cli = None, {"failed": str(exc).splitlines()[0], "stderr_tail":
                            str(exc).splitlines()[-1][:300]}
    app = build(load_settings(server.env))
    app.nb.timeout = REPAIR_TIMEOUT
    try:
        # The raw floor of a compare: what it cannot skip, reading NB and the ports.
        floor_started = time.perf_counter()
        with ovsdbapp_nb(ovn.nb, timeout=HTTP_TIMEOUT) as api:
            lsps = len(read_lsps(api))
        with app.db.engine.connect() as conn:
            conn.execute(text("SELECT * FROM ports")).all()
        floor_s = time.perf_counter() - floor_started
        _, connect_s = timed(app.nb.connect)
        compared, compare_s = timed(app.sync.compare)
        audits = [timed(lambda: jobs.journal_drift(app.db, app.sync)) for _ in range(repeat_audit)]
    finally:
        app.nb.close()
        app.db.engine.dispose()
    repaired = full_repair(server) if repair else {"full_repair": {"skipped": True}}
    return {
        "sync_log": cli,
        "raw_read_floor": {"wall_s": sec(floor_s), "lsps": lsps},
        "sync_log_vs_raw_read_floor": ratio(log_s, floor_s),
        # what `sync --mode log` does once connected, in this process (NB timeout raised)
        "compare": {"nb_connect_s": sec(connect_s), "wall_s": sec(compare_s),
                    "checked": compared.checked, "differences": len(compared.differences)},
        "connect_and_compare_vs_raw_read_floor": ratio(connect_s + compare_s, floor_s),
        "drift_audit": {"nb_connect_s": sec(connect_s),
                        "seconds": [sec(took) for _, took in audits],
                        # the first audit of a node compares everything
                        "compared": [audit.compared for audit, _ in audits],
                        "journaled": [len(audit.drifted) for audit, _ in audits]},
        **repaired,
    }


def full_repair(server: Server) -> dict[str, Any]:
    """A full repair (`SyncRunner.repair`, what `neutrino sync --mode repair` runs) into an
    empty NB, then raw ovsdbapp writing the same rows into another.

    In this process rather than through the CLI: the CLI's NB client gives a transaction
    `bootstrap.OVSDB_TIMEOUT` (10 s), and a repair batch of 1,000 resources took longer on
    the loaded 2-core machine (the CLI failed at 1,000 ports with load 9). Here the client
    gets REPAIR_TIMEOUT, so what is measured is the repair's time.
    """
    with ovn_without_northd("nsr") as (_, fresh):
        env = dict(server.env, NEUTRINO_OVN_NB=fresh.nb, NEUTRINO_OVN_SB=fresh.sb)
        app = build(load_settings(env))
        try:
            app.nb.timeout = REPAIR_TIMEOUT
            _, connect_s = timed(app.nb.connect)
            report, repair_s = timed(app.sync.repair)
            rows = NbRows.read(app.nb)
        finally:
            app.nb.close()
            app.db.engine.dispose()
    with ovn_without_northd("nrw") as (_, other):
        base = raw_batched(other.nb, rows)
    return {"full_repair": {"wall_s": sec(repair_s), "nb_connect_s": sec(connect_s),
                            "summary": report.summary(), "nb_rows": rows.counts()},
            "raw_write_floor": base,
            "full_repair_vs_raw_write": ratio(repair_s, base["wall_s"])}


# --- main ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    levels: list[dict[str, Any]] = []
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        db_url = (stack.enter_context(throwaway_postgres())
                  if args.database == "postgresql" else None)
        directory, ovn = stack.enter_context(ovn_without_northd("nsc"))
        extra = {"NEUTRINO_MAINTENANCE_AUDIT_SECONDS": "0"}
        if db_url:
            extra["NEUTRINO_DB_URL"] = db_url
        server = stack.enter_context(neutrino_server(directory, ovn, **extra))
        http = stack.enter_context(client(server.base, HTTP_TIMEOUT))
        (networks, net_s) = timed(lambda: create_networks(http, args.networks))
        pop = Population(networks)
        security_group = default_security_group(http)
        wait_journal_idle(http, IDLE_TIMEOUT, POLL)
        idle_rss = rss_kib(server.pid)
        for level in args.levels:
            backlog = min(args.backlog, level // 2)
            grow = max(0, level - pop.total - backlog)
            level_started = time.perf_counter()
            bulk = pop.grow(http, grow)
            wait_journal_idle(http, IDLE_TIMEOUT, POLL)
            grown_s = time.perf_counter() - level_started
            drained = drain(server, ovn, pop, backlog)
            figures: dict[str, Any] = {"ports": pop.total, "grow": {
                **bulk_figures(bulk), "ports": grow, "until_in_nb_s": sec(grown_s)}}
            figures["drain"] = drained
            figures["single_creates"] = singles(server, ovn, pop, args.singles)
            figures["wire_floor"] = port_floor(ovn.nb, pop.networks[0], security_group,
                                               args.singles, f"wire-floor-{level}")
            figures["sync_latency_p50_vs_wire_floor_p50"] = ratio(
                figures["single_creates"]["sync_latency"].get("p50_ms"),
                figures["wire_floor"]["round_trip"].get("p50_ms"))
            wait_journal_idle(http, IDLE_TIMEOUT, POLL)
            figures["listing"] = listing(http, pop, args.repeat)
            figures["server_rss_kib"] = rss_kib(server.pid)
            figures["sync"] = sync_figures(server, ovn, repair=pop.total <= args.repair_up_to)
            figures["level_s"] = sec(time.perf_counter() - level_started)
            figures["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            levels.append(figures)
            print(json.dumps(figures), file=sys.stderr, flush=True)  # progress
    return {"benchmark": "scale", "database": args.database, "networks": args.networks,
            "northd": False, "networks_s": sec(net_s), "idle_rss_kib": idle_rss,
            "levels": levels, "ratios": ratios(levels), "machine": machine(),
            "run_s": sec(time.perf_counter() - started)}


def ratios(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """Each level's figure over the first level's: 1.0 means no growth with size."""
    if not levels:
        return {}
    first = levels[0]
    paths = {
        "single_create_p50": ("single_creates", "api_latency", "p50_ms"),
        "sync_latency_p50": ("single_creates", "sync_latency", "p50_ms"),
        "wire_floor_p50": ("wire_floor", "round_trip", "p50_ms"),
        "first_page": ("listing", "first_page_ms"),
        "next_page": ("listing", "next_page_by_marker_ms"),
        "device_id_filter": ("listing", "device_id_filter_ms"),
        "drain_rate": ("drain", "entries_per_s_while_applying"),
        "api_cpu_per_create": ("single_creates", "cpu_ms_per_create", "api process"),
        "journal_cpu_per_create": ("single_creates", "cpu_ms_per_create", "journal process"),
        "nb_ovsdb_server_cpu_per_create": ("single_creates", "cpu_ms_per_create",
                                           "nb ovsdb-server"),
    }

    def get(level: dict[str, Any], path: tuple[str, ...]) -> Any:
        for key in path:
            level = level.get(key, {}) if isinstance(level, dict) else {}
        return level or None

    return {f"{level['ports']}_vs_{first['ports']}": {
        name: ratio(get(level, path), get(first, path)) for name, path in paths.items()}
        for level in levels[1:]}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="1000,10000,100000",
                        help="port counts to measure at, ascending (default 1000,10000,100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--networks", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=5000,
                        help="ports created while NB is down, per level (at most half of it)")
    parser.add_argument("--singles", type=int, default=50, help="one-port creates per level")
    parser.add_argument("--repeat", type=int, default=20, help="GETs per listing figure")
    parser.add_argument("--repair-up-to", type=int, default=10 ** 9,
                        help="run the full repair (long: it rewrites NB twice) only at levels"
                             " of at most this many ports")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.levels = sorted(int(x) for x in args.levels.split(","))
    if not 1 <= args.networks <= 65536 or args.levels[0] < 2:
        parser.error("--networks must be 1..65536 and every level at least 2")
    if args.levels[-1] > args.networks * 250:
        parser.error("at most 250 ports per network (/24 subnets)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    # SIGTERM unwinds like an exception: the server, OVN and PostgreSQL are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    emit(run(args), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
