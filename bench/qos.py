"""QoS benchmark: a policy reaching N ports through the API, until OVN holds their QoS rows,
against raw ovsdbapp writing the same rows.

One network with N ports (made beforehand, not timed). Then, timed:
1. attach: `PUT /networks/{id}` gives the network a policy (egress and ingress bandwidth
   limits, DSCP 26): every port gets two QoS rows (2N inserts), journalled in one
   transaction;
2. rule change: `PUT .../bandwidth_limit_rules/{id}` changes the egress limit: N rows change.

The baseline writes the same rows with ovsdbapp's `qos_add` into a switch of its own in the
same NB (one transaction per port, and one for all), then changes their bandwidth with
`db_set` in one transaction.

    PYTHONPATH=src .venv/bin/python bench/qos.py [--ports N] [--out FILE]
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
QOS = "QoS"


def qos_rows(nb: str) -> list[dict[str, Any]]:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        return [r for r in reader.read_rows(QOS) if "neutron:qos_key" in r["external_ids"]]
    finally:
        reader.close()


def make_policy(http: httpx.Client) -> tuple[str, str]:
    """(policy id, its egress bandwidth rule id)."""
    pol = post(http, "/v2.0/qos/policies", {"policy": {"name": "bench"}})["policy"]["id"]
    base = f"/v2.0/qos/policies/{pol}"
    egress = post(http, f"{base}/bandwidth_limit_rules", {"bandwidth_limit_rule": {
        "max_kbps": 10000, "max_burst_kbps": 1000}})["bandwidth_limit_rule"]["id"]
    post(http, f"{base}/bandwidth_limit_rules", {"bandwidth_limit_rule": {
        "max_kbps": 20000, "max_burst_kbps": 2000, "direction": "ingress"}})
    post(http, f"{base}/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 26}})
    return pol, egress


def baseline(nb: str, written: list[dict[str, Any]], per_txn: int) -> dict[str, float]:
    """Seconds for ovsdbapp to add the same rows to a switch of its own, then to change the
    egress rows' bandwidth in one transaction."""
    with ovsdbapp_nb(nb, timeout=120) as api:
        switch = f"bl-{per_txn}"
        api.ls_add(switch).execute(check_error=True)
        started = time.perf_counter()
        for batch in chunks(written, per_txn):
            with api.transaction(check_error=True) as txn:
                for row in batch:
                    bandwidth = row["bandwidth"]
                    txn.add(api.qos_add(switch, row["direction"], row["priority"],
                                        row["match"], rate=bandwidth.get("rate"),
                                        burst=bandwidth.get("burst"),
                                        dscp=row["action"].get("dscp"),
                                        external_ids=row["external_ids"]))
        added = time.perf_counter() - started
        rows = api.qos_list(switch).execute(check_error=True)
        egress = [r for r in rows if r.direction == "from-lport"]
        started = time.perf_counter()
        with api.transaction(check_error=True) as txn:
            for row in egress:
                txn.add(api.db_set(QOS, row.uuid, ("bandwidth", {"rate": 5000,
                                                                 "burst": 1000})))
        changed = time.perf_counter() - started
    return {"add_s": added, "change_s": changed}


def run(ports: int) -> dict[str, Any]:
    with throwaway_ovn("qos") as (directory, ovn), neutrino_server(directory, ovn) as server:
        with client(server.base) as http:
            net, _ = create_network(http, "qos", "10.0.0.0/16")
            policy, egress = make_policy(http)
            setup_s = in_threads(server.base, range(ports), THREADS, lambda h, i: post(
                h, "/v2.0/ports", {"port": {"network_id": net, "name": f"p{i}"}}), "ports")
            until_settled(http, lambda: None)

            started = time.perf_counter()
            attach = until_settled(http, lambda: put(http, f"/v2.0/networks/{net}", {
                "network": {"qos_policy_id": policy}}))
            attach_s = attach.idle_at - started
            written = qos_rows(ovn.nb)

            started = time.perf_counter()
            change = until_settled(http, lambda: put(
                http, f"/v2.0/qos/policies/{policy}/bandwidth_limit_rules/{egress}",
                {"bandwidth_limit_rule": {"max_kbps": 5000}}))
            change_s = change.idle_at - started
            changed = [r for r in qos_rows(ovn.nb)
                       if r["bandwidth"].get("rate") == 5000]
        per_port = baseline(ovn.nb, written, 2)
        batched = baseline(ovn.nb, written, len(written))
    return {
        "ports": ports,
        "setup_ports_s": sec(setup_s),
        "qos_rows": len(written),
        "attach": {"all_in_ovn_s": sec(attach_s),
                   "journal_transactions": int(attach.delta["journal_transactions"]),
                   "journal_apply_s": sec(attach.delta["journal_apply_seconds"]),
                   "resources_applied": int(attach.delta["resources_applied"]),
                   "nb_transactions": int(attach.delta["nb_transactions"])},
        "rule_change": {"all_in_ovn_s": sec(change_s), "rows_changed": len(changed),
                        "journal_transactions": int(change.delta["journal_transactions"]),
                        "journal_apply_s": sec(change.delta["journal_apply_seconds"]),
                        "resources_applied": int(change.delta["resources_applied"]),
                        "nb_transactions": int(change.delta["nb_transactions"])},
        "baseline_ovsdbapp": {"add_txn_per_port_s": sec(per_port["add_s"]),
                              "add_one_txn_s": sec(batched["add_s"]),
                              "change_one_txn_s": sec(batched["change_s"])},
        "ratios": {"attach_vs_one_txn": ratio(attach_s, batched["add_s"]),
                   "attach_vs_txn_per_port": ratio(attach_s, per_port["add_s"]),
                   "rule_change_vs_one_txn": ratio(change_s, batched["change_s"])},
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.ports), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
