"""Extra routes as Neutron edits them: merges, removals, set comparison, next-hop checks."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.db.models import Router
from neutrino.services import extra_routes as er

A = {"destination": "192.168.1.0/24", "nexthop": "10.0.0.5"}
B = {"destination": "192.168.2.0/24", "nexthop": "10.0.0.6"}
A2 = {"destination": "192.168.1.0/24", "nexthop": "10.0.0.7"}
ADDRESSES = [("10.0.0.1", "10.0.0.0/24")]


@pytest.mark.parametrize(("old", "added", "expected"), [
    ([], [A, B], [A, B]),
    ([A], [A, B], [A, B]),  # an exact duplicate merges
    ([A], [A2], [A, A2]),  # another next hop for a destination is another route
    ([A], [{"destination": "192.168.1.0/24", "nexthop": "10.0.0.05"}], None),
])
def test_merged(old, added, expected) -> None:
    if expected is None:
        with pytest.raises(errors.InvalidInput):
            er.merged(old, added)
    else:
        assert er.merged(old, added) == expected


@pytest.mark.parametrize(("old", "removed", "expected"), [
    ([A, B], [A], [B]),
    ([A, B], [A2], [A, B]),  # absent: no error
    ([A], [A, A], []),
])
def test_without(old, removed, expected) -> None:
    assert er.without(old, removed) == expected


def test_unique_routes_refuses_duplicates() -> None:
    assert er.unique_routes([A, B]) == [A, B]
    with pytest.raises(errors.InvalidInput, match="Duplicate hostroute"):
        er.unique_routes([A, {"destination": "192.168.1.0/24", "nexthop": "10.0.0.5"}])


def test_set_routes_reports_a_change_of_the_set_only() -> None:
    router = Router(routes=[A, B])
    assert er.set_routes(router, [B, A], ADDRESSES) is False
    assert router.routes == [A, B]
    assert er.set_routes(router, [B], ADDRESSES) is True
    assert router.routes == [B]


@pytest.mark.parametrize(("hop", "reason"), [
    ("10.9.0.1", "the nexthop is not connected with router"),
    ("10.0.0.1", "the nexthop is used by router"),
])
def test_next_hops(hop: str, reason: str) -> None:
    with pytest.raises(errors.InvalidRoutes, match=reason):
        er.check_nexthops([{"destination": "192.168.9.0/24", "nexthop": hop}], ADDRESSES)
