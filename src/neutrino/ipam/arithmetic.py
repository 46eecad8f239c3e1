"""Pure address arithmetic for subnets, allocation pools, fixed IPs and MAC addresses.

Everything here is a function of its arguments: no I/O, no clock, and randomness only
through a chooser the caller passes in, so every rule can be tested on its own and the
callers decide what to store. Bad user input raises `InvalidInput` (HTTP 400) worded
like Neutron's messages, because clients and tests match on those words.

Addresses come back as strings in canonical form (`str(ipaddress...)`: dotted quad,
compressed lower-case IPv6), pools as `(start, end)` string pairs, MACs as lower-case
colon-separated octets.

Decisions, and where they differ from Neutron:

* A subnet must leave at least one assignable address besides the network address
  (and, for IPv4, the broadcast address): IPv4 /31 and /32 and IPv6 /128 are refused.
  Neutron accepts those when DHCP is off; we do not, so every subnet has a non-empty
  default pool. Like Neutron we also refuse a /0. The DHCP-specific limits (IPv4 /30,
  IPv6 /126 at most when enable_dhcp is true) belong to the caller.
* A cidr with host bits set is refused for both versions (Neutron only checks IPv4).
* A gateway outside the cidr is refused unless the caller passes `allow_outside=True`
  (today's Neutron accepts it; older Neutron's force_gateway_on_subnet refused it but
  still let an IPv6 link-local gateway through, which we do too). As in Neutron, an
  IPv4 gateway may not be the network or broadcast address, while an IPv6 gateway may
  be the network address (the subnet-router anycast address).
* Fixed addresses follow Neutron's check: any address of the cidr except, for IPv4,
  the network and broadcast addresses; the IPv6 network address only for router
  ports or ports without an owner. The gateway address is not reserved (Neutron lets
  a plain port take it so that it can later be plugged into a router) unless the
  caller passes `reserve_gateway=True`.
* MACs with the multicast bit set are refused (Neutron only refuses all-zero and
  broadcast).
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple, Protocol

from neutrino.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Pool = tuple[str, str]

ROUTER_PORT_OWNERS: frozenset[str] = frozenset(
    {
        "network:router_interface",
        "network:ha_router_replicated_interface",
        "network:router_interface_distributed",
        "network:router_centralized_snat",
        "network:router_gateway",
    }
)
"""Router device owners; with '' these may hold an IPv6 subnet's network address."""
_NETWORK_ADDRESS_OWNERS = ROUTER_PORT_OWNERS | {""}

_PREFIXLEN = re.compile(r"0|[1-9][0-9]{0,2}")
_MAC_FORMS = (
    re.compile(r"[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}", re.IGNORECASE),
    re.compile(r"[0-9a-f]{1,2}(-[0-9a-f]{1,2}){5}", re.IGNORECASE),
    re.compile(r"[0-9a-f]{4}(\.[0-9a-f]{4}){2}", re.IGNORECASE),
    re.compile(r"[0-9a-f]{12}", re.IGNORECASE),
)
_MAC_PREFIX = re.compile(r"[0-9a-f]{1,2}(:[0-9a-f]{1,2}){0,4}", re.IGNORECASE)
_MAX_MAC_DRAWS = 16


class BitSource(Protocol):
    """What `generate_mac` needs from its chooser (`random.Random` fits)."""

    def getrandbits(self, k: int, /) -> int: ...


class _Range(NamedTuple):
    """An inclusive range of addresses as integers, so arithmetic never builds lists."""

    version: int
    first: int
    last: int

    def holds(self, ip: Address) -> bool:
        return ip.version == self.version and self.first <= int(ip) <= self.last

    def pair(self) -> Pool:
        return (_format(self.version, self.first), _format(self.version, self.last))

    def __str__(self) -> str:
        start, end = self.pair()
        return f"{start}-{end}"


# --- parsing helpers ---------------------------------------------------------------


def _format(version: int, value: int) -> str:
    """Canonical text of an integer address; explicit classes since small ints are ambiguous."""
    if version == 4:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value))


def _ip_or_none(text: object) -> Address | None:
    """Parse one address; scope ids ('fe80::1%eth0') are not addresses a subnet can hold."""
    if not isinstance(text, str) or "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_ip(text: object) -> Address:
    ip = _ip_or_none(text)
    if ip is None:
        raise InvalidInput(f"'{text}' is not a valid IP address")
    return ip


def _parse_network(text: object) -> Network:
    """Parse 'address/prefixlen' and refuse host bits, which would misstate the bounds."""
    if not isinstance(text, str):
        raise InvalidInput(f"'{text}' is not a valid IP subnet")
    address, _, prefixlen = text.partition("/")
    if not _PREFIXLEN.fullmatch(prefixlen) or _ip_or_none(address) is None:
        raise InvalidInput(f"'{text}' is not a valid IP subnet")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a valid IP subnet") from None
    if ipaddress.ip_address(address) != net.network_address:
        raise InvalidInput(f"'{text}' isn't a recognized IP subnet cidr, '{net}' is recommended")
    return net


def _parse_any_network(text: str) -> Network:
    """Lenient parse for already-stored cidrs, where host bits carry no meaning."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{text}' is not a valid IP subnet") from None


def _check_version(actual: int, expected: int, name: str, text: object) -> None:
    if expected not in (4, 6):
        raise InvalidInput(f"ip_version {expected!r} is not in [4, 6]")
    if actual != expected:
        raise InvalidInput(f"{name} '{text}' does not match the ip_version '{expected}'")


def _usable_bounds(net: Network) -> tuple[int, int] | None:
    """First and last assignable address: never the network address, nor IPv4 broadcast."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    return (first, last) if first <= last else None


# --- subnets and gateways -----------------------------------------------------------


def parse_cidr(cidr: str, ip_version: int) -> Network:
    """Validate a subnet's cidr against its ip_version before anything is derived from it."""
    net = _parse_network(cidr)
    _check_version(net.version, ip_version, "cidr", cidr)
    if net.prefixlen == 0:
        raise InvalidInput("0 is not allowed as CIDR prefix length")
    if _usable_bounds(net) is None:
        longest = 30 if net.version == 4 else 127
        raise InvalidInput(
            f"cidr '{cidr}' leaves no assignable address; "
            f"the prefix length of an IPv{net.version} subnet must be at most {longest}"
        )
    return net


def default_gateway(net: Network) -> str:
    """The gateway_ip Neutron fills in when none is given: the first address after the network."""
    return str(net.network_address + 1)


def validate_gateway(
    net: Network, gateway: str | None, *, allow_outside: bool = False
) -> str | None:
    """Check an explicit gateway_ip; None means the subnet has no gateway and is kept."""
    if gateway is None:
        return None
    ip = _parse_ip(gateway)
    _check_version(ip.version, net.version, "gateway_ip", gateway)
    if ip not in net:
        if allow_outside or (ip.version == 6 and ip.is_link_local):
            return str(ip)
        raise InvalidInput(f"Gateway ip {ip} is not in subnet {net}")
    if net.version == 4 and ip in (net.network_address, net.broadcast_address):
        raise InvalidInput("Gateway is not valid on subnet")
    return str(ip)


# --- allocation pools ---------------------------------------------------------------


def _parse_pool(pool: object) -> _Range:
    """A (start, end) pair of same-version addresses in ascending order."""
    try:
        start_text, end_text = pool  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid data format for IP pool: '{pool}'") from None
    start, end = _parse_ip(start_text), _parse_ip(end_text)
    if start.version != end.version or int(start) > int(end):
        raise InvalidInput(f"The allocation pool {start_text}-{end_text} is not valid.")
    return _Range(start.version, int(start), int(end))


def _ranges(pools: Iterable[Pool]) -> list[_Range]:
    return [_parse_pool(pool) for pool in pools]


def default_allocation_pools(net: Network, gateway: str | None) -> list[Pool]:
    """The usable range minus the gateway, as Neutron generates it when no pools are given."""
    bounds = _usable_bounds(net)
    if bounds is None:
        return []
    first, last = bounds
    spans = [(first, last)]
    if gateway is not None:
        gw = _parse_ip(gateway)
        _check_version(gw.version, net.version, "gateway_ip", gateway)
        if first <= int(gw) <= last:
            spans = [(first, int(gw) - 1), (int(gw) + 1, last)]
    return [_Range(net.version, lo, hi).pair() for lo, hi in spans if lo <= hi]


def _check_pool_in_subnet(net: Network, pool: _Range) -> None:
    if pool.version != net.version:
        raise InvalidInput(f"The allocation pool {pool} is not valid.")
    bounds = _usable_bounds(net)
    if bounds is None or pool.first < bounds[0] or pool.last > bounds[1]:
        raise InvalidInput(f"The allocation pool {pool} spans beyond the subnet cidr {net}.")


def _check_no_overlap(net: Network, pools: list[_Range]) -> None:
    """Sort by start: until a first overlap, pools are disjoint, so neighbours suffice."""
    order = sorted(range(len(pools)), key=lambda i: pools[i])
    for before, after in zip(order, order[1:], strict=False):
        if pools[after].first <= pools[before].last:
            one, other = sorted((before, after))
            raise InvalidInput(
                f"Found overlapping allocation pools: {pools[one]} {pools[other]} for subnet {net}."
            )


def _check_gateway_outside(gateway: str, pools: list[_Range]) -> None:
    """The gateway belongs to the router; handing it out from a pool would clash."""
    gw = _parse_ip(gateway)
    for pool in pools:
        if pool.holds(gw):
            raise InvalidInput(f"Gateway ip {gw} conflicts with allocation pool {pool}.")


def validate_allocation_pools(net: Network, pools: list[Pool], gateway: str | None) -> list[Pool]:
    """Check user-given pools in Neutron's order; return them canonical and sorted."""
    ranges = _ranges(pools)
    for pool in ranges:
        _check_pool_in_subnet(net, pool)
    _check_no_overlap(net, ranges)
    if gateway is not None:
        _check_gateway_outside(gateway, ranges)
    return [pool.pair() for pool in sorted(ranges)]


def _merged(ranges: Iterable[_Range]) -> list[_Range]:
    """Union of ranges, so sizes stay right even if the pools given overlap."""
    merged: list[_Range] = []
    for pool in sorted(ranges):
        last = merged[-1] if merged else None
        if last is not None and last.version == pool.version and pool.first <= last.last + 1:
            merged[-1] = last._replace(last=max(last.last, pool.last))
        else:
            merged.append(pool)
    return merged


def pool_size(pools: Iterable[Pool]) -> int:
    """How many addresses the pools hold, computed from the bounds (a /64 is fine)."""
    return sum(pool.last - pool.first + 1 for pool in _merged(_ranges(pools)))


def _address_keys(addresses: Iterable[str]) -> set[tuple[int, int]]:
    """(version, integer) keys, so '10.0.0.1' and 'fd00::0001' compare by value."""
    return {(ip.version, int(ip)) for ip in map(_parse_ip, addresses)}


def free_count(pools: Iterable[Pool], allocated: Iterable[str]) -> int:
    """Pool size minus the distinct allocated addresses that fall inside a pool."""
    ranges = _merged(_ranges(pools))
    used = sum(
        1
        for version, value in _address_keys(allocated)
        if any(r.version == version and r.first <= value <= r.last for r in ranges)
    )
    return sum(r.last - r.first + 1 for r in ranges) - used


def _free_values(pool: _Range, taken: set[tuple[int, int]]) -> Iterator[int]:
    """Walk a pool lazily; each skipped value is a distinct member of `taken`."""
    value = pool.first
    while value <= pool.last:
        if (pool.version, value) not in taken:
            yield value
        value += 1


def random_addresses(pools: Iterable[Pool], count: int, rng: random.Random) -> list[str]:
    """Up to `count` distinct addresses drawn uniformly from the pools.

    Probing a few random addresses finds a free one without reading the whole subnet's
    allocations while the subnet is not nearly full; `candidate_addresses` stays the exact
    answer when every probe is taken.
    """
    ranges = _merged(_ranges(pools))
    size = sum(r.last - r.first + 1 for r in ranges)
    if size <= 4 * count:  # small pools: a plain sample
        picks = rng.sample(range(size), min(count, size))
    else:  # large ones (an IPv6 /64 has 2**64): distinct draws, collisions being rare
        chosen: dict[int, None] = {}
        while len(chosen) < count:
            chosen[rng.randrange(size)] = None
        picks = list(chosen)
    return [_address_at(ranges, index) for index in picks]


def _ipv4_text(value: int) -> str:
    """`str(ipaddress.IPv4Address(value))` (dotted decimal), in a fifth of its time: a port
    create draws 17 addresses."""
    return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def _address_at(ranges: list[_Range], index: int) -> str:
    for pool in ranges:
        span = pool.last - pool.first + 1
        if index < span:
            return _ipv4_text(pool.first + index) if pool.version == 4 else \
                str(ipaddress.IPv6Address(pool.first + index))
        index -= span
    raise IndexError(index)


def candidate_addresses(pools: Iterable[Pool], allocated: set[str], count: int) -> list[str]:
    """The first `count` free addresses in pool order.

    Cost is about count + len(allocated) steps whatever the pool size, because the walk
    only ever passes over addresses that are free (and returned) or allocated.
    """
    found: list[str] = []
    if count <= 0:
        return found
    taken = _address_keys(allocated)
    for pool in _ranges(pools):
        for value in _free_values(pool, taken):
            taken.add((pool.version, value))  # overlapping pools must not repeat an address
            found.append(_format(pool.version, value))
            if len(found) == count:
                return found
    return found


# --- addresses ------------------------------------------------------------------------


def cidrs_overlap(a: str, b: str) -> bool:
    """Whether two cidrs share an address; different IP versions never do."""
    first, second = _parse_any_network(a), _parse_any_network(b)
    return first.version == second.version and first.overlaps(second)  # type: ignore[arg-type]  # versions equal


def address_in_subnet(address: str, cidr: str) -> bool:
    """Plain membership of the cidr, network and broadcast addresses included."""
    ip, net = _parse_ip(address), _parse_any_network(cidr)
    return ip.version == net.version and ip in net


def address_in_pools(address: str, pools: Iterable[Pool]) -> bool:
    """Whether an address would be handed out by automatic allocation from these pools."""
    ip = _parse_ip(address)
    return any(pool.holds(ip) for pool in _ranges(pools))


def _host_address_ok(net: Network, ip: Address, device_owner: str) -> bool:
    """Neutron's check_subnet_ip: an unknown owner ('') gets the router's benefit of doubt."""
    if ip.version != net.version or ip not in net:
        return False
    if net.version == 4:
        return ip not in (net.network_address, net.broadcast_address)
    return ip != net.network_address or device_owner in _NETWORK_ADDRESS_OWNERS


def validate_fixed_address(
    net: Network,
    address: str,
    gateway: str | None = None,
    device_owner: str = "",
    *,
    reserve_gateway: bool = False,
) -> str:
    """Check a fixed IP a user asked for by address; it need not lie in a pool."""
    ip = _parse_ip(address)
    if not _host_address_ok(net, ip, device_owner):
        raise InvalidInput(f"IP address {address} is not a valid IP for the specified subnet.")
    if (
        reserve_gateway
        and gateway is not None
        and device_owner not in ROUTER_PORT_OWNERS
        and ip == _parse_ip(gateway)
    ):
        raise InvalidInput(
            f"IP address {ip} is the gateway of subnet {net}; only router ports may use it."
        )
    return str(ip)


def eui64_address(net: Network, mac: str) -> str:
    """SLAAC address (RFC 4291 appendix A): flip the U/L bit and put ff:fe in the middle."""
    if net.version != 6 or net.prefixlen != 64:
        raise InvalidInput(f"Cannot build an EUI-64 address in {net}: it is not an IPv6 /64")
    octets = bytes.fromhex(validate_mac(mac).replace(":", ""))
    interface_id = bytes([octets[0] ^ 0x02, octets[1], octets[2], 0xFF, 0xFE, *octets[3:]])
    return str(net.network_address + int.from_bytes(interface_id, "big"))


# --- MAC addresses ----------------------------------------------------------------------


def _mac_octets(mac: object) -> list[int] | None:
    """Accept the spellings netaddr accepts for Neutron: colons, hyphens, Cisco dots, bare."""
    if not isinstance(mac, str) or not any(form.fullmatch(mac) for form in _MAC_FORMS):
        return None
    if ":" in mac or "-" in mac:
        return [int(part, 16) for part in re.split("[:-]", mac)]
    return list(bytes.fromhex(mac.replace(".", "")))


def _format_mac(octets: Iterable[int]) -> str:
    return ":".join(f"{octet:02x}" for octet in octets)


def validate_mac(mac: str) -> str:
    """Normalise a port MAC; a group or all-zero MAC cannot identify one interface."""
    octets = _mac_octets(mac)
    if octets is None:
        raise InvalidInput(f"'{mac}' is not a valid MAC address")
    if octets[0] & 0x01:
        raise InvalidInput(f"'{mac}' is not a valid MAC address: it is multicast or broadcast")
    if not any(octets):
        raise InvalidInput(f"'{mac}' is not a valid MAC address: it is all zeros")
    return _format_mac(octets)


def _mac_prefix(prefix: object) -> list[int]:
    """1 to 5 fixed leading octets; the first one decides unicast, so it is checked here."""
    if not isinstance(prefix, str) or not _MAC_PREFIX.fullmatch(prefix):
        raise InvalidInput(f"'{prefix}' is not a valid MAC prefix of 1 to 5 octets")
    octets = [int(part, 16) for part in prefix.split(":")]
    if octets[0] & 0x01:
        raise InvalidInput(f"MAC prefix '{prefix}' has the multicast bit set")
    return octets


def generate_mac(prefix: str, rng: BitSource) -> str:
    """A random unicast MAC under a prefix (Neutron's base_mac is fa:16:3e).

    Draws again only when the result would be all zeros, which needs an all-zero prefix.
    """
    head = _mac_prefix(prefix)
    for _ in range(_MAX_MAC_DRAWS):
        octets = head + [rng.getrandbits(8) & 0xFF for _ in range(6 - len(head))]
        if any(octets):
            return _format_mac(octets)
    raise InvalidInput(f"Could not generate a valid MAC address under prefix '{prefix}'")


def free_macs(prefix: str, taken: Iterable[str], count: int, rng: BitSource) -> list[str]:
    """Up to `count` MACs under `prefix` missing from `taken`, walking on from a random one.

    The walk only passes over taken MACs (and the all-zero one), so it costs about
    len(taken) + count steps however large the prefix leaves the space.
    """
    head = _mac_prefix(prefix)
    bits = 8 * (6 - len(head))
    base = int.from_bytes(bytes(head), "big") << bits
    used = {int(mac.replace(":", ""), 16) for mac in taken}
    start = rng.getrandbits(bits)
    found: list[str] = []
    for step in range(min(1 << bits, len(used) + count + 1)):
        value = base | ((start + step) % (1 << bits))
        if value and value not in used:
            found.append(_format_mac(value.to_bytes(6, "big")))
            if len(found) == count:
                break
    return found


# --- subnet options -------------------------------------------------------------------

_ROUTE_KEYS = frozenset({"destination", "nexthop"})


def _check_route_keys(route: object) -> Mapping[str, object]:
    if not isinstance(route, Mapping):
        raise InvalidInput(f"Invalid data format for hostroute: '{route}'")
    extra = sorted(str(key) for key in route if key not in _ROUTE_KEYS)
    if extra:
        raise InvalidInput(f"Unrecognized attribute(s) '{', '.join(extra)}'")
    if set(route) != _ROUTE_KEYS:
        raise InvalidInput(f"Host route {dict(route)} needs both destination and nexthop")
    return route


def validate_host_route(
    route: Mapping[str, object], ip_version: int | None = None
) -> dict[str, str]:
    """A host route pushed by DHCP; both sides must be of the subnet's IP version."""
    route = _check_route_keys(route)
    destination = _parse_network(route["destination"])
    nexthop = _parse_ip(route["nexthop"])
    expected = destination.version if ip_version is None else ip_version
    _check_version(destination.version, expected, "destination", route["destination"])
    _check_version(nexthop.version, expected, "nexthop", route["nexthop"])
    return {"destination": str(destination), "nexthop": str(nexthop)}


def validate_nameserver(ip: str, ip_version: int | None = None) -> str:
    """A DNS server for DHCP to announce: an address, no host name, of the subnet's version."""
    address = _ip_or_none(ip)
    if address is None:
        raise InvalidInput(f"'{ip}' is not a valid nameserver. '{ip}' is not a valid IP address")
    if ip_version is not None:
        _check_version(address.version, ip_version, "dns_nameserver", ip)
    return str(address)
