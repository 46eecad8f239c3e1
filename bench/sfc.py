"""SFC benchmark: C port chains (2 groups x 2 pairs, 2 classifiers each) through the API,
until OVN holds their reroute policies, against raw ovsdbapp writing the same policies.

One router joins four /16 networks: sources, destination, and one network per group (a
chain's hops must hand traffic back on different networks). Each chain gets its own source
port and four service-function ports (port security off), then its pairs, groups, two
classifiers (TCP/80 and TCP/443 from its source port) and the chain, from 8 client threads.
Each chain becomes 2 classifiers x 2 hops = 4 Logical_Router_Policy rows.

The baseline copies the policies neutrino wrote (priority, match, nexthops, external_ids)
into a second router of a fresh NB with ovsdbapp's `lr_policy_add`: one transaction per
chain (its 4 policies), and transactions of 1000 policies.

    /tmp/venv/bin/python bench/sfc.py [--chains C] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import chunks, emit, machine, ovsdbapp_nb, ratio, sec, throwaway_ovn
from serve import (
    client,
    create_network,
    get,
    in_threads,
    neutrino_server,
    post,
    put,
    until_settled,
)

from neutrino.ovn.client import NorthboundClient

THREADS = 8
NETWORKS = (("src", "10.1.0.0/16"), ("dst", "10.2.0.0/16"), ("sf1", "10.3.0.0/16"),
            ("sf2", "10.4.0.0/16"))
POLICY = "Logical_Router_Policy"
TXN_ROWS = 1000


def build_topology(http: httpx.Client) -> dict[str, Any]:
    router = post(http, "/v2.0/routers", {"router": {"name": "sfc"}})["router"]
    nets = {}
    for name, cidr in NETWORKS:
        net, subnet = create_network(http, name, cidr)
        put(http, f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet})
        nets[name] = net
    dest = _port(http, nets["dst"], "dest")
    return {"router": router["id"], "nets": nets, "dest": dest}


def _port(http: httpx.Client, network: str, name: str, sf: bool = False) -> str:
    body: dict[str, Any] = {"network_id": network, "name": name}
    if sf:
        body.update(port_security_enabled=False, security_groups=[])
    return str(post(http, "/v2.0/ports", {"port": body})["port"]["id"])


def chain_ports(http: httpx.Client, topo: dict[str, Any], index: int) -> dict[str, Any]:
    """A chain's source port and its four service-function ports (not timed)."""
    nets = topo["nets"]
    return {"source": _port(http, nets["src"], f"vm{index}"),
            "groups": [[_port(http, nets[net], f"c{index}-{net}-{k}", sf=True)
                        for k in (0, 1)] for net in ("sf1", "sf2")]}


def create_chain(http: httpx.Client, topo: dict[str, Any], ports: dict[str, Any],
                 index: int) -> str:
    """Pairs, groups, classifiers and the chain: 9 requests."""
    groups = []
    for g, sfs in enumerate(ports["groups"]):
        pairs = [post(http, "/v2.0/sfc/port_pairs", {"port_pair": {
            "ingress": sf, "egress": sf}})["port_pair"]["id"] for sf in sfs]
        groups.append(post(http, "/v2.0/sfc/port_pair_groups", {"port_pair_group": {
            "name": f"c{index}-g{g}", "port_pairs": pairs}})["port_pair_group"]["id"])
    classifiers = [post(http, "/v2.0/sfc/flow_classifiers", {"flow_classifier": {
        "protocol": "tcp", "destination_port_range_min": port,
        "destination_port_range_max": port, "logical_source_port": ports["source"],
        "logical_destination_port": topo["dest"]}})["flow_classifier"]["id"]
        for port in (80, 443)]
    chain = post(http, "/v2.0/sfc/port_chains", {"port_chain": {
        "name": f"c{index}", "port_pair_groups": groups, "flow_classifiers": classifiers}})
    return str(chain["port_chain"]["id"])


def policies(nb: str) -> list[dict[str, Any]]:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        return reader.read_rows(POLICY)
    finally:
        reader.close()


def baseline(nb: str, written: list[dict[str, Any]], per_txn: int) -> float:
    """Seconds for ovsdbapp to write the same policies into a router of their own."""
    with ovsdbapp_nb(nb, timeout=120) as api:
        router = f"bl-{per_txn}"
        api.lr_add(router).execute(check_error=True)
        started = time.perf_counter()
        for batch in chunks(written, per_txn):
            with api.transaction(check_error=True) as txn:
                for row in batch:
                    txn.add(api.lr_policy_add(router, row["priority"], row["match"],
                                              "reroute", nexthops=row["nexthops"],
                                              external_ids=row["external_ids"]))
        return time.perf_counter() - started


def run(chains: int) -> dict[str, Any]:
    with throwaway_ovn("sfc") as (directory, ovn), neutrino_server(directory, ovn) as server:
        with client(server.base) as http:
            topo = build_topology(http)
            ports: dict[int, dict[str, Any]] = {}

            def make_ports(h: httpx.Client, i: int) -> None:
                ports[i] = chain_ports(h, topo, i)

            ports_s = in_threads(server.base, range(chains), THREADS, make_ports, "port sets")
            until_settled(http, lambda: None)
            made: list[str] = []
            started = time.perf_counter()
            settled = until_settled(http, lambda: in_threads(
                server.base, range(chains), THREADS,
                lambda h, i: made.append(create_chain(h, topo, ports[i], i)), "chains"))
            converged_s = settled.idle_at - started
            api_s = settled.result
            written = [p for p in policies(ovn.nb) if "neutron:port_chain_id" in
                       p["external_ids"]]
            statuses = {c["status"] for c in get(http, "/v2.0/sfc/port_chains",
                                                 fields="status")["port_chains"]}
        sync = _sync(server.env)
        per_chain_s = baseline(ovn.nb, written, 4)
        batched_s = baseline(ovn.nb, written, TXN_ROWS)
    delta = settled.delta
    return {
        "chains": chains,
        "requests_per_chain": 9,
        "setup_ports_s": sec(ports_s),
        "api_s": sec(api_s),
        "api_chains_per_s": round(chains / api_s, 1),
        "all_in_ovn_s": sec(converged_s),
        "journal_transactions": int(delta["journal_transactions"]),
        "journal_transactions_per_chain": round(delta["journal_transactions"] / chains, 3),
        "nb_transactions": int(delta["nb_transactions"]),
        "policies": len(written),
        "nb_rows_per_chain": round(len(written) / chains, 3),
        "chain_statuses": sorted(statuses),
        "sync_differences": sync.get("differences"),
        "sync_unsteered_port_chains": sync.get("unsteered"),
        "baseline_ovsdbapp": {"txn_per_chain_s": sec(per_chain_s),
                              f"batched_{TXN_ROWS}_s": sec(batched_s)},
        "ratios": {"all_in_ovn_vs_txn_per_chain": ratio(converged_s, per_chain_s),
                   f"all_in_ovn_vs_batched_{TXN_ROWS}": ratio(converged_s, batched_s)},
        "machine": machine(),
    }


def _sync(env: dict[str, str]) -> dict[str, Any]:
    from routers import neutrino_cli

    found: dict[str, Any] = neutrino_cli(env, "sync", "--mode", "log", "--json")
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chains", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.chains), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
