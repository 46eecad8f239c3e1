"""Floating IPs as Neutron has them: what deleting their port or network does, what an update
means, port_details, floating IP pools, filters; and the NAT rows left in OVN NB."""

from __future__ import annotations

import pytest
from nb_state import rows, wait_journal_idle

from neutrino import errors
from neutrino.services.context import Context
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.ports import PortService


def _post(api, path: str, body: dict, project: str | None = None) -> dict:
    singular = path[:-1]
    headers = {"X-Project-Id": project} if project else {}
    response = api.post(f"/v2.0/{path}", json={singular: body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(response, status: int, fault_type: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == fault_type, response.text
    return fault


def _world(api, third: int) -> dict:
    """An external network, a tenant subnet behind a gatewayed router, and a VM port."""
    ext = _post(api, "networks", {"name": "ext", "router:external": True})
    ext_subnet = _post(api, "subnets", {"network_id": ext["id"], "ip_version": 4,
                                        "cidr": f"172.{third}.0.0/24", "name": "pool"})
    net = _post(api, "networks", {"name": "tenant"})
    subnet = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": f"10.{third}.0.0/24"})
    router = _post(api, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    added = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": subnet["id"]})
    assert added.status_code == 200, added.text
    vm = _post(api, "ports", {"network_id": net["id"], "name": "vm", "device_id": "vm1",
                              "device_owner": "compute:nova"})
    return {"ext": ext, "ext_subnet": ext_subnet, "net": net, "subnet": subnet,
            "router": router, "vm": vm}


def _fip(api, world: dict, **more) -> dict:
    return _post(api, "floatingips", {"floating_network_id": world["ext"]["id"], **more})


def _get(api, fip: dict) -> dict:
    return api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]


def _nat(neutrino, fip: dict) -> list[dict]:
    return rows(neutrino, "NAT", external_ids={"neutron:fip_id": fip["id"]})


def _unassociated(fip: dict) -> tuple:
    return fip["port_id"], fip["fixed_ip_address"], fip["router_id"], fip["port_details"]


def test_deleting_the_port_disassociates_its_floating_ip(api, neutrino):
    world = _world(api, 140)
    fip = _fip(api, world, port_id=world["vm"]["id"])
    wait_journal_idle(neutrino)
    assert [n["logical_ip"] for n in _nat(neutrino, fip)] == [
        world["vm"]["fixed_ips"][0]["ip_address"]]
    assert api.delete(f"/v2.0/ports/{world['vm']['id']}").status_code == 204
    after = _get(api, fip)
    assert _unassociated(after) == (None, None, None, None)
    assert after["status"] == "DOWN" and after["revision_number"] == fip["revision_number"] + 1
    wait_journal_idle(neutrino)
    assert _nat(neutrino, fip) == []
    # nothing holds the interface any more
    removed = api.put(f"/v2.0/routers/{world['router']['id']}/remove_router_interface",
                      json={"subnet_id": world["subnet"]["id"]})
    assert removed.status_code == 200, removed.text


def test_a_project_cannot_detach_an_admins_floating_ip_by_deleting_its_port(api, neutrino):
    world = _world(api, 141)
    vm = _post(api, "ports", {"network_id": world["net"]["id"], "project_id": "alpha"})
    _fip(api, world, port_id=vm["id"])  # the admin's floating IP
    ports = PortService(neutrino.db, neutrino.settings, neutrino.wakeup, list)
    with pytest.raises(errors.FipAssociated):
        ports.delete(Context("alpha", is_admin=False, roles=("member",)), vm["id"], None)
    assert api.get(f"/v2.0/ports/{vm['id']}").status_code == 200


def test_deleting_an_external_network_deletes_its_unassociated_floating_ips(api, neutrino):
    world = _world(api, 142)
    used = _fip(api, world, port_id=world["vm"]["id"])
    idle = [_fip(api, world) for _ in range(2)]
    _fault(api.delete(f"/v2.0/networks/{world['ext']['id']}"), 409, "NetworkInUse")
    # refused: nothing changed
    for fip in idle:
        assert api.get(f"/v2.0/floatingips/{fip['id']}").status_code == 200
    assert api.delete(f"/v2.0/floatingips/{used['id']}").status_code == 204
    api.put(f"/v2.0/routers/{world['router']['id']}/remove_router_interface",
            json={"subnet_id": world["subnet"]["id"]})
    api.put(f"/v2.0/routers/{world['router']['id']}", json={"router": {
        "external_gateway_info": None}})
    assert api.delete(f"/v2.0/networks/{world['ext']['id']}").status_code == 204
    for fip in idle:
        fault = _fault(api.get(f"/v2.0/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")
        assert fault["message"] == f"Floating IP {fip['id']} could not be found"
    assert api.get("/v2.0/ports", params={"network_id": world["ext"]["id"]}).json()[
        "ports"] == []
    wait_journal_idle(neutrino)
    assert rows(neutrino, "Logical_Switch", name=f"neutron-{world['ext']['id']}") == []


def test_update_association_as_neutron(api, neutrino):
    world = _world(api, 143)
    vm = world["vm"]
    fip = _fip(api, world, port_id=vm["id"])
    url = f"/v2.0/floatingips/{fip['id']}"
    described = api.put(url, json={"floatingip": {"description": "kept"}}).json()["floatingip"]
    assert described["port_id"] == vm["id"] and described["description"] == "kept"
    assert described["revision_number"] == fip["revision_number"] + 1
    # an empty body is port_id: null to Neutron
    emptied = api.put(url, json={"floatingip": {}})
    assert emptied.status_code == 200, emptied.text
    assert _unassociated(emptied.json()["floatingip"]) == (None, None, None, None)
    wait_journal_idle(neutrino)
    assert _nat(neutrino, fip) == []
    again = api.put(url, json={"floatingip": {}}).json()["floatingip"]
    assert again["revision_number"] == emptied.json()["floatingip"]["revision_number"]

    associated = api.put(url, json={"floatingip": {"port_id": vm["id"]}}).json()["floatingip"]
    assert associated["router_id"] == world["router"]["id"]
    assert associated["status"] == "ACTIVE"
    wait_journal_idle(neutrino)
    assert len(_nat(neutrino, fip)) == 1
    nulled = api.put(url, json={"floatingip": {"port_id": None}}).json()["floatingip"]
    assert _unassociated(nulled) == (None, None, None, None)
    _fault(api.put(url, json={"floatingip": {"fixed_ip_address": "10.143.0.9"}}), 400,
           "BadRequest")
    _fault(api.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": world["ext"]["id"], "fixed_ip_address": "10.143.0.9"}}),
        400, "BadRequest")
    wait_journal_idle(neutrino)
    assert _nat(neutrino, fip) == []


def test_port_details(api):
    world = _world(api, 144)
    vm = world["vm"]
    fip = _fip(api, world, port_id=vm["id"])
    assert fip["port_details"] == {
        "name": "vm", "network_id": world["net"]["id"], "mac_address": vm["mac_address"],
        "admin_state_up": True, "status": "DOWN", "device_id": "vm1",
        "device_owner": "compute:nova"}
    listed = api.get("/v2.0/floatingips", params={"fields": ["id", "port_details"]}).json()
    assert listed["floatingips"] == [{"id": fip["id"], "port_details": fip["port_details"]}]
    assert _fip(api, world)["port_details"] is None
    _fault(api.put(f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {
        "port_details": None}}), 400, "BadRequest")
    _fault(api.get("/v2.0/floatingips", params={"port_details": "x"}), 400, "BadRequest")


def test_another_projects_port(api, neutrino):
    world = _world(api, 145)
    shared = _post(api, "networks", {"name": "mine", "project_id": "alpha"})
    _post(api, "subnets", {"network_id": shared["id"], "ip_version": 4,
                           "cidr": "10.146.0.0/24", "project_id": "alpha"})
    theirs = _post(api, "ports", {"network_id": shared["id"], "project_id": "beta"})
    hidden = _post(api, "ports", {"network_id": world["net"]["id"], "project_id": "beta"})
    fips = FloatingIpService(neutrino.db, neutrino.settings, neutrino.wakeup)
    alpha = Context("alpha", is_admin=False, roles=("member",))
    fip = fips.create(alpha, [{"floating_network_id": world["ext"]["id"], "description": "",
                               "project_id": "alpha"}])[0]
    # alpha owns the port's network: Neutron's 400; a port alpha cannot see at all: 404
    with pytest.raises(errors.BadRequest, match="owned by a different project"):
        fips.update(alpha, fip["id"], {"port_id": theirs["id"]}, None)
    with pytest.raises(errors.PortNotFound):
        fips.update(alpha, fip["id"], {"port_id": hidden["id"]}, None)
    assert _get(api, fip)["port_id"] is None


def test_floatingip_pools(api):
    world = _world(api, 147)
    _post(api, "subnets", {"network_id": world["ext"]["id"], "ip_version": 6,
                           "cidr": "fd00:147::/64"})
    response = api.get("/v2.0/floatingip_pools", headers={"X-Project-Id": "alpha"})
    assert response.status_code == 200, response.text
    pools = [p for p in response.json()["floatingip_pools"]
             if p["network_id"] == world["ext"]["id"]]
    assert pools == [{"subnet_id": world["ext_subnet"]["id"], "subnet_name": "pool",
                      "network_id": world["ext"]["id"], "cidr": "172.147.0.0/24",
                      "project_id": "alpha"}]  # IPv4 only; the caller's project
    assert all(p["subnet_id"] != world["subnet"]["id"]
               for p in response.json()["floatingip_pools"])
    fields = api.get("/v2.0/floatingip_pools", params={"fields": "cidr"}).json()
    assert {"cidr": "172.147.0.0/24"} in fields["floatingip_pools"]
    _fault(api.get("/v2.0/floatingip_pools", params={"cidr": "x"}), 400, "BadRequest")


def test_subnets_tell_whether_their_network_is_external(api):
    world = _world(api, 148)
    ext_subnet = api.get(f"/v2.0/subnets/{world['ext_subnet']['id']}").json()["subnet"]
    assert ext_subnet["router:external"] is True
    assert api.get(f"/v2.0/subnets/{world['subnet']['id']}").json()["subnet"][
        "router:external"] is False
    listed = api.get("/v2.0/subnets", params={"router:external": "true",
                                              "network_id": world["ext"]["id"]}).json()
    assert [s["id"] for s in listed["subnets"]] == [world["ext_subnet"]["id"]]
    _fault(api.put(f"/v2.0/subnets/{world['subnet']['id']}", json={"subnet": {
        "router:external": True}}), 400, "BadRequest")


def test_floating_ip_filters_and_sort_keys_are_neutrons(api):
    world = _world(api, 149)
    fip = _fip(api, world, port_id=world["vm"]["id"], description="wanted")
    other = _fip(api, world)
    on_ext = api.get("/v2.0/floatingips", params={"floating_network_id": world["ext"]["id"]})
    assert sorted(f["id"] for f in on_ext.json()["floatingips"]) == sorted(
        [fip["id"], other["id"]])
    for key, value in (("router_id", world["router"]["id"]), ("port_id", world["vm"]["id"]),
                       ("fixed_ip_address", fip["fixed_ip_address"]),
                       ("floating_ip_address", fip["floating_ip_address"]),
                       ("status", "ACTIVE"), ("description", "wanted")):
        found = api.get("/v2.0/floatingips", params={key: value}).json()["floatingips"]
        assert fip["id"] in [f["id"] for f in found] and other["id"] not in \
            [f["id"] for f in found], key
    _fault(api.get("/v2.0/floatingips", params={"subnet_id": world["ext_subnet"]["id"]}),
           400, "BadRequest")
    _fault(api.get("/v2.0/floatingips", params={"sort_key": "port_id"}), 400, "BadRequest")
    assert api.get("/v2.0/floatingips", params={"sort_key": "fixed_ip_address"}
                   ).status_code == 200
