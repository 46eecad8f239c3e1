"""Listing: tag filters and attribute filters in SQL (on an in-memory SQLite database) and
on the API representation, which attributes each resource filters in SQL, the in-memory
sort and pagination that a sort key without a SQL form falls back to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, literal, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.api.attributes import SPECS
from neutrino.db.models import Base, IpAllocation, Port, PortSecurityGroup, Subnet, Tag
from neutrino.services.address_groups import AddressGroupService
from neutrino.services.address_scopes import AddressScopeService
from neutrino.services.default_sg_rules import DefaultRuleService
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.listing import (
    ListQuery,
    ListSpec,
    TagFilter,
    equal_to_any,
    matches,
    paginate,
    select_page,
    sort_items,
)
from neutrino.services.networks import LISTING as NETWORKS
from neutrino.services.ports import LISTING as PORTS
from neutrino.services.ports import port_dict
from neutrino.services.rbac import RbacService
from neutrino.services.routers import RouterService
from neutrino.services.security_groups import RuleService, SecurityGroupService
from neutrino.services.subnetpools import SubnetPoolService
from neutrino.services.subnets import LISTING as SUBNETS

NOW = datetime(2024, 5, 6, 7, 8, 9, 999999)


@pytest.fixture()
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


# --- TagFilter, in SQL ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag_filter", "tags", "expected"),
    [
        (TagFilter(), [], True),
        (TagFilter(), ["a"], True),
        (TagFilter(all_of=("a", "b")), ["a", "b", "c"], True),
        (TagFilter(all_of=("a", "b")), ["a"], False),
        (TagFilter(all_of=("a",)), [], False),
        (TagFilter(any_of=("a", "b")), ["b"], True),
        (TagFilter(any_of=("a", "b")), ["c"], False),
        (TagFilter(any_of=("a",)), [], False),
        (TagFilter(not_all_of=("a", "b")), ["a", "b"], False),
        (TagFilter(not_all_of=("a", "b")), ["a", "b", "c"], False),
        (TagFilter(not_all_of=("a", "b")), ["a"], True),
        (TagFilter(not_all_of=("a", "b")), [], True),
        (TagFilter(not_any_of=("a", "b")), ["b"], False),
        (TagFilter(not_any_of=("a", "b")), ["c"], True),
        (TagFilter(not_any_of=("a",)), [], True),
        (TagFilter(all_of=("a",), not_any_of=("x",)), ["a"], True),
        (TagFilter(all_of=("a",), not_any_of=("x",)), ["a", "x"], False),
        (TagFilter(all_of=("a",), any_of=("b", "c")), ["a", "c"], True),
        (TagFilter(all_of=("a",), any_of=("b", "c")), ["a"], False),
        (TagFilter(any_of=("a",), not_all_of=("a", "b")), ["a", "b"], False),
        (TagFilter(all_of=("a", "a")), ["a"], True),
    ],
)
def test_tag_filter(session: Session, tag_filter: TagFilter, tags: list[str],
                    expected: bool) -> None:
    session.add_all([Tag(resource_id="r", tag=t, resource_type="network") for t in tags])
    session.add(Tag(resource_id="other", tag="a", resource_type="network"))  # not r's
    found = session.scalar(select(literal(1)).where(*tag_filter.conditions(literal("r"))))
    assert (found == 1) is expected


# --- filters on ports: in SQL where they map, else on the representation ----------------


def _add_port(session: Session, pid: str, name: str, addresses: list[tuple[str, str]],
              groups: list[str]) -> None:
    session.add(Port(id=pid, name=name, network_id="n", mac_address=f"fa:16:3e:00:00:{pid}",
                     admin_state_up=False, project_id="p", created_at=NOW, updated_at=NOW))
    session.add_all([IpAllocation(port_id=pid, subnet_id=s, ip_address=a, network_id="n",
                                  position=i) for i, (s, a) in enumerate(addresses)])
    session.add_all([PortSecurityGroup(port_id=pid, security_group_id=g, position=i)
                     for i, g in enumerate(groups)])
    session.flush()


@pytest.fixture()
def ports(session: Session) -> Session:
    _add_port(session, "p1", "port1", [("s4", "10.0.0.5"), ("s6", "fd00::5")], ["sg1", "sg2"])
    _add_port(session, "p2", "port2", [], [])
    return session


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["p1", "p2"]),
        ({"name": ("port1",)}, ["p1"]),
        ({"name": ("other", "port1")}, ["p1"]),
        ({"name": ("other",)}, []),
        ({"admin_state_up": (False,)}, ["p1", "p2"]),
        ({"admin_state_up": (True,)}, []),
        ({"created_at": ("2024-05-06T07:08:09Z",)}, ["p1", "p2"]),
        ({"created_at": ("2024-05-06T07:08:10Z",)}, []),
        ({"binding:vif_type": ("unbound",)}, ["p1", "p2"]),
        ({"security_groups": ("sg2",)}, ["p1"]),
        ({"security_groups": ("sg3", "sg1")}, ["p1"]),
        ({"security_groups": ("sg3",)}, []),
        ({"name": ("port1",), "admin_state_up": (True,)}, []),
        ({"missing": ("x",)}, []),
        ({"missing": (None,)}, ["p1", "p2"]),
        ({"fixed_ips": ("ip_address=10.0.0.5",)}, ["p1"]),
        ({"fixed_ips": ("ip_address=10.0.0.6",)}, []),
        ({"fixed_ips": ("ip_address=10.0.0.5", "subnet_id=s4")}, ["p1"]),
        # Both keys must hold for one and the same address.
        ({"fixed_ips": ("ip_address=10.0.0.5", "subnet_id=s6")}, []),
        ({"fixed_ips": ("subnet_id=s6",)}, ["p1"]),
        ({"fixed_ips": ("subnet_id=s1", "subnet_id=s6")}, ["p1"]),
        ({"fixed_ips": ("ip_address_substr=0.0.",)}, ["p1"]),
        ({"fixed_ips": ("ip_address_substr=FD00",)}, []),  # case-sensitive, unlike LIKE
        ({"fixed_ips": ("ip_address_substr=%",)}, []),  # no wildcards
        ({"fixed_ips": ("ip_address_substr=",)}, ["p1"]),
        ({"fixed_ips": ("ip_address_substr=fd00", "subnet_id=s4")}, []),
        ({"fixed_ips": ("ip_address_substr=fd00", "subnet_id=s6")}, ["p1"]),
        ({"fixed_ips": ("ip_address_substr=zz", "ip_address_substr=::5")}, ["p1"]),
        ({"fixed_ips": ("subnet_id=s4",), "name": ("nope",)}, []),
        ({"allowed_address_pairs": ("10.0.0.9",)}, []),  # left to the representation
    ],
)
def test_port_filters(ports: Session, filters: dict[str, tuple[Any, ...]],
                      expected: list[str]) -> None:
    for query in (ListQuery(filters=filters), ListQuery(filters=filters, limit=1)):
        page = select_page(ports, select(Port), PORTS, port_dict, query)
        assert [p["id"] for p in page] == expected[:query.limit]


@pytest.mark.parametrize("bad", ["mac_address=fa:16:3e:00:00:01", "10.0.0.5", "=x"])
def test_fixed_ips_filter_unknown_key(session: Session, bad: str) -> None:
    """Refused before any row is read, even when there is none."""
    with pytest.raises(errors.InvalidInput) as exc:
        select_page(session, select(Port), PORTS, port_dict,
                    ListQuery(filters={"fixed_ips": (bad,)}))
    assert exc.value.message == (
        f"Invalid input for operation: '{bad}' is not a valid fixed_ips filter"
    )


def test_equal_to_any_matches_null_only_when_asked(session: Session) -> None:
    for sid, gateway in (("s1", None), ("s2", "10.0.0.1"), ("s3", "10.0.1.1")):
        session.add(Subnet(id=sid, network_id="n", ip_version=4, cidr="10.0.0.0/24",
                           gateway_ip=gateway, dhcp_server_mac="m", project_id="p",
                           created_at=NOW, updated_at=NOW))
    session.flush()

    def found(*wanted: Any) -> list[str]:
        stmt = select(Subnet.id).where(equal_to_any(Subnet.gateway_ip, wanted))
        return sorted(session.scalars(stmt))

    assert found("10.0.0.1") == ["s2"]
    assert found(None) == ["s1"]
    assert found("10.0.1.1", None) == ["s1", "s3"]


# --- what each resource filters in SQL ----------------------------------------------------

LISTINGS: dict[str, ListSpec] = {
    "networks": NETWORKS, "subnets": SUBNETS, "ports": PORTS,
    "security_groups": SecurityGroupService.listing,
    "security_group_rules": RuleService.listing,
    "routers": RouterService.listing, "floatingips": FloatingIpService.listing,
    "rbac_policies": RbacService.listing,
    "address_groups": AddressGroupService.listing,
    "default_security_group_rules": DefaultRuleService.listing,
    "subnetpools": SubnetPoolService.listing, "address_scopes": AddressScopeService.listing,
}
# Attributes without a SQL form: list- or dict-valued columns, constants, and values
# computed from other rows. Everything else filters and sorts in SQL.
LEFT_TO_PYTHON = {
    "networks": {"availability_zone_hints", "availability_zones", "ipv4_address_scope",
                 "ipv6_address_scope", "l2_adjacency", "segments"},
    "subnets": {"allocation_pools", "dns_nameservers", "host_routes", "service_types",
                "segment_id", "prefixlen", "use_default_subnetpool"},  # last two never shown
    "subnetpools": {"prefixes"},
    "address_scopes": set(),
    "ports": {"allowed_address_pairs", "extra_dhcp_opts", "binding:profile",
              "binding:vif_details", "dns_assignment", "trunk_details"},
    "security_groups": {"security_group_rules"},
    "security_group_rules": {"normalized_cidr"},
    "routers": {"external_gateway_info", "routes", "availability_zone_hints",
                "availability_zones"},
    "floatingips": {"subnet_id", "port_details"},
    "rbac_policies": set(),
    "address_groups": set(),
    "default_security_group_rules": {"tenant_id", "project_id"},
}


@pytest.mark.parametrize("collection", sorted(LISTINGS))
def test_filters_left_to_python(collection: str) -> None:
    attrs = set(SPECS[collection].attrs) - {"tags"}  # tags filter through tags=, tags-any=
    _, rest = LISTINGS[collection].pushdown({attr: ("subnet_id=1",) for attr in attrs})
    assert set(rest) == LEFT_TO_PYTHON[collection]


@pytest.mark.parametrize("collection", sorted(LISTINGS))
def test_sortable_in_sql(collection: str) -> None:
    listing = LISTINGS[collection]
    attrs = set(SPECS[collection].attrs) - {"tags"}
    in_sql = {a for a in attrs if listing.sort_keys([(a, True)], "sqlite") is not None}
    assert in_sql == attrs - LEFT_TO_PYTHON[collection] - set(listing.filters)


# --- matches: filters on the API representation ------------------------------------------

ITEM = {"id": "p1", "name": "port1", "admin_state_up": False, "security_groups": ["sg1", "sg2"],
        "binding:profile": {}}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"name": ("other", "port1")}, True),
        ({"name": ("other",)}, False),
        ({"admin_state_up": (False,)}, True),
        ({"security_groups": ("sg3", "sg1")}, True),
        ({"security_groups": ("sg3",)}, False),
        ({"binding:profile": ("{}",)}, False),
        ({"missing": ("x",)}, False),
        ({"missing": (None,)}, True),
    ],
)
def test_matches(filters: dict[str, tuple[Any, ...]], expected: bool) -> None:
    assert matches(ITEM, filters) is expected


# --- sort_items -----------------------------------------------------------------------


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [d["id"] for d in items]


ITEMS = [
    {"id": "c", "name": "b", "mtu": 1500, "tags": []},
    {"id": "a", "name": "b", "mtu": 1442, "tags": ["x"]},
    {"id": "d", "name": None, "mtu": 1500, "tags": ["a"]},
    {"id": "b", "name": "a", "mtu": 1442, "tags": []},
    {"id": "e", "name": "c", "mtu": 9000},
]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        pytest.param((), ["a", "b", "c", "d", "e"], id="default-id"),
        pytest.param((("name", True),), ["d", "b", "a", "c", "e"], id="name-none-first-id-tie"),
        pytest.param((("name", False),), ["e", "c", "a", "b", "d"], id="name-desc-id-tie-desc"),
        pytest.param((("mtu", True), ("name", True)), ["b", "a", "d", "c", "e"],
                     id="multi-key"),
        pytest.param((("mtu", True), ("name", False)), ["a", "b", "c", "d", "e"],
                     id="multi-key-mixed"),
        pytest.param((("mtu", False), ("id", True)), ["e", "c", "d", "a", "b"],
                     id="explicit-id-asc"),
        pytest.param((("id", False),), ["e", "d", "c", "b", "a"], id="id-desc"),
        pytest.param((("tags", True),), ["e", "d", "a", "b", "c"],
                     id="lists-by-text-missing-first"),
        pytest.param((("missing", True),), ["a", "b", "c", "d", "e"], id="missing-attr"),
    ],
)
def test_sort_items(sort: tuple[tuple[str, bool], ...], expected: list[str]) -> None:
    assert ids(sort_items(list(ITEMS), sort)) == expected


def test_sort_items_does_not_mutate_input() -> None:
    items = list(ITEMS)
    sort_items(items, (("name", True),))
    assert items == ITEMS


# --- paginate -------------------------------------------------------------------------

PAGE = [{"id": i} for i in "abcdef"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(ListQuery(), "abcdef", id="everything"),
        pytest.param(ListQuery(limit=2), "ab", id="first-page"),
        pytest.param(ListQuery(limit=10), "abcdef", id="limit-above-size"),
        pytest.param(ListQuery(marker="b"), "cdef", id="marker-no-limit"),
        pytest.param(ListQuery(marker="b", limit=2), "cd", id="marker-forward"),
        pytest.param(ListQuery(marker="e", limit=3), "f", id="marker-near-end"),
        pytest.param(ListQuery(marker="f", limit=3), "", id="marker-last"),
        pytest.param(ListQuery(page_reverse=True, limit=2), "ef", id="reverse-no-marker"),
        pytest.param(ListQuery(page_reverse=True), "abcdef", id="reverse-no-limit"),
        pytest.param(ListQuery(marker="e", page_reverse=True, limit=2), "cd", id="reverse"),
        pytest.param(ListQuery(marker="b", page_reverse=True, limit=3), "a",
                     id="reverse-near-start"),
        pytest.param(ListQuery(marker="a", page_reverse=True, limit=3), "", id="reverse-first"),
        pytest.param(ListQuery(marker="e", page_reverse=True), "abcd",
                     id="reverse-marker-no-limit"),
    ],
)
def test_paginate(query: ListQuery, expected: str) -> None:
    assert "".join(ids(paginate(list(PAGE), query))) == expected


@pytest.mark.parametrize("reverse", [False, True])
def test_paginate_unknown_marker(reverse: bool) -> None:
    with pytest.raises(errors.NotFound) as exc:
        paginate(list(PAGE), ListQuery(marker="zz", limit=2, page_reverse=reverse))
    assert exc.value.message == "Marker zz could not be found."


def test_pages_cover_everything_once() -> None:
    """Walking forward page by page with the last id as marker visits each item once."""
    items = sort_items([{"id": f"{i:02d}", "n": i % 3} for i in range(11)], (("n", True),))
    seen: list[str] = []
    marker = None
    while True:
        page = paginate(items, ListQuery(limit=4, marker=marker))
        if not page:
            break
        seen += ids(page)
        marker = page[-1]["id"]
    assert seen == ids(items)
    assert sorted(seen) == [f"{i:02d}" for i in range(11)]
