"""Internal DNS benchmark: N named ports (dns_name + device_id) on one network through the
API, until OVN's DNS row holds all their records, against raw ovsdbapp writing the same
records.

Each named port journals its network, whose one DNS row is rewritten with every port's
records (4 per IPv4 port: name, FQDN, name in the network's domain, reverse name). The
baseline writes the records neutrino wrote into a DNS row of its own with ovsdbapp: one
transaction per port (`dns_add_record` for each of its records, as ML2/OVN does on port
create), and all of them in one transaction (`dns_set_records`).

    /tmp/venv/bin/python bench/dns.py [--ports N] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from common import emit, machine, ovsdbapp_nb, ratio, sec, throwaway_ovn
from serve import client, create_network, in_threads, neutrino_server, post, until_settled

from neutrino.ovn.client import NorthboundClient

THREADS = 8
DOMAIN = "bench.example."


def dns_rows(nb: str) -> list[dict[str, Any]]:
    reader = NorthboundClient(nb)
    try:
        reader.connect()
        return reader.read_rows("DNS")
    finally:
        reader.close()


def by_port(records: dict[str, str], ips: list[str]) -> list[dict[str, str]]:
    """The records of each port (those naming its address, and its reverse name)."""
    groups = []
    for ip in ips:
        reverse = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
        groups.append({k: v for k, v in records.items() if v == ip or k == reverse})
    return groups


def baseline(nb: str, groups: list[dict[str, str]], per_port: bool) -> float:
    """Seconds for ovsdbapp to write the same records into a DNS row of its own."""
    with ovsdbapp_nb(nb, timeout=120) as api:
        name = f"bl-{per_port}"
        row = api.dns_add(external_ids={"ls_name": name}).execute(check_error=True)
        started = time.perf_counter()
        if per_port:
            for group in groups:
                with api.transaction(check_error=True) as txn:
                    for key, value in group.items():
                        txn.add(api.dns_add_record(row.uuid, key, value))
        else:
            merged = {k: v for group in groups for k, v in group.items()}
            api.dns_set_records(row.uuid, **merged).execute(check_error=True)
        return time.perf_counter() - started


def run(ports: int) -> dict[str, Any]:
    with throwaway_ovn("dns") as (directory, ovn), \
            neutrino_server(directory, ovn, NEUTRINO_DNS_DOMAIN="example.org.") as server:
        with client(server.base) as http:
            network, _ = create_network(http, "dns", "10.0.0.0/16", dns_domain=DOMAIN)
            ips: list[str] = []

            def create(h: Any, i: int) -> None:
                port = post(h, "/v2.0/ports", {"port": {
                    "network_id": network, "dns_name": f"vm{i}", "device_id": f"server-{i}"}})
                ips.append(port["port"]["fixed_ips"][0]["ip_address"])

            started = time.perf_counter()
            settled = until_settled(http, lambda: in_threads(
                server.base, range(ports), THREADS, create, "ports"))
            converged_s = settled.idle_at - started
        rows = [r for r in dns_rows(ovn.nb)
                if r["external_ids"].get("neutron:network_id") == network]
        records = rows[0]["records"] if rows else {}
        groups = by_port(records, ips)
        per_port_s = baseline(ovn.nb, groups, per_port=True)
        one_txn_s = baseline(ovn.nb, groups, per_port=False)
    delta = settled.delta
    return {
        "ports": ports,
        "api_s": sec(settled.result),
        "api_ports_per_s": round(ports / settled.result, 1),
        "all_in_ovn_s": sec(converged_s),
        "dns_rows": len(rows),
        "records": len(records),
        "records_complete": len(records) == 4 * ports,
        "journal_transactions": int(delta["journal_transactions"]),
        "nb_transactions": int(delta["nb_transactions"]),
        "baseline_ovsdbapp": {"txn_per_port_s": sec(per_port_s), "one_txn_s": sec(one_txn_s)},
        "ratios": {"all_in_ovn_vs_txn_per_port": ratio(converged_s, per_port_s),
                   "all_in_ovn_vs_one_txn": ratio(converged_s, one_txn_s)},
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    emit(run(args.ports), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
