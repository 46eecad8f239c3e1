"""Listing every resource through the API on SQLite and on PostgreSQL: paging with
limit/marker (forwards by `next` links, backwards by `previous` links from page_reverse)
yields exactly the unpaged listing, which is filtered and ordered as the API defines it
(NULL first ascending, text by code point, `id` breaking ties); and a page reads about
`limit` rows, not the table."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import psycopg
import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from neutrino.bootstrap import Neutrino, build
from neutrino.db.models import Network, Port
from neutrino.errors import NotFound
from neutrino.ovn.local import LocalOvn
from neutrino.services import ports as port_service
from neutrino.services.context import Context
from neutrino.services.listing import SCAN_CHUNK, ListQuery
from neutrino.settings import DEFAULT_QUOTAS, load_settings

ENVELOPES = {"networks": "networks", "subnets": "subnets", "ports": "ports",
             "security-groups": "security_groups",
             "security-group-rules": "security_group_rules", "routers": "routers",
             "floatingips": "floatingips"}
LIMITS = (1, 3, 10)
# Ties, case, punctuation and non-ASCII: code point order is 'B' < 'Z' < '_' < 'a' < 'ä'.
NAMES = ("alpha", "Bravo", "alpha", "ärger", "_x", "Zulu", "", "Bravo")
TAGS = (["red"], ["blue"], ["red", "blue"], [], ["green"])
UNLIMITED = {f"NEUTRINO_QUOTA_{name.upper()}": "-1" for name in DEFAULT_QUOTAS}


@dataclass
class Listed:
    app: Neutrino
    client: TestClient
    ids: dict[str, str] = field(default_factory=dict)

    def get(self, url: str, status: int = 200) -> dict[str, Any]:
        response = self.client.get(url)
        assert response.status_code == status, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        singular = ENVELOPES[path][:-1]
        response = self.client.post(f"/v2.0/{path}", json={singular: body})
        assert response.status_code == 201, response.text
        return response.json()[singular]

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.put(f"/v2.0/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()


# --- a neutrino per database (built, never started: nothing here needs OVN) ----------------


def _database_url(request: pytest.FixtureRequest, backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'neutrino.db'}"
    postgres = request.getfixturevalue("postgres")
    name = f"l{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(f"postgresql://postgres@{postgres.host}:{postgres.port}/postgres",
                         autocommit=True) as conn:
        # A locale collation (where 'a' < 'B'), so that code point order must be asked for.
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu "
                     "ICU_LOCALE 'en-US'")
    return postgres.url(name)


@contextlib.contextmanager
def _neutrino(request: pytest.FixtureRequest, ovn: LocalOvn, tmp: Path) -> Iterator[Listed]:
    settings = load_settings({
        "NEUTRINO_STATE_DIR": str(tmp), "NEUTRINO_OVN_NB": ovn.nb, "NEUTRINO_OVN_SB": ovn.sb,
        "NEUTRINO_DB_URL": _database_url(request, request.param, tmp), **UNLIMITED})
    app = build(settings)
    try:
        with TestClient(app.app) as client:
            yield Listed(app, client)
    finally:
        app.nb.close()
        app.db.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def listed(request: pytest.FixtureRequest, local_ovn: LocalOvn,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    with _neutrino(request, local_ovn, tmp_path_factory.mktemp("listing")) as listed:
        _populate(listed)
        yield listed


def _populate(data: Listed) -> None:
    nets = [data.post("networks", {"name": name, "shared": i % 3 == 0, "tags": TAGS[i % 5],
                                   "mtu": 1400 if i % 2 else None,
                                   "project_id": "other" if i % 4 == 3 else "mine"})
            for i, name in enumerate(NAMES)]
    ext = data.post("networks", {"name": "ext", "router:external": True})
    data.post("subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "203.0.113.0/24"})
    subnets = [data.post("subnets", {
        "network_id": nets[i % 3]["id"], "ip_version": 6 if i % 3 == 2 else 4,
        "cidr": f"fd00:{i}::/64" if i % 3 == 2 else f"10.{i}.0.0/24",
        "name": NAMES[i], "tags": TAGS[i % 5], "enable_dhcp": i % 2 == 0,
        "dns_nameservers": ([] if i % 2 == 0 else ["2001:db8::53"] if i % 3 == 2 else
                            ["192.0.2.53"]),
        **({"gateway_ip": None} if i % 4 == 3 else {}),
        **({"ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"} if i == 5 else {}),
    }) for i in range(8)]
    groups = [data.post("security-groups", {"name": NAMES[i], "tags": TAGS[i % 5]})
              for i in range(5)]
    for i, group in enumerate(groups):
        for rule in _rules(i):
            data.post("security-group-rules", {"security_group_id": group["id"], **rule})
    ports = [data.post("ports", {
        "network_id": nets[i % 2]["id"], "name": NAMES[i % 8], "tags": TAGS[i % 5],
        "device_owner": ("compute:nova", "", "compute:az")[i % 3], "device_id": f"vm{i % 4}",
        "binding:host_id": "host1" if i % 5 == 2 else "",
        "security_groups": [groups[i % 5]["id"]] if i % 2 else [],
    }) for i in range(20)]
    routers = [data.post("routers", {"name": NAMES[i], "tags": TAGS[i % 5]}) for i in range(3)]
    data.put(f"routers/{routers[0]['id']}", {"router": {"external_gateway_info": {
        "network_id": ext["id"]}}})
    data.put(f"routers/{routers[0]['id']}/add_router_interface", {"subnet_id": subnets[0]["id"]})
    address = next(ip for p in ports for ip in p["fixed_ips"]
                   if ip["subnet_id"] == subnets[0]["id"])
    on_subnet0 = next(p for p in ports if address in p["fixed_ips"])
    for i in range(4):
        data.post("floatingips", {"floating_network_id": ext["id"], "tags": TAGS[i], **(
            {"port_id": on_subnet0["id"], "fixed_ip_address": address["ip_address"]}
            if i == 2 else {})})
    data.ids.update(net1=nets[1]["id"], sg1=groups[1]["id"], subnet0=subnets[0]["id"],
                    fip_port=on_subnet0["id"],
                    private_other=next(n["id"] for n in nets
                                       if n["project_id"] == "other" and not n["shared"]))


def _rules(i: int) -> list[dict[str, Any]]:
    return [
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22 + i,
         "port_range_max": 22 + i},
        {"direction": "ingress", "protocol": "udp", "remote_ip_prefix": f"10.{i}.0.0/16"},
        {"direction": "egress", "protocol": "icmp", "ethertype": "IPv4",
         "remote_ip_prefix": "192.0.2.0/24"} if i % 2 else
        {"direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
         "port_range_min": 80, "port_range_max": 89},
    ]


# --- what a listing must be: the reference ----------------------------------------------


def _rank(value: Any) -> tuple[Any, ...]:
    if value is None:
        return (0,)
    return (1, str(value) if isinstance(value, list | dict) else value)


def reference_order(items: list[dict[str, Any]], query: str) -> list[str]:
    """The API's order: the sort keys, then `id` in the direction of the last one; NULL
    first ascending, last descending; lists and dicts by their text."""
    params = parse_qsl(query)
    keys = list(zip([v for k, v in params if k == "sort_key"],
                    [v == "asc" for k, v in params if k == "sort_dir"] or
                    [True] * 10, strict=False))
    keys.append(("id", keys[-1][1] if keys else True))

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for attr, ascending in keys:
            left, right = _rank(a.get(attr)), _rank(b.get(attr))
            if left != right:
                return (-1 if left < right else 1) * (1 if ascending else -1)
        return 0

    return [i["id"] for i in sorted(items, key=functools.cmp_to_key(compare))]


Keep = Callable[[dict[str, Any], dict[str, str]], bool]


def _tagged(*wanted: str) -> Keep:
    return lambda item, ids: bool(set(wanted) & set(item["tags"]))


ALL = None
# (collection, query string with {name} placeholders for ids, which items the filters keep)
CASES: list[tuple[str, str, Keep | None]] = [
    ("networks", "", ALL),
    ("networks", "sort_key=name&sort_dir=asc", ALL),
    ("networks", "sort_key=name&sort_dir=desc", ALL),
    ("networks", "sort_key=shared&sort_dir=desc&sort_key=name&sort_dir=asc", ALL),
    ("networks", "sort_key=mtu&sort_key=name", ALL),
    ("networks", "sort_key=provider:segmentation_id&sort_dir=desc", ALL),
    ("networks", "sort_key=created_at&sort_dir=desc&sort_key=name&sort_dir=desc", ALL),
    ("networks", "sort_key=tenant_id&sort_dir=desc&sort_key=name&sort_dir=asc", ALL),
    ("networks", "shared=true&shared=false&tags-any=red,green&sort_key=name",
     _tagged("red", "green")),
    ("networks", "tags=red&not-tags=blue&sort_key=name&sort_dir=desc",
     lambda n, ids: "red" in n["tags"] and "blue" not in n["tags"]),
    ("networks", "tenant_id=other&sort_key=name", lambda n, ids: n["project_id"] == "other"),
    ("networks", "subnets={subnet0}", lambda n, ids: ids["subnet0"] in n["subnets"]),
    ("networks", "l2_adjacency=true&sort_key=name&sort_dir=desc", ALL),  # checked in Python
    ("networks", "sort_key=subnets&sort_dir=desc", ALL),  # a list: sorted in memory
    ("subnets", "", ALL),
    ("subnets", "sort_key=gateway_ip&sort_dir=desc&sort_key=name&sort_dir=asc", ALL),
    ("subnets", "sort_key=gateway_ip", ALL),
    ("subnets", "sort_key=ipv6_address_mode&sort_dir=desc&sort_key=cidr&sort_dir=asc", ALL),
    ("subnets", "ip_version=6", lambda s, ids: s["ip_version"] == 6),
    ("subnets", "dns_nameservers=192.0.2.53&sort_key=cidr",  # checked in Python
     lambda s, ids: "192.0.2.53" in s["dns_nameservers"]),
    ("subnets", "enable_dhcp=false&sort_key=updated_at&sort_dir=desc",
     lambda s, ids: not s["enable_dhcp"]),
    ("ports", "", ALL),
    ("ports", "sort_key=name&sort_dir=desc", ALL),
    ("ports", "sort_key=device_owner&sort_dir=asc&sort_key=name&sort_dir=desc", ALL),
    ("ports", "sort_key=binding:vif_type&sort_dir=desc&sort_key=device_id&sort_dir=asc", ALL),
    ("ports", "network_id={net1}&tags-any=red&sort_key=name",
     lambda p, ids: p["network_id"] == ids["net1"] and "red" in p["tags"]),
    ("ports", "fixed_ips=ip_address_substr=10.1.&sort_key=mac_address&sort_dir=desc",
     lambda p, ids: any("10.1." in ip["ip_address"] for ip in p["fixed_ips"])),
    ("ports", "security_groups={sg1}&sort_key=name",
     lambda p, ids: ids["sg1"] in p["security_groups"]),
    ("ports", "device_owner=compute:nova&device_owner=&not-tags-any=blue",
     lambda p, ids: p["device_owner"] in ("compute:nova", "") and "blue" not in p["tags"]),
    ("ports", "sort_key=fixed_ips", ALL),  # a list: sorted in memory
    ("security-groups", "", ALL),
    ("security-groups", "sort_key=name&sort_dir=desc", ALL),
    ("security-groups", "tags-any=red&sort_key=name", _tagged("red")),
    ("security-groups", "sort_key=description&sort_key=name&sort_dir=asc&sort_dir=desc", ALL),
    ("security-group-rules", "", ALL),
    ("security-group-rules", "sort_key=protocol&sort_dir=desc&sort_key=port_range_min"
     "&sort_dir=asc", ALL),
    ("security-group-rules", "sort_key=remote_ip_prefix", ALL),
    ("security-group-rules", "direction=ingress&sort_key=ethertype&sort_dir=desc",
     lambda r, ids: r["direction"] == "ingress"),
    ("security-group-rules", "sort_key=normalized_cidr&sort_dir=desc", ALL),  # in memory
    ("routers", "", ALL),
    ("routers", "sort_key=name&sort_dir=desc", ALL),
    ("routers", "sort_key=status&sort_key=name", ALL),
    ("routers", "sort_key=admin_state_up&sort_key=project_id", ALL),
    ("floatingips", "", ALL),
    ("floatingips", "sort_key=router_id&sort_dir=desc", ALL),
    ("floatingips", "port_id={fip_port}&sort_key=status",
     lambda f, ids: f["port_id"] == ids["fip_port"]),
    ("floatingips", "sort_key=fixed_ip_address&sort_key=floating_ip_address", ALL),
    ("floatingips", "status=DOWN&tags-any=red,blue",
     lambda f, ids: f["status"] == "DOWN" and bool({"red", "blue"} & set(f["tags"]))),
]


def _url(path: str, query: str, **more: Any) -> str:
    extra = "&".join(f"{k}={v}" for k, v in more.items())
    return f"/v2.0/{path}?{'&'.join(q for q in (query, extra) if q)}"


def _link(body: dict[str, Any], envelope: str, rel: str) -> str | None:
    return next((link["href"] for link in body.get(f"{envelope}_links", [])
                 if link["rel"] == rel), None)


def _walk(data: Listed, path: str, query: str, limit: int, reverse: bool) -> list[str]:
    """Every page from one end to the other by the links, in listing order."""
    envelope = ENVELOPES[path]
    url: str | None = _url(path, query, limit=limit, **({"page_reverse": "True"}
                                                         if reverse else {}))
    pages: list[list[str]] = []
    while url is not None:
        body = data.get(url)
        page = [i["id"] for i in body[envelope]]
        assert len(page) <= limit
        pages.append(page)
        url = _link(body, envelope, "previous" if reverse else "next") if page else None
    ordered = pages[::-1] if reverse else pages
    return [i for page in ordered for i in page]


def _expected(data: Listed, path: str, query: str, keep: Keep | None) -> list[str]:
    everything = data.get(_url(path, ""))[ENVELOPES[path]]
    return reference_order([i for i in everything if keep is None or keep(i, data.ids)], query)


@pytest.mark.parametrize(("path", "query", "keep"), CASES,
                         ids=[f"{p}?{q}" for p, q, _ in CASES])
def test_pages_are_the_unpaged_listing(listed: Listed, path: str, query: str,
                                       keep: Keep | None) -> None:
    query = query.format(**listed.ids)
    unpaged = [i["id"] for i in listed.get(_url(path, query))[ENVELOPES[path]]]
    assert unpaged == _expected(listed, path, query, keep)
    assert unpaged, "a case that lists nothing proves nothing"
    for limit in LIMITS:
        assert _walk(listed, path, query, limit, reverse=False) == unpaged, limit
        assert _walk(listed, path, query, limit, reverse=True) == unpaged, limit


@pytest.mark.parametrize("path", sorted(ENVELOPES))
def test_marker_the_listing_would_not_show_is_not_found(listed: Listed, path: str) -> None:
    everything = listed.get(_url(path, ""))[ENVELOPES[path]]
    hidden = everything[0]
    query = f"id={everything[1]['id']}"  # the filter hides the marker
    for extra in ({}, {"page_reverse": "True"}, {"sort_key": "created_at"},
                  {"sort_key": "tags"}):  # a list: the in-memory path
        for marker in (hidden["id"], "no-such-id"):
            body = listed.get(_url(path, query, limit=2, marker=marker, **extra), 404)
            assert body["NeutronError"]["message"] == f"Marker {marker} could not be found."


def test_marker_filtered_out_in_python_is_not_found(listed: Listed) -> None:
    subnets = listed.get(_url("subnets", ""))["subnets"]
    without = next(s["id"] for s in subnets if "192.0.2.53" not in s["dns_nameservers"])
    body = listed.get(_url("subnets", "dns_nameservers=192.0.2.53", limit=1, marker=without),
                      404)
    assert body["NeutronError"]["message"] == f"Marker {without} could not be found."


def test_page_past_the_end_links_back(listed: Listed) -> None:
    ids = [n["id"] for n in listed.get(_url("networks", ""))["networks"]]
    body = listed.get(_url("networks", "", limit=2, marker=ids[-1]))
    assert body["networks"] == []
    assert [link["rel"] for link in body["networks_links"]] == ["previous"]
    last = listed.get(body["networks_links"][0]["href"])["networks"]
    assert [n["id"] for n in last] == ids[-2:]


def test_project_sees_own_shared_and_external_networks_page_by_page(listed: Listed) -> None:
    """Visibility scoping stays in the paged query, and a marker outside it is unknown."""
    ctx = Context(project_id="mine", is_admin=False, roles=("member",))
    everything = listed.app.networks.list(ctx, ListQuery(sort=(("name", False),)))
    assert {n["project_id"] for n in everything} == {"mine", "other", listed.app.settings
                                                      .default_project}
    assert all(n["project_id"] == "mine" or n["shared"] or n["router:external"]
               for n in everything)
    seen: list[dict[str, Any]] = []
    marker = None
    while page := listed.app.networks.list(ctx, ListQuery(sort=(("name", False),), limit=2,
                                                          marker=marker)):
        seen += page
        marker = page[-1]["id"]
    assert seen == everything
    subnets = listed.app.subnets.list(ctx, ListQuery(limit=50))
    assert {s["network_id"] for s in subnets} <= {n["id"] for n in everything}
    with pytest.raises(NotFound):
        listed.app.networks.list(ctx, ListQuery(limit=2, marker=listed.ids["private_other"]))


# --- a page reads about `limit` rows -------------------------------------------------------

MANY = 300


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def crowded(request: pytest.FixtureRequest, local_ovn: LocalOvn,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listed]:
    """MANY ports (in bulk) on one network, and MANY networks."""
    with _neutrino(request, local_ovn, tmp_path_factory.mktemp("crowded")) as data:
        response = data.client.post("/v2.0/networks", json={"networks": [
            {"name": f"n{i:03d}"} for i in range(MANY)]})
        assert response.status_code == 201, response.text
        net = response.json()["networks"][0]
        data.post("subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.0.0.0/22"})
        response = data.client.post("/v2.0/ports", json={"ports": [
            {"network_id": net["id"], "name": f"p{i % 7}"} for i in range(MANY)]})
        assert response.status_code == 201, response.text
        yield data


@contextlib.contextmanager
def counting(data: Listed) -> Iterator[dict[str, Any]]:
    """Rows turned into Port and Network objects (ports: the ids whose rows a listing
    loads, `port_listing`), and the SQL statements run."""
    seen: dict[str, Any] = {"Port": 0, "Network": 0, "sql": []}

    def loaded(target: Any, _context: Any) -> None:
        seen[type(target).__name__] += 1

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen["sql"].append(statement)

    def load_ports(session: Any, ids: list[str], *args: Any) -> Any:
        seen["Port"] += len(ids)
        return load(session, ids, *args)

    listeners = [(Port, "load", loaded), (Network, "load", loaded),
                 (data.app.db.engine, "before_cursor_execute", executed)]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    load, port_service.port_answers = port_service.port_answers, load_ports
    try:
        yield seen
    finally:
        port_service.port_answers = load
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def test_a_page_reads_the_page_not_the_table(crowded: Listed) -> None:
    everything = [p["id"] for p in crowded.get("/v2.0/ports?sort_key=name&sort_dir=desc")
                  ["ports"]]
    assert len(everything) == MANY
    marker = everything[MANY // 2]
    with counting(crowded) as seen:
        page = crowded.get(f"/v2.0/ports?sort_key=name&sort_dir=desc&limit=10&marker={marker}"
                           )["ports"]
    assert [p["id"] for p in page] == everything[MANY // 2 + 1:MANY // 2 + 11]
    assert seen["Port"] <= 11  # the page, and the marker row
    listing = [s for s in seen["sql"] if "ORDER BY" in s and "FROM ports" in s]
    assert listing and all("LIMIT" in s for s in listing)

    with counting(crowded) as seen:
        crowded.get("/v2.0/ports")
    assert seen["Port"] == MANY  # what the counter shows for reading everything


def test_filters_checked_in_python_read_chunks_until_the_page_is_full(crowded: Listed) -> None:
    with counting(crowded) as seen:
        page = crowded.get("/v2.0/networks?l2_adjacency=true&limit=5&sort_key=name")["networks"]
    assert [n["name"] for n in page] == [f"n{i:03d}" for i in range(5)]
    assert seen["Network"] == SCAN_CHUNK < MANY
