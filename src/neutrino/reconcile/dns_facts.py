"""The ports a network's DNS row names: loaded in bulk for the networks being translated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import IpAllocation, Port
from neutrino.ovn.translate.inputs import DnsPortFacts
from neutrino.reconcile.bulk import chunks


def load_dns_ports(session: Session, network_ids: Sequence[str]
                   ) -> dict[str, tuple[DnsPortFacts, ...]]:
    """network id → its ports that ask for DNS (a dns_name and a device_id), with their
    addresses in the port's order."""
    ips: dict[str, list[str]] = {}
    ports: dict[str, Port] = {}
    for chunk in chunks(network_ids):
        rows = session.execute(
            select(Port.id, Port.network_id, Port.dns_name, Port.device_id,
                   Port.dns_current_domain, IpAllocation.ip_address)
            .join(IpAllocation, IpAllocation.port_id == Port.id)
            .where(Port.network_id.in_(chunk), Port.dns_name != "",
                   Port.device_id != "")
            .order_by(Port.id, IpAllocation.position))
        for row in rows:
            ports.setdefault(row.id, row)
            ips.setdefault(row.id, []).append(row.ip_address)
    found: dict[str, list[DnsPortFacts]] = {}
    for port_id, row in ports.items():
        found.setdefault(row.network_id, []).append(DnsPortFacts(
            port_id, row.dns_name, row.device_id, tuple(ips[port_id]),
            row.dns_current_domain))
    return {net: tuple(facts) for net, facts in found.items()}
