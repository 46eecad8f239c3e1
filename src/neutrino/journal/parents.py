"""The parents a journal entry names: the only place they are computed.

Services call these with the row they are changing when they record an entry; maintenance,
which journals fixes for drifted resources, calls `parents_of` with a resource reference.
Both get the same answer because there is one function per resource type. What each type
may wait for is declared in `dependencies.WAITS_FOR`, which `record_entry` checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from neutrino.db.models import (
    AddressGroup,
    FloatingIp,
    L2gwConnection,
    L2gwGateway,
    Network,
    Port,
    PortForwarding,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    SfcFlowClassifier,
    SfcPortChain,
    SfcPortPair,
    SfcPortPairGroup,
    Subnet,
)
from neutrino.journal.types import ResourceRef, ResourceType

Parents = dict[ResourceType, list[str]]
# Ports Neutron's L3 creates for a router: their rows live in the router's OVN routers too.
ROUTER_INTERFACE = "network:router_interface"
ROUTER_OWNERS = (ROUTER_INTERFACE, "network:router_gateway")


def no_parents(_row: Any) -> Parents:
    return {}


def subnet_parents(subnet: Subnet) -> Parents:
    return {ResourceType.NETWORK: [subnet.network_id]}


def port_parents(port: Port) -> Parents:
    """Its network, the subnets of its addresses (its switch port refers to their DHCP
    options), its security groups (it joins their port groups) and, for a router's port,
    the router; a trunk's subport, the trunk's parent port."""
    parents = {
        ResourceType.NETWORK: [port.network_id],
        ResourceType.SUBNET: sorted({a.subnet_id for a in port.fixed_ips}),
        ResourceType.SECURITY_GROUP: sorted(
            {b.security_group_id for b in port.security_group_bindings}),
    }
    if port.device_owner in ROUTER_OWNERS and port.device_id:
        parents[ResourceType.ROUTER] = [port.device_id]
    if port.subport is not None:  # a trunk's subport: its switch port names the parent's
        parents[ResourceType.PORT] = [port.subport.trunk.port_id]
    return parents


def rule_parents(rule: SecurityGroupRule) -> Parents:
    groups = {rule.security_group_id} | ({rule.remote_group_id} if rule.remote_group_id
                                         else set())
    parents = {ResourceType.SECURITY_GROUP: sorted(groups)}
    if rule.remote_address_group_id:
        parents[ResourceType.ADDRESS_GROUP] = [rule.remote_address_group_id]
    return parents


def router_parents(router: Router) -> Parents:
    """The external network and subnets its gateway port sits on, when it has one."""
    port = router.gw_port
    if port is None:
        return {}
    return {ResourceType.NETWORK: [port.network_id],
            ResourceType.SUBNET: sorted({a.subnet_id for a in port.fixed_ips})}


def floating_ip_parents(fip: FloatingIp) -> Parents:
    """Its router, and the ports it maps to: its fixed port or its port forwardings'."""
    ports = ({fip.port_id} if fip.port_id else set()) | _forwarded_ports(fip)
    return {ResourceType.ROUTER: [fip.router_id] if fip.router_id else [],
            ResourceType.PORT: sorted(ports)}


def _forwarded_ports(fip: FloatingIp) -> set[str]:
    """Read afresh: a port forwarding added in this transaction counts already."""
    session = object_session(fip)
    if session is None or fip.id is None:
        return {pf.internal_port_id for pf in fip.port_forwardings}
    return set(session.scalars(select(PortForwarding.internal_port_id).where(
        PortForwarding.floatingip_id == fip.id)))


def port_pair_parents(pair: SfcPortPair) -> Parents:
    return {ResourceType.PORT: sorted({pair.ingress, pair.egress})}


def port_pair_group_parents(group: SfcPortPairGroup) -> Parents:
    return {ResourceType.PORT_PAIR: sorted(p.id for p in group.port_pairs)}


def flow_classifier_parents(fc: SfcFlowClassifier) -> Parents:
    ports = {fc.logical_source_port, fc.logical_destination_port} - {None}
    return {ResourceType.PORT: sorted(p for p in ports if p)}


def port_chain_parents(chain: SfcPortChain) -> Parents:
    """Its groups and classifiers, and the router (with its interface ports) its policies
    live in."""
    from neutrino.ovn.translate.sfc import routers_of
    from neutrino.reconcile.sfc_facts import chain_facts

    session = object_session(chain)
    assert session is not None
    facts = chain_facts(session, chain)
    routers = routers_of(facts)
    return {ResourceType.PORT_PAIR_GROUP: sorted(g.group_id for g in chain.groups),
            ResourceType.FLOW_CLASSIFIER: sorted(c.classifier_id for c in chain.classifiers),
            ResourceType.PORT: sorted(rp.port_id for rp in facts.router_ports
                                      if rp.router_id in routers),
            ResourceType.ROUTER: list(routers)}


def merged(*found: Parents) -> Parents:
    """Several answers as one, for a change that moves a resource between parents (it
    waits for the old ones and the new ones alike)."""
    result: dict[ResourceType, set[str]] = {}
    for parents in found:
        for rtype, ids in parents.items():
            result.setdefault(rtype, set()).update(ids)
    return {rtype: sorted(ids) for rtype, ids in result.items()}


def l2gw_connection_parents(connection: L2gwConnection) -> Parents:
    return {ResourceType.NETWORK: [connection.network_id],
            ResourceType.L2_GATEWAY: [connection.gateway_id]}


PARENTS: dict[ResourceType, tuple[type, Callable[[Any], Parents]]] = {
    ResourceType.NETWORK: (Network, no_parents),
    ResourceType.SUBNET: (Subnet, subnet_parents),
    ResourceType.PORT: (Port, port_parents),
    ResourceType.SECURITY_GROUP: (SecurityGroup, no_parents),
    ResourceType.SECURITY_GROUP_RULE: (SecurityGroupRule, rule_parents),
    ResourceType.ROUTER: (Router, router_parents),
    ResourceType.FLOATING_IP: (FloatingIp, floating_ip_parents),
    ResourceType.ADDRESS_GROUP: (AddressGroup, no_parents),
    ResourceType.PORT_PAIR: (SfcPortPair, port_pair_parents),
    ResourceType.PORT_PAIR_GROUP: (SfcPortPairGroup, port_pair_group_parents),
    ResourceType.FLOW_CLASSIFIER: (SfcFlowClassifier, flow_classifier_parents),
    ResourceType.PORT_CHAIN: (SfcPortChain, port_chain_parents),
    ResourceType.L2_GATEWAY: (L2gwGateway, no_parents),
    ResourceType.L2_GATEWAY_CONNECTION: (L2gwConnection, l2gw_connection_parents),
}


def parents_of_row(rtype: ResourceType, row: Any) -> Parents:
    return PARENTS[rtype][1](row)


def parents_of(session: Session, ref: ResourceRef) -> Parents:
    """The parents of an existing resource (none when it is gone: a delete needs none)."""
    model, parents = PARENTS[ref.type]
    row = session.get(model, ref.id)
    return parents(row) if row is not None else {}
