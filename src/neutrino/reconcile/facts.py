"""Loading the facts translation needs from the database, as frozen values."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload, selectinload
from sqlalchemy.sql.base import ExecutableOption

from neutrino.db.models import (
    AddressGroup,
    FloatingIp,
    IpAllocation,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from neutrino.ovn.translate.inputs import (
    AddressGroupFacts,
    AddressPair,
    DhcpOpt,
    FixedIp,
    FloatingIpFacts,
    GatewayFacts,
    NetworkFacts,
    PortFacts,
    PortForwardingFacts,
    RouterFacts,
    RuleFacts,
    SecurityGroupFacts,
    SubnetFacts,
)
from neutrino.ovn.translate.ports import vtep_switch_of
from neutrino.reconcile.bulk import chunks
from neutrino.reconcile.dns_facts import load_dns_ports
from neutrino.reconcile.l2gw_facts import load_learned
from neutrino.reconcile.port_views import (
    METADATA_DEVICE_PREFIX,
    METADATA_OWNER,
    load_port_views,
)
from neutrino.reconcile.qos_facts import load_port_qos

ROUTER_INTERFACE = "network:router_interface"


def _rows(session: Session, model: type, ids: Sequence[str],  # type: ignore[type-arg]
          options: Sequence[ExecutableOption] = ()) -> list:
    found = []
    for chunk in chunks(ids):
        found.extend(session.scalars(select(model).where(model.id.in_(chunk))
                                     .options(*options)))
    return found


# What a subnet's facts read: its network, nothing else of it.
SUBNET_LOADS: tuple[ExecutableOption, ...] = (
    lazyload("*"),
    selectinload(Subnet.network).lazyload("*"),
)
# A network's segment; not its subnets (with their pools), tags or RBAC entries.
NETWORK_LOADS: tuple[ExecutableOption, ...] = (
    lazyload("*"),
    selectinload(Network.segment).lazyload("*"),
)
# A floating IP's port forwardings; not its fixed port (with all that port's relationships).
FIP_LOADS: tuple[ExecutableOption, ...] = (
    lazyload("*"),
    selectinload(FloatingIp.port_forwardings).lazyload("*"),
)


def load_networks(session: Session, ids: Sequence[str]) -> dict[str, NetworkFacts]:
    dns = load_dns_ports(session, ids)
    return {net.id: replace(network_facts(net), dns_ports=dns.get(net.id, ()))
            for net in _rows(session, Network, ids, NETWORK_LOADS)}


def network_facts(net: Network) -> NetworkFacts:
    seg = net.segment
    return NetworkFacts(
        id=net.id,
        name=net.name,
        revision=net.revision_number,
        mtu=net.mtu,
        network_type=seg.network_type,
        physical_network=seg.physical_network,
        segmentation_id=seg.segmentation_id,
        segment_id=seg.id,
        az_hints=tuple(net.availability_zone_hints or ()),
    )


def load_subnets(session: Session, ids: Sequence[str]) -> dict[str, SubnetFacts]:
    metadata = _metadata_ips(session, ids)
    return {subnet.id: subnet_facts(subnet, metadata.get(subnet.id))
            for subnet in _rows(session, Subnet, ids, SUBNET_LOADS)}


def _metadata_ips(session: Session, subnet_ids: Sequence[str]) -> dict[str, str]:
    """The metadata port's address on each of these subnets that has one.

    The port is found by its device_id (`ovnmeta-<network id>`, as services/metadata.py
    names it) through that column's index, never by scanning every address of the
    subnets: the cost does not grow with the number of ports on them.
    """
    found: dict[str, str] = {}
    for chunk in chunks(subnet_ids):
        networks = set(session.scalars(select(Subnet.network_id).where(Subnet.id.in_(chunk))))
        ports = list(session.scalars(select(Port.id).where(
            Port.device_id.in_(sorted(f"{METADATA_DEVICE_PREFIX}{n}" for n in networks)),
            Port.device_owner == METADATA_OWNER)))
        if not ports:
            continue
        found.update(session.execute(
            select(IpAllocation.subnet_id, IpAllocation.ip_address)
            .where(IpAllocation.port_id.in_(ports), IpAllocation.subnet_id.in_(chunk))).all())
    return found


def subnet_facts(subnet: Subnet, metadata_ip: str | None = None) -> SubnetFacts:
    return SubnetFacts(
        id=subnet.id,
        network_id=subnet.network_id,
        revision=subnet.revision_number,
        network_mtu=subnet.network.mtu,
        ip_version=subnet.ip_version,
        cidr=subnet.cidr,
        gateway_ip=subnet.gateway_ip,
        enable_dhcp=subnet.enable_dhcp,
        ipv6_address_mode=subnet.ipv6_address_mode,
        dns_nameservers=tuple(subnet.dns_nameservers or ()),
        host_routes=tuple((r["destination"], r["nexthop"]) for r in subnet.host_routes or ()),
        dhcp_server_mac=subnet.dhcp_server_mac,
        metadata_ip=metadata_ip,
    )


def load_ports(session: Session, ids: Sequence[str]) -> dict[str, PortFacts]:
    """The facts of these ports, in a fixed number of prebuilt statements per chunk of ids
    (port_views.py: four; one more each when there are trunks' subports, ports under a QoS
    policy, VTEP-bound ports among them): plain rows, not ORM objects, whose loading was
    most of a journal apply's time; `port_facts` reads them like the ORM objects it is
    also given (sync, tests)."""
    ports = load_port_views(session, ids)
    subnets = {s.id: s for p in ports for s in p.subnets}
    metadata = {s.id: s.metadata_ip for s in subnets.values() if s.metadata_ip is not None}
    qos = load_port_qos(session, ports, {p.network_id: p.network_qos_policy_id for p in ports
                                         if p.network_qos_policy_id})
    learned = _vtep_learned(session, ports)
    made: dict[str, SubnetFacts] = {}  # a subnet's facts, made once for the batch's ports
    return {port.id: port_facts(port, subnets, port.floating_ip, metadata, made=made,
                                qos=qos.get(port.id), vtep_learned=learned.get(port.id, ()))
            for port in ports}


def _vtep_learned(session: Session, ports: Sequence[Any]) -> dict[str, tuple[str, ...]]:
    """A VTEP-bound port's imported MACs (those of the VTEP logical switch it names)."""
    named = {port.id: vtep_switch_of(port.binding_profile) for port in ports}
    named = {pid: pair for pid, pair in named.items() if pair is not None}
    learned = load_learned(session, named.values())
    return {pid: learned[pair] for pid, pair in named.items() if pair in learned}


def port_facts(port: Any, subnets: Mapping[str, Any], floating_ip: str | None = None,
               metadata_ips: dict[str, str] | None = None, *,
               made: dict[str, SubnetFacts] | None = None, qos: Any = None,
               vtep_learned: tuple[str, ...] = ()) -> PortFacts:
    """`port`: a Port, or the plain view of one `load_ports` reads (the same attributes);
    `subnets`: by id, each with its `network`'s `mtu`; `made`: subnet facts already made
    (by id), shared by the ports of one load and added to."""
    fixed = []
    dhcp_subnets: dict[str, SubnetFacts] = {}
    made = {} if made is None else made
    for alloc in port.fixed_ips:
        subnet = subnets[alloc.subnet_id]
        facts = made.get(subnet.id)
        if facts is None:
            facts = made[subnet.id] = subnet_facts(subnet, (metadata_ips or {}).get(subnet.id))
        if facts.dhcp_kind is not None:
            dhcp_subnets[subnet.id] = facts
        fixed.append(
            FixedIp(
                subnet_id=subnet.id,
                ip_address=alloc.ip_address,
                prefixlen=prefixlen(subnet.cidr),
                ip_version=subnet.ip_version,
                dhcp=facts.dhcp_kind is not None,
                ra_mode=subnet.ipv6_ra_mode,
            )
        )
    return PortFacts(
        id=port.id,
        name=port.name,
        network_id=port.network_id,
        project_id=port.project_id,
        revision=port.revision_number,
        mac_address=port.mac_address,
        admin_state_up=port.admin_state_up,
        device_id=port.device_id,
        device_owner=port.device_owner,
        fixed_ips=tuple(fixed),
        port_security_enabled=port.port_security_enabled,
        allowed_address_pairs=tuple(
            AddressPair(p["ip_address"], p.get("mac_address") or port.mac_address)
            for p in port.allowed_address_pairs or ()
        ),
        binding_host_id=port.binding_host_id,
        binding_profile=tuple(sorted((str(k), str(v)) for k, v in port.binding_profile.items())),
        vnic_type=port.binding_vnic_type,
        security_group_ids=tuple(b.security_group_id for b in port.security_group_bindings),
        # the port's own network: sync passes every subnet it loaded, of all networks
        network_mtu=subnets[port.fixed_ips[0].subnet_id].network.mtu if port.fixed_ips
        else 1500,
        floating_ip=floating_ip,
        extra_dhcp_opts=tuple(
            DhcpOpt(o["opt_name"], o["opt_value"], int(o.get("ip_version") or 4))
            for o in port.extra_dhcp_opts or () if o.get("opt_value") is not None),
        dhcp_subnets=tuple(dhcp_subnets.values()),
        migrating_to=_migrating_to(port),
        trunk_parent=port.subport.trunk.port_id if port.subport is not None else None,
        trunk_tag=port.subport.segmentation_id if port.subport is not None else None,
        qos=qos,
        vtep_learned=vtep_learned,
    )


@functools.lru_cache(maxsize=4096)
def prefixlen(cidr: str) -> int:
    """A CIDR's prefix length (parsed once per CIDR: a batch's ports share few subnets)."""
    return ipaddress.ip_network(cidr).prefixlen


def _migrating_to(port: Port) -> tuple[str, ...]:
    """Nova's live migration names the destination by an inactive binding, and older Novas
    by `migrating_to` in the binding profile; ML2/OVN heeds both."""
    hosts = [row.host for row in port.inactive_bindings if not row.previously_active]
    profile_host = port.binding_profile.get("migrating_to")
    if isinstance(profile_host, str) and profile_host:
        hosts.append(profile_host)
    return tuple(h for h in dict.fromkeys(hosts) if h != port.binding_host_id)


def load_security_groups(session: Session, ids: Sequence[str]) -> dict[str, SecurityGroupFacts]:
    """Only the ids: a group's own row is all its Port_Group needs (loading the ORM object
    would bring every rule, tag and RBAC entry of the group along)."""
    return {sg_id: SecurityGroupFacts(sg_id) for chunk in chunks(ids)
            for sg_id in session.scalars(select(SecurityGroup.id)
                                         .where(SecurityGroup.id.in_(chunk)))}


def load_rules(session: Session, ids: Sequence[str]) -> dict[str, RuleFacts]:
    """The rules with their group's `stateful`, one query per chunk (not one per group)."""
    found = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(SecurityGroupRule, SecurityGroup.stateful)
            .join(SecurityGroup, SecurityGroup.id == SecurityGroupRule.security_group_id)
            .where(SecurityGroupRule.id.in_(chunk)).options(lazyload("*")))
        found.update((rule.id, rule_facts(rule, stateful)) for rule, stateful in rows)
    return found


def rule_facts(rule: SecurityGroupRule, stateful: bool) -> RuleFacts:
    return RuleFacts(
        id=rule.id,
        security_group_id=rule.security_group_id,
        direction=rule.direction,
        ethertype=rule.ethertype,
        protocol=rule.protocol,
        port_range_min=rule.port_range_min,
        port_range_max=rule.port_range_max,
        remote_ip_prefix=rule.remote_ip_prefix,
        remote_group_id=rule.remote_group_id,
        remote_address_group_id=rule.remote_address_group_id,
        stateful=stateful,
    )


def load_address_groups(session: Session, ids: Sequence[str]) -> dict[str, AddressGroupFacts]:
    return {ag.id: AddressGroupFacts(ag.id, ag.revision_number,
                                     tuple(a.address for a in ag.addresses))
            for ag in _rows(session, AddressGroup, ids)}


def load_routers(session: Session, ids: Sequence[str]) -> dict[str, RouterFacts]:
    """Every router of a batch in a fixed number of queries, whatever their number: the
    routers, their interfaces' subnets, the smallest MTU behind each, their gateway ports
    with those ports' addresses and subnets (columns only; the ORM objects would bring each
    gateway port's relationships along)."""
    routers = _rows(session, Router, ids, (lazyload("*"),))
    found = [r.id for r in routers]
    interfaces: dict[str, dict[tuple[str, str], None]] = {}
    mtus: dict[str, int | None] = {}
    for chunk in chunks(found):
        for router_id, subnet_id, cidr in session.execute(
                select(Port.device_id, Subnet.id, Subnet.cidr)
                .join(IpAllocation, IpAllocation.subnet_id == Subnet.id)
                .join(Port, Port.id == IpAllocation.port_id)
                .where(Port.device_id.in_(chunk), Port.device_owner == ROUTER_INTERFACE,
                       Subnet.ip_version == 4)
                .order_by(Subnet.cidr)):
            interfaces.setdefault(router_id, {})[(subnet_id, cidr)] = None
        mtus.update(session.execute(
            select(Port.device_id, func.min(Network.mtu))
            .join(Network, Port.network_id == Network.id)
            .where(Port.device_id.in_(chunk), Port.device_owner == ROUTER_INTERFACE)
            .group_by(Port.device_id)).all())
    gateways = _gateway_facts(session, [r for r in routers if r.gw_port_id], mtus)
    return {router.id: RouterFacts(
        id=router.id,
        name=router.name,
        revision=router.revision_number,
        admin_state_up=router.admin_state_up,
        routes=tuple((r["destination"], r["nexthop"]) for r in router.routes or ()),
        tenant_subnets=tuple(interfaces.get(router.id, ())),
        gateway=gateways.get(router.id),
        az_hints=tuple(router.availability_zone_hints or ()),
    ) for router in routers}


def _gateway_facts(session: Session, routers: Sequence[Router],
                   mtus: dict[str, int | None]) -> dict[str, GatewayFacts]:
    """router id → its gateway, for the routers whose gateway port exists."""
    port_ids = [r.gw_port_id for r in routers if r.gw_port_id]
    ports: dict[str, tuple[str, str]] = {}
    addresses: dict[str, list[tuple[str, str]]] = {}
    for chunk in chunks(port_ids):
        ports.update((pid, (net, mac)) for pid, net, mac in session.execute(
            select(Port.id, Port.network_id, Port.mac_address).where(Port.id.in_(chunk))))
        for pid, subnet_id, ip in session.execute(
                select(IpAllocation.port_id, IpAllocation.subnet_id, IpAllocation.ip_address)
                .where(IpAllocation.port_id.in_(chunk))
                .order_by(IpAllocation.port_id, IpAllocation.position)):
            addresses.setdefault(pid, []).append((subnet_id, ip))
    subnet_ids = sorted({sid for found in addresses.values() for sid, _ in found})
    subnets: dict[str, tuple[str, int, str | None]] = {}
    for chunk in chunks(subnet_ids):
        subnets.update((sid, (cidr, version, gateway)) for sid, cidr, version, gateway in
                       session.execute(select(Subnet.id, Subnet.cidr, Subnet.ip_version,
                                              Subnet.gateway_ip).where(Subnet.id.in_(chunk))))
    gateways = {}
    for router in routers:
        if router.gw_port_id not in ports:
            continue
        network_id, mac = ports[router.gw_port_id]
        fixed = addresses.get(router.gw_port_id, [])
        v4 = [sid for sid, _ in fixed if subnets[sid][1] == 4]
        gateways[router.id] = GatewayFacts(
            port_id=router.gw_port_id,
            network_id=network_id,
            mac=mac,
            addresses=tuple((ip, ipaddress.ip_network(subnets[sid][0]).prefixlen)
                            for sid, ip in fixed),
            subnet_ids=tuple(sid for sid, _ in fixed),
            nexthop=subnets[v4[0]][2] if v4 else None,
            enable_snat=router.enable_snat,
            chassis=router.gateway_chassis,
            ha_chassis=tuple(router.gateway_ha_chassis or ()),
            nexthop_subnet_id=v4[0] if v4 else "",
            tenant_mtu=mtus.get(router.id),
        )
    return gateways


def load_floating_ips(session: Session, ids: Sequence[str]) -> dict[str, FloatingIpFacts]:
    fips = _rows(session, FloatingIp, ids, FIP_LOADS)
    own_ports: dict[str, str] = {}  # a floating IP's own port → its MAC
    for chunk in chunks([f.floating_port_id for f in fips]):
        own_ports.update(session.execute(
            select(Port.id, Port.mac_address).where(Port.id.in_(chunk))).all())
    return {fip.id: FloatingIpFacts(
        id=fip.id,
        revision=fip.revision_number,
        floating_ip=fip.floating_ip_address,
        network_id=fip.floating_network_id,
        fip_port_mac=own_ports.get(fip.floating_port_id, ""),
        port_id=fip.port_id,
        fixed_ip=fip.fixed_ip_address,
        router_id=fip.router_id,
        port_forwardings=tuple(PortForwardingFacts(
            pf.protocol, pf.internal_ip_address, (pf.external_port_start, pf.external_port_end),
            (pf.internal_port_start, pf.internal_port_end)) for pf in fip.port_forwardings),
    ) for fip in fips}
