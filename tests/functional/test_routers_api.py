"""Router and floating IP API behaviour: Neutron's errors, and the rows left in NB."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle


def _post(api, path: str, body: dict) -> dict:
    singular = path.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(response, status: int, fault_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["NeutronError"]["type"] == fault_type, response.text


def _external(api, cidr: str = "172.30.0.0/24") -> dict:
    ext = _post(api, "networks", {"name": "ext", "router:external": True})
    _post(api, "subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": cidr})
    return ext


def _tenant(api, cidr: str, **subnet) -> tuple[dict, dict]:
    net = _post(api, "networks", {"name": cidr})
    return net, _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                       **subnet})


def _add(api, router: dict, **target):
    return api.put(f"/v2.0/routers/{router['id']}/add_router_interface", json=target)


def _remove(api, router: dict, **target):
    return api.put(f"/v2.0/routers/{router['id']}/remove_router_interface", json=target)


def test_interface_errors(api):
    router = _post(api, "routers", {"name": "r"})
    _, no_gateway = _tenant(api, "10.110.0.0/24", gateway_ip=None)
    _fault(_add(api, router, subnet_id=no_gateway["id"]), 400, "BadRequest")
    net, subnet = _tenant(api, "10.111.0.0/24")
    info = _add(api, router, subnet_id=subnet["id"]).json()
    assert info["subnet_id"] == subnet["id"] and info["network_id"] == net["id"]
    _fault(_add(api, router, subnet_id=subnet["id"]), 400, "BadRequest")
    _, overlapping = _tenant(api, "10.111.0.0/16")
    _fault(_add(api, router, subnet_id=overlapping["id"]), 400, "BadRequest")
    _fault(_add(api, router, subnet_id=subnet["id"], port_id="x"), 400, "BadRequest")
    _fault(api.delete(f"/v2.0/ports/{info['port_id']}"), 409, "ServicePortInUse")
    _fault(api.delete(f"/v2.0/routers/{router['id']}"), 409, "RouterInUse")
    _fault(_remove(api, router, subnet_id=no_gateway["id"]), 404,
           "RouterInterfaceNotFoundForSubnet")
    assert _remove(api, router, subnet_id=subnet["id"]).status_code == 200
    assert api.get("/v2.0/ports", params={"device_id": router["id"]}).json()["ports"] == []
    assert api.delete(f"/v2.0/routers/{router['id']}").status_code == 204


def test_gateway_and_routes_errors(api):
    _, tenant_subnet = _tenant(api, "10.112.0.0/24")
    internal = _post(api, "networks", {"name": "not-external"})
    _fault(api.post("/v2.0/routers", json={"router": {
        "external_gateway_info": {"network_id": internal["id"]}}}), 400, "BadRequest")
    router = _post(api, "routers", {"name": "r"})
    _add(api, router, subnet_id=tenant_subnet["id"])
    bad = api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "routes": [{"destination": "192.168.0.0/24", "nexthop": "10.99.0.5"}]}})
    _fault(bad, 400, "InvalidRoutes")
    good = api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "routes": [{"destination": "192.168.0.0/24", "nexthop": "10.112.0.5"}]}})
    assert good.json()["router"]["routes"] == [
        {"destination": "192.168.0.0/24", "nexthop": "10.112.0.5"}]
    _fault(api.post("/v2.0/subnets", json={"subnet": {
        "network_id": internal["id"], "ip_version": 4, "cidr": "169.254.128.0/24"}}),
        400, "InvalidInput")


def test_floating_ip_errors(api):
    ext = _external(api)
    net, subnet = _tenant(api, "10.113.0.0/24")
    vm = _post(api, "ports", {"network_id": net["id"]})
    _fault(api.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": net["id"]}}), 400, "BadRequest")
    _fault(api.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": ext["id"], "port_id": vm["id"]}}), 404,
        "ExternalGatewayForFloatingIPNotFound")
    router = _post(api, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    _add(api, router, subnet_id=subnet["id"])
    fip = _post(api, "floatingips", {"floating_network_id": ext["id"],
                                     "floating_ip_address": "172.30.0.50",
                                     "port_id": vm["id"]})
    assert (fip["floating_ip_address"], fip["router_id"]) == ("172.30.0.50", router["id"])
    _fault(api.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": ext["id"], "floating_ip_address": "172.30.0.50"}}),
        409, "IpAddressAlreadyAllocated")
    _fault(api.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": ext["id"], "port_id": vm["id"]}}), 409,
        "FloatingIPPortAlreadyAssociated")
    _fault(_remove(api, router, subnet_id=subnet["id"]), 409,
           "RouterInterfaceInUseByFloatingIP")
    _fault(api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {}}}), 409, "RouterExternalGatewayInUseByFloatingIp")
    assert api.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204
    assert _remove(api, router, subnet_id=subnet["id"]).status_code == 200
    cleared = api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": None}})
    assert cleared.json()["router"]["external_gateway_info"] is None
    assert api.get("/v2.0/ports", params={"device_owner": "network:router_gateway"}
                   ).json()["ports"] == []


def test_router_rows_in_nb(api, neutrino):
    ext = _external(api, "172.31.0.0/24")
    net, v4 = _tenant(api, "10.114.0.0/24")
    v6 = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                "cidr": "fd00:114::/64", "ipv6_ra_mode": "slaac",
                                "ipv6_address_mode": "slaac"})
    router = _post(api, "routers", {"name": "nb-router", "external_gateway_info": {
        "network_id": ext["id"], "enable_snat": True}})
    first = _add(api, router, subnet_id=v4["id"]).json()
    second = _add(api, router, subnet_id=v6["id"]).json()
    # Neutron: an IPv6 subnet joins a port of the network that has IPv6 addresses only
    assert first["port_id"] != second["port_id"]
    v6b = _post(api, "subnets", {"network_id": net["id"], "ip_version": 6,
                                 "cidr": "fd00:115::/64", "ipv6_ra_mode": "slaac",
                                 "ipv6_address_mode": "slaac"})
    third = _add(api, router, subnet_id=v6b["id"]).json()
    assert third["port_id"] == second["port_id"]
    api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "routes": [{"destination": "192.168.7.0/24", "nexthop": "10.114.0.7"}]}})
    wait_journal_idle(neutrino)

    rid = router["id"]
    dr = one(neutrino, "Logical_Router", name=f"neutron-{rid}")
    assert dr["external_ids"]["neutron:router_name"] == "nb-router"
    assert one(neutrino, "Logical_Router_Port", name=f"lrp-{first['port_id']}")[
        "networks"] == ["10.114.0.1/24"]
    interface = one(neutrino, "Logical_Router_Port", name=f"lrp-{second['port_id']}")
    assert sorted(interface["networks"]) == ["fd00:114::1/64", "fd00:115::1/64"]
    assert interface["ipv6_ra_configs"] == {"address_mode": "slaac", "mtu": "1442",
                                            "send_periodic": "true"}
    assert interface["_uuid"] in dr["ports"] and len(dr["ports"]) == 3  # + transit port
    lsp = one(neutrino, "Logical_Switch_Port", name=first["port_id"])
    assert (lsp["type"], lsp["addresses"], lsp["options"]) == (
        "router", ["router"], {"router-port": f"lrp-{first['port_id']}"})
    routes = {(r["ip_prefix"], r["nexthop"]) for r in rows(neutrino,
              "Logical_Router_Static_Route") if r["_uuid"] in dr["static_routes"]}
    assert routes == {("192.168.7.0/24", "10.114.0.7"), ("0.0.0.0/0", "169.254.128.1")}
    gw = one(neutrino, "Logical_Router", name=f"neutron-gw-{rid}")
    nat = [n for n in rows(neutrino, "NAT") if n["_uuid"] in gw["nat"]]
    gateway_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    assert [(n["type"], n["external_ip"], n["logical_ip"]) for n in nat] == [
        ("snat", gateway_ip, "10.114.0.0/24")]
    transit = one(neutrino, "Logical_Switch", name=f"neutron-transit-{rid}")
    assert len(transit["ports"]) == 2

    api.put(f"/v2.0/routers/{rid}", json={"router": {"external_gateway_info": {
        "network_id": ext["id"], "enable_snat": False}}})
    wait_journal_idle(neutrino)
    gw = one(neutrino, "Logical_Router", name=f"neutron-gw-{rid}")
    assert gw["nat"] == []
    _fault(_remove(api, router, port_id=first["port_id"]), 409, "RouterInterfaceInUseByRoute")
    api.put(f"/v2.0/routers/{rid}", json={"router": {"external_gateway_info": None,
                                                     "routes": None}})
    _remove(api, router, port_id=first["port_id"])
    _remove(api, router, port_id=second["port_id"])
    assert api.delete(f"/v2.0/routers/{rid}").status_code == 204
    wait_journal_idle(neutrino)
    for name in (f"neutron-{rid}", f"neutron-gw-{rid}"):
        assert rows(neutrino, "Logical_Router", name=name) == []
    assert rows(neutrino, "Logical_Switch", name=f"neutron-transit-{rid}") == []
    assert rows(neutrino, "Logical_Router_Port", name=f"lrp-{first['port_id']}") == []
