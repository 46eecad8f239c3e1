"""A network's internal DNS → one NB `DNS` row, listed in its switch's `dns_records`.

As ML2/OVN: one row per network, `external_ids:ls_name` = the switch's name, and for each
port that asks for DNS (a `dns_name` and a `device_id`) and each of its addresses the
records `hostname` → addresses, `fqdn` → addresses, `hostname.<domain>` → addresses when
the port's own (or its network's) domain differs from the global one, and the reverse name
(`5.0.0.10.in-addr.arpa`) → fqdn. ovn-controller answers a VM's DNS queries for these
names itself. neutrino's differences: names carry no trailing dot (OVN compares the name
asked without one), two ports with one name share the record (both addresses), and a
network without records has no row (no DNS interception where nothing is served).
"""

from __future__ import annotations

from neutrino import dns_names
from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, Membership, RowKey
from neutrino.ovn.translate.inputs import DnsPortFacts


def dns_key(network_id: str) -> RowKey:
    return RowKey(n.DNS, "external_ids", network_id, n.DNS_NETWORK_ID)


def build_dns_row(network_id: str, ports: tuple[DnsPortFacts, ...],
                  global_domain: str) -> DesiredRow | None:
    records = build_records(ports, global_domain)
    if not records:
        return None
    external_ids = {n.DNS_LS_NAME: n.switch_name(network_id), n.DNS_NETWORK_ID: network_id}
    return DesiredRow(dns_key(network_id), {"records": records, "external_ids": external_ids})


def dns_membership(network_id: str, switch: RowKey) -> Membership:
    return Membership(switch, "dns_records", dns_key(network_id))


def build_records(ports: tuple[DnsPortFacts, ...], global_domain: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    reverse: dict[str, str] = {}
    for port in sorted(ports, key=lambda p: p.port_id):
        if not (port.dns_name and port.device_id):
            continue  # ML2/OVN's is_dns_required_for_port
        domain = port.domain.rstrip(".")
        for entry in dns_names.assignment(port.ips, port.dns_name, global_domain):
            hostname, fqdn = entry.hostname.rstrip("."), entry.fqdn.rstrip(".")
            names = [hostname, fqdn]
            if domain and f"{hostname}.{domain}" != fqdn:
                names.append(f"{hostname}.{domain}")
            for name in dict.fromkeys(names):
                addresses = found.setdefault(name, [])
                if entry.ip_address not in addresses:
                    addresses.append(entry.ip_address)
            reverse[dns_names.reverse_name(entry.ip_address)] = fqdn
    return {name: " ".join(ips) for name, ips in found.items()} | reverse
