"""Port-create benchmark: the neutrino API against raw ovsdbapp, on one throwaway OVN.

Absolute numbers depend on the machine, so every API figure is also reported as a ratio
against a baseline measured in the same run, against the same OVN NB: plain ovsdbapp
inserting Logical_Switch_Ports with nothing in between (no HTTP, no SQL, no journal).

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/port_create.py [--ports N] [--concurrency C] [--out FILE]

Percentiles: `statistics.quantiles(values, n=100, method="inclusive")`, i.e. linear
interpolation between the two nearest ranks (numpy's default "linear" method); p50 is the
median. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import (
    LspWatcher,
    emit,
    machine,
    ms,
    ovsdbapp_nb,
    percentiles,
    ratio,
    throwaway_ovn,
)
from ovsdbapp.schema.ovn_northbound import impl_idl
from serve import client, create_network, get, health, in_threads, neutrino_server, post

from neutrino.ovn import local

SUBNET_CIDR = "10.0.0.0/16"
HTTP_TIMEOUT = 60.0
BATCH = 100


# --- API phases ----------------------------------------------------------------------------


@dataclass
class Phase:
    """What one API phase measured: when each port's request started and its 201 arrived."""

    requests: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (start, 201)
    wall: float = 0.0

    @property
    def latencies(self) -> list[float]:
        return [done - started for started, done in self.requests.values()]

    @property
    def started(self) -> float:
        return min(started for started, _ in self.requests.values())


def create_port(http: httpx.Client, network_id: str, phase: Phase) -> None:
    """POST one port; latency is request start to the 201 fully read."""
    started = time.perf_counter()
    port = post(http, "/v2.0/ports", {"port": {"network_id": network_id}})["port"]
    phase.requests[port["id"]] = (started, time.perf_counter())  # atomic under the GIL


def run_sequential(base: str, network_id: str, count: int) -> Phase:
    """One client, one request at a time: the latency a single caller sees."""
    phase = Phase()
    with client(base, HTTP_TIMEOUT) as http:
        started = time.perf_counter()
        for _ in range(count):
            create_port(http, network_id, phase)
        phase.wall = time.perf_counter() - started
    return phase


def run_concurrent(base: str, network_id: str, count: int, workers: int) -> Phase:
    """`workers` threads, each with its own client, draining one shared queue of `count`."""
    phase = Phase()
    phase.wall = in_threads(base, range(count), workers,
                            lambda http, _: create_port(http, network_id, phase),
                            "concurrent requests", HTTP_TIMEOUT)
    return phase


def api_figures(phase: Phase, count: int) -> dict[str, float]:
    figures = percentiles(phase.latencies)
    figures["throughput_per_s"] = round(count / phase.wall, 3)
    figures["wall_s"] = round(phase.wall, 3)
    return figures


def sync_figures(phase: Phase, watcher: LspWatcher) -> dict[str, Any]:
    """201 received -> LSP visible in NB, per port. Negative when NB was quicker than HTTP."""
    missing = watcher.wait_for(list(phase.requests))
    seen = {p: watcher.first_seen[p] for p in phase.requests if p in watcher.first_seen}
    figures: dict[str, Any] = percentiles([t - phase.requests[p][1] for p, t in seen.items()])
    figures["missing"] = len(missing)
    # Time to converge: from the phase's first request until its last port was in NB.
    figures["all_visible_after_phase_start_s"] = (
        round(max(seen.values()) - phase.started, 3) if seen else None)
    return figures


# --- ovsdbapp baseline ---------------------------------------------------------------------


def _lsp_columns(index: int) -> dict[str, Any]:
    """Columns close to what ML2/OVN (and neutrino) write for a VM port."""
    mac = f"fa:16:3e:{(index >> 16) & 255:02x}:{(index >> 8) & 255:02x}:{index & 255:02x}"
    ip = f"10.1.{(index >> 8) & 255}.{index & 255}"
    return {
        "addresses": [f"{mac} {ip}"],
        "port_security": [f"{mac} {ip}"],
        "external_ids": {"neutron:port_name": "", "neutron:device_owner": "",
                         "neutron:cidrs": f"{ip}/16", "neutron:revision_number": "1"},
    }


def _timed_batches(api: impl_idl.OvnNbApiIdlImpl, count: int, batch: int) -> float:
    """Insert `count` LSPs into a fresh switch, `batch` per transaction; return wall seconds.

    Addresses go in as lsp_add columns (as ML2/OVN does): a separate lsp_set_addresses in the
    same transaction could not look up the row, which is not committed yet.
    """
    switch = f"bench-{batch}-{uuid.uuid4().hex[:8]}"
    api.ls_add(switch).execute(check_error=True)
    started = time.perf_counter()
    for first in range(0, count, batch):
        with api.transaction(check_error=True) as txn:
            for i in range(first, min(first + batch, count)):
                txn.add(api.lsp_add(switch, str(uuid.uuid4()), **_lsp_columns(i)))
    return time.perf_counter() - started


def baseline(nb: str, count: int) -> dict[str, float]:
    """The same N LSPs written straight through ovsdbapp: per-LSP, per-100 and all-in-one."""
    with ovsdbapp_nb(nb) as api:
        single = _timed_batches(api, count, 1)
        batched_100 = _timed_batches(api, count, BATCH)
        batched_all = _timed_batches(api, count, count)
    return {
        "single_txn_per_lsp_ms": ms(single / count),
        "single_lsps_per_s": round(count / single, 3),
        "batched_100_per_lsp_ms": ms(batched_100 / count),
        "batched_100_lsps_per_s": round(count / batched_100, 3),
        "batched_all_per_lsp_ms": ms(batched_all / count),
        "batched_all_lsps_per_s": round(count / batched_all, 3),
    }


# --- verification --------------------------------------------------------------------------


def _nbctl(nb: str, *args: str) -> str:
    return subprocess.run(["ovn-nbctl", f"--db={nb}", *args], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def verify(nb: str, base: str, network_id: str, created: set[str], count: int) -> dict[str, Any]:
    """Cross-check with ovn-nbctl (no IDL of ours involved) and with the API's own listing.

    NB must hold exactly: every port the API lists on the bench network, in that network's
    switch, plus the 3N baseline LSPs, and nothing else.
    """
    switch_ports = {line.split("(", 1)[1].rstrip(")")
                    for line in _nbctl(nb, "lsp-list", f"neutron-{network_id}").splitlines()
                    if "(" in line}
    all_names = _nbctl(nb, "--bare", "--columns=name", "list", "Logical_Switch_Port").split()
    with client(base, HTTP_TIMEOUT) as http:
        listed = {p["id"] for p in get(http, "/v2.0/ports", network_id=network_id)["ports"]}
        journal = health(http).get("journal")
    expected_total = len(listed) + 3 * count
    return {
        "all_ports_in_nb": created <= switch_ports and switch_ports == listed
        and len(all_names) == expected_total,
        "nb_counts": {"api_ports_created": len(created), "api_ports_listed": len(listed),
                      "lsps_in_api_switch": len(switch_ports), "lsps_total": len(all_names),
                      "lsps_total_expected": expected_total},
        "journal_states_at_end": journal,
    }


# --- main ----------------------------------------------------------------------------------


def run(count: int, workers: int) -> dict[str, Any]:
    """Everything in one throwaway environment, torn down even when a step fails."""
    with throwaway_ovn() as (directory, ovn), neutrino_server(directory, ovn) as server, \
            LspWatcher(ovn.nb) as watcher:
        base = server.base
        with client(base, HTTP_TIMEOUT) as http:  # a /16: room for every port of both phases
            network_id = create_network(http, "bench", SUBNET_CIDR)[0]
        sequential = run_sequential(base, network_id, count)
        sync_seq = sync_figures(sequential, watcher)
        concurrent = run_concurrent(base, network_id, count, workers)
        sync_conc = sync_figures(concurrent, watcher)
        base_figures = baseline(ovn.nb, count)
        created = set(sequential.requests) | set(concurrent.requests)
        checks = verify(ovn.nb, base, network_id, created, count)
        # The same two phases with ovn-northd stopped: on a machine of two cores northd's
        # CPU a port (more than the API's or the journal's) shares the cores with the
        # server; without it the sync latency is neutrino's and NB's alone.
        local.stop(ovn.directory, local.NORTHD)
        alone_seq = run_sequential(base, network_id, count)
        alone_sync_seq = sync_figures(alone_seq, watcher)
        alone_conc = run_concurrent(base, network_id, count, workers)
        alone_sync_conc = sync_figures(alone_conc, watcher)
    api_seq, api_conc = api_figures(sequential, count), api_figures(concurrent, count)
    return {
        "benchmark": "port_create", "ports": count, "concurrency": workers,
        "machine": machine(),
        "api_sequential": api_seq, "api_concurrent": api_conc,
        "sync_latency_sequential": sync_seq, "sync_latency_concurrent": sync_conc,
        "baseline_ovsdbapp": base_figures,
        "without_northd": {
            "api_sequential": api_figures(alone_seq, count),
            "api_concurrent": api_figures(alone_conc, count),
            "sync_latency_sequential": alone_sync_seq,
            "sync_latency_concurrent": alone_sync_conc,
        },
        "ratios": _ratios(api_seq, api_conc, sync_seq, base_figures),
        **checks,
    }


def _ratios(api_seq: dict[str, float], api_conc: dict[str, float], sync_seq: dict[str, Any],
            base: dict[str, float]) -> dict[str, float | None]:
    """>1 for latencies means slower than the baseline; <1 for throughput means fewer/s."""
    return {
        "api_sequential_vs_single_txn": ratio(api_seq["p50_ms"], base["single_txn_per_lsp_ms"]),
        "api_sequential_throughput_vs_single":
            ratio(api_seq["throughput_per_s"], base["single_lsps_per_s"]),
        "api_concurrent_throughput_vs_single":
            ratio(api_conc["throughput_per_s"], base["single_lsps_per_s"]),
        "api_concurrent_throughput_vs_batched_100":
            ratio(api_conc["throughput_per_s"], base["batched_100_lsps_per_s"]),
        "api_concurrent_throughput_vs_batched":
            ratio(api_conc["throughput_per_s"], base["batched_all_lsps_per_s"]),
        "api_plus_sync_sequential_vs_single_txn": ratio(
            api_seq["p50_ms"] + sync_seq["p50_ms"] if sync_seq.get("p50_ms") is not None
            else None, base["single_txn_per_lsp_ms"]),
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=300, help="ports per phase (default 300)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="client threads in the concurrent phase (default 16)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if args.ports < 1 or args.concurrency < 1:
        parser.error("--ports and --concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    emit(run(args.ports, args.concurrency), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
