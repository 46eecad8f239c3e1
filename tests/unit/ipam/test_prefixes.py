"""Subnet pool prefix arithmetic (neutrino.ipam.prefixes), table-driven, no I/O."""

from __future__ import annotations

import ipaddress

import pytest

from neutrino import errors
from neutrino.ipam import prefixes as px


def nets(*texts: str) -> list[px.Net]:
    return [ipaddress.ip_network(t) for t in texts]


@pytest.mark.parametrize(("given", "merged"), [
    (["10.0.0.0/24", "10.0.1.0/24"], ["10.0.0.0/23"]),
    (["10.0.0.0/24", "10.0.0.128/25"], ["10.0.0.0/24"]),
    (["10.0.2.0/24", "10.0.0.0/24"], ["10.0.0.0/24", "10.0.2.0/24"]),
    (["2001:db8::/49", "2001:db8:0:8000::/49"], ["2001:db8::/48"]),
])
def test_merge(given, merged):
    assert px.as_text(px.merge(nets(*given))) == merged


@pytest.mark.parametrize(("texts", "error"), [
    ([], px.EmptySubnetPoolPrefixList),
    (["10.0.0.0/8", "2001:db8::/32"], px.PrefixVersionMismatch),
    (["10.0.0.0"], errors.InvalidInput),
    (["10.0.0.0/33"], errors.InvalidInput),
    ([7], errors.InvalidInput),
])
def test_parse_prefixes_refuses(texts, error):
    with pytest.raises(error):
        px.parse_prefixes(texts)


def test_parse_prefix_drops_host_bits():
    assert px.parse_prefixes(["10.0.0.7/24"]) == (4, nets("10.0.0.0/24"))


@pytest.mark.parametrize(("pool", "taken", "length", "expected"), [
    (["10.0.0.0/16"], [], 24, "10.0.0.0/24"),
    (["10.0.0.0/16"], ["10.0.0.0/24"], 24, "10.0.1.0/24"),
    # best fit: the /23 left after two /24s serves a /26 before the larger blocks do
    (["10.0.0.0/16"], ["10.0.0.0/24", "10.0.1.0/24"], 26, "10.0.2.0/26"),
    (["10.0.0.0/24", "10.1.0.0/28"], [], 28, "10.1.0.0/28"),
    (["10.0.0.0/24"], ["10.0.0.0/25", "10.0.0.128/25"], 25, None),
    (["10.0.0.0/24"], [], 23, None),
    (["2001:db8::/48"], ["2001:db8::/64"], 64, "2001:db8:0:1::/64"),
])
def test_allocate_any(pool, taken, length, expected):
    found = px.allocate_any(nets(*pool), nets(*taken), length)
    assert (str(found) if found else None) == expected


@pytest.mark.parametrize(("cidr", "free"), [
    ("10.0.1.0/24", True), ("10.0.0.128/25", False), ("10.0.0.0/23", False),
    ("10.1.0.0/24", False),
])
def test_is_free(cidr, free):
    assert px.is_free(nets("10.0.0.0/16"), nets("10.0.0.0/24"),
                      ipaddress.ip_network(cidr)) is free


def test_subtract_covers_and_overlaps():
    left = px.subtract(nets("10.0.0.0/22"), nets("10.0.1.0/24"))
    assert px.as_text(left) == ["10.0.0.0/24", "10.0.2.0/23"]
    assert px.covers(nets("10.0.0.0/16"), nets("10.0.3.0/24", "10.0.0.0/17"))
    assert not px.covers(nets("10.0.0.0/24"), nets("10.0.0.0/23"))
    assert px.overlaps(nets("10.0.0.0/16"), nets("192.168.0.0/16", "10.0.5.0/24"))
    assert not px.overlaps(nets("10.0.0.0/16"), nets("10.1.0.0/16"))


@pytest.mark.parametrize(("version", "length", "units"), [
    (4, 24, 256), (4, 32, 1), (6, 64, 1), (6, 56, 256), (6, 80, 2**-16)])
def test_quota_units(version, length, units):
    assert px.quota_units(version, length) == units


@pytest.mark.parametrize(("version", "given", "expected"), [
    (4, (None, None, None), (8, 32, 8)),
    (6, (None, None, None), (64, 128, 64)),
    (4, (16, 28, 24), (16, 28, 24)),
])
def test_prefix_bounds(version, given, expected):
    assert px.prefix_bounds(version, *given) == expected


@pytest.mark.parametrize("given", [(24, 16, None), (8, 33, None), (8, 32, 4), (8, 24, 25),
                                   (-1, 32, None)])
def test_bad_prefix_bounds(given):
    with pytest.raises(errors.BadRequest):
        px.prefix_bounds(4, *given)
