"""Hot-path benchmark: what one port create, one journal claim and one port's facts cost,
in process, with no HTTP and no OVN (issue 15's profile, reproducible).

neutrino is built with `neutrino.bootstrap.build` but never started (no journal worker, no
NB connection). One network with a /16 subnet gets `--ports` ports (bulk, not timed), then:

- `port_create`: SQL statements of one `ports.create` (counted on the engine), the median
  of `--repeat` single creates, and the time per port of one bulk create of `--repeat`;
- `port_show` / `port_update` / `port_delete`: SQL statements and the median of `--repeat`
  shows, updates (a new name) and deletes of single ports;
- `claim_batch`: SQL statements and the median of claiming one entry (rolled back) with the
  whole backlog of those creates pending; `claim_and_settle`: the same, and settling it in
  the same transaction (as the worker's loop does);
- `port_facts`: SQL statements and the median of `Reconciler.desired` for one port, and the
  time per port for `--repeat` ports in one call;
- `status_report_unchanged`: `PortService.set_status` for a port already in that status.

Baseline, same run, same database: the raw SQL floor of a port create, i.e. one transaction
inserting a port row, its address, its group binding and its journal entry with plain
`INSERT`s on a connection of neutrino's engine, on a second network (no IPAM, no checks, no
ORM).

    PYTHONPATH=src /work/main/.venv/bin/python bench/hot_paths.py [--ports N] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import UNLIMITED_QUOTAS, emit, machine, ms
from sqlalchemy import func, select, text

from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.engine import statements_run
from neutrino.db.models import JournalEntry, Port
from neutrino.journal import claim
from neutrino.journal.types import ResourceRef, ResourceType
from neutrino.services.context import Context
from neutrino.settings import load_settings

CTX = Context(project_id="bench")


@contextlib.contextmanager
def built() -> Iterator[Neutrino]:
    directory = Path(tempfile.mkdtemp(prefix="nbh", dir="/tmp"))
    (directory / "state").mkdir()
    app = build(load_settings({
        "NEUTRINO_STATE_DIR": str(directory / "state"),
        "NEUTRINO_OVN_NB": f"unix:{directory}/nb.sock",
        "NEUTRINO_OVN_SB": f"unix:{directory}/sb.sock",
        "NEUTRINO_STARTUP_SYNC": "off", **UNLIMITED_QUOTAS}))
    try:
        yield app
    finally:
        app.db.engine.dispose()
        shutil.rmtree(directory, ignore_errors=True)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return ms(statistics.median(times))


def raw_port_create(app: Neutrino, network_id: str, subnet_id: str, group_id: str,
                    number: int) -> None:
    """The SQL floor: the rows a port create writes, as plain INSERTs in one transaction."""
    port_id = str(uuid.uuid4())
    with app.db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ports (id, network_id, mac_address, admin_state_up, status, device_id,"
            " device_owner, binding_host_id, binding_profile, binding_vnic_type,"
            " binding_vif_type, binding_vif_details, port_security_enabled,"
            " allowed_address_pairs, extra_dhcp_opts, dns_name, dns_domain,"
            " dns_current_domain, project_id, name, description, revision_number,"
            " created_at, updated_at) VALUES (:id, :net, :mac, 1, 'DOWN', '', '', '', '{}',"
            " 'normal', 'unbound', '{}', 1, '[]', '[]', '', '', '', 'bench', '', '', 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"id": port_id, "net": network_id, "mac": f"fa:16:3f:{number >> 16 & 255:02x}:"
             f"{number >> 8 & 255:02x}:{number & 255:02x}"})
        conn.execute(text(
            "INSERT INTO ip_allocations (subnet_id, ip_address, port_id, network_id, position)"
            " VALUES (:s, :ip, :p, :n, 0)"),
            {"s": subnet_id, "ip": f"10.10.{100 + (number >> 8)}.{number & 255}", "p": port_id,
             "n": network_id})
        conn.execute(text(
            "INSERT INTO port_security_groups (port_id, security_group_id, position)"
            " VALUES (:p, :g, 0)"), {"p": port_id, "g": group_id})
        conn.execute(text(
            "INSERT INTO journal (resource_type, resource_id, operation, state, attempts,"
            " next_attempt_at, created_at, updated_at) VALUES ('port', :p, 'create',"
            " 'completed', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"p": port_id})


def measure(app: Neutrino, ports: int, repeat: int) -> dict[str, Any]:
    net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "hot"})])[0]
    (sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/16"})])

    def one() -> dict[str, Any]:
        return app.ports.create(CTX, [parse_create(PORT, {"network_id": net["id"]})])[0]

    app.ports.create(CTX, [parse_create(PORT, {"network_id": net["id"]})
                           for _ in range(ports)])
    with statements_run(app.db.engine) as create_sql:
        first = one()
    single = median_ms(one, repeat)
    started = time.perf_counter()
    app.ports.create(CTX, [parse_create(PORT, {"network_id": net["id"]})
                           for _ in range(repeat)])
    bulk_per_port = ms((time.perf_counter() - started) / repeat)

    # update (a new name) and delete of ports made above, one at a time
    made = [p["id"] for p in app.ports.create(CTX, [parse_create(PORT, {
        "network_id": net["id"]}) for _ in range(repeat + 1)])]
    names = iter(range(10**6))

    def update_one() -> None:
        app.ports.update(CTX, first["id"], {"name": f"n{next(names)}"}, None)

    with statements_run(app.db.engine) as show_sql:
        app.ports.get(CTX, first["id"])
    show = median_ms(lambda: app.ports.get(CTX, first["id"]), repeat)
    with statements_run(app.db.engine) as update_sql:
        update_one()
    update = median_ms(update_one, repeat)
    with statements_run(app.db.engine) as delete_sql:
        app.ports.delete(CTX, made.pop(), None)
    delete = median_ms(lambda: app.ports.delete(CTX, made.pop(), None), repeat)

    def claim_one() -> None:
        with app.db.session() as session:
            claim.claim_batch(session, "bench", 1, timedelta(seconds=60))
            session.rollback()

    def claim_and_settle_one() -> None:
        with app.db.session() as session:
            claimed = claim.claim_batch(session, "bench", 1, timedelta(seconds=60))
            claim.complete(session, [e.seq for e in claimed], "bench")
            session.rollback()

    with statements_run(app.db.engine) as claim_sql:
        claim_one()
    with statements_run(app.db.engine) as settle_sql:
        claim_and_settle_one()

    with app.db.read() as session:
        pending = session.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.state == "pending"))
        ids = list(session.scalars(select(Port.id).limit(repeat)))
    refs = [ResourceRef(ResourceType.PORT, i) for i in ids]
    with statements_run(app.db.engine) as facts_sql:
        app.reconciler.desired(refs[:1])
    facts_one = median_ms(lambda: app.reconciler.desired(refs[:1]), repeat)
    started = time.perf_counter()
    app.reconciler.desired(refs)
    facts_per_port = ms((time.perf_counter() - started) / len(refs))
    status = median_ms(lambda: app.ports.set_status(first["id"], False), repeat)
    # the raw inserts go to a network of their own, whose subnet IPAM never allocates from
    raw_net = app.networks.create(CTX, [parse_create(NETWORK, {"name": "raw"})])[0]
    (raw_sub,) = app.subnets.create(CTX, [parse_create(SUBNET, {
        "network_id": raw_net["id"], "ip_version": 4, "cidr": "10.10.0.0/16"})])
    numbers = iter(range(1, 10**6))
    raw = median_ms(lambda: raw_port_create(app, raw_net["id"], raw_sub["id"],
                                            first["security_groups"][0], next(numbers)),
                    repeat)
    return {
        "port_create": {"sql_statements": len(create_sql), "single_p50_ms": single,
                        "bulk_per_port_ms": bulk_per_port},
        "port_show": {"sql_statements": len(show_sql), "p50_ms": show},
        "port_update": {"sql_statements": len(update_sql), "p50_ms": update},
        "port_delete": {"sql_statements": len(delete_sql), "p50_ms": delete},
        "claim_batch": {"sql_statements": len(claim_sql),
                        "one_entry_p50_ms": median_ms(claim_one, repeat),
                        "pending_entries": pending},
        "claim_and_settle": {"sql_statements": len(settle_sql),
                             "one_entry_p50_ms": median_ms(claim_and_settle_one, repeat)},
        "port_facts": {"sql_statements_one_port": len(facts_sql),
                       "one_port_p50_ms": facts_one, "per_port_in_one_call_ms": facts_per_port},
        "status_report_unchanged_p50_ms": status,
        "baseline_raw_sql_port_create_p50_ms": raw,
        "ratios": {"single_create_vs_raw_sql": round(single / raw, 2),
                   "update_vs_raw_sql": round(update / raw, 2),
                   "delete_vs_raw_sql": round(delete / raw, 2),
                   "bulk_per_port_vs_raw_sql": round(bulk_per_port / raw, 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000, help="ports first (default 1000)")
    parser.add_argument("--repeat", type=int, default=100, help="timed repeats (default 100)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    with built() as app:
        result = {"benchmark": "hot_paths", "ports": args.ports, "repeat": args.repeat,
                  **measure(app, args.ports, args.repeat), "machine": machine()}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
