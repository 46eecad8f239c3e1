"""Network IP availability (`network-ip-availability` and `-details`): how many addresses each
network and subnet holds and how many are in use, as Neutron counts them.

- `total_ips`: the addresses of the subnet's allocation pools (of its CIDR when it has none);
  `used_ips`: its allocations, wherever they lie.
- `ip_availability_details`: `total_ips_in_subnet` (the CIDR, less the network and broadcast
  addresses for IPv4), `total_ips_in_allocation_pool`, `used_ips_in_subnet` and
  `used_ips_in_allocation_pool` (allocations inside the pools); a network's are the sums.

Admin only (Neutron's default policy): others list nothing and are answered 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import Database
from neutrino.db.models import IpAllocation, Network, Subnet
from neutrino.ipam import arithmetic as ipam
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, paginate, sort_items

DETAIL_KEYS = ("total_ips_in_subnet", "total_ips_in_allocation_pool", "used_ips_in_subnet",
               "used_ips_in_allocation_pool")


def subnet_availability(subnet: Subnet, addresses: Iterable[str]) -> dict[str, Any]:
    """One subnet's entry of `subnet_ip_availability` (pure: the subnet and its addresses)."""
    cidr = ipam.parse_cidr(subnet.cidr, subnet.ip_version)
    pools = [(start, end) for start, end in subnet.allocation_pools]
    in_subnet = cidr.num_addresses - (2 if subnet.ip_version == 4 else 0)
    in_pools = ipam.pool_size(pools) if pools else 0
    used = list(addresses)
    return {
        "subnet_id": subnet.id, "subnet_name": subnet.name, "ip_version": subnet.ip_version,
        "cidr": subnet.cidr, "total_ips": in_pools if pools else cidr.num_addresses,
        "used_ips": len(used),
        "ip_availability_details": {
            "total_ips_in_subnet": max(in_subnet, 0),
            "total_ips_in_allocation_pool": in_pools,
            "used_ips_in_subnet": len(used),
            "used_ips_in_allocation_pool": sum(
                1 for a in used if pools and ipam.address_in_pools(a, pools)),
        },
    }


def network_availability(net: Network, subnets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "network_id": net.id, "network_name": net.name, "project_id": net.project_id,
        "tenant_id": net.project_id, "subnet_ip_availability": subnets,
        "total_ips": sum(s["total_ips"] for s in subnets),
        "used_ips": sum(s["used_ips"] for s in subnets),
        "ip_availability_details": {
            key: sum(s["ip_availability_details"][key] for s in subnets) for key in DETAIL_KEYS},
    }


class IpAvailabilityService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        if not ctx.is_admin:
            return []
        with self.db.read() as session:
            found = _availabilities(session, _networks(query.filters), query.filters)
        # `id` (the network's) orders and marks pages; the API does not show it
        keyed = [{**item, "id": item["network_id"]} for item in found]
        return paginate(sort_items(keyed, query.sort), query)

    def get(self, ctx: Context, network_id: str) -> dict[str, Any]:
        if ctx.is_admin:
            with self.db.read() as session:
                found = _availabilities(session, select(Network).where(Network.id == network_id),
                                        {})
            if found:
                return found[0]
        raise errors.NetworkNotFound(network_id)


def _networks(filters: Mapping[str, tuple[Any, ...]]) -> Select[Any]:
    stmt = select(Network)
    columns = {"network_id": Network.id, "network_name": Network.name,
               "project_id": Network.project_id, "tenant_id": Network.project_id}
    for attr, column in columns.items():
        if attr in filters:
            stmt = stmt.where(column.in_(filters[attr]))
    if "ip_version" in filters:
        stmt = stmt.where(Network.id.in_(select(Subnet.network_id).where(
            Subnet.ip_version.in_(filters["ip_version"]))))
    return stmt


def _availabilities(session: Session, networks: Select[Any],
                    filters: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    nets = list(session.scalars(networks.order_by(Network.id)))
    addresses: dict[str, list[str]] = defaultdict(list)
    for subnet_id, address in session.execute(
            select(IpAllocation.subnet_id, IpAllocation.ip_address)
            .where(IpAllocation.network_id.in_([n.id for n in nets]))):
        addresses[subnet_id].append(address)
    versions = filters.get("ip_version")
    return [network_availability(net, [
        subnet_availability(s, addresses[s.id]) for s in sorted(net.subnets, key=_by_id)
        if versions is None or s.ip_version in versions]) for net in nets]


def _by_id(subnet: Subnet) -> str:
    return subnet.id
