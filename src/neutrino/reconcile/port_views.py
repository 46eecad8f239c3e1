"""Ports as the plain views `facts.port_facts` reads (the attributes of a Port it uses), in
three prebuilt statements per chunk of ids (see bulk.py), however many related rows they
have:

1. the ports, with their network's QoS policy, their place in a trunk, the address of a
   floating IP on them and whether they have inactive bindings (and one more statement for
   each of these only when some port has them: trunks' subports, those trunks' parents;
   the inactive bindings, which exist during a live migration);
2. their addresses, with those addresses' subnets, the subnets' network MTU and the
   metadata port's address on each subnet (found through `ports.device_id`'s index, never
   by scanning the subnet's addresses);
3. their security groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from sqlalchemy import Connection, and_, exists, literal, select
from sqlalchemy.orm import Session, aliased

from neutrino.db.models import (
    FloatingIp,
    InactiveBinding,
    IpAllocation,
    Network,
    Port,
    PortSecurityGroup,
    Subnet,
    Trunk,
    TrunkSubport,
)
from neutrino.reconcile.bulk import ids_param, rows_for

METADATA_OWNER = "network:distributed"  # the owner of a network's metadata localport
METADATA_DEVICE_PREFIX = "ovnmeta-"  # ... and its device_id, followed by the network id

# What port_facts and the QoS facts read of a port and of its subnets, and nothing else.
_PORT_COLUMNS = (Port.id, Port.name, Port.network_id, Port.project_id, Port.revision_number,
                 Port.mac_address, Port.admin_state_up, Port.device_id, Port.device_owner,
                 Port.port_security_enabled, Port.allowed_address_pairs, Port.binding_host_id,
                 Port.binding_profile, Port.binding_vnic_type, Port.extra_dhcp_opts,
                 Port.qos_policy_id)
_SUBNET_COLUMNS = (Subnet.id, Subnet.network_id, Subnet.revision_number, Subnet.ip_version,
                   Subnet.cidr, Subnet.gateway_ip, Subnet.enable_dhcp, Subnet.ipv6_address_mode,
                   Subnet.ipv6_ra_mode, Subnet.dns_nameservers, Subnet.host_routes,
                   Subnet.dhcp_server_mac)

PORTS = (
    select(*_PORT_COLUMNS, Network.qos_policy_id.label("network_qos_policy_id"),
           TrunkSubport.trunk_id, TrunkSubport.segmentation_id, FloatingIp.floating_ip_address,
           exists().where(InactiveBinding.port_id == Port.id).label("migrating"))
    .join(Network, Network.id == Port.network_id)
    .outerjoin(TrunkSubport, TrunkSubport.port_id == Port.id)
    .outerjoin(FloatingIp, FloatingIp.port_id == Port.id)  # a row per floating IP
    .where(Port.id.in_(ids_param())))
TRUNK_PARENTS = select(Trunk.id, Trunk.port_id).where(Trunk.id.in_(ids_param()))

_METADATA_PORT = aliased(Port)
_METADATA_ADDRESS = aliased(IpAllocation)
ADDRESSES = (
    select(IpAllocation.port_id, IpAllocation.ip_address, Network.mtu, *_SUBNET_COLUMNS,
           _METADATA_ADDRESS.ip_address.label("metadata_ip"))
    .join(Subnet, Subnet.id == IpAllocation.subnet_id)
    .join(Network, Network.id == Subnet.network_id)
    .outerjoin(_METADATA_PORT, and_(
        _METADATA_PORT.device_id == literal(METADATA_DEVICE_PREFIX) + Subnet.network_id,
        _METADATA_PORT.device_owner == METADATA_OWNER))
    .outerjoin(_METADATA_ADDRESS, and_(  # a row per metadata address on the subnet
        _METADATA_ADDRESS.port_id == _METADATA_PORT.id,
        _METADATA_ADDRESS.subnet_id == Subnet.id))
    .where(IpAllocation.port_id.in_(ids_param()))
    .order_by(IpAllocation.port_id, IpAllocation.position))

GROUPS = (
    select(PortSecurityGroup.port_id, PortSecurityGroup.security_group_id)
    .where(PortSecurityGroup.port_id.in_(ids_param()))
    .order_by(PortSecurityGroup.port_id, PortSecurityGroup.position))

INACTIVE_BINDINGS = (
    select(InactiveBinding.port_id, InactiveBinding.host, InactiveBinding.previously_active)
    .where(InactiveBinding.port_id.in_(ids_param()))
    .order_by(InactiveBinding.port_id, InactiveBinding.host))

_VIEW_ONLY = ("trunk_id", "segmentation_id", "floating_ip_address", "migrating")


def load_port_views(session: Session, ids: Sequence[str]) -> list[SimpleNamespace]:
    """The ports of these ids that exist, each with `fixed_ips`, `subnets` (each with its
    `network.mtu` and `metadata_ip`), `security_group_bindings`, `inactive_bindings`,
    `subport`, and two values a Port has not: `floating_ip` and `network_qos_policy_id`."""
    connection = session.connection()
    found = _ports(connection, ids)
    if found:
        _add_addresses(connection, found)
        for port_id, group in rows_for(connection, GROUPS, found):
            found[port_id].security_group_bindings.append(
                SimpleNamespace(security_group_id=group))
        migrating = [port.id for port in found.values() if port.migrating]
        for port_id, host, previously_active in rows_for(connection, INACTIVE_BINDINGS,
                                                         migrating):
            found[port_id].inactive_bindings.append(
                SimpleNamespace(host=host, previously_active=previously_active))
    return list(found.values())


def _ports(connection: Connection, ids: Sequence[str]) -> dict[str, SimpleNamespace]:
    found: dict[str, SimpleNamespace] = {}
    trunks: dict[str, list[SimpleNamespace]] = {}  # trunk id → its subports' places
    for row in rows_for(connection, PORTS, ids):
        port = found.get(row.id)
        if port is None:
            values = row._asdict()
            trunk_id, segmentation_id, _fip, migrating = (values.pop(k) for k in _VIEW_ONLY)
            port = found[row.id] = SimpleNamespace(
                **values, fixed_ips=[], subnets=[], security_group_bindings=[],
                inactive_bindings=[], floating_ip=None, subport=None, migrating=migrating)
            if trunk_id is not None:
                port.subport = SimpleNamespace(segmentation_id=segmentation_id, trunk=None)
                trunks.setdefault(trunk_id, []).append(port.subport)
        if port.floating_ip is None:  # one of its floating IPs, if several
            port.floating_ip = row.floating_ip_address
    for trunk_id, parent in rows_for(connection, TRUNK_PARENTS, trunks):
        for subport in trunks[trunk_id]:
            subport.trunk = SimpleNamespace(port_id=parent)
    return found


def _add_addresses(connection: Connection, found: dict[str, SimpleNamespace]) -> None:
    subnets: dict[str, SimpleNamespace] = {}
    seen: set[tuple[str, str, str]] = set()
    for row in rows_for(connection, ADDRESSES, found):
        values = row._asdict()
        port_id, address, mtu, metadata_ip = (
            values.pop(k) for k in ("port_id", "ip_address", "mtu", "metadata_ip"))
        subnet = subnets.setdefault(row.id, SimpleNamespace(
            **values, network=SimpleNamespace(mtu=mtu), metadata_ip=None))
        if subnet.metadata_ip is None:
            subnet.metadata_ip = metadata_ip
        if (port_id, subnet.id, address) in seen:  # again, for another metadata address
            continue
        seen.add((port_id, subnet.id, address))
        port = found[port_id]
        port.fixed_ips.append(SimpleNamespace(subnet_id=subnet.id, ip_address=address))
        port.subnets.append(subnet)
