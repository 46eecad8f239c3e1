"""parse_query (query strings → ListQuery + fields) and page_links (`*_links`)."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino import errors
from neutrino.api.attributes import NETWORK, PORT, SUBNET, ResourceSpec
from neutrino.api.query import ParsedQuery, page_links, parse_query, select_fields
from neutrino.services.listing import ListQuery, TagFilter

BASE = "http://127.0.0.1:9696/v2.0/networks"


def parsed(fields: tuple[str, ...] = (), **query: Any) -> ParsedQuery:
    return ParsedQuery(ListQuery(**query), fields)


@pytest.mark.parametrize(
    ("spec", "items", "expected"),
    [
        pytest.param(NETWORK, [], parsed(), id="empty"),
        pytest.param(
            NETWORK, [("name", "a"), ("name", "b")],
            parsed(filters={"name": ("a", "b")}), id="repeated-filter-collected",
        ),
        pytest.param(
            NETWORK, [("admin_state_up", "false"), ("shared", "True")],
            parsed(filters={"admin_state_up": (False,), "shared": (True,)}),
            id="bool-filters-converted",
        ),
        pytest.param(
            NETWORK, [("mtu", "1500"), ("revision_number", "3"), ("l2_adjacency", "true")],
            parsed(filters={"mtu": (1500,), "revision_number": (3,), "l2_adjacency": (True,)}),
            id="int-and-query-converters",
        ),
        pytest.param(
            NETWORK, [("status", "ACTIVE"), ("tenant_id", "t1"), ("id", "x")],
            parsed(filters={"status": ("ACTIVE",), "tenant_id": ("t1",), "id": ("x",)}),
            id="plain-values",
        ),
        pytest.param(
            SUBNET, [("ip_version", "6"), ("dns_nameservers", "8.8.8.8"),
                     ("enable_dhcp", "0")],
            parsed(filters={"ip_version": (6,), "dns_nameservers": ("8.8.8.8",),
                            "enable_dhcp": (False,)}),
            id="subnet-filters",
        ),
        pytest.param(
            PORT, [("fixed_ips", "ip_address=10.0.0.5"), ("fixed_ips", "subnet_id=s1"),
                   ("port_security_enabled", "false"), ("device_owner", "")],
            parsed(filters={"fixed_ips": ("ip_address=10.0.0.5", "subnet_id=s1"),
                            "port_security_enabled": (False,), "device_owner": ("",)}),
            id="port-filters",
        ),
        pytest.param(
            NETWORK, [("fields", "id"), ("fields", "name")],
            parsed(fields=("id", "name")), id="fields-collected",
        ),
        pytest.param(
            NETWORK,
            [("tags", "a,b"), ("tags", "c"), ("tags-any", "x,,y"), ("not-tags", "n"),
             ("not-tags-any", "m1,m2")],
            parsed(tags=TagFilter(all_of=("a", "b", "c"), any_of=("x", "y"),
                                  not_all_of=("n",), not_any_of=("m1", "m2"))),
            id="tag-lists",
        ),
        pytest.param(NETWORK, [("tags", "")], parsed(tags=TagFilter()), id="empty-tags"),
        pytest.param(
            NETWORK, [("sort_key", "name"), ("sort_dir", "desc"),
                      ("sort_key", "id"), ("sort_dir", "asc")],
            parsed(sort=(("name", False), ("id", True))), id="sort-pairs",
        ),
        pytest.param(
            NETWORK, [("sort_key", "name"), ("sort_key", "mtu")],
            parsed(sort=(("name", True), ("mtu", True))), id="sort-default-asc",
        ),
        pytest.param(NETWORK, [("limit", "10")], parsed(limit=10), id="limit"),
        pytest.param(NETWORK, [("limit", "0")], parsed(), id="limit-zero-is-none"),
        pytest.param(NETWORK, [("limit", "5"), ("limit", "3")], parsed(limit=3),
                     id="last-limit-wins"),
        pytest.param(
            NETWORK, [("marker", "m1"), ("marker", "m2"), ("page_reverse", "true")],
            parsed(marker="m2", page_reverse=True), id="marker-and-reverse",
        ),
        pytest.param(NETWORK, [("page_reverse", "False")], parsed(), id="reverse-false"),
        pytest.param(
            NETWORK,
            [("limit", "2"), ("name", "n"), ("fields", "id"), ("tags", "t"),
             ("sort_key", "name"), ("marker", "m")],
            parsed(fields=("id",), filters={"name": ("n",)}, tags=TagFilter(all_of=("t",)),
                   sort=(("name", True),), limit=2, marker="m"),
            id="everything",
        ),
    ],
)
def test_parse_query(spec: ResourceSpec, items: list[tuple[str, str]],
                     expected: ParsedQuery) -> None:
    assert parse_query(spec, items) == expected


@pytest.mark.parametrize(
    ("spec", "items", "message"),
    [
        pytest.param(NETWORK, [("bogus", "1")], "bogus is invalid attribute for filtering",
                     id="unknown-filter"),
        pytest.param(NETWORK, [("cidr", "10.0.0.0/24")],
                     "cidr is invalid attribute for filtering", id="other-resources-attr"),
        pytest.param(NETWORK, [("admin_state_up", "maybe")],
                     "Invalid input for admin_state_up. Reason: "
                     "'maybe' cannot be converted to boolean.", id="bad-bool-filter"),
        pytest.param(NETWORK, [("mtu", "big")],
                     "Invalid input for mtu. Reason: 'big' is not an integer.",
                     id="bad-int-filter"),
        pytest.param(SUBNET, [("ip_version", "5")],
                     "Invalid input for ip_version. Reason: 5 is not in [4, 6].",
                     id="bad-ip-version-filter"),
        pytest.param(NETWORK, [("sort_key", "bogus")],
                     "bogus is an invalid attribute for sort_key", id="bad-sort-key"),
        pytest.param(NETWORK, [("sort_key", "name"), ("sort_dir", "up")],
                     "up is an invalid value for sort_dir, valid values are 'asc' and 'desc'",
                     id="bad-sort-dir"),
        pytest.param(NETWORK, [("sort_key", "name"), ("sort_key", "id"), ("sort_dir", "asc")],
                     "The number of sort_keys and sort_dirs must be same",
                     id="fewer-dirs"),
        pytest.param(NETWORK, [("sort_dir", "asc")],
                     "The number of sort_keys and sort_dirs must be same", id="dir-without-key"),
        pytest.param(NETWORK, [("limit", "abc")],
                     "Limit must be an integer 0 or greater and not 'abc'", id="limit-text"),
        pytest.param(NETWORK, [("limit", "-1")],
                     "Limit must be an integer 0 or greater and not '-1'", id="limit-negative"),
        pytest.param(NETWORK, [("limit", "")],
                     "Limit must be an integer 0 or greater and not ''", id="limit-empty"),
        pytest.param(NETWORK, [("limit", "2.5")],
                     "Limit must be an integer 0 or greater and not '2.5'", id="limit-float"),
        pytest.param(NETWORK, [("page_reverse", "maybe")],
                     "Invalid input for page_reverse. Reason: "
                     "'maybe' cannot be converted to boolean.", id="bad-page-reverse"),
    ],
)
def test_parse_query_rejects(spec: ResourceSpec, items: list[tuple[str, str]],
                             message: str) -> None:
    with pytest.raises(errors.BadRequest) as exc:
        parse_query(spec, items)
    assert exc.value.message == message


def test_parse_query_limit_superscript_digit_is_bad_request() -> None:
    with pytest.raises(errors.BadRequest):
        parse_query(NETWORK, [("limit", "²")])


@pytest.mark.parametrize(
    ("item", "fields", "expected"),
    [
        ({"id": "1", "name": "n"}, (), {"id": "1", "name": "n"}),
        ({"id": "1", "name": "n"}, ("id",), {"id": "1"}),
        ({"id": "1", "name": "n"}, ("id", "bogus"), {"id": "1"}),
    ],
)
def test_select_fields(item: dict[str, Any], fields: tuple[str, ...],
                       expected: dict[str, Any]) -> None:
    assert select_fields(item, fields) == expected


def page(*ids: str) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


@pytest.mark.parametrize(
    ("items", "result", "expected"),
    [
        pytest.param([], page("a", "b"), {}, id="no-limit-no-links"),
        pytest.param([("limit", "2")], page("a"), {}, id="short-first-page"),
        pytest.param([("limit", "2")], [], {}, id="empty-page"),
        pytest.param(
            [("limit", "2")], page("a", "b"),
            {"networks_links": [{"rel": "next", "href": f"{BASE}?limit=2&marker=b"}]},
            id="full-first-page-next",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m")], page("c", "d"),
            {"networks_links": [
                {"rel": "next", "href": f"{BASE}?limit=2&marker=d"},
                {"rel": "previous", "href": f"{BASE}?limit=2&marker=c&page_reverse=True"},
            ]},
            id="full-page-after-marker-next-and-previous",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m")], page("e"),
            {"networks_links": [
                {"rel": "previous", "href": f"{BASE}?limit=2&marker=e&page_reverse=True"},
            ]},
            id="last-page-previous-only",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m")], [],
            {"networks_links": [{"rel": "previous", "href": f"{BASE}?limit=2&page_reverse=True"}]},
            id="empty-page-past-the-end-links-back-to-the-last-page",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m"), ("page_reverse", "True")], [],
            {"networks_links": [{"rel": "next", "href": f"{BASE}?limit=2"}]},
            id="empty-page-before-the-start-links-to-the-first-page",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m"), ("page_reverse", "True")], page("c", "d"),
            {"networks_links": [
                {"rel": "previous", "href": f"{BASE}?limit=2&marker=c&page_reverse=True"},
                {"rel": "next", "href": f"{BASE}?limit=2&marker=d"},
            ]},
            id="reverse-full-page",
        ),
        pytest.param(
            [("limit", "2"), ("marker", "m"), ("page_reverse", "true")], page("a"),
            {"networks_links": [{"rel": "next", "href": f"{BASE}?limit=2&marker=a"}]},
            id="reverse-first-page-next-only",
        ),
        pytest.param(
            [("name", "a b"), ("limit", "1"), ("tags", "x,y"), ("sort_key", "name")],
            page("a"),
            {"networks_links": [{
                "rel": "next",
                "href": f"{BASE}?name=a+b&limit=1&tags=x%2Cy&sort_key=name&marker=a",
            }]},
            id="other-params-kept-and-encoded",
        ),
    ],
)
def test_page_links(items: list[tuple[str, str]], result: list[dict[str, str]],
                    expected: dict[str, Any]) -> None:
    query = parse_query(NETWORK, items).query
    assert page_links(BASE, items, result, query, "networks") == expected
