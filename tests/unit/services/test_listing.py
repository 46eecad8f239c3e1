"""Pure parts of listing: tag filters, filter matching, sorting and marker pagination."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino import errors
from neutrino.services.listing import (
    ListQuery,
    TagFilter,
    _fixed_ips_match,
    _matches,
    paginate,
    sort_items,
)

# --- TagFilter ------------------------------------------------------------------------


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
def test_tag_filter(tag_filter: TagFilter, tags: list[str], expected: bool) -> None:
    assert tag_filter.matches(tags) is expected


# --- _matches / _fixed_ips_match ------------------------------------------------------

PORT = {
    "id": "p1",
    "name": "port1",
    "admin_state_up": False,
    "security_groups": ["sg1", "sg2"],
    "fixed_ips": [
        {"subnet_id": "s4", "ip_address": "10.0.0.5"},
        {"subnet_id": "s6", "ip_address": "fd00::5"},
    ],
}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"name": ("port1",)}, True),
        ({"name": ("other", "port1")}, True),
        ({"name": ("other",)}, False),
        ({"admin_state_up": (False,)}, True),
        ({"admin_state_up": (True,)}, False),
        ({"security_groups": ("sg2",)}, True),
        ({"security_groups": ("sg3", "sg1")}, True),
        ({"security_groups": ("sg3",)}, False),
        ({"name": ("port1",), "admin_state_up": (True,)}, False),
        ({"missing": ("x",)}, False),
        ({"missing": (None,)}, True),
        ({"fixed_ips": ("ip_address=10.0.0.5",)}, True),
        ({"fixed_ips": ("ip_address=10.0.0.6",)}, False),
        ({"fixed_ips": ("ip_address=10.0.0.5", "subnet_id=s4")}, True),
        # Both keys must hold for one and the same address.
        ({"fixed_ips": ("ip_address=10.0.0.5", "subnet_id=s6")}, False),
        ({"fixed_ips": ("subnet_id=s6",)}, True),
        ({"fixed_ips": ("subnet_id=s1", "subnet_id=s6")}, True),
        ({"fixed_ips": ("ip_address_substr=0.0.",)}, True),
        ({"fixed_ips": ("ip_address_substr=fd00", "subnet_id=s4")}, False),
        ({"fixed_ips": ("ip_address_substr=fd00", "subnet_id=s6")}, True),
        ({"fixed_ips": ("ip_address_substr=zz", "ip_address_substr=::5")}, True),
        ({"fixed_ips": ("subnet_id=s4",), "name": ("nope",)}, False),
    ],
)
def test_matches(filters: dict[str, tuple[Any, ...]], expected: bool) -> None:
    assert _matches(PORT, filters) is expected


def test_fixed_ips_filter_on_port_without_addresses() -> None:
    assert _matches({"id": "p"}, {"fixed_ips": ("subnet_id=s4",)}) is False
    assert _fixed_ips_match([], ("ip_address=10.0.0.5",)) is False


@pytest.mark.parametrize("bad", ["mac_address=fa:16:3e:00:00:01", "10.0.0.5", "=x"])
def test_fixed_ips_filter_unknown_key(bad: str) -> None:
    with pytest.raises(errors.InvalidInput) as exc:
        _fixed_ips_match(PORT["fixed_ips"], (bad,))
    assert exc.value.message == (
        f"Invalid input for operation: '{bad}' is not a valid fixed_ips filter"
    )


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
