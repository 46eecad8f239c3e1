"""Floating IP port forwardings as Neutron has them (its port forwarding plugin's rules), and
the Load_Balancer rows ML2/OVN would write for them, on the gateway router."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle
from test_journal_parents import _computed, _recorded

from neutrino.journal.types import ResourceType


def _post(api, path: str, body: dict, project: str | None = None) -> dict:
    singular = path.rsplit("/", 1)[-1][:-1]
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
    """An external network, a tenant subnet behind a gatewayed router, a VM port and a
    floating IP."""
    ext = _post(api, "networks", {"name": "ext", "router:external": True})
    _post(api, "subnets", {"network_id": ext["id"], "ip_version": 4,
                           "cidr": f"172.{third}.0.0/24"})
    net = _post(api, "networks", {"name": "tenant"})
    subnet = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": f"10.{third}.0.0/24"})
    router = _post(api, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}})
    added = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                    json={"subnet_id": subnet["id"]})
    assert added.status_code == 200, added.text
    vm = _post(api, "ports", {"network_id": net["id"], "name": "vm"})
    fip = _post(api, "floatingips", {"floating_network_id": ext["id"]})
    return {"ext": ext, "net": net, "subnet": subnet, "router": router, "vm": vm, "fip": fip,
            "vm_ip": vm["fixed_ips"][0]["ip_address"]}


def _pfs(world: dict) -> str:
    return f"floatingips/{world['fip']['id']}/port_forwardings"


def _pf(api, world: dict, **body) -> dict:
    wanted = {"internal_port_id": world["vm"]["id"], "protocol": "tcp", **body}
    return _post(api, _pfs(world), wanted)


def _fip(api, world: dict) -> dict:
    return api.get(f"/v2.0/floatingips/{world['fip']['id']}").json()["floatingip"]


def _lbs(neutrino, world: dict) -> list[dict]:
    return rows(neutrino, "Load_Balancer", external_ids={"neutron:fip_id": world["fip"]["id"]})


def _gateway_router(neutrino, world: dict) -> dict:
    return one(neutrino, "Logical_Router", name=f"neutron-gw-{world['router']['id']}")


def test_crud_and_the_load_balancer_on_the_gateway_router(api, neutrino):
    world = _world(api, 150)
    pf = _pf(api, world, internal_port=22, external_port=2222, description="ssh")
    assert pf == {"id": pf["id"], "internal_port_id": world["vm"]["id"],
                  "internal_ip_address": world["vm_ip"], "internal_port": 22,
                  "internal_port_range": "22:22", "external_port": 2222,
                  "external_port_range": "2222:2222", "protocol": "tcp", "description": "ssh"}
    fip = _fip(api, world)
    assert fip["router_id"] == world["router"]["id"] and fip["port_id"] is None
    assert fip["status"] == "ACTIVE"
    assert fip["revision_number"] == world["fip"]["revision_number"] + 1
    assert fip["port_forwardings"] == [{
        "id": pf["id"], "internal_port_id": world["vm"]["id"],
        "internal_ip_address": world["vm_ip"], "protocol": "tcp", "internal_port": 22,
        "external_port": 2222}]
    shown = api.get(f"/v2.0/{_pfs(world)}/{pf['id']}?fields=external_port").json()
    assert shown == {"port_forwarding": {"external_port": 2222}}
    wait_journal_idle(neutrino)
    address = world["fip"]["floating_ip_address"]
    [lb] = _lbs(neutrino, world)
    assert lb["name"] == f"pf-floatingip-{world['fip']['id']}-tcp"
    assert lb["protocol"] == "tcp"
    assert lb["vips"] == {f"{address}:2222": f"{world['vm_ip']}:22"}
    assert lb["external_ids"] == {
        "neutron:device_owner": "port_forwarding_plugin", "neutron:fip_id": world["fip"]["id"],
        "neutron:router_name": f"neutron-{world['router']['id']}",
        "neutron:revision_number": str(fip["revision_number"])}
    assert lb["_uuid"] in _gateway_router(neutrino, world)["load_balancer"]

    updated = api.put(f"/v2.0/{_pfs(world)}/{pf['id']}",
                      json={"port_forwarding": {"external_port": 2200}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["port_forwarding"]["external_port_range"] == "2200:2200"
    udp = _pf(api, world, internal_port=53, external_port=5353, protocol="udp")
    listed = api.get(f"/v2.0/{_pfs(world)}?protocol=udp").json()["port_forwardings"]
    assert [p["id"] for p in listed] == [udp["id"]]
    wait_journal_idle(neutrino)
    vips = {lb["protocol"]: lb["vips"] for lb in _lbs(neutrino, world)}
    assert vips == {"tcp": {f"{address}:2200": f"{world['vm_ip']}:22"},
                    "udp": {f"{address}:5353": f"{world['vm_ip']}:53"}}

    for each in (pf, udp):
        assert api.delete(f"/v2.0/{_pfs(world)}/{each['id']}").status_code == 204
    fip = _fip(api, world)
    assert (fip["router_id"], fip["status"], fip["port_forwardings"]) == (None, "DOWN", [])
    wait_journal_idle(neutrino)
    assert _lbs(neutrino, world) == []
    assert _gateway_router(neutrino, world)["load_balancer"] == []
    _fault(api.get(f"/v2.0/{_pfs(world)}/{pf['id']}"), 404, "PortForwardingNotFound")


def test_port_ranges_n_to_n_and_n_to_one(api, neutrino):
    world = _world(api, 151)
    n_to_n = _pf(api, world, internal_port_range="8000:8002", external_port_range="9000:9002")
    assert (n_to_n["internal_port"], n_to_n["external_port"]) == (None, None)
    n_to_one = _pf(api, world, internal_port_range="80", external_port_range="7000:7001",
                   protocol="udp")
    assert n_to_one["internal_port_range"] == "80:80"
    bad = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp",
        "internal_port_range": "100:101", "external_port_range": "200:202"}})
    assert "N-N or 1-N" in _fault(bad, 400, "BadRequest")["message"]
    mixed = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp", "internal_port": 5,
        "internal_port_range": "5:5", "external_port": 5}})
    _fault(mixed, 400, "BadRequest")
    wait_journal_idle(neutrino)
    address, ip = world["fip"]["floating_ip_address"], world["vm_ip"]
    vips = {lb["protocol"]: lb["vips"] for lb in _lbs(neutrino, world)}
    assert vips == {
        "tcp": {f"{address}:{9000 + i}": f"{ip}:{8000 + i}" for i in range(3)},
        "udp": {f"{address}:7000": f"{ip}:80", f"{address}:7001": f"{ip}:80"}}


def test_collisions_are_refused_as_neutron_does(api, neutrino):
    world = _world(api, 152)
    first = _pf(api, world, internal_port=22, external_port=2222)
    again = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp", "internal_port": 23,
        "external_port": 2222}})
    assert "collision with the external_port_range" in _fault(
        again, 400, "BadRequest")["message"]
    overlap = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp",
        "internal_port_range": "20:25", "external_port_range": "3000:3005"}})
    assert "collision with the internal_port_range" in _fault(
        overlap, 400, "BadRequest")["message"]
    # the same external port for the other protocol is another forwarding
    _pf(api, world, internal_port=22, external_port=2222, protocol="udp")
    second = _pf(api, world, internal_port=80, external_port=8080)
    moved = api.put(f"/v2.0/{_pfs(world)}/{second['id']}",
                    json={"port_forwarding": {"external_port": 2222}})
    _fault(moved, 400, "BadRequest")
    assert api.get(f"/v2.0/{_pfs(world)}/{second['id']}").json()[
        "port_forwarding"]["external_port"] == 8080
    assert first["external_port"] == 2222


def test_one_to_one_association_and_forwardings_exclude_each_other(api, neutrino):
    world = _world(api, 153)
    pf = _pf(api, world, internal_port=22, external_port=2222)
    associate = api.put(f"/v2.0/floatingips/{world['fip']['id']}",
                        json={"floatingip": {"port_id": world["vm"]["id"]}})
    _fault(associate, 409, "FipInUseByPortForwarding")
    assert api.delete(f"/v2.0/{_pfs(world)}/{pf['id']}").status_code == 204
    # a floating IP mapped 1:1 forwards no ports
    assert api.put(f"/v2.0/floatingips/{world['fip']['id']}",
                   json={"floatingip": {"port_id": world["vm"]["id"]}}).status_code == 200
    refused = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp", "internal_port": 22,
        "external_port": 2222}})
    _fault(refused, 409, "PortHasBindingFloatingIP")
    other = _post(api, "floatingips", {"floating_network_id": world["ext"]["id"]})
    # another floating IP cannot forward to a port that has a 1:1 floating IP
    refused = api.post(f"/v2.0/floatingips/{other['id']}/port_forwardings", json={
        "port_forwarding": {"internal_port_id": world["vm"]["id"], "protocol": "tcp",
                            "internal_port": 22, "external_port": 2222}})
    _fault(refused, 409, "PortHasBindingFloatingIP")
    second = _post(api, "ports", {"network_id": world["net"]["id"]})
    refused = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": second["id"], "protocol": "tcp", "internal_port": 22,
        "external_port": 2222}})
    _fault(refused, 409, "FloatingIPPortAlreadyAssociated")


def test_internal_address_port_and_router_rules(api, neutrino):
    world = _world(api, 154)
    wrong_ip = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": world["vm"]["id"], "protocol": "tcp", "internal_port": 22,
        "external_port": 2222, "internal_ip_address": "10.154.0.250"}})
    assert "not suitable for internal neutron port" in _fault(
        wrong_ip, 400, "BadRequest")["message"]
    missing = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": "6a5a0c8e-0000-4000-8000-000000000000", "protocol": "tcp",
        "internal_port": 22, "external_port": 2222}})
    _fault(missing, 404, "PortNotFound")
    lonely_net = _post(api, "networks", {"name": "unrouted"})
    _post(api, "subnets", {"network_id": lonely_net["id"], "ip_version": 4,
                           "cidr": "10.254.0.0/24"})
    lonely = _post(api, "ports", {"network_id": lonely_net["id"]})
    unreachable = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": {
        "internal_port_id": lonely["id"], "protocol": "tcp", "internal_port": 22,
        "external_port": 2222}})
    assert "is not reachable from subnet" in _fault(unreachable, 400, "BadRequest")["message"]
    for body in ({"protocol": "icmp"}, {"external_port": 0}, {"external_port": 70000},
                 {"internal_port_range": "9:8"}, {"internal_ip_address": "nope"}):
        full = {"internal_port_id": world["vm"]["id"], "protocol": "tcp", "internal_port": 22,
                "external_port": 2222, **body}
        if "internal_port_range" in full:
            full.pop("internal_port")
        bad = api.post(f"/v2.0/{_pfs(world)}", json={"port_forwarding": full})
        _fault(bad, 400, "BadRequest")
    unknown_fip = api.get("/v2.0/floatingips/6a5a0c8e-0000-4000-8000-000000000001/"
                          "port_forwardings")
    _fault(unknown_fip, 404, "FloatingIPNotFound")
    _fault(api.get(f"/v2.0/{_pfs(world)}?internal_ip_address=10.0.0.1"), 400,
           "PortForwardingNotSupportFilterField")
    assert _fip(api, world)["router_id"] is None  # nothing was left half made


def test_losing_the_port_or_its_address_deletes_the_forwarding(api, neutrino):
    world = _world(api, 155)
    _pf(api, world, internal_port=22, external_port=2222)
    moved = api.put(f"/v2.0/ports/{world['vm']['id']}", json={"port": {"fixed_ips": [
        {"subnet_id": world["subnet"]["id"], "ip_address": "10.155.0.77"}]}})
    assert moved.status_code == 200, moved.text
    fip = _fip(api, world)
    assert (fip["port_forwardings"], fip["router_id"]) == ([], None)
    _pf(api, world, internal_port=22, external_port=2222)
    wait_journal_idle(neutrino)
    assert [lb["vips"] for lb in _lbs(neutrino, world)] == [
        {f"{world['fip']['floating_ip_address']}:2222": "10.155.0.77:22"}]
    assert api.delete(f"/v2.0/ports/{world['vm']['id']}").status_code == 204
    assert _fip(api, world)["port_forwardings"] == []
    wait_journal_idle(neutrino)
    assert _lbs(neutrino, world) == []


def test_deleting_the_floating_ip_takes_its_forwardings(api, neutrino):
    world = _world(api, 156)
    _pf(api, world, internal_port=22, external_port=2222)
    wait_journal_idle(neutrino)
    assert len(_lbs(neutrino, world)) == 1
    assert api.delete(f"/v2.0/floatingips/{world['fip']['id']}").status_code == 204
    wait_journal_idle(neutrino)
    assert _lbs(neutrino, world) == []
    assert _gateway_router(neutrino, world)["load_balancer"] == []



def test_if_match_guards_update_and_delete(api, neutrino):
    world = _world(api, 158)
    pf = _pf(api, world, internal_port=22, external_port=2222)
    path = f"/v2.0/{_pfs(world)}/{pf['id']}"
    stale = {"If-Match": "revision_number=9"}
    _fault(api.put(path, json={"port_forwarding": {"description": "x"}}, headers=stale), 412,
           "RevisionNumberConstraintFailed")
    _fault(api.delete(path, headers=stale), 412, "RevisionNumberConstraintFailed")
    assert api.put(path, json={"port_forwarding": {"description": "x"}},
                   headers={"If-Match": "revision_number=1"}).status_code == 200
    assert api.delete(path, headers={"If-Match": "revision_number=2"}).status_code == 204


def test_the_port_forwarding_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"floating-ip-port-forwarding", "floating-ip-port-forwarding-description",
            "floating-ip-port-forwarding-port-ranges", "floating-ip-port-forwarding-detail",
            "expose-port-forwarding-in-fip"} <= aliases
    shown = api.get("/v2.0/extensions/floating-ip-port-forwarding").json()["extension"]
    assert shown["name"] == "Floating IP Port Forwarding"


def test_the_floating_ip_entry_waits_for_its_router_and_forwarded_ports(api, neutrino):
    world = _world(api, 159)
    second = _post(api, "ports", {"network_id": world["net"]["id"]})
    _pf(api, world, internal_port=22, external_port=2222)
    _pf(api, world, internal_port=22, external_port=2223, internal_port_id=second["id"])
    expected = {world["router"]["id"], world["vm"]["id"], second["id"]}
    assert _computed(neutrino, ResourceType.FLOATING_IP, world["fip"]["id"]) == expected
    assert _recorded(neutrino, world["fip"]["id"]) == expected


def test_moving_a_forwarding_to_another_port_takes_its_first_address(api, neutrino):
    world = _world(api, 160)
    pf = _pf(api, world, internal_port=22, external_port=2222)
    second = _post(api, "ports", {"network_id": world["net"]["id"]})
    moved = api.put(f"/v2.0/{_pfs(world)}/{pf['id']}", json={"port_forwarding": {
        "internal_port_id": second["id"], "internal_port_range": "2000:2001",
        "external_port_range": "3000:3001"}})
    assert moved.status_code == 200, moved.text
    inside = second["fixed_ips"][0]["ip_address"]
    assert moved.json()["port_forwarding"]["internal_ip_address"] == inside
    wait_journal_idle(neutrino)
    address = world["fip"]["floating_ip_address"]
    assert [lb["vips"] for lb in _lbs(neutrino, world)] == [
        {f"{address}:3000": f"{inside}:2000", f"{address}:3001": f"{inside}:2001"}]
    # an address the port does not have is refused, and nothing changes
    wrong = api.put(f"/v2.0/{_pfs(world)}/{pf['id']}", json={"port_forwarding": {
        "internal_ip_address": world["vm_ip"]}})
    _fault(wrong, 400, "BadRequest")
    shown = api.get(f"/v2.0/{_pfs(world)}/{pf['id']}").json()["port_forwarding"]
    assert (shown["internal_port_id"], shown["internal_ip_address"]) == (second["id"], inside)
