"""Drift-audit benchmark: the maintenance audit's cost against the cloud's size and the change.

The database is filled through the service layer (as in sync_repair.py) and NB by a repair;
then the audit (`maintenance.jobs.journal_drift`) runs as maintenance runs it: once over
everything (a node's first audit), then after K ports' rows were changed behind neutrino's back
with plain ovsdbapp, for several K. The incremental audit's cost should follow K, not the
number of ports; the full one is its baseline from the same run.

    /tmp/venv/bin/python bench/drift_audit.py [--networks N] [--ports P] [--changes 1,10,100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from common import emit, machine, ms, ovsdbapp_nb, ratio, sec, throwaway_ovn
from sync_repair import neutrino_app, populate

from neutrino.maintenance import jobs
from neutrino.ovn import naming as n

REPEAT = 3  # audits timed per figure; the median is reported


def _median_audit(app: Any, prepare: Any = None) -> tuple[float, jobs.DriftAudit]:
    times, audit = [], None
    for _ in range(REPEAT):
        if prepare is not None:
            prepare()
        started = time.perf_counter()
        audit = jobs.journal_drift(app.db, app.sync)
        times.append(time.perf_counter() - started)
    assert audit is not None
    return sorted(times)[len(times) // 2], audit


def run(networks: int, ports: int, changes: list[int]) -> dict[str, Any]:
    with throwaway_ovn("nba") as (directory, ovn), neutrino_app(directory, ovn) as app:
        populate(app, networks, ports)
        app.nb.connect()
        app.sync.repair()
        full_s, full = _median_audit(app, app.nb.changes.invalidate)
        quiet_s, quiet = _median_audit(app)
        names = sorted(row["name"] for row in app.nb.read_rows(n.LSP))
        result: dict[str, Any] = {
            "full": {"audit_ms": ms(full_s), "compared": full.compared},
            "nothing_changed": {"audit_ms": ms(quiet_s), "compared": quiet.compared},
            "changed": {},
        }
        used = 0
        with ovsdbapp_nb(ovn.nb) as raw:
            for count in changes:
                def drift(count: int = count) -> None:
                    nonlocal used
                    # new ports each round: a drifted port's fix waits in the journal (no
                    # worker runs here), and the audit leaves what the journal owes alone
                    with raw.transaction(check_error=True) as txn:
                        for name in names[used:used + count]:
                            txn.add(raw.db_set(n.LSP, name, ("addresses", ["drifted"])))
                    used += count
                    app.nb.catch_up()
                took, audit = _median_audit(app, drift)
                result["changed"][str(count)] = {
                    "audit_ms": ms(took), "compared": audit.compared,
                    "drifted": len(audit.drifted),
                    "vs_full": ratio(took, full_s)}
    return {"benchmark": "drift_audit", "networks": networks, "ports": ports,
            "machine": machine(), "full_audit_s": sec(full_s), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--ports", type=int, default=10000)
    parser.add_argument("--changes", default="1,10,100",
                        help="ports changed before each audit, comma-separated")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    changes = [int(c) for c in args.changes.split(",")]
    if sum(changes) * REPEAT > args.ports:
        parser.error("--ports must cover the changed ports of every round")
    emit(run(args.networks, args.ports, changes), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
