"""NB planning benchmark: planning 1, 10 and all ports against NB, and the rows the reader visits.

The database is filled through the service layer and NB by a repair (as in drift_audit.py);
then `NorthboundClient.plan` runs for the first port, the first ten and all of them, and a
new port (created through the service layer) is applied as the journal would. With
`--old-client PATH` (the `src/neutrino/ovn/client.py` of an older tree, e.g. from
`git archive`), that tree's `_Reader` is timed too, alternating with the current one in the
same process against the same NB, and both must produce the same plans: a before/after pair
that load on the machine shifts alike. Planning one port should cost the same at any --ports.

    /tmp/venv/bin/python bench/nb_plan.py [--networks N] [--ports P] [--old-client PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import emit, machine, ms, ratio, throwaway_ovn
from sqlalchemy import select
from sync_repair import neutrino_app, populate

from neutrino.api.attributes import PORT, parse_create
from neutrino.db.models import Network, Port
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.ovn import client, lookups
from neutrino.services.context import Context

REPEAT = 5  # plans timed per figure and reader; the median is reported
CTX = Context(project_id="bench")


def old_reader(path: Path) -> type:
    """The `_Reader` class of another tree's client.py, run in this client module's names."""
    source = path.read_text()
    names = dict(vars(client))
    exec(source[source.index("class _Reader:"):source.index("class _Writer:")], names)  # noqa: S102
    return names["_Reader"]


def timed(app: Any, states: list, readers: dict[str, type], repeat: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {name: [] for name in readers}
    plans: dict[str, list] = {}
    visits = 0
    for _ in range(repeat):
        for name, reader in readers.items():
            client._Reader = reader  # type: ignore[misc]
            before = lookups.VISITS.count
            started = time.perf_counter()
            plans[name] = [p.ops for p in app.nb.plan(states)]
            times[name].append(time.perf_counter() - started)
            if name == "current":
                visits = lookups.VISITS.count - before
    client._Reader = readers["current"]  # type: ignore[misc]
    assert all(found == plans["current"] for found in plans.values()), "plans differ"
    result: dict[str, Any] = {f"{name}_ms": ms(statistics.median(t)) for name, t in times.items()}
    result["rows_visited"] = visits
    if "old" in times:
        result["old_vs_current"] = ratio(statistics.median(times["old"]),
                                         statistics.median(times["current"]))
    return result


def applied(app: Any, network_id: str, readers: dict[str, type], repeat: int) -> dict[str, Any]:
    """One new port applied at a time (its journal entry's work), each reader in turn."""
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeat):
        for name, reader in readers.items():
            (port,) = app.ports.create(CTX, [parse_create(PORT, {"network_id": network_id})])
            client._Reader = reader  # type: ignore[misc]
            started = time.perf_counter()
            app.reconciler.apply([ResourceRef(ResourceType.PORT, port["id"])])
            times[name].append(time.perf_counter() - started)
    client._Reader = readers["current"]  # type: ignore[misc]
    return {f"{name}_ms": ms(statistics.median(t)) for name, t in times.items()}


def run(networks: int, ports: int, old_client: Path | None) -> dict[str, Any]:
    readers: dict[str, type] = {"current": client._Reader}
    if old_client is not None:
        readers["old"] = old_reader(old_client)
    with throwaway_ovn("nbp") as (directory, ovn), neutrino_app(directory, ovn) as app:
        app.nb.timeout = 120  # the repair writes everything in one transaction
        populate(app, networks, ports)
        app.nb.connect()
        app.sync.repair()
        with app.db.read() as session:
            ids = [port_id for (port_id,) in session.execute(select(Port.id).order_by(Port.id))]
            network_id = session.execute(select(Network.id).order_by(Network.id)).scalars().first()
        refs = [ResourceRef(ResourceType.PORT, port_id) for port_id in ids]
        app.nb.plan(app.reconciler.desired(refs[:1]))  # indexes are built at first use
        return {
            "benchmark": "nb_plan", "networks": networks, "ports": ports, "machine": machine(),
            "plan_1_port": timed(app, app.reconciler.desired(refs[:1]), readers, REPEAT),
            "plan_10_ports": timed(app, app.reconciler.desired(refs[:10]), readers, REPEAT),
            "plan_all_ports": timed(app, app.reconciler.desired(refs), readers, 2),
            "apply_1_new_port": applied(app, network_id, readers, 3 * REPEAT),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--ports", type=int, default=2000)
    parser.add_argument("--old-client", type=Path,
                        help="client.py of an older tree, whose _Reader is timed too")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.networks, args.ports, args.old_client), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
