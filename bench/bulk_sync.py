"""Bulk-create sync benchmark: 1,000 ports in one POST, and the time until all are in OVN NB.

Issue 15 asks for a bulk create of 1,000 ports to be in NB within 1 s of its 201. This
measures, against one throwaway OVN and a real `neutrino serve`:

- `post_s`: the POST of `--ports` ports in one request, until its 201 is read;
- `in_nb_after_201_s`: from that 201 until the last of those ports is in NB (an IDL watcher
  of its own, as in port_create.py), and `first_in_nb_after_201_s`;
- the journal's batches (OVSDB write transactions) and all NB transactions meanwhile
  (`/metrics`);
- `cpu_201_to_nb_s`: CPU seconds each process spent from the 201 until the last port was
  in NB (from /proc: the server's API and journal processes, NB's and SB's ovsdb-server,
  ovn-northd, and this process, whose watcher reads every update too). On a shared
  machine these say more than the wall times;
- baseline, same run, same NB: plain ovsdbapp inserting as many LSPs in one transaction
  (each joins the switch's `ports` by a mutate, not a rewrite of the set). Its IDL reads
  with python-ovs's C parser, as neutrino's do (`common.ovsdbapp_nb`).

    /tmp/venv/bin/python bench/bulk_sync.py [--ports N] [--repeat R] [--out FILE]

Each repeat is a fresh POST on the same network; the figures are per repeat. It prints one
JSON document on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import LspWatcher, emit, machine, ovsdbapp_nb, ratio, sec, throwaway_ovn
from port_create import _lsp_columns
from serve import (
    client,
    create_network,
    metric_deltas,
    neutrino_server,
    post,
    scrape,
    server_pids,
)

HTTP_TIMEOUT = 120.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SUBNET_CIDR = "10.0.0.0/16"


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) each named process has used so far."""
    found = {}
    for name, pid in pids.items():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def ovn_pids(directory: Path) -> dict[str, int]:
    """NB's and SB's ovsdb-server and ovn-northd of the throwaway OVN in `directory`."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            if str(directory) not in cmd:
                continue
            if "ovn-northd" in cmd:
                found["ovn_northd"] = int(proc.name)
            elif "ovsdb-server" in cmd:
                found["ovsdb_nb" if "ovnnb" in cmd else "ovsdb_sb"] = int(proc.name)
    return found


def one_bulk(base: str, network_id: str, count: int, watcher: LspWatcher,
             pids: dict[str, int]) -> dict[str, Any]:
    body = {"ports": [{"network_id": network_id} for _ in range(count)]}
    with client(base, HTTP_TIMEOUT) as http:
        before = scrape(http)
        started = time.perf_counter()
        ids = [p["id"] for p in post(http, "/v2.0/ports", body)["ports"]]
        answered = time.perf_counter()
        cpu_at_201 = cpu_seconds(pids)
        missing = watcher.wait_for(ids)
        cpu_in_nb = cpu_seconds(pids)
        seen = [watcher.first_seen[i] for i in ids if i in watcher.first_seen]
        grown = metric_deltas(before, scrape(http))
    return {
        "post_s": sec(answered - started),
        "post_per_port_ms": round((answered - started) * 1000 / count, 3),
        "first_in_nb_after_201_s": sec(min(seen) - answered) if seen else None,
        "in_nb_after_201_s": sec(max(seen) - answered) if seen else None,
        "missing": len(missing),
        "journal_transactions": grown.get("journal_transactions"),
        "journal_apply_s": sec(grown.get("journal_apply_seconds", 0.0)),
        "nb_transactions": grown.get("nb_transactions"),
        "cpu_201_to_nb_s": {name: round(cpu_in_nb[name] - cpu_at_201[name], 2)
                            for name in cpu_in_nb if name in cpu_at_201},
    }


def baseline(nb: str, count: int) -> float:
    """Seconds for plain ovsdbapp to insert `count` LSPs into a fresh switch in one txn."""
    with ovsdbapp_nb(nb) as api:
        switch = f"bench-bulk-{uuid.uuid4().hex[:8]}"
        api.ls_add(switch).execute(check_error=True)
        started = time.perf_counter()
        with api.transaction(check_error=True) as txn:
            for i in range(count):
                txn.add(api.lsp_add(switch, str(uuid.uuid4()), **_lsp_columns(i)))
        return time.perf_counter() - started


def run(count: int, repeat: int) -> dict[str, Any]:
    with throwaway_ovn() as (directory, ovn), neutrino_server(directory, ovn) as server, \
            LspWatcher(ovn.nb) as watcher:
        with client(server.base, HTTP_TIMEOUT) as http:
            network_id = create_network(http, "bench", SUBNET_CIDR)[0]
            pids = {**server_pids(http, server), **ovn_pids(directory), "bench": os.getpid()}
        runs = [one_bulk(server.base, network_id, count, watcher, pids)
                for _ in range(repeat)]
        raw = baseline(ovn.nb, count)
    worst = max(r["in_nb_after_201_s"] or 0.0 for r in runs)
    return {
        "benchmark": "bulk_sync", "ports": count, "repeat": repeat, "machine": machine(),
        "load_average": os.getloadavg(),
        "runs": runs,
        "baseline_ovsdbapp_one_txn_s": sec(raw),
        "ratios": {"worst_in_nb_after_201_vs_raw_one_txn": ratio(worst, raw)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000, help="ports per POST (1000)")
    parser.add_argument("--repeat", type=int, default=3, help="POSTs, one after another (3)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    emit(run(args.ports, args.repeat), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
