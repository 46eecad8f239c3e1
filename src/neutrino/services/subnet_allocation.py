"""Subnet allocation from a subnet pool (Neutron's `subnet_allocation`): a free prefix
by best fit or the one asked for, within the pool's prefix lengths and per-project quota,
and the network affinity rules for pools and address scopes.

The caller holds the pool row locked (see services/subnetpools.py), so concurrent
allocations from one pool see each other's subnets.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Subnet as SubnetRow
from neutrino.db.models import SubnetPool
from neutrino.ipam import prefixes as px


class SubnetPoolQuotaExceeded(errors.OverQuota):
    def __init__(self) -> None:
        errors.Conflict.__init__(self, "Per-project subnet pool prefix quota exceeded.")


class SubnetAllocationError(errors.Conflict):
    """Neutron's own is unmapped (a 500); a pool without room is a conflict here."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Failed to allocate subnet: {reason}.")


class MaxPrefixSubnetAllocationError(errors.BadRequest):
    def __init__(self, prefixlen: int, max_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"maximum allowed prefix is {max_prefixlen}.")


class MinPrefixSubnetAllocationError(errors.BadRequest):
    def __init__(self, prefixlen: int, min_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"minimum allowed prefix is {min_prefixlen}.")


class NetworkSubnetPoolAffinityError(errors.BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets hosted on the same network must be allocated from the same "
                         "subnet pool.")


class NetworkAddressScopeAffinityError(errors.BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets of the same address family hosted on the same network must "
                         "all participate in the same address scope.")


def check_network_affinity(existing: Iterable[SubnetRow], version: int,
                           pool: SubnetPool | None) -> None:
    """Neutron's rule for a network's subnets of one IP version: all from the same pool, or,
    when the network is in an address scope for that version, all from pools of it."""
    same_version = [s for s in existing if s.ip_version == version]
    scopes = {s.subnetpool.address_scope_id for s in same_version if s.subnetpool is not None}
    scope = next((s for s in scopes if s is not None), None)
    if scope is not None and pool is not None and pool.address_scope_id != scope:
        raise NetworkAddressScopeAffinityError()
    for subnet in same_version:
        if pool is None and subnet.subnetpool_id is not None:
            raise NetworkSubnetPoolAffinityError()
        if pool is not None and subnet.subnetpool_id != pool.id and scope is None:
            raise NetworkSubnetPoolAffinityError()


def allocated_prefixes(session: Session, pool_id: str) -> list[px.Net]:
    cidrs = session.scalars(select(SubnetRow.cidr).where(SubnetRow.subnetpool_id == pool_id))
    return [px.parse_prefix(c) for c in cidrs]


def allocate(session: Session, pool: SubnetPool, project: str, version: int,
             cidr: px.Net | None, prefixlen: int | None) -> px.Net:
    """A free prefix of `pool` for a new subnet of `project`: `cidr` itself, or the best fit
    of `prefixlen` (the pool's default_prefixlen when neither is given).

    The caller locked `pool` (get_pool_row(..., for_update=True)) in this transaction."""
    if version != pool.ip_version:
        raise errors.BadRequest(f"Cannot allocate IPv{version} subnet from "
                                f"IPv{pool.ip_version} subnet pool")
    length = cidr.prefixlen if cidr is not None else \
        pool.default_prefixlen if prefixlen is None else prefixlen
    if length > pool.max_prefixlen:
        raise MaxPrefixSubnetAllocationError(length, pool.max_prefixlen)
    if length < pool.min_prefixlen:
        raise MinPrefixSubnetAllocationError(length, pool.min_prefixlen)
    _check_pool_quota(session, pool, project, length)
    prefixes = [px.parse_prefix(p) for p in pool.prefixes]
    allocated = allocated_prefixes(session, pool.id)
    if cidr is not None:
        if not px.covers(prefixes, [cidr]):
            raise errors.BadRequest(f"Cidr {cidr} is not within the prefixes of subnet pool "
                                    f"{pool.id}")
        if not px.is_free(prefixes, allocated, cidr):
            raise SubnetAllocationError("Cannot allocate requested subnet from the "
                                        "available set of prefixes")
        return cidr
    found = px.allocate_any(prefixes, allocated, length)
    if found is None:
        raise SubnetAllocationError(f"Insufficient prefix space to allocate subnet size "
                                    f"/{length}")
    return found


def _check_pool_quota(session: Session, pool: SubnetPool, project: str, length: int) -> None:
    if not pool.default_quota:
        return
    cidrs = session.scalars(select(SubnetRow.cidr).where(
        SubnetRow.subnetpool_id == pool.id, SubnetRow.project_id == project))
    used = sum(px.quota_units(pool.ip_version, px.parse_prefix(c).prefixlen) for c in cidrs)
    if used + px.quota_units(pool.ip_version, length) > pool.default_quota:
        raise SubnetPoolQuotaExceeded()
