"""Port forwarding benchmark: N floating IPs each forwarding TCP/2222 to a VM's port 22,
created through the API until OVN holds their Load_Balancers (attached to the gateway
router), against raw ovsdbapp writing the same balancers.

One router with a gateway on an external /16 and an interface on a tenant /16; N VM ports
and N floating IPs are made first (not timed). The timed part is N port forwarding creates
from 8 client threads until the journal is idle. Each forwarding becomes one Load_Balancer
`pf-floatingip-<fip id>-tcp` in the gateway router's `load_balancer` set.

The baseline copies the balancers neutrino wrote (name, protocol, vips, external_ids) into a
fresh router with ovsdbapp's `lb_add` + `lr_lb_add`: one transaction per balancer, and
transactions of 1000 balancers.

    /tmp/venv/bin/python bench/port_forwardings.py [--forwardings N] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import chunks, emit, machine, ovsdbapp_nb, ratio, sec, throwaway_ovn
from serve import client, create_network, in_threads, neutrino_server, post, put, until_settled

from neutrino.ovn.client import NorthboundClient

THREADS = 8
LB = "Load_Balancer"
TXN_ROWS = 1000


def build_topology(http: httpx.Client) -> dict[str, Any]:
    ext = post(http, "/v2.0/networks", {"network": {"name": "public",
                                                    "router:external": True}})["network"]
    post(http, "/v2.0/subnets", {"subnet": {"network_id": ext["id"], "ip_version": 4,
                                            "cidr": "172.24.0.0/16"}})
    net, subnet = create_network(http, "tenant", "10.1.0.0/16")
    router = post(http, "/v2.0/routers", {"router": {"name": "pf", "external_gateway_info": {
        "network_id": ext["id"]}}})["router"]
    put(http, f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet})
    return {"ext": ext["id"], "net": net, "router": router["id"]}


def vm_and_fip(http: httpx.Client, topo: dict[str, Any], index: int) -> tuple[str, str]:
    port = post(http, "/v2.0/ports", {"port": {"network_id": topo["net"],
                                               "name": f"vm{index}"}})["port"]["id"]
    fip = post(http, "/v2.0/floatingips", {"floatingip": {
        "floating_network_id": topo["ext"]}})["floatingip"]["id"]
    return str(port), str(fip)


def forward(http: httpx.Client, port: str, fip: str) -> None:
    post(http, f"/v2.0/floatingips/{fip}/port_forwardings", {"port_forwarding": {
        "internal_port_id": port, "protocol": "tcp", "internal_port": 22,
        "external_port": 2222}})


def balancers(nb: str) -> list[dict[str, Any]]:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        return [lb for lb in reader.read_rows(LB) if lb["name"].startswith("pf-floatingip-")]
    finally:
        reader.close()


def attached(nb: str, router_id: str) -> int:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        gateway = [r for r in reader.read_rows("Logical_Router")
                   if r["name"] == f"neutron-gw-{router_id}"]
        return len(gateway[0]["load_balancer"]) if gateway else 0
    finally:
        reader.close()


def baseline(nb: str, written: list[dict[str, Any]], per_txn: int) -> float:
    """Seconds for ovsdbapp to write the same balancers and attach them to a router."""
    with ovsdbapp_nb(nb, timeout=120) as api:
        router = f"bl-{per_txn}"
        api.lr_add(router).execute(check_error=True)
        started = time.perf_counter()
        for batch in chunks(written, per_txn):
            with api.transaction(check_error=True) as txn:
                for row in batch:
                    name = f"bl{per_txn}-{row['name']}"
                    [(vip, backend)] = row["vips"].items()
                    txn.add(api.lb_add(name, vip, [backend], protocol=row["protocol"],
                                       external_ids=row["external_ids"]))
                    txn.add(api.lr_lb_add(router, name))
        return time.perf_counter() - started


def run(count: int) -> dict[str, Any]:
    with throwaway_ovn("pf") as (directory, ovn), neutrino_server(directory, ovn) as server:
        with client(server.base) as http:
            topo = build_topology(http)
            pairs: dict[int, tuple[str, str]] = {}

            def make(h: httpx.Client, i: int) -> None:
                pairs[i] = vm_and_fip(h, topo, i)

            setup_s = in_threads(server.base, range(count), THREADS, make, "ports and fips")
            until_settled(http, lambda: None)
            started = time.perf_counter()
            settled = until_settled(http, lambda: in_threads(
                server.base, range(count), THREADS, lambda h, i: forward(h, *pairs[i]),
                "port forwardings"))
            converged_s = settled.idle_at - started
            api_s = settled.result
            written = balancers(ovn.nb)
            joined = attached(ovn.nb, topo["router"])
        per_lb_s = baseline(ovn.nb, written, 1)
        batched_s = baseline(ovn.nb, written, TXN_ROWS)
    delta = settled.delta
    return {
        "forwardings": count,
        "setup_ports_and_fips_s": sec(setup_s),
        "api_s": sec(api_s),
        "api_forwardings_per_s": round(count / api_s, 1),
        "all_in_ovn_s": sec(converged_s),
        "journal_transactions": int(delta["journal_transactions"]),
        "nb_transactions": int(delta["nb_transactions"]),
        "load_balancers": len(written),
        "attached_to_gateway_router": joined,
        "baseline_ovsdbapp": {"txn_per_balancer_s": sec(per_lb_s),
                              f"batched_{TXN_ROWS}_s": sec(batched_s)},
        "ratios": {"all_in_ovn_vs_txn_per_balancer": ratio(converged_s, per_lb_s),
                   f"all_in_ovn_vs_batched_{TXN_ROWS}": ratio(converged_s, batched_s)},
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forwardings", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.forwardings), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
