"""floating IP → a `dnat_and_snat` NAT row on its router's gateway router."""

from __future__ import annotations

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import FloatingIpFacts
from neutrino.ovn.translate.routers import gateway_router_key

RESOURCE = "floating_ip"


def nat_key(fip_id: str) -> RowKey:
    return RowKey(n.NAT, "external_ids", fip_id, map_key=n.FIP_ID)


def build_floating_ip(facts: FloatingIpFacts) -> DesiredState:
    """Nothing in OVN until it is associated with a port behind a router."""
    if not (facts.port_id and facts.fixed_ip and facts.router_id):
        return build_floating_ip_absent(facts.id)
    external_ids = {
        n.FIP_ID: facts.id,
        n.FIP_PORT_ID: facts.port_id,
        n.FIP_NETWORK_ID: facts.network_id,
        n.FIP_EXTERNAL_MAC: facts.fip_port_mac,
        n.ROUTER_NAME: n.router_name(facts.router_id),
        n.REVISION: str(facts.revision),
    }
    columns = {
        "type": "dnat_and_snat",
        "external_ip": facts.floating_ip,
        "logical_ip": facts.fixed_ip,
        "logical_port": facts.port_id,
        # 1:1 NAT needs no connection tracking in the gateway router; security groups
        # already track connections at the port. (ML2/OVN writes stateless=false.)
        "options": {"stateless": "true"},
        "external_ids": external_ids,
    }
    parent = ParentLink(gateway_router_key(facts.router_id), "nat")
    row = DesiredRow(nat_key(facts.id), columns, parent=parent)
    return DesiredState(RESOURCE, facts.id, (row,), (nat_key(facts.id),))


def build_floating_ip_absent(fip_id: str) -> DesiredState:
    return DesiredState(RESOURCE, fip_id, (), (nat_key(fip_id),))
