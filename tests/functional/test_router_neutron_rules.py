"""Routers as Neutron has them: extra routes (PUT and extraroute-atomic), interface rules,
revision numbers, and what each leaves in OVN NB."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle

ROUTE_A = {"destination": "192.168.50.0/24", "nexthop": "10.120.0.10"}
ROUTE_B = {"destination": "192.168.51.0/24", "nexthop": "10.120.0.11"}
ROUTE_C = {"destination": "192.168.50.0/24", "nexthop": "10.120.0.12"}  # same destination


def _post(api, path: str, body: dict) -> dict:
    singular = path[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(response, status: int, fault_type: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == fault_type, response.text
    return fault


def _tenant(api, cidr: str, version: int = 4, **subnet) -> tuple[dict, dict]:
    net = _post(api, "networks", {"name": cidr})
    return net, _post(api, "subnets", {"network_id": net["id"], "ip_version": version,
                                       "cidr": cidr, **subnet})


def _action(api, router: dict, action: str, body: dict):
    return api.put(f"/v2.0/routers/{router['id']}/{action}", json=body)


def _router(api, rid: str) -> dict:
    return api.get(f"/v2.0/routers/{rid}").json()["router"]


def _nb_routes(neutrino, rid: str) -> set[tuple[str, str]]:
    dr = one(neutrino, "Logical_Router", name=f"neutron-{rid}")
    return {(r["ip_prefix"], r["nexthop"]) for r in rows(neutrino, "Logical_Router_Static_Route")
            if r["_uuid"] in dr["static_routes"]}


def _routed_router(api) -> tuple[dict, dict]:
    _, subnet = _tenant(api, "10.120.0.0/24")
    router = _post(api, "routers", {"name": "routes"})
    assert _action(api, router, "add_router_interface",
                   {"subnet_id": subnet["id"]}).status_code == 200
    return _router(api, router["id"]), subnet


def test_routes_null_is_an_empty_list(api):
    router, _ = _routed_router(api)
    rid = router["id"]
    api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": [ROUTE_A]}})
    cleared = api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": None}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["router"]["routes"] == []
    again = api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": None}}).json()["router"]
    assert again["revision_number"] == cleared.json()["router"]["revision_number"]


def test_put_routes_compares_sets_and_rejects_duplicates(api):
    router, _ = _routed_router(api)
    rid = router["id"]
    first = api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": [ROUTE_A, ROUTE_B]}})
    revision = first.json()["router"]["revision_number"]
    same = api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": [ROUTE_B, ROUTE_A]}})
    assert same.json()["router"]["revision_number"] == revision  # same set: no change
    _fault(api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": [ROUTE_A, ROUTE_A]}}),
           400, "InvalidInput")
    used = {"destination": "192.168.9.0/24", "nexthop": "10.120.0.1"}  # the router's own
    fault = _fault(api.put(f"/v2.0/routers/{rid}", json={"router": {"routes": [used]}}),
                   400, "InvalidRoutes")
    assert "the nexthop is used by router" in fault["message"]
    assert _router(api, rid)["routes"] == [ROUTE_A, ROUTE_B]


def test_extraroutes_add_and_remove_atomically(api, neutrino):
    router, _ = _routed_router(api)
    rid = router["id"]
    start = router["revision_number"]
    added = _action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_A, ROUTE_B]}})
    assert added.status_code == 200, added.text
    body = added.json()["router"]
    assert body["id"] == rid and body["name"] == "routes"  # the whole router
    assert body["routes"] == [ROUTE_A, ROUTE_B] and body["revision_number"] == start + 1
    # a route already there is kept once; another next hop for one destination is added
    more = _action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_A, ROUTE_C]}})
    assert more.json()["router"]["routes"] == [ROUTE_A, ROUTE_B, ROUTE_C]
    assert more.json()["router"]["revision_number"] == start + 2
    same = _action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_B]}})
    assert same.json()["router"]["revision_number"] == start + 2  # nothing changed
    wait_journal_idle(neutrino)
    assert _nb_routes(neutrino, rid) == {("192.168.50.0/24", "10.120.0.10"),
                                         ("192.168.51.0/24", "10.120.0.11"),
                                         ("192.168.50.0/24", "10.120.0.12")}

    absent = {"destination": "192.168.99.0/24", "nexthop": "10.120.0.99"}
    removed = _action(api, router, "remove_extraroutes",
                      {"router": {"routes": [ROUTE_A, absent]}})
    assert removed.status_code == 200, removed.text
    assert removed.json()["router"]["routes"] == [ROUTE_B, ROUTE_C]
    assert removed.json()["router"]["revision_number"] == start + 3
    none = _action(api, router, "remove_extraroutes", {"router": {"routes": [absent]}})
    assert none.json()["router"]["revision_number"] == start + 3
    wait_journal_idle(neutrino)
    assert _nb_routes(neutrino, rid) == {("192.168.51.0/24", "10.120.0.11"),
                                         ("192.168.50.0/24", "10.120.0.12")}


def test_extraroutes_validate_like_routes_and_change_nothing_when_refused(api):
    router, _ = _routed_router(api)
    _action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_A]}})
    revision = _router(api, router["id"])["revision_number"]
    far = {"destination": "192.168.52.0/24", "nexthop": "10.99.0.1"}
    _fault(_action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_B, far]}}),
           400, "InvalidRoutes")
    bad = [
        {"router": {"routes": [{"destination": "nonsense", "nexthop": "10.120.0.5"}]}},
        {"router": {"routes": [{"destination": "192.168.52.0/24"}]}},
        {"router": {"routes": "x"}},
        {"router": {}},
        {"router": {"routes": [], "name": "x"}},
        {"router": "x"},
        {"routes": []},
    ]
    for body in bad:
        for action in ("add_extraroutes", "remove_extraroutes"):
            response = _action(api, router, action, body)
            assert response.status_code == 400, (body, response.text)
    after = _router(api, router["id"])
    assert (after["routes"], after["revision_number"]) == ([ROUTE_A], revision)
    missing = {"id": "9b0ae2bd-0000-4000-8000-000000000000"}
    fault = _fault(_action(api, missing, "add_extraroutes", {"router": {"routes": []}}), 404,
                   "RouterNotFound")
    assert fault["message"] == f"Router {missing['id']} could not be found"


def test_interface_with_a_route_through_it_stays(api):
    router, subnet = _routed_router(api)
    _action(api, router, "add_extraroutes", {"router": {"routes": [ROUTE_A]}})
    _fault(_action(api, router, "remove_router_interface", {"subnet_id": subnet["id"]}), 409,
           "RouterInterfaceInUseByRoute")
    _action(api, router, "remove_extraroutes", {"router": {"routes": [ROUTE_A]}})
    assert _action(api, router, "remove_router_interface",
                   {"subnet_id": subnet["id"]}).status_code == 200


def test_interface_body_errors(api):
    router = _post(api, "routers", {"name": "bodies"})
    net, subnet = _tenant(api, "10.121.0.0/24")
    for action in ("add_router_interface", "remove_router_interface"):
        for body in ({"subnet_id": "not-a-uuid"}, {"port_id": "not-a-uuid"},
                     {"subnet_id": None}, {"port_id": 7}, {}, {"subnet_id": ""}):
            _fault(_action(api, router, action, body), 400, "BadRequest")
    port = _post(api, "ports", {"network_id": net["id"]})
    _fault(_action(api, router, "add_router_interface",
                   {"subnet_id": subnet["id"], "port_id": port["id"]}), 400, "BadRequest")
    unknown = "5a8a3f58-0000-4000-8000-000000000000"
    _fault(_action(api, router, "remove_router_interface", {"subnet_id": unknown}), 404,
           "SubnetNotFound")
    _fault(_action(api, router, "remove_router_interface", {"subnet_id": subnet["id"]}), 404,
           "RouterInterfaceNotFoundForSubnet")
    _fault(_action(api, router, "remove_router_interface", {"port_id": port["id"]}), 404,
           "RouterInterfaceNotFound")
    added = _action(api, router, "add_router_interface", {"port_id": port["id"]}).json()
    _, other = _tenant(api, "10.122.0.0/24")
    # removal may name both (Neutron); they must agree
    _fault(_action(api, router, "remove_router_interface",
                   {"port_id": added["port_id"], "subnet_id": other["id"]}), 400,
           "SubnetMismatchForPort")
    both = _action(api, router, "remove_router_interface",
                   {"port_id": added["port_id"], "subnet_id": subnet["id"]})
    assert both.status_code == 200 and both.json()["subnet_ids"] == [subnet["id"]]


def test_interfaces_move_the_router_revision(api):
    router = _post(api, "routers", {"name": "revisions"})
    rid = router["id"]
    _, subnet = _tenant(api, "10.123.0.0/24")
    revision = router["revision_number"]
    _action(api, router, "add_router_interface", {"subnet_id": subnet["id"]})
    assert _router(api, rid)["revision_number"] == revision + 1
    _action(api, router, "remove_router_interface", {"subnet_id": subnet["id"]})
    assert _router(api, rid)["revision_number"] == revision + 2


def test_ipv6_subnet_joins_the_networks_ipv6_port_only(api, neutrino):
    net, v4 = _tenant(api, "10.124.0.0/24")
    slaac = {"ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}
    v6a = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                 "cidr": "fd00:124::/64", **slaac})
    v6b = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                 "cidr": "fd00:125::/64", "ipv6_ra_mode": "dhcpv6-stateful",
                                 "ipv6_address_mode": "dhcpv6-stateful"})
    router = _post(api, "routers", {"name": "v6"})
    first = _action(api, router, "add_router_interface", {"subnet_id": v4["id"]}).json()
    second = _action(api, router, "add_router_interface", {"subnet_id": v6a["id"]}).json()
    assert second["port_id"] != first["port_id"]  # the IPv4-only port takes no IPv6 subnet
    revision = _router(api, router["id"])["revision_number"]
    third = _action(api, router, "add_router_interface", {"subnet_id": v6b["id"]}).json()
    assert third["port_id"] == second["port_id"] and third["subnet_ids"] == [v6b["id"]]
    # a subnet joining a port adds no router port: Neutron leaves the revision alone
    assert _router(api, router["id"])["revision_number"] == revision
    port = api.get(f"/v2.0/ports/{second['port_id']}").json()["port"]
    assert sorted(ip["ip_address"] for ip in port["fixed_ips"]) == ["fd00:124::1",
                                                                    "fd00:125::1"]
    wait_journal_idle(neutrino)
    lrp = one(neutrino, "Logical_Router_Port", name=f"lrp-{second['port_id']}")
    assert sorted(lrp["networks"]) == ["fd00:124::1/64", "fd00:125::1/64"]
    assert one(neutrino, "Logical_Router_Port", name=f"lrp-{first['port_id']}")[
        "networks"] == ["10.124.0.1/24"]

    left = _action(api, router, "remove_router_interface", {"subnet_id": v6a["id"]}).json()
    assert left["port_id"] == second["port_id"]
    wait_journal_idle(neutrino)
    lrp = one(neutrino, "Logical_Router_Port", name=f"lrp-{second['port_id']}")
    assert lrp["networks"] == ["fd00:125::1/64"]


def test_ipv6_subnets_advertised_by_an_external_router_are_refused(api):
    router = _post(api, "routers", {"name": "ext-ra"})
    net, subnet = _tenant(api, "fd00:126::/64", 6, ipv6_address_mode="slaac")
    fault = _fault(_action(api, router, "add_router_interface", {"subnet_id": subnet["id"]}),
                   400, "BadRequest")
    assert "configured to receive RAs from an external router" in fault["message"]
    port = _post(api, "ports", {"network_id": net["id"]})
    _fault(_action(api, router, "add_router_interface", {"port_id": port["id"]}), 400,
           "BadRequest")
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["device_owner"] == ""


def test_a_port_with_two_ipv4_subnets_is_refused(api):
    router = _post(api, "routers", {"name": "two-v4"})
    net, first = _tenant(api, "10.127.0.0/24")
    second = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.128.0.0/24"})
    port = _post(api, "ports", {"network_id": net["id"], "fixed_ips": [
        {"subnet_id": first["id"]}, {"subnet_id": second["id"]}]})
    fault = _fault(_action(api, router, "add_router_interface", {"port_id": port["id"]}), 400,
                   "BadRequest")
    assert "Cannot have multiple IPv4 subnets on router port" in fault["message"]


def test_gateway_ip_of_a_router_interface_cannot_change(api):
    router = _post(api, "routers", {"name": "gw-in-use"})
    _, subnet = _tenant(api, "10.129.0.0/24")
    added = _action(api, router, "add_router_interface", {"subnet_id": subnet["id"]}).json()
    for gateway in ("10.129.0.254", None):
        fault = _fault(api.put(f"/v2.0/subnets/{subnet['id']}", json={"subnet": {
            "gateway_ip": gateway}}), 409, "GatewayIpInUse")
        assert fault["message"] == (f"Current gateway ip 10.129.0.1 already in use by port "
                                    f"{added['port_id']}. Unable to update.")
    same = api.put(f"/v2.0/subnets/{subnet['id']}", json={"subnet": {"gateway_ip": "10.129.0.1"}})
    assert same.status_code == 200
    assert api.get(f"/v2.0/subnets/{subnet['id']}").json()["subnet"]["gateway_ip"] == \
        "10.129.0.1"
    _action(api, router, "remove_router_interface", {"subnet_id": subnet["id"]})
    moved = api.put(f"/v2.0/subnets/{subnet['id']}", json={"subnet": {"gateway_ip": None}})
    assert moved.status_code == 200 and moved.json()["subnet"]["gateway_ip"] is None


def test_router_filters_and_sort_keys_are_neutrons(api):
    router = _post(api, "routers", {"name": "filtered", "description": "d1"})
    found = api.get("/v2.0/routers", params={"description": "d1", "name": "filtered",
                                             "admin_state_up": "true"}).json()["routers"]
    assert [r["id"] for r in found] == [router["id"]]
    for key in ("external_gateway_info", "routes", "status", "availability_zones",
                "availability_zone_hints"):
        _fault(api.get("/v2.0/routers", params={key: "x"}), 400, "BadRequest")
    for key in ("external_gateway_info", "routes", "availability_zone_hints"):
        _fault(api.get("/v2.0/routers", params={"sort_key": key}), 400, "BadRequest")
    assert api.get("/v2.0/routers", params={"sort_key": "status"}).status_code == 200


def test_interface_answer_is_neutrons(api):
    router = _post(api, "routers", {"name": "answer"})
    net, v4 = _tenant(api, "10.130.0.0/24")
    v6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                "cidr": "fd00:130::/64", "ipv6_ra_mode": "dhcpv6-stateful",
                                "ipv6_address_mode": "dhcpv6-stateful"})
    port = _post(api, "ports", {"network_id": net["id"], "project_id": "alpha", "fixed_ips": [
        {"subnet_id": v6["id"]}, {"subnet_id": v4["id"]}]})
    added = _action(api, router, "add_router_interface", {"port_id": port["id"]}).json()
    assert added == {"id": router["id"], "tenant_id": "alpha", "project_id": "alpha",
                     "port_id": port["id"], "network_id": net["id"],
                     "subnet_id": v4["id"], "subnet_ids": [v6["id"], v4["id"]]}
    removed = _action(api, router, "remove_router_interface", {"port_id": port["id"]}).json()
    assert (removed["subnet_id"], removed["subnet_ids"]) == (v6["id"], [v6["id"], v4["id"]])
