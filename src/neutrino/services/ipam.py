"""Choosing and recording port addresses.

A few addresses drawn at random from the pools are checked first: while the subnet is not
nearly full one of them is free, found with one small query. When all are taken, free
addresses are computed in memory from the pools and every allocation of the subnet, and one
is picked at random among the first few free ones (Neutron's way). Either way concurrent
requests rarely collide. The primary key (subnet, address) is what finally guarantees uniqueness:
a request that loses a race fails its insert and its whole transaction is run again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence, Set
from typing import Any

from sqlalchemy import Executable, bindparam, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import IpAllocation, Network, Subnet
from neutrino.ipam import arithmetic as ipam
from neutrino.services.subnets import AUTO_ADDRESS_EXEMPT_OWNERS, is_auto_address, serves

CANDIDATES = 16
PROBES = 16
_ALLOCATIONS = IpAllocation.__table__
_rng = random.SystemRandom()
# Probes of up to this many values have a statement of their own for their count (`taken`).
FIXED_PROBES = 64
_PROBES: dict[tuple[Any, int], Executable] = {}
_VALUES = [f"v{i}" for i in range(FIXED_PROBES)]


def taken(session: Session, column: Any, key_column: Any, key: str,
          values: Sequence[str]) -> set[str]:
    """Which of `values` the rows whose `key_column` is `key` hold in `column`: a probe
    (of addresses, of MACs). Its statement is built once for each count of values up to
    `FIXED_PROBES`, a parameter a value: an expanding IN (one statement for every count)
    renders its parameters into the SQL at every execution, a third of a probe's CPU."""
    if not values:
        return set()
    count = len(values)
    if count > FIXED_PROBES:
        params: dict[str, Any] = {"key": key, "values": list(values)}
        stmt = _PROBES.get((column, 0))
        if stmt is None:
            stmt = _PROBES[column, 0] = select(column).where(
                key_column == bindparam("key"), column.in_(bindparam("values", expanding=True)))
    else:
        params = dict(zip(_VALUES, values, strict=False))
        params["key"] = key
        stmt = _PROBES.get((column, count))
        if stmt is None:
            stmt = _PROBES[column, count] = select(column).where(
                key_column == bindparam("key"),
                column.in_([bindparam(name) for name in _VALUES[:count]]))
    return set(session.scalars(stmt, params))


class Reservations:
    """The addresses one create request has chosen so far, and free addresses probed for its
    ports still to come. A bulk create inserts its rows only at the end: its own choices
    are what the database cannot tell it, and one probe of a subnet serves every port of
    the request (a probe a port cost a query a port)."""

    def __init__(self, expected: int = 1) -> None:
        self.expected = expected  # ports the request creates: how many addresses to probe
        self.chosen: dict[str, set[str]] = {}
        self._free: dict[str, list[str]] = {}

    def mine(self, subnet_id: str) -> Set[str]:
        return self.chosen.get(subnet_id, frozenset())

    def note(self, chosen: Sequence[tuple[Subnet, str]]) -> None:
        for subnet, address in chosen:
            self.chosen.setdefault(subnet.id, set()).add(address)

    def pick(self, session: Session, subnet: Subnet, exclude: Set[str]) -> str | None:
        free = self._free.get(subnet.id)
        if free is None:  # probed once for the whole request, popped from the end
            free = _free_probes(session, subnet, PROBES + self.expected, frozenset())
            free.reverse()
            self._free[subnet.id] = free
        mine = self.mine(subnet.id)
        while free:
            address = free.pop()
            if address not in exclude and address not in mine:
                return address
        return _pick(session, subnet, set(exclude) | mine)


class IpAddressGenerationFailureNoMatchingSubnet(errors.IpAddressGenerationFailure):
    def __init__(self, net_id: str, device_owner: str) -> None:
        errors.Conflict.__init__(
            self, f"No valid service subnet for the given device owner, network {net_id}, "
            f"service type {device_owner}.")


def serving_subnets(net: Network, device_owner: str) -> list[Subnet]:
    """The network's subnets that give this owner addresses (subnet-service-types); none
    while the network has subnets is Neutron's IpAddressGenerationFailureNoMatchingSubnet."""
    found = [s for s in net.subnets if serves(s, device_owner)]
    if net.subnets and not found:
        raise IpAddressGenerationFailureNoMatchingSubnet(net.id, device_owner)
    return found


def allocate_default(net: Network, session: Session, mac: str, device_owner: str = "",
                     batch: Reservations | None = None) -> list[tuple[Subnet, str]]:
    """Neutron's default: one IPv4 and one stateful IPv6 address, every auto-address subnet,
    among the subnets that serve the port's owner."""
    subnets = serving_subnets(net, device_owner)
    chosen: list[tuple[Subnet, str]] = []
    for version in (4, 6):
        pickable = [s for s in subnets if s.ip_version == version and not is_auto_address(s)]
        if pickable:
            chosen.append(_first_free(session, pickable, net.id, batch))
    chosen.extend((s, _eui64(s, mac)) for s in subnets if is_auto_address(s))
    return chosen


def _first_free(session: Session, subnets: Sequence[Subnet], net_id: str,
                batch: Reservations | None) -> tuple[Subnet, str]:
    for subnet in subnets:
        address = _pick(session, subnet) if batch is None else batch.pick(
            session, subnet, frozenset())
        if address is not None:
            return subnet, address
    raise errors.IpAddressGenerationFailure(net_id)


def allocate_requested(
    net: Network, session: Session, mac: str, requested: Sequence[dict[str, Any]],
    device_owner: str, keep: Sequence[IpAllocation] = (), batch: Reservations | None = None,
) -> list[tuple[Subnet, str]]:
    """Addresses for an explicit `fixed_ips` list; `keep` are the port's current allocations.

    Explicit addresses are settled first, so that an address chosen for another entry of the
    same request is never one of them (nor one chosen for an earlier entry).
    """
    entries = [(_subnet_for(net, item), item.get("ip_address")) for item in requested]
    explicit = {i: _checked_address(session, net, subnet, address, device_owner, keep, batch)
                for i, (subnet, address) in enumerate(entries) if address is not None}
    reserved: set[tuple[str, str]] = set()
    for i, address in explicit.items():
        _reserve(reserved, entries[i][0], address)
    kept = [a for a in keep if (a.subnet_id, a.ip_address) not in reserved]
    chosen: list[tuple[Subnet, str]] = []
    for i, (subnet, _) in enumerate(entries):
        address = explicit.get(i)
        if address is None:
            address = _any_address(session, net, subnet, mac, kept, reserved, batch)
            _reserve(reserved, subnet, address)
        chosen.append((subnet, address))
    return chosen


def with_auto_addresses(net: Network, mac: str, device_owner: str,
                        chosen: list[tuple[Subnet, str]]) -> list[tuple[Subnet, str]]:
    """`chosen` plus the EUI-64 address of every auto-address subnet it does not name: a
    port created with explicit `fixed_ips` still gets them (router interfaces aside), as in
    Neutron."""
    if device_owner in AUTO_ADDRESS_EXEMPT_OWNERS:
        return chosen
    named = {subnet.id for subnet, _ in chosen}
    return chosen + [(s, _eui64(s, mac)) for s in net.subnets
                     if is_auto_address(s) and s.id not in named and serves(s, device_owner)]


def _reserve(reserved: set[tuple[str, str]], subnet: Subnet, address: str) -> None:
    if (subnet.id, address) in reserved:
        raise errors.InvalidInput(f"Duplicate IP address '{address}'")
    reserved.add((subnet.id, address))


def _any_address(session: Session, net: Network, subnet: Subnet, mac: str,
                 kept: list[IpAllocation], reserved: set[tuple[str, str]],
                 batch: Reservations | None) -> str:
    """An entry without an address: the port's current one on that subnet, or a new one."""
    reuse = next((a for a in kept if a.subnet_id == subnet.id), None)
    if reuse is not None:
        kept.remove(reuse)
        return reuse.ip_address
    if is_auto_address(subnet):
        return _eui64(subnet, mac)
    exclude = {a for s, a in reserved if s == subnet.id}
    address = (_pick(session, subnet, exclude) if batch is None
               else batch.pick(session, subnet, exclude))
    if address is None:
        raise errors.IpAddressGenerationFailure(net.id)
    return address


def _subnet_for(net: Network, item: dict[str, Any]) -> Subnet:
    subnet_id, address = item.get("subnet_id"), item.get("ip_address")
    if subnet_id is not None:
        subnet = next((s for s in net.subnets if s.id == subnet_id), None)
        if subnet is None:
            raise errors.InvalidInput(
                f"Failed to create port on network {net.id}, because fixed_ips included "
                f"invalid subnet {subnet_id}"
            )
        return subnet
    if address is None:
        raise errors.InvalidInput("Exceeded maximum amount of fixed ips per port or missing "
                                  "subnet_id and ip_address in fixed_ips")
    for subnet in net.subnets:
        if ipam.address_in_subnet(address, subnet.cidr):
            return subnet
    raise errors.InvalidInput(
        f"IP address {address} is not a valid IP for any of the subnets on the specified network"
    )


def _checked_address(
    session: Session, net: Network, subnet: Subnet, address: str, device_owner: str,
    keep: Sequence[IpAllocation], batch: Reservations | None = None,
) -> str:
    cidr = ipam.parse_cidr(subnet.cidr, subnet.ip_version)
    address = ipam.validate_fixed_address(cidr, address, subnet.gateway_ip, device_owner)
    if (is_auto_address(subnet) and device_owner not in AUTO_ADDRESS_EXEMPT_OWNERS
            and not any(a.ip_address == address for a in keep)):
        raise errors.InvalidInput(
            f"IPv6 address {address} cannot be directly assigned to a port on subnet "
            f"{subnet.id} as the subnet is configured for automatic addresses"
        )
    if batch is not None and address in batch.mine(subnet.id):
        raise errors.IpAddressAlreadyAllocated(address, subnet.id)  # by an earlier port
    taken = session.get(IpAllocation, (subnet.id, address))
    if taken is not None and not any(a is taken for a in keep):
        raise errors.IpAddressAlreadyAllocated(address, subnet.id)
    return address


def _pick(session: Session, subnet: Subnet, exclude: Set[str] = frozenset()) -> str | None:
    """A free address of the subnet's pools that is not in `exclude`, or None."""
    free = _free_probes(session, subnet, PROBES, exclude)
    return free[0] if free else _pick_exhaustively(session, subnet, exclude)


def _free_probes(session: Session, subnet: Subnet, count: int, exclude: Set[str]) -> list[str]:
    """Up to `count` addresses drawn at random from the pools, less those taken (one query)
    and those in `exclude`, in the order drawn."""
    pools = [(start, end) for start, end in subnet.allocation_pools]
    probes = [a for a in ipam.random_addresses(pools, count, _rng) if a not in exclude]
    used = taken(session, _ALLOCATIONS.c.ip_address, _ALLOCATIONS.c.subnet_id, subnet.id, probes)
    return [address for address in probes if address not in used]


def _pick_exhaustively(session: Session, subnet: Subnet, exclude: Set[str]) -> str | None:
    allocated = set(
        session.scalars(select(IpAllocation.ip_address).where(IpAllocation.subnet_id == subnet.id))
    )
    pools = [(start, end) for start, end in subnet.allocation_pools]
    candidates = ipam.candidate_addresses(pools, allocated | exclude, CANDIDATES)
    return _rng.choice(candidates) if candidates else None


def _eui64(subnet: Subnet, mac: str) -> str:
    return ipam.eui64_address(ipam.parse_cidr(subnet.cidr, 6), mac)
