"""Security-group benchmark: G groups × R rules and P ports through the API, until in OVN.

The point is the shape of NB, not only speed: a rule must become one ACL on its group's
Port_Group, whatever the number of ports, so ACLs must not grow with ports × rules. The run
checks that NB holds exactly one ACL per rule in the API (plus the 4 ACLs of the shared
`neutron_pg_drop` group) and that every port is in its group's and the drop group's
Port_Group.

Speed is reported as a ratio against a baseline measured in the same run, against the same
NB: plain ovsdbapp writing the same Logical_Switch_Ports, Port_Groups and ACLs (copied from
what neutrino wrote, under other names) in transactions of 1000 rows.

Run with the virtualenv's interpreter; it prints one JSON document on stdout:

    /tmp/venv/bin/python bench/security_groups.py [--groups G] [--rules R] [--ports P]
        [--port-mode threads|bulk] [--out FILE]

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import chunks, emit, machine, ovsdbapp_nb, ratio, throwaway_ovn, timed
from ovsdbapp.schema.ovn_northbound import impl_idl
from serve import (
    LOG_PROBLEM,
    Server,
    client,
    create_network,
    get,
    in_threads,
    neutrino_server,
    post,
    until_settled,
    with_nb_down,
)

SUBNET_CIDR = "10.0.0.0/16"
DROP_GROUP = "neutron_pg_drop"
DROP_GROUP_ACLS = 4  # two drops and two DHCP allows, see ovn/translate/security_groups.py
OVSDB_TIMEOUT = 120.0
TXN_ROWS = 1000  # rows per baseline transaction
BULK_PORTS = 50  # ports per request with --port-mode bulk
# Port group names inside ACL matches: `@pg_x` (members) and `$pg_x_ip4` (their addresses).
PG_REFERENCE = re.compile(rf"([@$])(?=pg_|{DROP_GROUP}\b)")


def log_problems(server: Server, start: int = 0, end: int | None = None) -> list[str]:
    """WARNING/ERROR/Traceback lines of the serve log between two byte offsets (first 20)."""
    return [line for line in server.log_lines(start, end) if LOG_PROBLEM.search(line)][:20]


# --- the API scenario ----------------------------------------------------------------------


@dataclass
class Scenario:
    """What the API phases created, and when (perf_counter seconds)."""

    network_id: str = ""
    groups: list[str] = field(default_factory=list)
    rules: int = 0
    ports: dict[str, str] = field(default_factory=dict)  # port id -> its security group
    phases: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    started: float = 0.0
    api_done: float = 0.0


@contextlib.contextmanager
def _phase(scenario: Scenario, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    scenario.phases[name] = round(time.perf_counter() - started, 3)


def create_groups(http: httpx.Client, count: int) -> list[str]:
    """One POST per group, as a user would; the first one also creates `default`."""
    return [post(http, "/v2.0/security-groups", {"security_group": {
        "name": f"bench-{g}", "description": "benchmark"}})["security_group"]["id"]
        for g in range(count)]


def rule_bodies(groups: Sequence[str], g: int, count: int) -> list[dict[str, Any]]:
    """`count` distinct ingress rules for group `g`, of three kinds, as in real deployments.

    Mostly TCP port i from 10.<g>.0.0/16; every fifth an ICMP rule from its own /24; and
    every fifth a TCP rule from the members of the next group (a remote group).
    """
    sg, other = groups[g], groups[(g + 1) % len(groups)]
    bodies = []
    for i in range(count):
        body: dict[str, Any] = {"security_group_id": sg, "direction": "ingress",
                                "ethertype": "IPv4", "protocol": "tcp",
                                "port_range_min": 1000 + i, "port_range_max": 1000 + i,
                                "remote_ip_prefix": f"10.{g % 256}.0.0/16"}
        if i % 5 == 3:
            body.update(protocol="icmp", port_range_min=None, port_range_max=None,
                        remote_ip_prefix=f"10.{(i >> 8) & 255}.{i & 255}.0/24")
        elif i % 5 == 4:
            body.update(remote_ip_prefix=None, remote_group_id=other)
        bodies.append(body)
    return bodies


def create_rules(http: httpx.Client, groups: Sequence[str], count: int) -> int:
    """One bulk POST of `count` rules per group."""
    created = 0
    for g in range(len(groups)):
        body = {"security_group_rules": rule_bodies(groups, g, count)}
        created += len(post(http, "/v2.0/security-group-rules", body)["security_group_rules"])
    return created


def _port_work(groups: Sequence[str], count: int) -> list[str]:
    """The security group of each port to create: round-robin over the groups."""
    return [groups[i % len(groups)] for i in range(count)]


def create_ports_threads(base: str, network_id: str, work: Sequence[str], threads: int,
                         created: dict[str, str]) -> None:
    """`threads` clients, one POST per port, draining one shared queue (like many Novas)."""
    def create(http: httpx.Client, sg: str) -> None:
        port = post(http, "/v2.0/ports", {"port": {
            "network_id": network_id, "security_groups": [sg]}})["port"]
        created[port["id"]] = sg  # atomic under the GIL

    in_threads(base, work, threads, create, "port requests")


def create_ports_bulk(http: httpx.Client, network_id: str, work: Sequence[str],
                      created: dict[str, str]) -> None:
    """Bulk POSTs of BULK_PORTS ports each, one after another (like an orchestrator)."""
    for chunk in chunks(work, BULK_PORTS):
        body = {"ports": [{"network_id": network_id, "security_groups": [sg]} for sg in chunk]}
        for port, sg in zip(post(http, "/v2.0/ports", body)["ports"], chunk, strict=True):
            created[port["id"]] = sg


def run_api(base: str, args: argparse.Namespace) -> Scenario:
    """Every API call of the scenario, timed per phase and as a whole."""
    scenario = Scenario()
    with client(base) as http:
        scenario.started = time.perf_counter()
        with _phase(scenario, "network_s"):
            scenario.network_id = create_network(http, "bench", SUBNET_CIDR)[0]
        with _phase(scenario, "groups_s"):
            scenario.groups = create_groups(http, args.groups)
        with _phase(scenario, "rules_s"):
            scenario.rules = create_rules(http, scenario.groups, args.rules)
        work = _port_work(scenario.groups, args.ports)
        with _phase(scenario, "ports_s"):
            if args.port_mode == "bulk":
                create_ports_bulk(http, scenario.network_id, work, scenario.ports)
            else:
                create_ports_threads(base, scenario.network_id, work, args.threads,
                                     scenario.ports)
        scenario.api_done = time.perf_counter()
    return scenario


# --- what NB holds -------------------------------------------------------------------------


@dataclass
class NbSnapshot:
    """The NB rows the checks and the baseline need, as plain values."""

    acls: list[dict[str, Any]]
    port_groups: list[dict[str, Any]]
    lsps: list[dict[str, Any]]


def read_nb(api: impl_idl.OvnNbApiIdlImpl) -> NbSnapshot:
    """Read through the baseline's own ovsdbapp IDL, so no neutrino code is involved."""
    def rows(table: str, columns: list[str]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = api.db_list(table, columns=["_uuid", *columns]).execute(
            check_error=True)
        return result

    return NbSnapshot(
        acls=rows("ACL", ["direction", "priority", "match", "action", "log", "external_ids"]),
        port_groups=rows("Port_Group", ["name", "acls", "ports", "external_ids"]),
        lsps=rows("Logical_Switch_Port", ["name", "addresses", "port_security",
                                          "external_ids"]),
    )


def api_rule_ids(http: httpx.Client) -> set[str]:
    """Every rule the API lists for the project, default groups' rules included."""
    rules = get(http, "/v2.0/security-group-rules", fields="id")["security_group_rules"]
    return {r["id"] for r in rules}


def check_nb(nb: NbSnapshot, scenario: Scenario, rule_ids: set[str],
             args: argparse.Namespace) -> dict[str, Any]:
    """ACLs are one per API rule plus the drop group's; every port is where it belongs."""
    acl_rule_ids = {a["external_ids"].get("neutron:security_group_rule_id") for a in nb.acls}
    acl_rule_ids.discard(None)
    ports = len(scenario.ports)
    pg_rows, acl_rows, lsp_rows = len(nb.port_groups), len(nb.acls), len(nb.lsps)
    return {
        "nb_rows": {"ACL": acl_rows, "Port_Group": pg_rows, "Logical_Switch_Port": lsp_rows},
        "rules_in_api": len(rule_ids),
        # G groups × (R rules + 2 default egress) + the default group's 4 rules.
        "rules_expected": args.groups * (args.rules + 2) + 4,
        "acls_expected": len(rule_ids) + DROP_GROUP_ACLS,
        "acls_match_rules": acl_rows == len(rule_ids) + DROP_GROUP_ACLS
        and acl_rule_ids == rule_ids,
        "pg_membership_ok": _membership_ok(nb, scenario),
        "acls_per_port": round(acl_rows / ports, 3) if ports else None,
        "nb_rows_per_port": round((acl_rows + pg_rows + lsp_rows) / ports, 3) if ports else None,
    }


def _membership_ok(nb: NbSnapshot, scenario: Scenario) -> bool:
    """Each API port's LSP is in exactly its group's Port_Group and in neutron_pg_drop."""
    lsp_names = {str(row["_uuid"]): row["name"] for row in nb.lsps}
    members = {pg["name"]: {lsp_names.get(str(u)) for u in pg["ports"]}
               for pg in nb.port_groups}
    expected: dict[str, set[str]] = {f"pg_{sg.replace('-', '_')}": set()
                                     for sg in scenario.groups}
    for port, sg in scenario.ports.items():
        expected[f"pg_{sg.replace('-', '_')}"].add(port)
    return members.get(DROP_GROUP) == set(scenario.ports) and all(
        members.get(name) == ports for name, ports in expected.items())


# --- ovsdbapp baseline ---------------------------------------------------------------------


def _commit(api: impl_idl.OvnNbApiIdlImpl, commands: Sequence[Any]) -> int:
    """Commit `commands` TXN_ROWS at a time (each inserts one row); returns transactions."""
    count = 0
    for chunk in chunks(commands, TXN_ROWS):
        with api.transaction(check_error=True) as txn:
            for command in chunk:
                txn.add(command)
        count += 1
    return count


def _renamed(name: str) -> str:
    return f"bl_{name}"


def baseline(api: impl_idl.OvnNbApiIdlImpl, nb: NbSnapshot) -> dict[str, Any]:
    """The same LSPs, Port_Groups (with members) and ACLs, written straight with ovsdbapp.

    Rows are copied from what neutrino wrote, under new names (`bl_…` groups, whose names
    are rewritten inside the ACL matches too, and new LSP names on a new switch), so NB and
    ovn-northd get the same amount and shape of work. Three dependent steps, each committed
    in transactions of TXN_ROWS rows: LSPs, then Port_Groups naming those LSPs, then ACLs
    added to the committed groups by name (as ML2/OVN's pg_acl_add does).
    """
    switch = f"bl-{uuid.uuid4().hex[:8]}"
    api.ls_add(switch).execute(check_error=True)
    lsp_commands = {str(row["_uuid"]): api.lsp_add(
        switch, str(uuid.uuid4()), addresses=row["addresses"],
        port_security=row["port_security"], external_ids=row["external_ids"])
        for row in nb.lsps}
    lsp_txns, lsp_s = timed(lambda: _commit(api, list(lsp_commands.values())))
    new_uuid = {old: cmd.result.uuid for old, cmd in lsp_commands.items()}
    pg_txns, pg_s = timed(lambda: _commit(api, [api.pg_add(
        _renamed(pg["name"]), ports=[new_uuid[str(u)] for u in pg["ports"]],
        external_ids=pg["external_ids"]) for pg in nb.port_groups]))
    acl_txns, acl_s = timed(lambda: _commit(api, _acl_commands(api, nb)))
    return {"seconds": round(lsp_s + pg_s + acl_s, 3),
            "steps_s": {"lsps": round(lsp_s, 3), "port_groups": round(pg_s, 3),
                        "acls": round(acl_s, 3)},
            "transactions": lsp_txns + pg_txns + acl_txns,
            "rows": len(nb.lsps) + len(nb.port_groups) + len(nb.acls)}


def baseline_verified(before: NbSnapshot, after: NbSnapshot) -> bool:
    """NB now holds every row twice, and each `bl_` group has its original's ACLs and ports."""
    def shape(groups: list[dict[str, Any]], prefix: str) -> dict[str, tuple[int, int]]:
        return {pg["name"].removeprefix(prefix): (len(pg["acls"]), len(pg["ports"]))
                for pg in groups if pg["name"].startswith(prefix)}

    copies = shape(after.port_groups, _renamed(""))
    return (len(after.acls), len(after.port_groups), len(after.lsps)) == (
        2 * len(before.acls), 2 * len(before.port_groups), 2 * len(before.lsps)
    ) and copies == shape(before.port_groups, "")


def _acl_commands(api: impl_idl.OvnNbApiIdlImpl, nb: NbSnapshot) -> list[Any]:
    """pg_acl_add for every ACL, on the renamed copy of the group that holds it."""
    owner = {str(acl): pg["name"] for pg in nb.port_groups for acl in pg["acls"]}
    return [api.pg_acl_add(_renamed(owner[str(acl["_uuid"])]), acl["direction"],
                           acl["priority"], PG_REFERENCE.sub(r"\1bl_", acl["match"]),
                           acl["action"], log=acl["log"], **acl["external_ids"])
            for acl in nb.acls]


# --- main ----------------------------------------------------------------------------------


def measure_api(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """The API scenario until the journal is idle, with the OVSDB transactions it took."""
    with client(server.base) as http:
        settled = until_settled(http, lambda: run_api(server.base, args))
        rule_ids = api_rule_ids(http)
    scenario, delta = settled.result, settled.delta
    return {
        "scenario": scenario, "rule_ids": rule_ids,
        "journal_states_at_end": settled.report.get("journal"),
        "api_time_s": round(scenario.api_done - scenario.started, 3),
        "api_phases_s": scenario.phases,
        "time_to_ovn_s": round(settled.idle_at - scenario.started, 3),
        # Journal write transactions: neutrino_ovsdb_transaction_seconds also counts reads.
        "ovsdb_transactions": int(delta["journal_transactions"]),
        "ovsdb_resources_applied": int(delta["resources_applied"]),
        "ovsdb_failed_transactions": int(delta["errors"]),
    }


def measure_apply_only(args: argparse.Namespace) -> dict[str, Any]:
    """The same scenario with NB stopped, then the journal's drain alone once NB is back.

    `time_to_ovn_s` mixes the API's time in (the journal applies while the API runs, on the
    same two cores); `apply_s` is the journal's apply of everything, with no API running,
    which is what the baseline's raw writes compare with. Its own OVN and server.
    """
    with throwaway_ovn("sga") as (directory, ovn), neutrino_server(directory, ovn) as server:
        drained = with_nb_down(server, ovn, lambda: run_api(server.base, args))
        with client(server.base) as http:
            rule_ids = api_rule_ids(http)
        with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
            nb = read_nb(api)
        problems = log_problems(server)
    checks = check_nb(nb, drained.result, rule_ids, args)
    return {"api_time_nb_down_s": drained.api_s, "nb_reconnect_s": drained.reconnect_s,
            "apply_s": drained.apply_s,
            "ovsdb_transactions": int(drained.delta["journal_transactions"]),
            "ovsdb_resources_applied": int(drained.delta["resources_applied"]),
            "ovsdb_failed_transactions": int(drained.delta["errors"]),
            "batches_finding_nb_down": int(drained.delta["unavailable"]),
            "journal_apply_seconds_sum": round(drained.delta["journal_apply_seconds"], 3),
            "acls_match_rules": checks["acls_match_rules"],
            "pg_membership_ok": checks["pg_membership_ok"],
            "serve_log_problems": problems}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Everything in one throwaway OVN and server, torn down even when a step fails; then
    the scenario again with NB stopped (`measure_apply_only`), in another."""
    apply_only = measure_apply_only(args)
    with throwaway_ovn("sg") as (directory, ovn), neutrino_server(directory, ovn) as server:
        api_figures = measure_api(server, args)
        problems = log_problems(server)
        log_offset = server.log_size()  # the baseline's LSPs make the server log warnings
        with ovsdbapp_nb(ovn.nb, timeout=OVSDB_TIMEOUT) as api:
            nb = read_nb(api)
            base = baseline(api, nb)
            base["verified"] = baseline_verified(nb, read_nb(api))
        problems += log_problems(server, log_offset)
    scenario: Scenario = api_figures.pop("scenario")
    checks = check_nb(nb, scenario, api_figures.pop("rule_ids"), args)
    port_mode = ({"mode": "bulk", "ports_per_request": BULK_PORTS} if args.port_mode == "bulk"
                 else {"mode": "threads", "threads": args.threads})
    return {
        "benchmark": "security_groups", "groups": args.groups, "rules_per_group": args.rules,
        "ports": args.ports, "port_creation": port_mode, "machine": machine(),
        **api_figures, **checks,
        "baseline_ovsdbapp": {**base, "rows_per_transaction": TXN_ROWS},
        "apply_only": apply_only,
        "ratios": {
            "apply_vs_baseline": ratio(apply_only["apply_s"], base["seconds"]),
            "time_to_ovn_vs_baseline": ratio(api_figures["time_to_ovn_s"], base["seconds"]),
            "ovsdb_transactions_vs_baseline": ratio(api_figures["ovsdb_transactions"],
                                                    base["transactions"]),
        },
        "serve_log_problems": problems,
    }


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=50, help="security groups (default 50)")
    parser.add_argument("--rules", type=int, default=20, help="rules per group (default 20)")
    parser.add_argument("--ports", type=int, default=1000, help="ports (default 1000)")
    parser.add_argument("--port-mode", choices=("threads", "bulk"), default="threads",
                        help="one POST per port from --threads clients (default), or bulk "
                        f"POSTs of {BULK_PORTS} ports")
    parser.add_argument("--threads", type=int, default=8,
                        help="client threads with --port-mode threads (default 8)")
    parser.add_argument("--out", type=Path, help="also write the JSON document here")
    args = parser.parse_args(argv)
    if min(args.groups, args.rules, args.ports, args.threads) < 1:
        parser.error("--groups, --rules, --ports and --threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Exit 1 (after printing the JSON) when NB does not hold what the API says it should."""
    args = _args(argv)
    result = run(args)
    emit(result, args.out)
    checks = (result["acls_match_rules"], result["pg_membership_ok"],
              result["baseline_ovsdbapp"]["verified"], result["apply_only"]["acls_match_rules"],
              result["apply_only"]["pg_membership_ok"])
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
