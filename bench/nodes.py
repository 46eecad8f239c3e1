"""Several nodes: port creates per second and sync latency with 1, 2 and 3 `neutrino serve`
processes on one PostgreSQL, against NB and SB as 3-member RAFT clusters, and the raw
ovsdbapp baseline against the same NB cluster in the same run.

For each node count N (1, 2, 3, or `--nodes`), on a fresh database of one throwaway
PostgreSQL: N servers are started (the first alone, as it migrates the database), one
network with a /16 subnet is created, then `--clients` threads create `--ports` ports between
them, thread i sending every request to node i mod N. Sync latency is the time from a 201 to
the LSP appearing in NB, seen by an IDL connection of the benchmark's own
(`common.LspWatcher`, as in port_create.py). The servers are stopped before the next N.
Prints one JSON document:

    /tmp/venv/bin/python bench/nodes.py [--ports N] [--clients C] [--nodes 1,2,3] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import LspWatcher, cluster, emit, machine, percentiles, ratio
from journal import throwaway_postgres
from port_create import baseline
from serve import Server, client, create_network, health, neutrino_server, post

from neutrino.ovn.local import LocalOvn

HTTP_TIMEOUT = 120.0


def new_database(url: str, name: str) -> str:
    """A fresh database on the PostgreSQL `url` points at; its URL."""
    import psycopg

    server, _, _ = url.rpartition("/")
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@contextlib.contextmanager
def servers(directory: Path, ovn: LocalOvn, db_url: str, count: int) -> Iterator[list[Server]]:
    """`count` servers on one database; the first migrates it before the others start."""
    with contextlib.ExitStack() as stack:
        started = []
        for index in range(count):
            node_dir = directory / f"node{index}"
            node_dir.mkdir(parents=True)
            # no drift audit: NB still holds the rows of the previous node counts' databases,
            # which it would journal deletes for while this one is measured
            started.append(stack.enter_context(neutrino_server(
                node_dir, ovn, NEUTRINO_DB_URL=db_url, NEUTRINO_MAINTENANCE_AUDIT_SECONDS="0")))
        yield started


def create_ports(bases: list[str], network_id: str, count: int,
                 clients: int) -> tuple[dict[str, tuple[float, float]], float]:
    """`clients` threads create `count` ports, thread i on node i mod N; (port id ->
    (request sent, 201 read)) and the wall seconds from their release to the last 201."""
    done: dict[str, tuple[float, float]] = {}
    todo = iter(range(count))
    lock, start, failures = threading.Lock(), threading.Barrier(clients + 1), []

    def work(index: int) -> None:
        with client(bases[index % len(bases)], HTTP_TIMEOUT) as http:
            start.wait()
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                sent = time.perf_counter()
                try:
                    port = post(http, "/v2.0/ports", {"port": {"network_id": network_id}})
                except Exception as exc:  # reported below
                    failures.append(exc)
                    return
                done[port["port"]["id"]] = (sent, time.perf_counter())

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} port creates failed; first: {failures[0]!r}")
    return done, time.perf_counter() - began


def phase(directory: Path, ovn: LocalOvn, db_url: str, nodes: int, ports: int,
          clients: int, watcher: LspWatcher) -> dict[str, Any]:
    with servers(directory, ovn, db_url, nodes) as running:
        bases = [s.base for s in running]
        with client(bases[0], HTTP_TIMEOUT) as http:
            network_id = create_network(http, f"bench{nodes}", "10.0.0.0/16")[0]
        created, wall = create_ports(bases, network_id, ports, clients)
        missing = watcher.wait_for(list(created))
        with client(bases[0], HTTP_TIMEOUT) as http:
            journal = health(http).get("journal", {}).get("counts")
    seen = {p: watcher.first_seen[p] for p in created if p in watcher.first_seen}
    sync = percentiles([t - created[p][1] for p, t in seen.items()])
    first_sent = min(sent for sent, _ in created.values())
    return {
        "nodes": nodes,
        "port_creates_per_s": round(ports / wall, 3), "wall_s": round(wall, 3),
        "api_latency": percentiles([answered - sent for sent, answered in created.values()]),
        "sync_latency": sync, "missing_in_nb": len(missing),
        "all_visible_after_start_s": round(max(seen.values()) - first_sent, 3) if seen
        else None,
        "journal_states_at_end": journal,
    }


def run(ports: int, clients: int, node_counts: list[int]) -> dict[str, Any]:
    with cluster() as (directory, ovn), throwaway_postgres() as pg_url, \
            LspWatcher(ovn.nb) as watcher:
        phases = [phase(directory / f"n{n}", ovn, new_database(pg_url, f"nodes{n}"), n,
                        ports, clients, watcher) for n in node_counts]
        base = baseline(ovn.nb, ports)
    return {
        "benchmark": "nodes", "ports": ports, "clients": clients, "machine": machine(),
        "ovn": "NB and SB as 3-member RAFT clusters on loopback", "phases": phases,
        "baseline_ovsdbapp": base,
        "ratios": {f"{p['nodes']}_nodes_creates_vs_single_txn":
                   ratio(p["port_creates_per_s"], base["single_lsps_per_s"])
                   for p in phases},
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=300, help="ports per node count")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--nodes", default="1,2,3", help="node counts, comma separated")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.node_counts = [int(n) for n in args.nodes.split(",")]
    if args.ports < 1 or args.clients < 1 or min(args.node_counts) < 1:
        parser.error("--ports, --clients and every node count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    emit(run(args.ports, args.clients, args.node_counts), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
