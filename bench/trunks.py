"""Trunk benchmark: T trunks of S VLAN subports each through the API, until every subport's
switch port names its parent and VLAN in OVN, against raw ovsdbapp setting the same columns.

Set-up (not timed): two /16 networks; per trunk a parent port on the first and S ports on
the second, from 8 client threads. Timed: one `POST /v2.0/trunks` per trunk with its S
subports (VLANs 1..S), from 8 threads, until the journal is idle. Each subport becomes one
Logical_Switch_Port update (`parent_name`, `tag_request`, `tag`, new revision).

The baseline writes the same three columns with ovsdbapp's `db_set` on as many LSPs of a
switch of its own (inserted untimed): one transaction per trunk (S rows), and transactions
of 1000 rows.

    /tmp/venv/bin/python bench/trunks.py [--trunks T] [--subports S] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from common import chunks, emit, machine, ovsdbapp_nb, ratio, sec, throwaway_ovn
from serve import client, create_network, in_threads, neutrino_server, post, until_settled

from neutrino.ovn.client import NorthboundClient

THREADS = 8
LSP = "Logical_Switch_Port"
TXN_ROWS = 1000


def trunk_ports(http: httpx.Client, nets: tuple[str, str], index: int, subports: int
                ) -> dict[str, Any]:
    def port(network: str, name: str) -> str:
        return str(post(http, "/v2.0/ports", {"port": {"network_id": network,
                                                       "name": name}})["port"]["id"])

    return {"parent": port(nets[0], f"t{index}"),
            "subports": [port(nets[1], f"t{index}-{k}") for k in range(subports)]}


def create_trunk(http: httpx.Client, ports: dict[str, Any], index: int) -> None:
    post(http, "/v2.0/trunks", {"trunk": {"name": f"t{index}", "port_id": ports["parent"],
                                          "sub_ports": [
        {"port_id": p, "segmentation_type": "vlan", "segmentation_id": vid}
        for vid, p in enumerate(ports["subports"], start=1)]}})


def children(nb: str) -> list[dict[str, Any]]:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        return [row for row in reader.read_rows(LSP) if row["parent_name"]]
    finally:
        reader.close()


def baseline(nb: str, written: list[dict[str, Any]], per_txn: int) -> float:
    """Seconds for ovsdbapp to set parent_name/tag_request/tag on as many LSPs."""
    with ovsdbapp_nb(nb, timeout=120) as api:
        switch = f"bl-{per_txn}"
        names = [f"{switch}-{i}" for i in range(len(written))]
        with api.transaction(check_error=True) as txn:
            txn.add(api.ls_add(switch))
            for name in names:
                txn.add(api.lsp_add(switch, name))
        started = time.perf_counter()
        for batch in chunks(list(zip(names, written, strict=True)), per_txn):
            with api.transaction(check_error=True) as txn:
                for name, row in batch:
                    txn.add(api.db_set(LSP, name, ("parent_name", row["parent_name"]),
                                       ("tag_request", row["tag_request"]),
                                       ("tag", row["tag_request"])))
        return time.perf_counter() - started


def run(trunks: int, subports: int) -> dict[str, Any]:
    with throwaway_ovn("trunk") as (directory, ovn), neutrino_server(directory, ovn) as server:
        with client(server.base) as http:
            nets = (create_network(http, "parents", "10.1.0.0/16")[0],
                    create_network(http, "vlans", "10.2.0.0/16")[0])
            ports: dict[int, dict[str, Any]] = {}

            def make_ports(h: httpx.Client, i: int) -> None:
                ports[i] = trunk_ports(h, nets, i, subports)

            ports_s = in_threads(server.base, range(trunks), THREADS, make_ports, "ports")
            until_settled(http, lambda: None)
            started = time.perf_counter()
            settled = until_settled(http, lambda: in_threads(
                server.base, range(trunks), THREADS,
                lambda h, i: create_trunk(h, ports[i], i), "trunks"))
            converged_s = settled.idle_at - started
        written = children(ovn.nb)
        per_trunk_s = baseline(ovn.nb, written, subports)
        batched_s = baseline(ovn.nb, written, TXN_ROWS)
    delta = settled.delta
    return {
        "trunks": trunks,
        "subports_per_trunk": subports,
        "setup_ports_s": sec(ports_s),
        "api_s": sec(settled.result),
        "api_trunks_per_s": round(trunks / settled.result, 1),
        "all_in_ovn_s": sec(converged_s),
        "journal_transactions": int(delta["journal_transactions"]),
        "nb_transactions": int(delta["nb_transactions"]),
        "child_lsps": len(written),
        "child_lsps_expected": trunks * subports,
        "baseline_ovsdbapp": {"txn_per_trunk_s": sec(per_trunk_s),
                              f"batched_{TXN_ROWS}_s": sec(batched_s)},
        "ratios": {"all_in_ovn_vs_txn_per_trunk": ratio(converged_s, per_trunk_s),
                   f"all_in_ovn_vs_batched_{TXN_ROWS}": ratio(converged_s, batched_s)},
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trunks", type=int, default=100)
    parser.add_argument("--subports", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.trunks, args.subports), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
