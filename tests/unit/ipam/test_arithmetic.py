"""Table-driven tests for neutrino.ipam.arithmetic (pure functions, no fixtures needed)."""

from __future__ import annotations

import ipaddress
import random
import time

import pytest

from neutrino.errors import BadRequest, InvalidInput
from neutrino.ipam import arithmetic as ar

V4 = ipaddress.IPv4Network("10.0.0.0/24")
V6 = ipaddress.IPv6Network("fd00::/64")


def net(text: str) -> ar.Network:
    return ipaddress.ip_network(text)


# --- parse_cidr -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "version", "expected"),
    [
        ("10.0.0.0/24", 4, "10.0.0.0/24"),
        ("10.0.0.0/8", 4, "10.0.0.0/8"),
        ("192.168.1.4/30", 4, "192.168.1.4/30"),
        ("fd00::/64", 6, "fd00::/64"),
        ("FD00:0:0:0::/64", 6, "fd00::/64"),
        ("2001:db8::/127", 6, "2001:db8::/127"),
    ],
)
def test_parse_cidr_accepts(cidr: str, version: int, expected: str) -> None:
    parsed = ar.parse_cidr(cidr, version)
    assert str(parsed) == expected
    assert parsed.version == version


@pytest.mark.parametrize(
    ("cidr", "version", "message"),
    [
        ("10.0.0.1/24", 4, "'10.0.0.1/24' isn't a recognized IP subnet cidr, "
                           "'10.0.0.0/24' is recommended"),
        ("fd00::1/64", 6, "'fd00::1/64' isn't a recognized IP subnet cidr, "
                          "'fd00::/64' is recommended"),
        ("10.0.0.0", 4, "'10.0.0.0' is not a valid IP subnet"),
        ("10.0.0.0/33", 4, "'10.0.0.0/33' is not a valid IP subnet"),
        ("10.0.0.0/024", 4, "'10.0.0.0/024' is not a valid IP subnet"),
        ("10.0.0.0/255.255.255.0", 4, "is not a valid IP subnet"),
        ("10.0.0/24", 4, "is not a valid IP subnet"),
        (" 10.0.0.0/24", 4, "is not a valid IP subnet"),
        ("fe80::%eth0/64", 6, "is not a valid IP subnet"),
        ("garbage", 4, "'garbage' is not a valid IP subnet"),
        ("10.0.0.0/24", 6, "cidr '10.0.0.0/24' does not match the ip_version '6'"),
        ("fd00::/64", 4, "cidr 'fd00::/64' does not match the ip_version '4'"),
        ("10.0.0.0/24", 5, "ip_version 5 is not in [4, 6]"),
        ("0.0.0.0/0", 4, "0 is not allowed as CIDR prefix length"),
        ("::/0", 6, "0 is not allowed as CIDR prefix length"),
        ("10.0.0.0/31", 4, "must be at most 30"),
        ("10.0.0.1/32", 4, "must be at most 30"),
        ("fd00::1/128", 6, "must be at most 127"),
    ],
)
def test_parse_cidr_rejects(cidr: str, version: int, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.parse_cidr(cidr, version)
    assert message in caught.value.message
    assert isinstance(caught.value, BadRequest)


def test_parse_cidr_rejects_non_string() -> None:
    with pytest.raises(InvalidInput):
        ar.parse_cidr(None, 4)  # type: ignore[arg-type]


# --- gateways -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.1"),
        ("192.168.1.4/30", "192.168.1.5"),
        ("fd00::/64", "fd00::1"),
        ("2001:db8:1::/48", "2001:db8:1::1"),
    ],
)
def test_default_gateway(cidr: str, expected: str) -> None:
    assert ar.default_gateway(net(cidr)) == expected


@pytest.mark.parametrize(
    ("cidr", "gateway", "expected"),
    [
        ("10.0.0.0/24", None, None),
        ("10.0.0.0/24", "10.0.0.1", "10.0.0.1"),
        ("10.0.0.0/24", "10.0.0.254", "10.0.0.254"),
        ("10.0.0.0/24", "10.0.0.77", "10.0.0.77"),
        ("fd00::/64", "FD00::0001", "fd00::1"),
        ("fd00::/64", "fd00::", "fd00::"),  # subnet-router anycast is a fine IPv6 gateway
        ("fd00::/64", "fd00::ffff:ffff:ffff:ffff", "fd00::ffff:ffff:ffff:ffff"),
        ("fd00::/64", "fe80::1", "fe80::1"),  # link-local router address
    ],
)
def test_validate_gateway_accepts(cidr: str, gateway: str | None, expected: str | None) -> None:
    assert ar.validate_gateway(net(cidr), gateway) == expected


@pytest.mark.parametrize(
    ("cidr", "gateway", "message"),
    [
        ("10.0.0.0/24", "10.0.0.0", "Gateway is not valid on subnet"),
        ("10.0.0.0/24", "10.0.0.255", "Gateway is not valid on subnet"),
        ("10.0.0.0/24", "10.0.1.1", "Gateway ip 10.0.1.1 is not in subnet 10.0.0.0/24"),
        ("10.0.0.0/24", "169.254.0.1", "is not in subnet"),
        ("fd00::/64", "fd01::1", "Gateway ip fd01::1 is not in subnet fd00::/64"),
        ("10.0.0.0/24", "fd00::1", "gateway_ip 'fd00::1' does not match the ip_version '4'"),
        ("fd00::/64", "10.0.0.1", "gateway_ip '10.0.0.1' does not match the ip_version '6'"),
        ("10.0.0.0/24", "10.0.0.256", "'10.0.0.256' is not a valid IP address"),
        ("10.0.0.0/24", "10.0.0.01", "'10.0.0.01' is not a valid IP address"),
        ("10.0.0.0/24", "", "'' is not a valid IP address"),
    ],
)
def test_validate_gateway_rejects(cidr: str, gateway: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.validate_gateway(net(cidr), gateway)
    assert message in caught.value.message


def test_validate_gateway_outside_allowed_on_request() -> None:
    assert ar.validate_gateway(V4, "192.168.0.1", allow_outside=True) == "192.168.0.1"
    with pytest.raises(InvalidInput):
        ar.validate_gateway(V4, "10.0.0.255", allow_outside=True)


# --- default_allocation_pools -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "gateway", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
        ("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")]),
        ("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")]),
        ("10.0.0.0/24", "10.0.0.100", [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]),
        ("10.0.0.0/24", "192.168.0.1", [("10.0.0.1", "10.0.0.254")]),  # outside: nothing cut
        ("192.168.1.4/30", "192.168.1.5", [("192.168.1.6", "192.168.1.6")]),
        ("192.168.1.4/30", None, [("192.168.1.5", "192.168.1.6")]),
        ("10.0.0.0/8", "10.0.0.1", [("10.0.0.2", "10.255.255.254")]),
        ("fd00::/64", "fd00::1", [("fd00::2", "fd00::ffff:ffff:ffff:ffff")]),
        ("fd00::/64", None, [("fd00::1", "fd00::ffff:ffff:ffff:ffff")]),
        ("fd00::/64", "fd00::", [("fd00::1", "fd00::ffff:ffff:ffff:ffff")]),
        ("fd00::/64", "fd00::ffff:ffff:ffff:ffff", [("fd00::1", "fd00::ffff:ffff:ffff:fffe")]),
        ("2001:db8::/127", None, [("2001:db8::1", "2001:db8::1")]),
        ("2001:db8::/127", "2001:db8::1", []),
        ("10.0.0.0/31", None, []),
    ],
)
def test_default_allocation_pools(
    cidr: str, gateway: str | None, expected: list[tuple[str, str]]
) -> None:
    assert ar.default_allocation_pools(net(cidr), gateway) == expected


def test_default_allocation_pools_rejects_wrong_version_gateway() -> None:
    with pytest.raises(InvalidInput, match="does not match the ip_version"):
        ar.default_allocation_pools(V4, "fd00::1")


# --- validate_allocation_pools ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "pools", "gateway", "expected"),
    [
        ("10.0.0.0/24", [], "10.0.0.1", []),
        ("10.0.0.0/24", [("10.0.0.2", "10.0.0.254")], "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
        ("10.0.0.0/24", [("10.0.0.1", "10.0.0.254")], None, [("10.0.0.1", "10.0.0.254")]),
        ("10.0.0.0/24", [("10.0.0.1", "10.0.0.254")], "10.1.0.1", [("10.0.0.1", "10.0.0.254")]),
        ("10.0.0.0/24", [("10.0.0.7", "10.0.0.7")], "10.0.0.1", [("10.0.0.7", "10.0.0.7")]),
        (
            "10.0.0.0/24",
            [("10.0.0.200", "10.0.0.254"), ("10.0.0.2", "10.0.0.99"), ("10.0.0.101", "10.0.0.199")],
            "10.0.0.100",
            [("10.0.0.2", "10.0.0.99"), ("10.0.0.101", "10.0.0.199"), ("10.0.0.200", "10.0.0.254")],
        ),
        (
            "fd00::/64",
            [("FD00::0010", "fd00::00ff"), ("fd00::ffff:0:0:ff00", "fd00::ffff:ffff:ffff:ffff")],
            "fd00::1",
            [("fd00::10", "fd00::ff"), ("fd00::ffff:0:0:ff00", "fd00::ffff:ffff:ffff:ffff")],
        ),
    ],
)
def test_validate_allocation_pools_accepts(
    cidr: str,
    pools: list[tuple[str, str]],
    gateway: str | None,
    expected: list[tuple[str, str]],
) -> None:
    assert ar.validate_allocation_pools(net(cidr), pools, gateway) == expected


@pytest.mark.parametrize(
    ("cidr", "pools", "gateway", "message"),
    [
        (
            "10.0.0.0/24", [("10.0.0.1", "10.0.0.254")], "10.0.0.1",
            "Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.254.",
        ),
        (
            "10.0.0.0/24", [("10.0.0.2", "10.0.0.50"), ("10.0.0.60", "10.0.0.254")], "10.0.0.254",
            "Gateway ip 10.0.0.254 conflicts with allocation pool 10.0.0.60-10.0.0.254.",
        ),
        (
            "10.0.0.0/24", [("10.0.1.2", "10.0.1.254")], "10.0.0.1",
            "The allocation pool 10.0.1.2-10.0.1.254 spans beyond the subnet cidr 10.0.0.0/24.",
        ),
        (
            "10.0.0.0/24", [("10.0.0.0", "10.0.0.10")], None,
            "The allocation pool 10.0.0.0-10.0.0.10 spans beyond the subnet cidr 10.0.0.0/24.",
        ),
        (
            "10.0.0.0/24", [("10.0.0.2", "10.0.0.255")], None,
            "The allocation pool 10.0.0.2-10.0.0.255 spans beyond the subnet cidr 10.0.0.0/24.",
        ),
        (
            "fd00::/64", [("fd00::", "fd00::10")], None,
            "The allocation pool fd00::-fd00::10 spans beyond the subnet cidr fd00::/64.",
        ),
        (
            "10.0.0.0/24", [("10.0.0.2", "10.0.0.100"), ("10.0.0.50", "10.0.0.254")], None,
            "Found overlapping allocation pools: 10.0.0.2-10.0.0.100 10.0.0.50-10.0.0.254 "
            "for subnet 10.0.0.0/24.",
        ),
        (
            # the later pool starts first; the message still names them in input order
            "10.0.0.0/24", [("10.0.0.50", "10.0.0.60"), ("10.0.0.2", "10.0.0.100")], None,
            "Found overlapping allocation pools: 10.0.0.50-10.0.0.60 10.0.0.2-10.0.0.100",
        ),
        (
            # overlap with a non-adjacent pool: a wide pool swallows two later ones
            "10.0.0.0/24",
            [("10.0.0.2", "10.0.0.200"), ("10.0.0.10", "10.0.0.20"), ("10.0.0.150", "10.0.0.160")],
            None,
            "Found overlapping allocation pools: 10.0.0.2-10.0.0.200 10.0.0.10-10.0.0.20",
        ),
        (
            "10.0.0.0/24", [("10.0.0.5", "10.0.0.9"), ("10.0.0.9", "10.0.0.12")], None,
            "Found overlapping allocation pools",
        ),
        (
            "10.0.0.0/24", [("10.0.0.9", "10.0.0.2")], None,
            "The allocation pool 10.0.0.9-10.0.0.2 is not valid.",
        ),
        (
            "10.0.0.0/24", [("10.0.0.2", "fd00::9")], None,
            "The allocation pool 10.0.0.2-fd00::9 is not valid.",
        ),
        (
            "10.0.0.0/24", [("fd00::2", "fd00::9")], None,
            "The allocation pool fd00::2-fd00::9 is not valid.",
        ),
        ("10.0.0.0/24", [("10.0.0.2", "nope")], None, "'nope' is not a valid IP address"),
        ("10.0.0.0/24", [("10.0.0.2",)], None, "Invalid data format for IP pool"),
    ],
)
def test_validate_allocation_pools_rejects(
    cidr: str, pools: list[tuple[str, str]], gateway: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.validate_allocation_pools(net(cidr), pools, gateway)
    assert message in caught.value.message


# --- pool sizes and candidates ----------------------------------------------------------


@pytest.mark.parametrize(
    ("pools", "expected"),
    [
        ([], 0),
        ([("10.0.0.2", "10.0.0.254")], 253),
        ([("10.0.0.5", "10.0.0.5")], 1),
        ([("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")], 253),
        ([("10.0.0.2", "10.255.255.254")], 2**24 - 3),
        ([("fd00::2", "fd00::ffff:ffff:ffff:ffff")], 2**64 - 2),
        ([("10.0.0.1", "10.0.0.10"), ("10.0.0.5", "10.0.0.20")], 20),  # overlap counted once
        ([("10.0.0.1", "10.0.0.1"), ("fd00::1", "fd00::1")], 2),
    ],
)
def test_pool_size(pools: list[tuple[str, str]], expected: int) -> None:
    assert ar.pool_size(pools) == expected


@pytest.mark.parametrize(
    ("pools", "allocated", "expected"),
    [
        ([("10.0.0.2", "10.0.0.254")], set(), 253),
        ([("10.0.0.2", "10.0.0.254")], {"10.0.0.2", "10.0.0.100"}, 251),
        ([("10.0.0.2", "10.0.0.254")], {"10.0.0.1", "10.0.0.255", "10.1.0.3"}, 253),
        ([("10.0.0.2", "10.0.0.3")], {"10.0.0.2", "10.0.0.3"}, 0),
        ([("fd00::2", "fd00::ffff:ffff:ffff:ffff")], {"fd00::0002", "fd00::1"}, 2**64 - 3),
        ([("10.0.0.2", "10.0.0.10")], {"::ffff:10.0.0.2"}, 9),  # another version never counts
    ],
)
def test_free_count(pools: list[tuple[str, str]], allocated: set[str], expected: int) -> None:
    assert ar.free_count(pools, allocated) == expected


@pytest.mark.parametrize(
    ("pools", "allocated", "count", "expected"),
    [
        ([("10.0.0.2", "10.0.0.254")], set(), 3, ["10.0.0.2", "10.0.0.3", "10.0.0.4"]),
        ([("10.0.0.2", "10.0.0.254")], {"10.0.0.2", "10.0.0.4"}, 2, ["10.0.0.3", "10.0.0.5"]),
        # skipping crosses the boundary into the second pool
        (
            [("10.0.0.1", "10.0.0.3"), ("10.0.0.101", "10.0.0.254")],
            {"10.0.0.1", "10.0.0.3", "10.0.0.101"},
            3,
            ["10.0.0.2", "10.0.0.102", "10.0.0.103"],
        ),
        # pools are taken in the order given, not sorted
        (
            [("10.0.0.200", "10.0.0.201"), ("10.0.0.2", "10.0.0.9")],
            set(),
            3,
            ["10.0.0.200", "10.0.0.201", "10.0.0.2"],
        ),
        ([("10.0.0.2", "10.0.0.4")], {"10.0.0.3"}, 5, ["10.0.0.2", "10.0.0.4"]),
        ([("10.0.0.2", "10.0.0.3")], {"10.0.0.2", "10.0.0.3"}, 1, []),
        ([("10.0.0.2", "10.0.0.254")], set(), 0, []),
        # overlapping pools never hand out the same address twice
        ([("10.0.0.2", "10.0.0.3"), ("10.0.0.3", "10.0.0.4")], set(), 5,
         ["10.0.0.2", "10.0.0.3", "10.0.0.4"]),
        ([("fd00::2", "fd00::ffff:ffff:ffff:ffff")], {"fd00::2", "FD00::0003"}, 2,
         ["fd00::4", "fd00::5"]),
        ([("fd00::ffff:ffff:ffff:fffe", "fd00::ffff:ffff:ffff:ffff")], set(), 3,
         ["fd00::ffff:ffff:ffff:fffe", "fd00::ffff:ffff:ffff:ffff"]),
    ],
)
def test_candidate_addresses(
    pools: list[tuple[str, str]], allocated: set[str], count: int, expected: list[str]
) -> None:
    assert ar.candidate_addresses(pools, allocated, count) == expected


@pytest.mark.parametrize(
    ("cidr", "gateway", "allocated", "expected"),
    [
        ("10.0.0.0/8", "10.0.0.1", {"10.0.0.2", "10.0.0.3", "10.0.0.5"},
         ["10.0.0.4", "10.0.0.6", "10.0.0.7"]),
        ("fd00::/64", "fd00::1", {"fd00::2", "fd00::3", "fd00::5"},
         ["fd00::4", "fd00::6", "fd00::7"]),
    ],
)
def test_candidate_addresses_is_fast_on_huge_pools(
    cidr: str, gateway: str, allocated: set[str], expected: list[str]
) -> None:
    pools = ar.default_allocation_pools(net(cidr), gateway)
    started = time.perf_counter()
    assert ar.candidate_addresses(pools, allocated, 3) == expected
    assert ar.free_count(pools, allocated) == ar.pool_size(pools) - 3
    assert time.perf_counter() - started < 0.5


def test_candidate_addresses_walks_only_past_allocated() -> None:
    """A run of allocated addresses at the start costs one step each, then stops."""
    allocated = {f"10.0.{i // 256}.{i % 256}" for i in range(2, 5002)}
    started = time.perf_counter()
    found = ar.candidate_addresses([("10.0.0.2", "10.255.255.254")], allocated, 2)
    assert found == ["10.0.19.138", "10.0.19.139"]
    assert time.perf_counter() - started < 0.5


# --- membership -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.0/24", True),
        ("10.0.0.0/24", "10.0.0.128/25", True),
        ("10.0.0.0/8", "10.200.0.0/16", True),
        ("10.0.0.0/24", "10.0.1.0/24", False),
        ("10.0.0.0/25", "10.0.0.128/25", False),
        ("fd00::/64", "fd00::/48", True),
        ("fd00::/64", "fd00:0:0:1::/64", False),
        ("10.0.0.0/24", "fd00::/64", False),
    ],
)
def test_cidrs_overlap(a: str, b: str, expected: bool) -> None:
    assert ar.cidrs_overlap(a, b) is expected
    assert ar.cidrs_overlap(b, a) is expected


def test_cidrs_overlap_rejects_garbage() -> None:
    with pytest.raises(InvalidInput, match="'bogus' is not a valid IP subnet"):
        ar.cidrs_overlap("10.0.0.0/24", "bogus")


@pytest.mark.parametrize(
    ("address", "cidr", "expected"),
    [
        ("10.0.0.5", "10.0.0.0/24", True),
        ("10.0.0.0", "10.0.0.0/24", True),
        ("10.0.0.255", "10.0.0.0/24", True),
        ("10.0.1.0", "10.0.0.0/24", False),
        ("fd00::abcd", "fd00::/64", True),
        ("fd00:0:0:1::1", "fd00::/64", False),
        ("10.0.0.5", "fd00::/64", False),
    ],
)
def test_address_in_subnet(address: str, cidr: str, expected: bool) -> None:
    assert ar.address_in_subnet(address, cidr) is expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.0.0.2", True),
        ("10.0.0.99", True),
        ("10.0.0.100", False),
        ("10.0.0.101", True),
        ("10.0.0.254", True),
        ("10.0.0.1", False),
        ("10.0.0.255", False),
        ("fd00::2", False),
    ],
)
def test_address_in_pools(address: str, expected: bool) -> None:
    pools = [("10.0.0.2", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]
    assert ar.address_in_pools(address, pools) is expected


def test_address_in_pools_rejects_garbage() -> None:
    with pytest.raises(InvalidInput, match="'10.0.0' is not a valid IP address"):
        ar.address_in_pools("10.0.0", [("10.0.0.2", "10.0.0.9")])


# --- validate_fixed_address -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "address", "owner", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.77", "compute:nova", "10.0.0.77"),
        ("10.0.0.0/24", "10.0.0.1", "compute:nova", "10.0.0.1"),  # gateway not reserved
        ("10.0.0.0/24", "10.0.0.1", "network:router_interface", "10.0.0.1"),
        ("10.0.0.0/24", "10.0.0.254", "", "10.0.0.254"),
        ("fd00::/64", "FD00::0042", "compute:nova", "fd00::42"),
        ("fd00::/64", "fd00::", "network:router_interface", "fd00::"),
        ("fd00::/64", "fd00::", "network:router_gateway", "fd00::"),
        ("fd00::/64", "fd00::", "", "fd00::"),  # owner unknown: Neutron allows it
        ("fd00::/64", "fd00::ffff:ffff:ffff:ffff", "compute:nova", "fd00::ffff:ffff:ffff:ffff"),
    ],
)
def test_validate_fixed_address_accepts(cidr: str, address: str, owner: str, expected: str) -> None:
    assert ar.validate_fixed_address(net(cidr), address, "10.0.0.1", owner) == expected


@pytest.mark.parametrize(
    ("cidr", "address", "owner"),
    [
        ("10.0.0.0/24", "10.0.0.0", "network:router_interface"),
        ("10.0.0.0/24", "10.0.0.255", ""),
        ("10.0.0.0/24", "10.0.1.5", ""),
        ("10.0.0.0/24", "fd00::5", ""),
        ("fd00::/64", "fd00::", "compute:nova"),
        ("fd00::/64", "fd00:0:0:1::5", "network:router_interface"),
        ("fd00::/64", "10.0.0.5", ""),
    ],
)
def test_validate_fixed_address_rejects(cidr: str, address: str, owner: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.validate_fixed_address(net(cidr), address, None, owner)
    assert caught.value.message.endswith(
        f"IP address {address} is not a valid IP for the specified subnet."
    )


@pytest.mark.parametrize(
    ("owner", "allowed"),
    [("compute:nova", False), ("", False), ("network:router_interface", True),
     ("network:router_gateway", True)],
)
def test_validate_fixed_address_reserved_gateway(owner: str, allowed: bool) -> None:
    def claim_gateway() -> str:
        return ar.validate_fixed_address(V4, "10.0.0.1", "10.0.0.1", owner, reserve_gateway=True)

    if allowed:
        assert claim_gateway() == "10.0.0.1"
    else:
        with pytest.raises(InvalidInput, match="only router ports may use it"):
            claim_gateway()
    # another address is never affected by the reservation
    assert ar.validate_fixed_address(V4, "10.0.0.2", "10.0.0.1", owner, reserve_gateway=True)


# --- EUI-64 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "mac", "expected"),
    [
        ("2001:db8::/64", "00:16:3e:33:44:55", "2001:db8::216:3eff:fe33:4455"),
        ("2001:db8::/64", "00-16-3E-33-44-55", "2001:db8::216:3eff:fe33:4455"),
        ("fd00:1:2:3::/64", "fa:16:3e:aa:bb:cc", "fd00:1:2:3:f816:3eff:feaa:bbcc"),
        ("fd00::/64", "02:00:00:00:00:01", "fd00::ff:fe00:1"),  # U/L bit flipped off
    ],
)
def test_eui64_address(prefix: str, mac: str, expected: str) -> None:
    assert ar.eui64_address(net(prefix), mac) == expected


@pytest.mark.parametrize(
    ("prefix", "mac", "message"),
    [
        ("2001:db8::/48", "00:16:3e:33:44:55", "it is not an IPv6 /64"),
        ("2001:db8::/80", "00:16:3e:33:44:55", "it is not an IPv6 /64"),
        ("10.0.0.0/24", "00:16:3e:33:44:55", "it is not an IPv6 /64"),
        ("2001:db8::/64", "00:16:3e:33:44", "is not a valid MAC address"),
    ],
)
def test_eui64_address_rejects(prefix: str, mac: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ar.eui64_address(net(prefix), mac)


# --- MAC addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        ("fa:16:3e:00:00:01", "fa:16:3e:00:00:01"),
        ("FA:16:3E:AB:CD:EF", "fa:16:3e:ab:cd:ef"),
        ("fa-16-3e-ab-cd-ef", "fa:16:3e:ab:cd:ef"),
        ("fa16.3eab.cdef", "fa:16:3e:ab:cd:ef"),
        ("fa163eabcdef", "fa:16:3e:ab:cd:ef"),
        ("2:0:0:0:0:1", "02:00:00:00:00:01"),
        ("00:00:00:00:00:01", "00:00:00:00:00:01"),
    ],
)
def test_validate_mac_accepts(mac: str, expected: str) -> None:
    assert ar.validate_mac(mac) == expected


@pytest.mark.parametrize(
    ("mac", "message"),
    [
        ("fa:16:3e:00:00", "is not a valid MAC address"),
        ("fa:16:3e:00:00:00:01", "is not a valid MAC address"),
        ("fa:16:3e:00:00:0g", "is not a valid MAC address"),
        ("fa:16-3e:00:00:01", "is not a valid MAC address"),
        ("fa:16:3e:00:00:001", "is not a valid MAC address"),
        (" fa:16:3e:00:00:01", "is not a valid MAC address"),
        ("", "is not a valid MAC address"),
        ("ff:ff:ff:ff:ff:ff", "multicast or broadcast"),
        ("01:00:5e:00:00:01", "multicast or broadcast"),
        ("33:33:00:00:00:01", "multicast or broadcast"),
        ("00:00:00:00:00:00", "all zeros"),
        ("000000000000", "all zeros"),
    ],
)
def test_validate_mac_rejects(mac: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ar.validate_mac(mac)


class ScriptedBits:
    """A chooser that replays fixed draws, so the expected MAC is known exactly."""

    def __init__(self, draws: list[int]) -> None:
        self.draws = list(draws)

    def getrandbits(self, k: int, /) -> int:
        assert k == 8
        return self.draws.pop(0)


@pytest.mark.parametrize(
    ("prefix", "draws", "expected"),
    [
        ("fa:16:3e", [0x12, 0x34, 0x56], "fa:16:3e:12:34:56"),
        ("FA:16:3E", [0, 0, 0], "fa:16:3e:00:00:00"),
        ("fa:16:3e:aa:b", [0xff], "fa:16:3e:aa:0b:ff"),
        ("2", [1, 2, 3, 4, 5], "02:01:02:03:04:05"),
        # an all-zero result is drawn again
        ("00:00:00:00:00", [0, 7], "00:00:00:00:00:07"),
    ],
)
def test_generate_mac_scripted(prefix: str, draws: list[int], expected: str) -> None:
    rng = ScriptedBits(draws)
    assert ar.generate_mac(prefix, rng) == expected
    assert rng.draws == []


def test_generate_mac_random_results_are_valid_and_vary() -> None:
    rng = random.Random(1234)
    macs = {ar.generate_mac("fa:16:3e", rng) for _ in range(200)}
    assert len(macs) > 190
    for mac in macs:
        assert mac.startswith("fa:16:3e:")
        assert ar.validate_mac(mac) == mac


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("", "is not a valid MAC prefix"),
        ("fa:16:3e:00:00:00", "is not a valid MAC prefix"),
        ("fa:16:3g", "is not a valid MAC prefix"),
        ("fa-16-3e", "is not a valid MAC prefix"),
        ("fa:16:", "is not a valid MAC prefix"),
        ("01:00:5e", "multicast bit"),
        ("ff", "multicast bit"),
    ],
)
def test_generate_mac_rejects_prefix(prefix: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ar.generate_mac(prefix, random.Random(0))


def test_generate_mac_gives_up_on_a_chooser_that_only_says_zero() -> None:
    with pytest.raises(InvalidInput, match="Could not generate"):
        ar.generate_mac("00:00:00", ScriptedBits([0] * 100))


# --- host routes and nameservers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "version", "expected"),
    [
        ({"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}, 4,
         {"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}),
        ({"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"}, None,
         {"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"}),
        ({"destination": "10.9.9.9/32", "nexthop": "10.0.0.1"}, 4,
         {"destination": "10.9.9.9/32", "nexthop": "10.0.0.1"}),
        ({"destination": "FD01:0::/48", "nexthop": "FD00::0001"}, 6,
         {"destination": "fd01::/48", "nexthop": "fd00::1"}),
    ],
)
def test_validate_host_route_accepts(
    route: dict[str, str], version: int | None, expected: dict[str, str]
) -> None:
    assert ar.validate_host_route(route, version) == expected


@pytest.mark.parametrize(
    ("route", "version", "message"),
    [
        ({"destination": "192.168.0.1/16", "nexthop": "10.0.0.1"}, 4,
         "isn't a recognized IP subnet cidr, '192.168.0.0/16' is recommended"),
        ({"destination": "192.168.0.0", "nexthop": "10.0.0.1"}, 4, "is not a valid IP subnet"),
        ({"destination": "192.168.0.0/16", "nexthop": "10.0.0"}, 4, "is not a valid IP address"),
        ({"destination": "192.168.0.0/16"}, 4, "needs both destination and nexthop"),
        ({"destination": "192.168.0.0/16", "nexthop": "10.0.0.1", "metric": 1}, 4,
         "Unrecognized attribute(s) 'metric'"),
        ({"destination": "fd01::/48", "nexthop": "fd00::1"}, 4,
         "destination 'fd01::/48' does not match the ip_version '4'"),
        ({"destination": "192.168.0.0/16", "nexthop": "fd00::1"}, None,
         "nexthop 'fd00::1' does not match the ip_version '4'"),
        (["192.168.0.0/16", "10.0.0.1"], 4, "Invalid data format for hostroute"),
    ],
)
def test_validate_host_route_rejects(route: object, version: int | None, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.validate_host_route(route, version)  # type: ignore[arg-type]
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("ip", "version", "expected"),
    [
        ("8.8.8.8", None, "8.8.8.8"),
        ("8.8.8.8", 4, "8.8.8.8"),
        ("2001:4860:4860:0:0:0:0:8888", 6, "2001:4860:4860::8888"),
    ],
)
def test_validate_nameserver_accepts(ip: str, version: int | None, expected: str) -> None:
    assert ar.validate_nameserver(ip, version) == expected


@pytest.mark.parametrize(
    ("ip", "version", "message"),
    [
        ("dns.example.com", None,
         "'dns.example.com' is not a valid nameserver. 'dns.example.com' is not a valid IP"),
        ("8.8.8", None, "is not a valid nameserver"),
        ("08.8.8.8", None, "is not a valid nameserver"),
        ("8.8.8.8", 6, "dns_nameserver '8.8.8.8' does not match the ip_version '6'"),
        ("2001:4860:4860::8888", 4, "does not match the ip_version '4'"),
    ],
)
def test_validate_nameserver_rejects(ip: str, version: int | None, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ar.validate_nameserver(ip, version)
    assert message in caught.value.message


# --- random_addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pools", "count", "expected_len"),
    [
        ([("10.0.0.2", "10.0.0.6"), ("10.0.0.10", "10.0.0.12")], 20, 8),
        ([("10.0.0.2", "10.0.0.254")], 16, 16),
        ([("fd00::2", "fd00::ffff:ffff:ffff:ffff")], 16, 16),
        ([], 16, 0),
    ],
)
def test_random_addresses_are_distinct_members_of_the_pools(pools, count, expected_len):
    picked = ar.random_addresses(pools, count, random.Random(7))
    assert len(picked) == len(set(picked)) == expected_len
    assert all(ar.address_in_pools(address, pools) for address in picked)


def test_random_addresses_cover_every_pool_eventually():
    pools = [("10.0.0.2", "10.0.0.3"), ("10.0.1.2", "10.0.1.3")]
    assert sorted(ar.random_addresses(pools, 4, random.Random(1))) == [
        "10.0.0.2", "10.0.0.3", "10.0.1.2", "10.0.1.3"]
