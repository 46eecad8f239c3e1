"""Router benchmark: R routers with gateways, interfaces, VMs and floating IPs, until in OVN.

Each Neutron router becomes a distributed router, a gateway router bound to one chassis, a
transit switch between them, SNAT per tenant subnet and one dnat_and_snat per floating IP.
The run checks that NB holds exactly the rows that shape implies, that the least-loaded
scheduler spread the gateway routers evenly over the gateway chassis, and that
`neutrino sync` finds nothing to repair afterwards.

Speed is reported as a ratio against a baseline measured in the same run: plain ovsdbapp
writing the same Logical_Router, Logical_Router_Port, NAT, static route and
Logical_Switch_Port rows (and the switches they live in), copied from what neutrino wrote,
under other names, into a fresh NB, in transactions of 1000 rows.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/routers.py [--routers R] [--chassis N] [--fips F] [--out FILE]

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import (
    chunks,
    emit,
    machine,
    ovsdbapp_nb,
    percentile_cuts,
    ratio,
    throwaway_ovn,
)
from ovsdbapp.schema.ovn_northbound import impl_idl
from serve import (
    LOG_ERROR,
    LOG_PROBLEM,
    Server,
    client,
    create_network,
    in_threads,
    neutrino_server,
    post,
    put,
    until_settled,
    with_nb_down,
)

from neutrino.ovn.local import LocalOvn

EXTERNAL_CIDR = "172.16.0.0/16"
PHYSNET = "public"
CLIENT_THREADS = 8
TXN_ROWS = 1000  # rows per baseline transaction
OVSDB_TIMEOUT = 120.0
CLI_TIMEOUT = 600.0
RENAME = "bl-"  # prefix of every name the baseline writes
LS, LR, LRP = "Logical_Switch", "Logical_Router", "Logical_Router_Port"
LSP, NAT, ROUTE = "Logical_Switch_Port", "NAT", "Logical_Router_Static_Route"
COPIED = (LS, LR, LRP, LSP, ROUTE, NAT)  # parents before children
# Parent table, set column and child table: how the copied rows hang together.
LINKS = ((LS, "ports", LSP), (LR, "ports", LRP), (LR, "static_routes", ROUTE), (LR, "nat", NAT))
# The columns the baseline copies: everything neutrino sets but references (rebuilt through
# LINKS) and LSP.dhcpv4_options (DHCP_Options are not copied).
COLUMNS = {
    LS: ("name", "external_ids", "other_config"),
    LR: ("name", "enabled", "options", "external_ids"),
    LRP: ("name", "mac", "networks", "enabled", "options", "external_ids", "ipv6_ra_configs"),
    LSP: ("name", "type", "addresses", "port_security", "options", "enabled", "external_ids"),
    ROUTE: ("ip_prefix", "nexthop", "policy", "external_ids", "options"),
    NAT: ("type", "external_ip", "logical_ip", "logical_port", "external_mac", "options",
          "external_ids"),
}
# Left out when comparing the copy: the row's uuid, references, and columns ovn-northd writes.
NOT_COMPARED = frozenset({"_uuid", "ports", "static_routes", "nat", "dhcpv4_options",
                          "dhcpv6_options", "up", "dynamic_addresses", "status"})
LOG_NOISE = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+(\.\d+)?")


# --- OVN and the server --------------------------------------------------------------------


def add_gateway_chassis(ovn: LocalOvn, count: int) -> list[str]:
    """Chassis records that opt in as gateways, as ovn-controller on a network node would.

    There is no ovn-controller: the scheduler only reads SB Chassis. Each needs a unique
    tunnel address.
    """
    names = [f"gw{i}" for i in range(1, count + 1)]
    for i, name in enumerate(names, start=1):
        _sbctl(ovn, "chassis-add", name, "geneve", f"127.0.1.{i}")
        _sbctl(ovn, "set", "Chassis", name,
               "other_config:ovn-cms-options=enable-chassis-as-gw")
    return names


def _sbctl(ovn: LocalOvn, *args: str) -> str:
    return subprocess.run(["ovn-sbctl", f"--db={ovn.sb}", "--timeout=30", *args],
                          check=True, capture_output=True, text=True).stdout


def neutrino_cli(env: dict[str, str], *args: str) -> Any:
    """Run `neutrino <args>` with the server's environment; its stdout parsed as JSON."""
    done = subprocess.run([sys.executable, "-m", "neutrino.cli", *args], env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"neutrino {' '.join(args)} exited {done.returncode}: "
                           f"{done.stdout[-500:]}{done.stderr[-2000:]}") from exc


def log_summary(path: Path) -> dict[str, Any]:
    """ERROR/Traceback lines verbatim (first 20), and every problem line counted by shape.

    Shapes replace ids and numbers with `#`, so a warning repeated per router counts once.
    """
    lines = path.read_text(errors="replace").splitlines()
    problems = [line for line in lines if LOG_PROBLEM.search(line)]
    shapes = Counter(LOG_NOISE.sub("#", line) for line in problems)
    return {"errors": [line for line in problems if LOG_ERROR.search(line)][:20],
            "problem_lines": len(problems), "by_shape": dict(shapes.most_common(20))}


# --- the API scenario ----------------------------------------------------------------------


@dataclass
class Scenario:
    """What the API calls created, and when (perf_counter seconds)."""

    external_network_id: str = ""
    routers: list[dict[str, Any]] = field(default_factory=list)  # one summary per router
    started: float = 0.0
    api_done: float = 0.0
    external_s: float = 0.0


def create_external(http: httpx.Client) -> str:
    """The provider network every gateway and floating IP comes from, with room for all."""
    return create_network(http, "public", EXTERNAL_CIDR, **{
        "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": PHYSNET})[0]


def tenant_cidr(router: int, side: int) -> str:
    """Distinct /24s (10.0.0.0/24, 10.0.1.0/24, ...) so no two subnets overlap anywhere."""
    k = 2 * router + side
    return f"10.{k // 256}.{k % 256}.0/24"


def create_tenant_network(http: httpx.Client, router: int, side: int) -> tuple[str, str]:
    """(network id, subnet id) of one tenant network with its /24."""
    return create_network(http, f"r{router}-n{side}", tenant_cidr(router, side),
                          subnet_name=f"r{router}-s{side}")


def _port(http: httpx.Client, network_id: str, subnet_id: str, name: str) -> str:
    body = {"port": {"network_id": network_id, "name": name,
                     "fixed_ips": [{"subnet_id": subnet_id}]}}
    return str(post(http, "/v2.0/ports", body)["port"]["id"])


def create_router_set(http: httpx.Client, external: str, index: int,
                      fips: int) -> dict[str, Any]:
    """One tenant's router, as a user would build it, one request at a time.

    Two networks, a router with a gateway, an interface per subnet, one VM port per network,
    and F ports (alternating over the networks) each with its own floating IP.
    """
    started = time.perf_counter()
    nets = [create_tenant_network(http, index, side) for side in (0, 1)]
    router = post(http, "/v2.0/routers", {"router": {
        "name": f"r{index}", "external_gateway_info": {"network_id": external}}})["router"]
    for _, subnet in nets:
        put(http, f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet})
    for side, (net, subnet) in enumerate(nets):
        _port(http, net, subnet, f"r{index}-vm{side}")
    associated = 0
    for f in range(fips):
        net, subnet = nets[f % 2]
        port = _port(http, net, subnet, f"r{index}-fip{f}")
        fip = post(http, "/v2.0/floatingips", {"floatingip": {
            "floating_network_id": external, "port_id": port}})["floatingip"]
        associated += fip["router_id"] == router["id"]
    return {"id": router["id"], "status_at_create": router["status"],
            "fips_on_router": associated, "task_s": time.perf_counter() - started}


def task_figures(routers: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Seconds per router task (its 9 + 2F requests), and whether tasks slow down as the
    database and NB fill: the mean of the first and of the last tenth to finish."""
    times = [r["task_s"] for r in routers]
    cuts = percentile_cuts(times)
    tenth = max(1, len(times) // 10)
    return {"p50_s": round(cuts[49], 3), "p95_s": round(cuts[94], 3),
            "max_s": round(max(times), 3),
            "first_tenth_mean_s": round(statistics.fmean(times[:tenth]), 3),
            "last_tenth_mean_s": round(statistics.fmean(times[-tenth:]), 3)}


def create_routers(base: str, external: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """CLIENT_THREADS clients, each building whole routers from one shared queue."""
    done: list[dict[str, Any]] = []

    def build(http: httpx.Client, index: int) -> None:
        done.append(create_router_set(http, external, index, args.fips))

    in_threads(base, range(args.routers), CLIENT_THREADS, build, "router tasks")
    return done


def run_api(base: str, args: argparse.Namespace) -> Scenario:
    """Every API call of the scenario: the external network, then the routers in parallel."""
    scenario = Scenario()
    with client(base) as http:
        scenario.started = time.perf_counter()
        scenario.external_network_id = create_external(http)
        scenario.external_s = round(time.perf_counter() - scenario.started, 3)
    scenario.routers = create_routers(base, scenario.external_network_id, args)
    scenario.api_done = time.perf_counter()
    return scenario


def ovsdb_figures(delta: dict[str, float]) -> dict[str, Any]:
    """What the scenario cost in OVSDB, from the increase of neutrino's own metrics (`delta`).

    `neutrino_ovsdb_transaction_seconds` times every NB transaction of the server's client,
    reads included; `neutrino_journal_apply_seconds` gets one observation per journal batch
    applied, each of which is one OVSDB write transaction.
    """
    return {
        "ovsdb_transactions": int(delta["nb_transactions"]),
        "ovsdb_mean_transaction_ms": ratio(1000 * delta["nb_transaction_seconds"],
                                           delta["nb_transactions"]),
        "journal_batches_applied": int(delta["journal_transactions"]),
        "journal_mean_apply_ms": ratio(1000 * delta["journal_apply_seconds"],
                                       delta["journal_transactions"]),
        "ovsdb_resources_applied": int(delta["resources_applied"]),
        "ovsdb_failed_transactions": int(delta["errors"]),
    }


def measure_api(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """The scenario until the journal is idle, with the OVSDB work it took."""
    with client(server.base) as http:
        settled = until_settled(http, lambda: run_api(server.base, args))
    scenario = settled.result
    statuses = Counter(r["status_at_create"] for r in scenario.routers)
    return {
        "api_time_s": round(scenario.api_done - scenario.started, 3),
        "api_external_network_s": scenario.external_s,
        "time_to_ovn_s": round(settled.idle_at - scenario.started, 3),
        "api_requests": 2 + args.routers * (9 + 2 * args.fips),
        "router_task": task_figures(scenario.routers),
        **ovsdb_figures(settled.delta),
        "journal_states_at_end": settled.report.get("journal"),
        "router_status_at_create": dict(statuses),
        "fips_on_their_router": sum(r["fips_on_router"] for r in scenario.routers),
        "router_ids": [r["id"] for r in scenario.routers],
    }


# --- checks --------------------------------------------------------------------------------


def scheduler_balance(env: dict[str, str], chassis: Sequence[str],
                      router_ids: Sequence[str]) -> dict[str, Any]:
    """Gateway routers per chassis, as `neutrino router list-gateways` reports them.

    Least-loaded placement should leave the busiest and the idlest chassis at most one
    router apart. Chassis with no router count as 0, unscheduled routers separately.
    """
    placement = {g["router_id"]: g for g in neutrino_cli(env, "router", "list-gateways")}
    per_chassis = dict.fromkeys(chassis, 0)
    unscheduled = 0
    for rid in router_ids:
        name = placement.get(rid, {}).get("chassis")
        if name is None:
            unscheduled += 1
        else:
            per_chassis[name] = per_chassis.get(name, 0) + 1
    spread = max(per_chassis.values()) - min(per_chassis.values())
    statuses = Counter(placement.get(rid, {}).get("status") for rid in router_ids)
    return {"per_chassis": per_chassis, "spread": spread, "unscheduled": unscheduled,
            "status": dict(statuses), "balanced": spread <= 1 and unscheduled == 0}


def sync_check(env: dict[str, str]) -> dict[str, Any]:
    """`neutrino sync --json` (compare only): after a clean run nothing may differ."""
    report = neutrino_cli(env, "sync", "--json")
    return {"summary": {k: v for k, v in report.items() if k != "items"},
            "first_items": report.get("items", [])[:10],
            "nothing_differs": not report.get("differences") and not report.get("items")}


def expected_rows(routers: int, fips: int) -> dict[str, int]:
    """NB rows the scenario implies (see bench/README.md for the derivation)."""
    return {
        LS: 1 + 3 * routers,  # external + 2 tenant + 1 transit switch per router
        LR: 2 * routers,  # distributed + gateway router
        LRP: 5 * routers,  # 2 interfaces, 2 transit ends, 1 external port
        NAT: routers * (2 + fips),  # SNAT per tenant subnet + one dnat_and_snat per FIP
        ROUTE: 4 * routers,  # DR default, GW default, GW route back per tenant subnet
        # per router: 2 transit, 1 gateway, 2 interface, 2 VM and F FIP ports; + localnet
        LSP: 1 + routers * (7 + fips),
    }


# --- what NB holds, and the ovsdbapp baseline ----------------------------------------------


@dataclass(frozen=True)
class NbRows:
    """Rows of the copied tables, as ovsdbapp's db_list returns them (uuids as UUID)."""

    tables: dict[str, list[dict[str, Any]]]

    @classmethod
    def read(cls, api: impl_idl.OvnNbApiIdlImpl) -> NbRows:
        return cls({table: api.db_list(table).execute(check_error=True) for table in COPIED})

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.tables.items()}

    def links(self) -> dict[str, int]:
        """Children referenced per parent column, e.g. `Logical_Router.nat`."""
        return {f"{parent}.{column}": sum(len(row[column]) for row in self.tables[parent])
                for parent, column, _ in LINKS}

    def parents(self) -> dict[str, str]:
        """Child uuid -> old uuid of the switch or router that holds it."""
        return {str(child): str(row["_uuid"]) for parent, column, _ in LINKS
                for row in self.tables[parent] for child in row[column]}


def _renamed(name: str) -> str:
    return f"{RENAME}{name}"


def _nonempty(row: dict[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    """The given columns of a row, leaving out empty optional values ([] / {})."""
    return {c: row[c] for c in columns if row[c] not in ([], {}, None)}


def _with_new_names(columns: dict[str, Any]) -> dict[str, Any]:
    """Every name, and every reference to a row by name, with the baseline's prefix."""
    columns = dict(columns)
    if "name" in columns:
        columns["name"] = _renamed(columns["name"])
    if "router-port" in columns.get("options", {}):
        columns["options"] = {**columns["options"],
                              "router-port": _renamed(columns["options"]["router-port"])}
    if "logical_port" in columns:
        columns["logical_port"] = _renamed(columns["logical_port"])
    return columns


def _copied(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """The columns the baseline writes for one of neutrino's rows, under new names."""
    return _with_new_names(_nonempty(row, COLUMNS[table]))


def _row_commands(api: impl_idl.OvnNbApiIdlImpl, table: str, row: dict[str, Any],
                  parent: Any) -> list[Any]:
    """The commands that insert one copied row (under a new name) and link it to its parent.

    `parent` is the command that created the parent row: ovsdbapp accepts a command wherever
    it looks a row up, in its own transaction or a later one. NAT and static routes go through
    db_create + db_add, as lr_nat_add / lr_route_add cannot set options and external_ids.
    """
    columns = _copied(table, row)
    if table == LS:
        return [api.ls_add(columns.pop("name"), **columns)]
    if table == LR:
        return [api.lr_add(columns.pop("name"), **columns)]
    if table == LRP:
        return [api.lrp_add(parent, columns.pop("name"), columns.pop("mac"),
                            columns.pop("networks"), **columns)]
    if table == LSP:
        return [api.lsp_add(parent, columns.pop("name"), **columns)]
    child = api.db_create(table, **columns)
    return [child, api.db_add(LR, parent, "static_routes" if table == ROUTE else "nat", child)]


def same_content(original: NbRows, copy: NbRows) -> bool:
    """Every row neutrino wrote has its twin in the copy (ignoring row order).

    All columns are compared, not only COLUMNS, so a column neutrino sets that the baseline
    does not copy makes the check fail. Left out: references (compared through LINKS) and
    what ovn-northd writes, which it may not have caught up with yet.
    """
    def content(rows: NbRows, rename: bool) -> dict[str, list[str]]:
        def one(row: dict[str, Any]) -> str:
            columns = _nonempty(row, (c for c in row if c not in NOT_COMPARED))
            return json.dumps(_with_new_names(columns) if rename else columns,
                              sort_keys=True, default=str)

        return {table: sorted(map(one, table_rows)) for table, table_rows in rows.tables.items()}

    return content(original, rename=True) == content(copy, rename=False)


def raw_batched(nb: str, rows: NbRows) -> dict[str, Any]:
    """Insert the copied rows into a fresh NB, TXN_ROWS rows per transaction, timed.

    Parents come first in the stream, so a child's parent has been created earlier in the
    same transaction or in a committed one. Afterwards the fresh NB must hold as many rows
    and links as neutrino's.
    """
    ordered = [(table, row) for table in COPIED for row in rows.tables[table]]
    parents = rows.parents()
    with ovsdbapp_nb(nb, timeout=OVSDB_TIMEOUT) as api:
        made: dict[str, Any] = {}
        transactions = 0
        started = time.perf_counter()
        for chunk in chunks(ordered, TXN_ROWS):
            with api.transaction(check_error=True) as txn:
                for table, row in chunk:
                    parent = made.get(parents.get(str(row["_uuid"]), ""))
                    commands = _row_commands(api, table, row, parent)
                    made[str(row["_uuid"])] = commands[0]
                    for command in commands:
                        txn.add(command)
            transactions += 1
        wall = time.perf_counter() - started
        copy = NbRows.read(api)
    verified = copy.links() == rows.links() and same_content(rows, copy)
    return {"seconds": round(wall, 3), "rows": len(ordered), "rows_per_table": copy.counts(),
            "transactions": transactions, "rows_per_s": round(len(ordered) / wall, 1),
            "rows_per_transaction": TXN_ROWS, "verified": verified}


# --- main ----------------------------------------------------------------------------------


def measure_neutrino(args: argparse.Namespace) -> tuple[dict[str, Any], NbRows]:
    """The API scenario and every check that needs the server, in one throwaway OVN."""
    with throwaway_ovn("rt") as (directory, ovn):
        chassis = add_gateway_chassis(ovn, args.chassis)  # before the server reads SB
        with neutrino_server(directory, ovn) as server:
            env = server.env  # the CLI checks see the same database and OVN as the server
            figures = measure_api(server, args)
            router_ids = figures.pop("router_ids")
            figures["scheduler"] = scheduler_balance(env, chassis, router_ids)
            figures["sync"] = sync_check(env)
            with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
                rows = NbRows.read(api)
        figures["serve_log"] = log_summary(server.log_path)
    return figures, rows


def measure_apply_only(args: argparse.Namespace) -> tuple[dict[str, Any], NbRows]:
    """The same scenario with NB stopped, then the journal's drain alone once NB is back.

    `time_to_ovn_s` mixes the API's time in (the journal applies while the API runs, on the
    same two cores); `apply_s` is the journal's apply of everything, with no API running,
    which is what the baseline's raw writes compare with. A fresh OVN and server, so NB
    holds the same rows as in the first run.
    """
    with throwaway_ovn("rta") as (directory, ovn):
        add_gateway_chassis(ovn, args.chassis)
        with neutrino_server(directory, ovn) as server:
            drained = with_nb_down(server, ovn, lambda: run_api(server.base, args))
            with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
                rows = NbRows.read(api)
        problems = log_summary(server.log_path)
    return {"api_time_nb_down_s": drained.api_s, "nb_reconnect_s": drained.reconnect_s,
            "apply_s": drained.apply_s, **ovsdb_figures(drained.delta),
            "batches_finding_nb_down": int(drained.delta["unavailable"]),
            "journal_states_at_end": drained.report.get("journal"),
            "nb_rows_as_expected": rows.counts() == expected_rows(args.routers, args.fips),
            "serve_log": problems}, rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Neutrino on one throwaway OVN, then the baseline on a fresh one, each torn down after.

    The first OVN is gone before the baseline starts, so the baseline does not share the
    CPUs with a second northd and server.
    """
    figures, rows = measure_neutrino(args) if not args.apply_only else ({}, None)
    apply_only, apply_rows = measure_apply_only(args)
    rows = rows or apply_rows  # --apply-only: the baseline copies the NB-down run's rows
    expected = expected_rows(args.routers, args.fips)
    with throwaway_ovn("rtb") as (_, fresh):
        base = raw_batched(fresh.nb, rows)
    return {
        "benchmark": "routers", "routers": args.routers, "gateway_chassis": args.chassis,
        "fips_per_router": args.fips, "client_threads": CLIENT_THREADS,
        "machine": {**machine(), "load_average_at_start": os.getloadavg()},
        **figures,
        "nb_rows": rows.counts(), "nb_rows_expected": expected,
        "nb_rows_as_expected": rows.counts() == expected,
        "baseline_ovsdbapp": base,
        "apply_only": apply_only,
        "ratios": {
            "apply_vs_baseline": ratio(apply_only["apply_s"], base["seconds"]),
            "time_to_ovn_vs_baseline": ratio(figures.get("time_to_ovn_s"), base["seconds"]),
            "ovsdb_transactions_vs_baseline": ratio(figures.get("ovsdb_transactions"),
                                                    base["transactions"]),
            "journal_batches_vs_baseline_transactions": ratio(
                figures.get("journal_batches_applied"), base["transactions"]),
        },
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=200, help="routers (default 200)")
    parser.add_argument("--chassis", type=int, default=3,
                        help="gateway chassis registered in SB (default 3)")
    parser.add_argument("--fips", type=int, default=5,
                        help="floating IPs per router, each on its own port (default 5)")
    parser.add_argument("--apply-only", action="store_true",
                        help="only the run with NB stopped during the API calls (its drain "
                        "is the journal's apply alone); no live run, sync or placement checks")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if args.routers < 1 or args.fips < 0 or not 1 <= args.chassis <= 250:
        parser.error("--routers must be at least 1, --fips at least 0, --chassis 1 to 250")
    if args.routers * (args.fips + 1) > 65000 or args.routers > 32768:
        parser.error(f"too many routers or floating IPs for {EXTERNAL_CIDR} and 10.0.0.0/8")
    return args


def passed(result: dict[str, Any]) -> bool:
    """Every structural check: rows, placement, sync, no failed transaction, baseline copy."""
    apply_only = result["apply_only"]
    if not (apply_only["nb_rows_as_expected"] and apply_only["ovsdb_failed_transactions"] == 0
            and result["baseline_ovsdbapp"]["verified"]):
        return False
    if "scheduler" not in result:  # --apply-only
        return True
    return (result["nb_rows_as_expected"] and result["scheduler"]["balanced"]
            and result["sync"]["nothing_differs"] and result["ovsdb_failed_transactions"] == 0
            and result["fips_on_their_router"] == result["routers"] * result["fips_per_router"]
            and result["baseline_ovsdbapp"]["verified"])


def main(argv: list[str] | None = None) -> int:
    """Exit 1 (after printing the JSON) when any check in `passed` fails."""
    args = _args(argv)
    result = run(args)
    emit(result, args.out)
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
