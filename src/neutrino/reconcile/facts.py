"""Loading the facts translation needs from the database, as frozen values."""

from __future__ import annotations

import ipaddress

from sqlalchemy.orm import Session

from neutrino.db.models import Network, Port, Subnet
from neutrino.ovn.translate.inputs import (
    AddressPair,
    FixedIp,
    NetworkFacts,
    PortFacts,
    SubnetFacts,
)


def load_network(session: Session, network_id: str) -> NetworkFacts | None:
    net = session.get(Network, network_id)
    if net is None:
        return None
    return network_facts(net)


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
    )


def load_subnet(session: Session, subnet_id: str) -> SubnetFacts | None:
    subnet = session.get(Subnet, subnet_id)
    if subnet is None:
        return None
    return subnet_facts(subnet)


def subnet_facts(subnet: Subnet) -> SubnetFacts:
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
    )


def load_port(session: Session, port_id: str) -> PortFacts | None:
    port = session.get(Port, port_id)
    if port is None:
        return None
    subnets = {s.id: s for s in session.get(Network, port.network_id).subnets}
    return port_facts(port, subnets)


def port_facts(port: Port, subnets: dict[str, Subnet]) -> PortFacts:
    fixed = []
    for alloc in port.fixed_ips:
        subnet = subnets[alloc.subnet_id]
        facts = subnet_facts(subnet)
        fixed.append(
            FixedIp(
                subnet_id=subnet.id,
                ip_address=alloc.ip_address,
                prefixlen=ipaddress.ip_network(subnet.cidr).prefixlen,
                ip_version=subnet.ip_version,
                dhcp=facts.dhcp_kind is not None,
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
    )
