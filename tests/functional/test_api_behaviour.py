"""Neutron API behaviour: envelopes, errors, filters, fields, sorting, pagination, tags."""

from __future__ import annotations

from sqlalchemy import func, select

from neutrino.db.models import JournalEntry, Network, Port


def _post(api, collection: str, body: dict, status: int = 201) -> dict:
    singular = collection[:-1]
    response = api.post(f"/v2.0/{collection}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json()[singular] if status == 201 else response.json()


def _fault(response, status: int, fault_type: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert body["type"] == fault_type, body
    assert set(body) == {"type", "message", "detail"}
    return body["message"]


def test_discovery(api):
    versions = api.get("/").json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"provider", "binding", "standard-attr-tag", "pagination", "sorting"} <= aliases
    assert {"security-group", "router", "extraroute", "ext-gw-mode"} <= aliases
    assert api.get("/v2.0/extensions/provider").json()["extension"]["alias"] == "provider"
    _fault(api.get("/v2.0/extensions/qos-pps"), 404, "NotFound")  # OVN cannot rate packets
    health = api.get("/healthz").json()
    assert health["database"] == "ok"


def test_errors_are_neutron_faults(api):
    _fault(api.get("/v2.0/networks/00000000-0000-0000-0000-000000000000"), 404,
           "NetworkNotFound")
    _fault(api.post("/v2.0/networks", json={"network": {"bogus": 1}}), 400, "BadRequest")
    _fault(api.post("/v2.0/networks", json={"network": {"status": "DOWN"}}), 400, "BadRequest")
    _fault(api.post("/v2.0/networks", json={"network": {"admin_state_up": "maybe"}}), 400,
           "BadRequest")
    _fault(api.post("/v2.0/networks", content=b"{not json"), 400, "BadRequest")
    _fault(api.post("/v2.0/networks", json={"nets": {}}), 400, "BadRequest")
    _fault(api.get("/v2.0/nowhere"), 404, "HTTPNotFound")
    _fault(api.get("/v2.0/networks?colour=blue"), 400, "BadRequest")
    net = _post(api, "networks", {"name": "e"})
    _fault(api.post("/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                      "cidr": "10.0.0.1/24"}}), 400,
           "InvalidInput")
    _fault(api.put(f"/v2.0/networks/{net['id']}",
                   json={"network": {"provider:network_type": "vlan"}}), 400, "InvalidInput")


def test_address_conflicts_and_in_use(api):
    net = _post(api, "networks", {"name": "c"})
    subnet = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.50.0.0/24"})
    port = _post(api, "ports", {"network_id": net["id"],
                                "fixed_ips": [{"ip_address": "10.50.0.10"}]})
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.50.0.10"}]
    _fault(api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.50.0.10"}]}}),
        409, "IpAddressAlreadyAllocated")
    _fault(api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "mac_address": port["mac_address"]}}), 409, "MacAddressInUse")
    _fault(api.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.50.0.128/25"}}),
        400, "InvalidInput")
    _fault(api.delete(f"/v2.0/subnets/{subnet['id']}"), 409, "SubnetInUse")
    _fault(api.delete(f"/v2.0/networks/{net['id']}"), 409, "NetworkInUse")


def test_failed_request_leaves_nothing_behind(api, neutrino):
    net = _post(api, "networks", {"name": "atomic"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.51.0.0/24"})
    with neutrino.db.read() as session:
        journal_before = session.scalar(select(func.count()).select_from(JournalEntry))
    bulk = {"ports": [
        {"network_id": net["id"], "name": "ok"},
        {"network_id": net["id"], "name": "bad", "fixed_ips": [{"ip_address": "10.99.0.1"}]},
    ]}
    _fault(api.post("/v2.0/ports", json=bulk), 400, "InvalidInput")
    with neutrino.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Port)) == 0
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == journal_before


def test_bulk_create_and_revision_if_match(api):
    response = api.post("/v2.0/networks", json={"networks": [{"name": "b1"}, {"name": "b2"}]})
    assert response.status_code == 201
    created = response.json()["networks"]
    assert [n["name"] for n in created] == ["b1", "b2"]
    net = created[0]
    assert net["revision_number"] == 1
    stale = api.put(f"/v2.0/networks/{net['id']}", json={"network": {"name": "x"}},
                    headers={"If-Match": "revision_number=7"})
    _fault(stale, 412, "RevisionNumberConstraintFailed")
    fresh = api.put(f"/v2.0/networks/{net['id']}", json={"network": {"name": "x"}},
                    headers={"If-Match": "revision_number=1"})
    assert fresh.status_code == 200 and fresh.json()["network"]["revision_number"] == 2
    _fault(api.delete(f"/v2.0/networks/{net['id']}", headers={"If-Match": "revision_number=1"}),
           412, "RevisionNumberConstraintFailed")
    assert api.delete(f"/v2.0/networks/{net['id']}",
                      headers={"If-Match": "revision_number=2"}).status_code == 204


def test_filters_fields_sorting_pagination(api):
    names = ["delta", "alpha", "charlie", "bravo", "echo"]
    for name in names:
        _post(api, "networks", {"name": name, "shared": name in ("alpha", "echo")})
    listed = api.get("/v2.0/networks?name=alpha&name=echo&fields=name&fields=shared").json()
    assert sorted(listed["networks"], key=lambda n: n["name"]) == [
        {"name": "alpha", "shared": True}, {"name": "echo", "shared": True}]
    assert {n["name"] for n in api.get("/v2.0/networks?shared=false").json()["networks"]} == \
        {"delta", "charlie", "bravo"}

    page1 = api.get("/v2.0/networks?sort_key=name&sort_dir=asc&limit=2").json()
    assert [n["name"] for n in page1["networks"]] == ["alpha", "bravo"]
    next_link = next(link for link in page1["networks_links"] if link["rel"] == "next")
    page2 = api.get(next_link["href"]).json()
    assert [n["name"] for n in page2["networks"]] == ["charlie", "delta"]
    assert {link["rel"] for link in page2["networks_links"]} == {"next", "previous"}
    previous = next(link for link in page2["networks_links"] if link["rel"] == "previous")
    assert [n["name"] for n in api.get(previous["href"]).json()["networks"]] == \
        ["alpha", "bravo"]
    desc = api.get("/v2.0/networks?sort_key=name&sort_dir=desc").json()["networks"]
    assert [n["name"] for n in desc] == sorted(names, reverse=True)


def test_tags(api, neutrino):
    net = _post(api, "networks", {"name": "tagged", "tags": ["red"]})
    base = f"/v2.0/networks/{net['id']}/tags"
    assert api.get(base).json() == {"tags": ["red"]}
    assert api.put(f"{base}/blue").status_code == 201
    assert api.get(f"{base}/blue").status_code == 204
    _fault(api.get(f"{base}/green"), 404, "TagNotFound")
    assert api.put(base, json={"tags": ["a", "b"]}).json() == {"tags": ["a", "b"]}
    other = _post(api, "networks", {"name": "other", "tags": ["b", "c"]})
    by_tags = lambda q: {n["id"] for n in api.get(f"/v2.0/networks?{q}").json()["networks"]}  # noqa: E731
    assert by_tags("tags=a,b") == {net["id"]}
    assert by_tags("tags-any=a,c") == {net["id"], other["id"]}
    assert other["id"] not in by_tags("not-tags-any=c")
    assert api.delete(f"{base}/a").status_code == 204
    _fault(api.delete(f"{base}/a"), 404, "TagNotFound")
    assert api.delete(base).status_code == 204
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert shown["tags"] == [] and shown["revision_number"] > net["revision_number"]
    with neutrino.db.read() as session:
        assert session.get(Network, net["id"]).tags == []


def test_port_defaults_and_ipv6_slaac(api):
    net = _post(api, "networks", {"name": "dual"})
    v4 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.52.0.0/29",
                                "gateway_ip": None})
    v6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6, "cidr": "fd00:52::/64",
                                "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
    assert v4["gateway_ip"] is None
    assert v4["allocation_pools"] == [{"start": "10.52.0.1", "end": "10.52.0.6"}]
    port = _post(api, "ports", {"network_id": net["id"], "mac_address": "fa:16:3e:00:52:01"})
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert by_subnet[v6["id"]] == "fd00:52::f816:3eff:fe00:5201"
    assert by_subnet[v4["id"]].startswith("10.52.0.")
    assert port["status"] == "DOWN" and port["binding:vif_type"] == "unbound"
    assert port["port_security_enabled"] is True
    listed = api.get(f"/v2.0/ports?fixed_ips=ip_address={by_subnet[v4['id']]}").json()["ports"]
    assert [p["id"] for p in listed] == [port["id"]]


def test_provider_bindings_are_unique(api):
    _post(api, "networks", {"provider:network_type": "flat",
                            "provider:physical_network": "uniq-phys"})
    _fault(api.post("/v2.0/networks", json={"network": {
        "provider:network_type": "flat", "provider:physical_network": "uniq-phys"}}),
        409, "SegmentationIdInUse")
    _post(api, "networks", {"provider:network_type": "vlan",
                            "provider:physical_network": "uniq-phys",
                            "provider:segmentation_id": 7})
    _fault(api.post("/v2.0/networks", json={"network": {
        "provider:network_type": "vlan", "provider:physical_network": "uniq-phys",
        "provider:segmentation_id": 7}}), 409, "SegmentationIdInUse")
    _fault(api.post("/v2.0/networks", json={"network": {
        "provider:network_type": "vlan", "provider:physical_network": "uniq-phys",
        "provider:segmentation_id": 4095}}), 400, "InvalidInput")
    first = _post(api, "networks", {"name": "g1"})
    second = _post(api, "networks", {"name": "g2"})
    assert first["provider:segmentation_id"] != second["provider:segmentation_id"]
    _fault(api.post("/v2.0/networks", json={"network": {"mtu": 9000}}), 400, "InvalidInput")
