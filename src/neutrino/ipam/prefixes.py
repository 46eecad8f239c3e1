"""Prefix arithmetic of subnet pools: pure functions on CIDRs, as Neutron's subnet allocator
defines them.

- A pool's prefixes are merged (overlapping and adjacent prefixes become the fewest CIDRs).
- What is free is the pool's prefixes minus its allocated subnets; a request for a prefix
  length takes the first subnet of the *smallest* free block that can hold it (best fit),
  so large blocks stay whole for large requests.
- A pool's per-project quota counts IPv4 addresses (units of /32) or IPv6 /64 networks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from neutrino import errors

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
BITS = {4: 32, 6: 128}
DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
QUOTA_UNIT_BITS = {4: 32, 6: 64}


class EmptySubnetPoolPrefixList(errors.BadRequest):
    def __init__(self) -> None:
        super().__init__("Empty subnet pool prefix list.")


class PrefixVersionMismatch(errors.BadRequest):
    def __init__(self) -> None:
        super().__init__("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")


class IllegalSubnetPoolPrefixBounds(errors.BadRequest):
    def __init__(self, kind: str, prefixlen: int, base_kind: str, base: int) -> None:
        super().__init__(f"Illegal prefix bounds: {kind}={prefixlen}, {base_kind}={base}.")


def parse_prefix(text: object) -> Net:
    """One prefix in CIDR notation; host bits are dropped (Neutron keeps a pool's prefixes
    as their networks)."""
    if not isinstance(text, str) or "/" not in text:
        raise errors.InvalidInput(f"'{text}' is not a valid IP subnet")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise errors.InvalidInput(f"'{text}' is not a valid IP subnet") from None


def parse_prefixes(texts: Iterable[object]) -> tuple[int, list[Net]]:
    """The IP version and the parsed prefixes of a non-empty, single-version list."""
    nets = [parse_prefix(t) for t in texts]
    if not nets:
        raise EmptySubnetPoolPrefixList()
    versions = {n.version for n in nets}
    if len(versions) > 1:
        raise PrefixVersionMismatch()
    return versions.pop(), nets


def merge(nets: Iterable[Net]) -> list[Net]:
    """The fewest CIDRs covering exactly the given prefixes, in address order."""
    return list(ipaddress.collapse_addresses(nets))  # type: ignore[arg-type]


def as_text(nets: Iterable[Net]) -> list[str]:
    return [str(n) for n in nets]


def covers(outer: Iterable[Net], inner: Iterable[Net]) -> bool:
    """Every address of `inner` is in `outer`."""
    return not subtract(list(inner), list(outer))


def overlaps(a: Iterable[Net], b: Iterable[Net]) -> bool:
    b = list(b)
    return any(x.overlaps(y) for x in a for y in b)  # type: ignore[arg-type]


def subtract(nets: Iterable[Net], removed: Iterable[Net]) -> list[Net]:
    """The addresses of `nets` outside `removed`, merged."""
    current = merge(nets)
    for cut in merge(removed):
        current = [piece for net in current for piece in _without(net, cut)]
    return merge(current)


def _without(net: Net, cut: Net) -> list[Net]:
    if not net.overlaps(cut):  # type: ignore[arg-type]
        return [net]
    if net.subnet_of(cut):  # type: ignore[arg-type]
        return []
    return list(net.address_exclude(cut))  # type: ignore[arg-type]


def free_blocks(prefixes: Iterable[Net], allocated: Iterable[Net]) -> list[Net]:
    """Free CIDRs, smallest first (longest prefix), then by address."""
    free = subtract(prefixes, allocated)
    return sorted(free, key=lambda n: (-n.prefixlen, int(n.network_address)))


def allocate_any(prefixes: Iterable[Net], allocated: Iterable[Net],
                 prefixlen: int) -> Net | None:
    """The first /prefixlen of the smallest free block that holds one, or None."""
    for block in free_blocks(prefixes, allocated):
        if block.prefixlen <= prefixlen:
            return next(block.subnets(new_prefix=prefixlen))
    return None


def is_free(prefixes: Iterable[Net], allocated: Iterable[Net], cidr: Net) -> bool:
    """`cidr` lies wholly in the free space of the pool."""
    return any(cidr.subnet_of(block)  # type: ignore[arg-type]
               for block in subtract(prefixes, allocated) if block.version == cidr.version)


def quota_units(version: int, prefixlen: int) -> float:
    """What a /prefixlen counts against a pool's default_quota; as in Neutron, an IPv6
    subnet smaller than a /64 counts a fraction (powers of two: exact as floats)."""
    return 2.0 ** (QUOTA_UNIT_BITS[version] - prefixlen)


def prefix_bounds(version: int, min_len: int | None, max_len: int | None,
                  default_len: int | None) -> tuple[int, int, int]:
    """(min, max, default) prefix lengths with Neutron's defaults and checks."""
    min_len = DEFAULT_MIN_PREFIXLEN[version] if min_len is None else min_len
    max_len = BITS[version] if max_len is None else max_len
    default_len = min_len if default_len is None else default_len
    if min_len < 0:
        raise errors.BadRequest(f"Prefix '{min_len}' not supported in IPv{version} pool.")
    if min_len > max_len:
        raise IllegalSubnetPoolPrefixBounds("min_prefixlen", min_len, "max_prefixlen", max_len)
    if max_len > BITS[version]:
        raise IllegalSubnetPoolPrefixBounds("max_prefixlen", max_len, "ip_version_max",
                                            BITS[version])
    if default_len < min_len:
        raise IllegalSubnetPoolPrefixBounds("default_prefixlen", default_len,
                                            "min_prefixlen", min_len)
    if default_len > max_len:
        raise IllegalSubnetPoolPrefixBounds("default_prefixlen", default_len,
                                            "max_prefixlen", max_len)
    return min_len, max_len, default_len
