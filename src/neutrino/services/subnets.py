"""Subnets: address plans (cidr, gateway, pools) and the DHCP options OVN serves."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import IpAllocation, Network, Port, Subnet, SubnetPool
from neutrino.ipam import arithmetic as ipam
from neutrino.journal.parents import ROUTER_OWNERS, port_parents, subnet_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import quotas, subnet_allocation, subnetpools
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    bump_revision,
    check_revision,
    new_id,
    revise_parent,
    run_and_wake,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, select_page, standard_columns
from neutrino.services.networks import (
    check_mtu_fits,
    get_network_row,
    network_shared,
    visible,
    visible_networks,
)

_rng = random.SystemRandom()
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
UPDATABLE = {
    "name": "name",
    "description": "description",
    "enable_dhcp": "enable_dhcp",
    "gateway_ip": "gateway_ip",
    "dns_nameservers": "dns_nameservers",
    "host_routes": "host_routes",
    "service_types": "service_types",
    "dns_publish_fixed_ip": "dns_publish_fixed_ip",
}
# What a service type may start with: a device owner Neutron knows (subnet-service-types).
DEVICE_OWNER_PREFIXES = ("network:", "neutron:", "compute:", "baremetal:")


def subnet_dict(subnet: Subnet) -> dict[str, Any]:
    return {
        **standard_fields(subnet),
        "network_id": subnet.network_id,
        "ip_version": subnet.ip_version,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "allocation_pools": [{"start": s, "end": e} for s, e in subnet.allocation_pools],
        "enable_dhcp": subnet.enable_dhcp,
        "dns_nameservers": list(subnet.dns_nameservers),
        "host_routes": list(subnet.host_routes),
        "ipv6_ra_mode": subnet.ipv6_ra_mode,
        "ipv6_address_mode": subnet.ipv6_address_mode,
        "subnetpool_id": subnet.subnetpool_id,
        "segment_id": None,  # one segment per network: no routed networks
        "service_types": list(subnet.service_types or []),
        # stored and shown; neutrino has no DNS backend to publish to
        "dns_publish_fixed_ip": subnet.dns_publish_fixed_ip,
        # subnet-external-network: whether the subnet's network is external
        "router:external": subnet.network.router_external,
    }


DHCP_OWNER = "network:dhcp"
# Ports that get no automatic address from a SLAAC / DHCPv6-stateless subnet: Neutron's
# router interface owners (a router interface has the subnet's gateway address instead), and
# the OVN metadata port (`network:distributed`), addressed on DHCP-enabled IPv4 subnets only.
AUTO_ADDRESS_EXEMPT_OWNERS = (
    "network:router_interface", "network:router_interface_distributed",
    "network:ha_router_replicated_interface", "network:router_centralized_snat",
    "network:distributed",
)


def is_auto_address(subnet: Subnet) -> bool:
    """SLAAC and DHCPv6-stateless subnets give ports EUI-64 addresses, not IPAM picks."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in ("slaac", "dhcpv6-stateless")


def get_subnet_row(session: Session, ctx: Context, subnet_id: str) -> Subnet:
    subnet = session.get(Subnet, subnet_id)
    if subnet is None or not visible(ctx, subnet.network):
        raise errors.SubnetNotFound(subnet_id)
    return subnet


LISTING = ListSpec(Subnet, {
    **standard_columns(Subnet),
    "network_id": Subnet.network_id,
    "ip_version": Subnet.ip_version,
    "cidr": Subnet.cidr,
    "gateway_ip": Subnet.gateway_ip,
    "enable_dhcp": Subnet.enable_dhcp,
    "ipv6_ra_mode": Subnet.ipv6_ra_mode,
    "ipv6_address_mode": Subnet.ipv6_address_mode,
    "subnetpool_id": Subnet.subnetpool_id,
    "router:external": select(Network.router_external).where(
        Network.id == Subnet.network_id).scalar_subquery(),
    "shared": network_shared(Subnet.network_id),
    "dns_publish_fixed_ip": Subnet.dns_publish_fixed_ip,
})


def listing_for(ctx: Context) -> ListSpec:
    """The listing for `ctx`: a subnet's `shared` is its network's, as the caller sees it."""
    return replace(LISTING, columns={**LISTING.columns,
                                     "shared": network_shared(Subnet.network_id,
                                                              ctx.project_id)})


class SubnetService(ResourceService):
    model = Subnet
    listing = LISTING

    def to_dict(self, row: Subnet) -> dict[str, Any]:
        return subnet_dict(row)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> Subnet:
        net = get_network_row(session, ctx, body["network_id"])
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_subnet",
                       {"project_id": project, "network:project_id": net.project_id})
        quotas.check(session, self.settings, project, "subnet")
        version = body["ip_version"]
        check_mtu_fits(net.mtu, version, net.id)
        cidr, pool = _subnet_cidr(session, ctx, body, project)
        subnet_allocation.check_network_affinity(net.subnets, version, pool)
        self._check_overlap(net.subnets, str(cidr), net.id)
        if ipam.cidrs_overlap(str(cidr), self.settings.transit_cidr):
            raise errors.InvalidInput(
                f"Requested subnet with cidr: {cidr} overlaps with the range reserved for "
                f"router gateway transit links ({self.settings.transit_cidr})")
        ra_mode, addr_mode = _ipv6_modes(version, body)
        # An absent gateway_ip means the first address; an explicit null means none.
        gateway = ipam.validate_gateway(cidr, body.get("gateway_ip", ipam.default_gateway(cidr)))
        pools = body.get("allocation_pools")
        pools = ipam.validate_allocation_pools(
            cidr, [(p["start"], p["end"]) for p in pools], gateway
        ) if pools else ipam.default_allocation_pools(cidr, gateway)
        subnet = Subnet(
            id=new_id(),
            network_id=net.id,
            name=body["name"],
            description=body["description"],
            ip_version=version,
            cidr=str(cidr),
            gateway_ip=gateway,
            enable_dhcp=body["enable_dhcp"],
            ipv6_ra_mode=ra_mode,
            ipv6_address_mode=addr_mode,
            dns_nameservers=_nameservers(body["dns_nameservers"], version),
            host_routes=_host_routes(body["host_routes"], version),
            allocation_pools=[list(p) for p in pools],
            dhcp_server_mac=ipam.generate_mac(self.settings.mac_prefix, _rng),
            subnetpool_id=pool.id if pool is not None else None,
            service_types=_service_types(body["service_types"]),
            dns_publish_fixed_ip=body["dns_publish_fixed_ip"],
        )
        stamp_new(subnet, project)
        set_tags(subnet, ResourceType.SUBNET, body.get("tags") or [])
        session.add(subnet)
        session.flush()
        record_entry(session, ResourceType.SUBNET, subnet.id, Operation.CREATE,
                     subnet_parents(subnet))
        _metadata().sync_port(session, net, self.settings)
        revise_parent(session, net, ResourceType.NETWORK)  # Neutron: a subnet revises it
        if is_auto_address(subnet):
            _add_auto_addresses(session, subnet)
        return subnet

    @staticmethod
    def _check_overlap(existing: list[Subnet], cidr: str, net_id: str) -> None:
        for other in existing:
            if ipam.cidrs_overlap(other.cidr, cidr):
                raise errors.InvalidInput(
                    f"Requested subnet with cidr: {cidr} for network: {net_id} overlaps "
                    "with another subnet"
                )

    def get(self, ctx: Context, subnet_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return subnet_dict(get_subnet_row(session, ctx, subnet_id))

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(Subnet)
            if not ctx.is_admin:
                stmt = stmt.join(Network).where(visible_networks(ctx))
            return select_page(session, stmt, listing_for(ctx), subnet_dict, query)

    def update(
        self, ctx: Context, subnet_id: str, body: dict[str, Any], if_match: int | None
    ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            subnet = get_subnet_row(session, ctx, subnet_id)
            policy.enforce(ctx, "update_subnet", _target(subnet), body)
            check_revision(subnet, if_match)
            _check_gateway_change(session, subnet, body)
            self._normalise_update(subnet, body)
            dhcp_before = subnet.enable_dhcp
            changed = apply_simple_updates(subnet, body, UPDATABLE)
            if "allocation_pools" in body and body["allocation_pools"] != subnet.allocation_pools:
                subnet.allocation_pools = body["allocation_pools"]
                changed = True
            if changed:
                bump_revision(session, subnet, ResourceType.SUBNET, subnet_parents(subnet))
                revise_parent(session, subnet.network, ResourceType.NETWORK)
            if dhcp_before != subnet.enable_dhcp:
                _metadata().sync_port(session, subnet.network, self.settings)
                self._journal_ports_on(session, subnet)
            elif changed:
                # a port's own DHCP_Options row copies its subnet's options
                self._journal_ports_on(session, subnet, only_extra_dhcp=True)
            return subnet_dict(subnet)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def _normalise_update(self, subnet: Subnet, body: dict[str, Any]) -> None:
        cidr = ipam.parse_cidr(subnet.cidr, subnet.ip_version)
        if "gateway_ip" in body:
            body["gateway_ip"] = ipam.validate_gateway(cidr, body["gateway_ip"])
        gateway = body.get("gateway_ip", subnet.gateway_ip)
        if "allocation_pools" in body:
            pools = [(p["start"], p["end"]) for p in body["allocation_pools"]]
            body["allocation_pools"] = [list(p) for p in (
                ipam.validate_allocation_pools(cidr, pools, gateway)
                if pools else ipam.default_allocation_pools(cidr, gateway))]
        elif "gateway_ip" in body:
            pools = [(s, e) for s, e in subnet.allocation_pools]
            ipam.validate_allocation_pools(cidr, pools, gateway)
        if "dns_nameservers" in body:
            body["dns_nameservers"] = _nameservers(body["dns_nameservers"], subnet.ip_version)
        if "host_routes" in body:
            body["host_routes"] = _host_routes(body["host_routes"], subnet.ip_version)
        if "service_types" in body:
            body["service_types"] = _service_types(body["service_types"])

    @staticmethod
    def _journal_ports_on(session: Session, subnet: Subnet, only_extra_dhcp: bool = False
                          ) -> None:
        """Ports refer to their subnet's DHCP_Options: toggling DHCP changes their rows too."""
        # IN rather than JOIN + DISTINCT: PostgreSQL cannot compare a port's json columns
        ports = session.scalars(select(Port).where(Port.id.in_(
            select(IpAllocation.port_id).where(IpAllocation.subnet_id == subnet.id))))
        for port in ports:
            if only_extra_dhcp and not port.extra_dhcp_opts:
                continue
            record_entry(session, ResourceType.PORT, port.id, Operation.UPDATE,
                         port_parents(port))

    def delete(self, ctx: Context, subnet_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            subnet = get_subnet_row(session, ctx, subnet_id)
            policy.enforce(ctx, "delete_subnet", _target(subnet))
            check_revision(subnet, if_match)
            _metadata().sync_port(session, subnet.network, self.settings, leaving=subnet.id)
            if is_auto_address(subnet):
                _release_auto_addresses(session, subnet)
            if session.scalar(select(exists().where(IpAllocation.subnet_id == subnet.id))):
                raise errors.SubnetInUse(subnet.id)
            network = subnet.network
            session.delete(subnet)
            record_entry(session, ResourceType.SUBNET, subnet.id, Operation.DELETE,
                         subnet_parents(subnet))
            revise_parent(session, network, ResourceType.NETWORK)

        run_and_wake(self.db.write, self.wakeup, txn)


def _metadata():  # type: ignore[no-untyped-def]
    """services.metadata, imported late: it reaches this module back through IPAM."""
    from neutrino.services import metadata

    return metadata


def _subnet_cidr(session: Session, ctx: Context, body: dict[str, Any], project: str
                 ) -> tuple[ipam.Network, SubnetPool | None]:
    """The new subnet's CIDR, given or allocated from a subnet pool, and the pool."""
    version, cidr, prefixlen = body["ip_version"], body.get("cidr"), body.get("prefixlen")
    if cidr is not None and prefixlen is not None:
        raise errors.BadRequest("cidr and prefixlen must not be supplied together")
    parsed = None if cidr is None else ipam.parse_cidr(cidr, version)
    pool_id = _pool_id(session, ctx, body)
    if pool_id is None:
        if parsed is None:
            raise errors.BadRequest("a subnetpool must be specified in the absence of a cidr")
        return parsed, None
    if parsed is None and body.get("allocation_pools"):
        raise errors.BadRequest("allocation_pools allowed only for specific subnet requests.")
    pool = subnetpools.get_pool_row(session, ctx, pool_id, for_update=True)
    allocated = subnet_allocation.allocate(session, pool, project, version, parsed, prefixlen)
    return ipam.parse_cidr(str(allocated), version), pool


def _pool_id(session: Session, ctx: Context, body: dict[str, Any]) -> str | None:
    """`subnetpool_id`, or the default pool of the IP version (`use_default_subnetpool`)."""
    pool_id = body.get("subnetpool_id")
    if not body.get("use_default_subnetpool"):
        return pool_id
    if pool_id:
        raise errors.BadRequest("subnetpool_id and use_default_subnetpool cannot both be "
                                "specified")
    found = subnetpools.default_pool_id(session, ctx, body["ip_version"])
    if found is None:
        raise errors.BadRequest(f"No default subnetpool found for IPv{body['ip_version']}")
    return found


def _check_gateway_change(session: Session, subnet: Subnet, body: dict[str, Any]) -> None:
    """A router port holding the gateway address keeps it (Neutron's GatewayIpInUse, checked
    once the new value is valid and before the pools)."""
    if "gateway_ip" not in body:
        return
    cidr = ipam.parse_cidr(subnet.cidr, subnet.ip_version)
    if ipam.validate_gateway(cidr, body["gateway_ip"]) == subnet.gateway_ip:
        return
    port_id = session.scalar(select(Port.id).join(IpAllocation).where(
        IpAllocation.subnet_id == subnet.id, IpAllocation.ip_address == subnet.gateway_ip,
        Port.device_owner.in_(ROUTER_OWNERS)))
    if port_id:
        raise errors.GatewayIpInUse(subnet.gateway_ip, port_id)


def _add_auto_addresses(session: Session, subnet: Subnet) -> None:
    """A new SLAAC / DHCPv6-stateless subnet gives every port of its network (router
    interfaces aside) its EUI-64 address at once, as Neutron does."""
    cidr = ipam.parse_cidr(subnet.cidr, 6)
    ports = session.scalars(select(Port).where(
        Port.network_id == subnet.network_id,
        Port.device_owner.not_in(AUTO_ADDRESS_EXEMPT_OWNERS)).order_by(Port.id))
    for port in ports:
        if not serves(subnet, port.device_owner):
            continue
        port.fixed_ips.append(IpAllocation(
            subnet_id=subnet.id, ip_address=ipam.eui64_address(cidr, port.mac_address),
            network_id=port.network_id, position=len(port.fixed_ips)))
        bump_revision(session, port, ResourceType.PORT, port_parents(port))
    session.flush()


def _release_auto_addresses(session: Session, subnet: Subnet) -> None:
    """Deleting a SLAAC / DHCPv6-stateless subnet takes its addresses from the ports that
    hold them, unless a router interface uses it (then the subnet is in use, as Neutron)."""
    ports = list(session.scalars(select(Port).where(Port.id.in_(
        select(IpAllocation.port_id).where(IpAllocation.subnet_id == subnet.id)))
        .order_by(Port.id)))
    if any(port.device_owner in AUTO_ADDRESS_EXEMPT_OWNERS for port in ports):
        return
    for port in ports:
        port.fixed_ips[:] = [a for a in port.fixed_ips if a.subnet_id != subnet.id]
        bump_revision(session, port, ResourceType.PORT, port_parents(port))
    session.flush()


def _target(subnet: Subnet) -> dict[str, str]:
    return {"project_id": subnet.project_id, "network:project_id": subnet.network.project_id}


def _ipv6_modes(version: int, body: dict[str, Any]) -> tuple[str | None, str | None]:
    ra_mode, addr_mode = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
    if version == 4:
        if ra_mode or addr_mode:
            raise errors.InvalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when "
                                      "enable_dhcp is set to False or ip_version is 4")
        return None, None
    for mode in (ra_mode, addr_mode):
        if mode is not None and mode not in IPV6_MODES:
            raise errors.InvalidInput(f"'{mode}' is not in {list(IPV6_MODES)}")
    if ra_mode and addr_mode and ra_mode != addr_mode:
        raise errors.InvalidInput(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{addr_mode}' is "
            "not valid. If both attributes are set, they must be the same value"
        )
    return ra_mode, addr_mode or ra_mode


class InvalidSubnetServiceType(errors.InvalidInput):
    def __init__(self, service_type: str) -> None:
        super().__init__(f"Subnet service type {service_type} does not correspond to a valid "
                         "device owner.")


def _service_types(types: list[str]) -> list[str]:
    for service_type in types:
        if not service_type.startswith(DEVICE_OWNER_PREFIXES):
            raise InvalidSubnetServiceType(service_type)
    return list(dict.fromkeys(types))


def serves(subnet: Subnet, device_owner: str) -> bool:
    """Whether the subnet gives addresses to a port of this owner: it names no service types,
    or names this one; a DHCP port may use any subnet with DHCP (Neutron's rule)."""
    types = subnet.service_types or []
    return (not types or device_owner in types
            or (device_owner == DHCP_OWNER and subnet.enable_dhcp))


def _nameservers(servers: list[str], version: int) -> list[str]:
    result = [ipam.validate_nameserver(s, version) for s in servers]
    if len(set(result)) != len(result):
        raise errors.InvalidInput(f"Duplicate nameserver in {servers}")
    return result


def _host_routes(routes: list[dict[str, str]], version: int) -> list[dict[str, str]]:
    return [ipam.validate_host_route(r, version) for r in routes]

