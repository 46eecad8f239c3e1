"""Internal DNS on ports and networks (dns-integration, dns-domain-ports,
dns-integration-domain-keywords): values checked as Neutron checks them, a port's
`dns_assignment`, and the network journal entry that carries a port's names to the
network's OVN DNS row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino import dns_names, errors
from neutrino.db.models import Network, Port
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.context import Context


def domain_value(raw: str) -> str:
    """A network's or port's dns_domain, lower-cased and checked (400 otherwise)."""
    value = dns_names.normalise(raw)
    try:
        dns_names.check_dns_domain(value)
    except dns_names.InvalidDnsName as e:
        raise errors.InvalidInput(str(e)) from None
    return value


def name_value(raw: str, global_domain: str) -> str:
    value = dns_names.normalise(raw)
    try:
        dns_names.check_dns_name(value, global_domain)
    except dns_names.InvalidDnsName as e:
        raise errors.InvalidInput(str(e)) from None
    return value


def set_port_names(port: Port, net: Network, ctx: Context, body: dict[str, Any],
                   global_domain: str) -> bool:
    """Take dns_name / dns_domain from the body; the domain the names are published under
    is the port's own, else its network's, with the keywords filled in from the caller
    (Neutron's current_dns_domain). True when anything changed."""
    if "dns_name" not in body and "dns_domain" not in body:
        return False
    before = (port.dns_name, port.dns_domain, port.dns_current_domain)
    if "dns_name" in body:
        port.dns_name = name_value(body["dns_name"], global_domain)
    if "dns_domain" in body:
        port.dns_domain = domain_value(body["dns_domain"])
    chosen = port.dns_domain or net.dns_domain
    port.dns_current_domain = dns_names.substitute_keywords(chosen, keyword_values(ctx))
    return (port.dns_name, port.dns_domain, port.dns_current_domain) != before


def keyword_values(ctx: Context) -> dict[str, str | None]:
    return {"project_id": ctx.project_id or None, "project_name": ctx.project_name,
            "user_id": ctx.user_id, "user_name": ctx.user_name}


def published(port: Port) -> tuple[Any, ...] | None:
    """What the network's DNS row holds of this port (None: nothing, as ML2/OVN asks for
    a dns_name and a device_id)."""
    if not (port.dns_name and port.device_id and port.fixed_ips):
        return None
    return (port.dns_name, port.device_id, port.dns_current_domain,
            tuple(a.ip_address for a in port.fixed_ips))


def journal_network(session: Session, network_id: str, before: Any, after: Any) -> None:
    """The network's DNS row is translated with the network: a port whose published
    names change journals its network (which waits for nothing)."""
    if before != after:
        record_entry(session, ResourceType.NETWORK, network_id, Operation.UPDATE)
