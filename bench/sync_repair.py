"""Sync-repair benchmark: `neutrino sync` filling an empty NB, against raw batched ovsdbapp.

The database is filled through the service layer (in-process, no HTTP, no journal worker),
so NB stays empty; then the whole NB is rebuilt by `SyncRunner.repair()`, as after losing
the NB database. The baseline writes the same rows (read back from the repaired NB) into a
fresh NB with plain ovsdbapp, in transactions of the same size as sync's batches.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/sync_repair.py [--networks N] [--ports P] [--out FILE]

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    chunks,
    emit,
    machine,
    neutrino_env,
    ovsdbapp_nb,
    ratio,
    sec,
    throwaway_ovn,
    timed,
)
from ovsdbapp.schema.ovn_northbound import impl_idl
from sqlalchemy import update

from neutrino.api.attributes import NETWORK, PORT, SUBNET, parse_create
from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import JournalEntry
from neutrino.journal.types import State
from neutrino.ovn import naming as n
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.local import LocalOvn
from neutrino.services.context import Context
from neutrino.settings import load_settings
from neutrino.sync.runner import BATCH

PORTS_PER_CALL = 500  # ports per app.ports.create call while populating
SUBNET_PREFIX = 20  # one /20 per network, carved out of 10.0.0.0/8
MAX_NETWORKS = 2 ** (SUBNET_PREFIX - 8)
MAX_PORTS_PER_NETWORK = 2 ** (32 - SUBNET_PREFIX) - 3  # network, gateway and broadcast
OVSDB_TIMEOUT = 120.0
# The baseline copies every row neutrino wrote in these tables (parents before children).
PORT_GROUP, ACL = "Port_Group", "ACL"
COPIED = (n.LS, n.DHCP, PORT_GROUP, ACL, n.LSP)
LINKS = ((n.LS, "ports"), (PORT_GROUP, "ports"), (PORT_GROUP, "acls"),
         (n.LSP, "dhcpv4_options"))
# Logical_Switch_Port columns copied as they are.
LSP_COLUMNS = ("type", "addresses", "port_security", "options", "enabled", "external_ids")

# --- neutrino, populated without a journal worker ------------------------------------------


@contextlib.contextmanager
def neutrino_app(directory: Path, ovn: LocalOvn) -> Iterator[Neutrino]:
    """Neutrino built in-process but never started: no journal worker, no start-up sync."""
    (directory / "state").mkdir()
    app = build(load_settings(neutrino_env(directory, ovn)))
    try:
        yield app
    finally:
        app.nb.close()
        app.db.engine.dispose()


def populate(app: Neutrino, networks: int, ports: int) -> dict[str, Any]:
    """Networks, one /20 subnet each, and ports spread evenly, all via bulk service calls."""
    ctx = Context(project_id="bench")
    started = time.perf_counter()
    net_ids = [net["id"] for net in app.networks.create(ctx, [
        parse_create(NETWORK, {"name": f"bench-{i}"}) for i in range(networks)])]
    cidrs = ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=SUBNET_PREFIX)
    app.subnets.create(ctx, [
        parse_create(SUBNET, {"network_id": net_id, "ip_version": 4, "cidr": str(cidr),
                              "name": f"bench-{i}"})
        for i, (net_id, cidr) in enumerate(zip(net_ids, cidrs, strict=False))])
    port_networks = [net_ids[i % networks] for i in range(ports)]
    for chunk in chunks(port_networks, PORTS_PER_CALL):
        app.ports.create(ctx, [parse_create(PORT, {"network_id": net_id}) for net_id in chunk])
    settled = settle_journal(app)
    return {"populate_db_s": sec(time.perf_counter() - started),
            "journal_entries_settled": settled}


def settle_journal(app: Neutrino) -> int:
    """Mark every journal entry completed, as if the worker had delivered all of them.

    Sync leaves resources with unfinished journal entries to the journal; without this the
    repair would skip everything. The situation simulated is an NB that lost its data after
    the journal had caught up.
    """
    with app.db.session() as session:
        result = session.execute(update(JournalEntry).values(state=State.COMPLETED.value))
        return int(result.rowcount)  # type: ignore[attr-defined]


# --- sync ----------------------------------------------------------------------------------


class ApplyCounter:
    """Counts NB write transactions: each `NorthboundClient.apply` is exactly one."""

    def __init__(self, nb: NorthboundClient) -> None:
        self.calls = 0
        self._apply = nb.apply
        nb.apply = self._counted  # type: ignore[method-assign]

    def _counted(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._apply(*args, **kwargs)


def measure_sync(app: Neutrino, created: int) -> dict[str, Any]:
    """Connect, repair the empty NB, then compare and repair again with nothing to do."""
    _, connect_s = timed(app.nb.connect)
    writes = ApplyCounter(app.nb)
    before = app.nb.transactions
    report, repair_s = timed(app.sync.repair)
    transactions = app.nb.transactions - before
    write_transactions = writes.calls
    # NB was empty and the journal settled: every resource checked must have been repaired.
    if report.repaired != report.checked or report.checked < created:
        raise RuntimeError(f"repair fixed {report.repaired} of {report.checked} resources, "
                           f"{created} created: {report.summary()}")
    after, compare_s = timed(app.sync.compare)
    if after.differences:
        raise RuntimeError(f"{len(after.differences)} differences after the repair, "
                           f"first: {after.differences[0]}")
    second, second_s = timed(app.sync.repair)
    return {
        "nb_connect_s": sec(connect_s),
        "repair": {"wall_s": sec(repair_s), "resources": report.repaired,
                   "ovsdb_transactions": transactions,
                   "ovsdb_write_transactions": write_transactions,
                   "resources_per_s": round(report.repaired / repair_s, 1),
                   "summary": report.summary()},
        "compare_nothing_differs_s": sec(compare_s),
        "differences_after_repair": len(after.differences),
        "second_repair_repaired": second.repaired,
        "second_repair_s": sec(second_s),
    }


# --- raw ovsdbapp baseline -----------------------------------------------------------------


@dataclass(frozen=True)
class NbRows:
    """The rows neutrino wrote, per table, as `NorthboundClient.read_rows` returns them."""

    tables: dict[str, list[dict[str, Any]]]

    @classmethod
    def read(cls, nb: NorthboundClient) -> NbRows:
        return cls({table: nb.read_rows(table) for table in COPIED})

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.tables.items()}

    def members(self, table: str, column: str, key: str) -> dict[str, list[Any]]:
        """Child uuid -> `key` of each `table` row whose set `column` holds that child."""
        found: dict[str, list[Any]] = {}
        for row in self.tables[table]:
            for child in row[column]:
                found.setdefault(child, []).append(row[key])
        return found


def raw_batched(nb: str, rows: NbRows) -> dict[str, Any]:
    """Insert equivalent rows into `nb` with plain ovsdbapp, BATCH rows per transaction.

    Parents first (switches, DHCP_Options, Port_Groups and their ACLs), then the ports, which
    name their switch, refer to their DHCP_Options by the uuid the first transactions
    produced and join their Port_Groups in the transaction that creates them.
    """
    with ovsdbapp_nb(nb, timeout=OVSDB_TIMEOUT) as api:
        started = time.perf_counter()
        made, parent_txns = _insert_parents(api, rows)
        port_txns = _insert_ports(api, rows, made)
        wall = time.perf_counter() - started
        _check_copy(api, rows)
    total = sum(rows.counts().values())
    return {"wall_s": sec(wall), "rows": total, "transactions": parent_txns + port_txns,
            "rows_per_s": round(total / wall, 1)}


def _insert_parents(api: impl_idl.OvnNbApiIdlImpl, rows: NbRows) -> tuple[dict[str, Any], int]:
    """Every row but the ports; returns the create commands by old uuid, and transactions.

    After its commit a create command's result is a view of the committed row, and ovsdbapp
    accepts the command itself wherever it looks a row up, in its own transaction or later.
    """
    parents = [(table, row) for table in COPIED if table != n.LSP
               for row in rows.tables[table]]
    acl_groups = rows.members(PORT_GROUP, "acls", "_uuid")
    made: dict[str, Any] = {}
    transactions = 0
    for chunk in chunks(parents, BATCH):
        with api.transaction(check_error=True) as txn:
            for table, row in chunk:
                for command in _parent_commands(api, table, row, made, acl_groups):
                    txn.add(command)
        transactions += 1
    return made, transactions


def _parent_commands(api: impl_idl.OvnNbApiIdlImpl, table: str, row: dict[str, Any],
                     made: dict[str, Any], acl_groups: dict[str, list[Any]]) -> list[Any]:
    if table == n.LS:
        return [api.ls_add(row["name"], external_ids=row["external_ids"],
                           other_config=row["other_config"])]
    if table == n.DHCP:
        made[row["_uuid"]] = api.dhcp_options_add(row["cidr"], **row["external_ids"])
        return [made[row["_uuid"]],
                api.dhcp_options_set_options(made[row["_uuid"]], **row["options"])]
    if table == PORT_GROUP:
        # `acls` set explicitly: pg_acl_add reads it, and a new row has no value until set.
        made[row["_uuid"]] = api.pg_add(row["name"], external_ids=row["external_ids"],
                                        acls=[])
        return [made[row["_uuid"]]]
    group = made[acl_groups[row["_uuid"]][0]]
    return [api.pg_acl_add(group, row["direction"], row["priority"], row["match"],
                           row["action"], log=row["log"], **row["external_ids"])]


def _insert_ports(api: impl_idl.OvnNbApiIdlImpl, rows: NbRows, made: dict[str, Any]) -> int:
    switch_of = rows.members(n.LS, "ports", "name")
    groups_of = rows.members(PORT_GROUP, "ports", "_uuid")
    transactions = 0
    for chunk in chunks(rows.tables[n.LSP], BATCH):
        members: dict[str, list[Any]] = {}
        with api.transaction(check_error=True) as txn:
            for row in chunk:
                columns = {c: [] if row[c] is None else row[c] for c in LSP_COLUMNS}
                dhcp = row["dhcpv4_options"]
                columns["dhcpv4_options"] = [made[dhcp].result.uuid] if dhcp else []
                port = txn.add(api.lsp_add(switch_of[row["_uuid"]][0], row["name"], **columns))
                for group in groups_of.get(row["_uuid"], []):
                    members.setdefault(group, []).append(port)
            for group, ports in members.items():
                txn.add(api.pg_add_ports(made[group], ports))
        transactions += 1
    return transactions


def _check_copy(api: impl_idl.OvnNbApiIdlImpl, rows: NbRows) -> None:
    """The fresh NB must hold as many rows, linked as often (switches, groups, DHCP)."""
    tables = api.tables
    copied = {table: len(tables[table].rows) for table in COPIED}
    links = {f"{table}.{column}": sum(_size(getattr(row, column))
                                      for row in tables[table].rows.values())
             for table, column in LINKS}
    wanted = {f"{table}.{column}": sum(_size(row[column]) for row in rows.tables[table])
              for table, column in LINKS}
    if copied != rows.counts() or links != wanted:
        raise RuntimeError(f"baseline NB holds {copied} with links {links}; "
                           f"expected {rows.counts()} and {wanted}")


def _size(value: Any) -> int:
    """Members of a set column: a list, or (read_rows' form of a 0..1 reference) str/None."""
    if isinstance(value, str):
        return 1
    return len(value) if value else 0


# --- main ----------------------------------------------------------------------------------


def run(networks: int, ports: int) -> dict[str, Any]:
    """Neutrino on one throwaway OVN, then the baseline on another, each torn down after."""
    with throwaway_ovn("nbs") as (directory, ovn), neutrino_app(directory, ovn) as app:
        populated = populate(app, networks, ports)
        synced = measure_sync(app, networks * 2 + ports)
        rows = NbRows.read(app.nb)
    expected = {n.LS: networks, n.DHCP: networks, n.LSP: ports}
    if {table: rows.counts()[table] for table in expected} != expected:
        raise RuntimeError(f"NB holds {rows.counts()} after the repair, expected {expected}")
    with throwaway_ovn("nbr") as (_, fresh):
        base = raw_batched(fresh.nb, rows)
    return {
        "benchmark": "sync_repair", "networks": networks, "ports": ports,
        "machine": machine(),
        **populated, **synced,
        "nb_rows": rows.counts(),
        "baseline_raw_batched": base,
        "ratios": {
            "repair_vs_raw_batched": ratio(synced["repair"]["wall_s"], base["wall_s"]),
            "compare_vs_repair": ratio(synced["compare_nothing_differs_s"],
                                       synced["repair"]["wall_s"]),
        },
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100,
                        help="networks, each with one /20 subnet (default 100)")
    parser.add_argument("--ports", type=int, default=10000,
                        help="ports, spread evenly over the networks (default 10000)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if not 1 <= args.networks <= MAX_NETWORKS:
        parser.error(f"--networks must be between 1 and {MAX_NETWORKS}")
    if not 0 <= args.ports <= args.networks * MAX_PORTS_PER_NETWORK:
        parser.error(f"--ports must be between 0 and {MAX_PORTS_PER_NETWORK} per network")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    emit(run(args.networks, args.ports), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
