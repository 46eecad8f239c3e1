"""Project isolation against a real Keystone, as Neutron answers it: 404 for what a project
cannot see, 403 for what it sees but may not do (and Neutron's 400s and 409s where it has
them). Project alpha (user a_member) owns most things; beta (b_member) tries to reach them.

Layout (made once, by `scene`): an external network (admin's); a network of alpha's that the
admin made shared, with alpha's subnet; alpha's private network, subnet, port, security
group with a rule, and router (gateway on the external network, interface on its subnet);
and the same for beta.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from keystone_tools import TOKEN_CACHE_SECONDS

ALPHA_CIDR, BETA_CIDR, SHARED_CIDR, EXT_CIDR = ("10.210.0.0/24", "10.211.0.0/24",
                                               "10.212.0.0/24", "172.30.0.0/24")
NETWORK_OWNERS = ("network:router_interface", "network:dhcp", "network:floatingip",
                  "network:router_gateway")


@dataclass
class Scene:
    ext: dict
    ext_subnet: dict
    shared: dict
    shared_subnet: dict
    alpha: dict[str, dict]  # network, subnet, port, sg, rule, router
    beta: dict[str, dict]


def _post(client: httpx.Client, path: str, body: dict, status: int = 201) -> dict:
    singular = {"security-groups": "security_group",
                "security-group-rules": "security_group_rule"}.get(path, path[:-1])
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json().get(singular, response.json())


def _put(client: httpx.Client, path: str, body: dict, status: int = 200) -> dict:
    response = client.put(f"/v2.0/{path}", json=body)
    assert response.status_code == status, f"PUT {path} {body}: {response.text}"
    return response.json() if response.content else {}


def _project(world, who: str, cidr: str, ext_id: str) -> dict[str, dict]:
    with world.client(who) as c:
        net = _post(c, "networks", {"name": f"{who}-net"})
        subnet = _post(c, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
        port = _post(c, "ports", {"network_id": net["id"], "name": f"{who}-port"})
        sg = _post(c, "security-groups", {"name": f"{who}-sg"})
        rule = _post(c, "security-group-rules", {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22})
        router = _post(c, "routers", {"name": f"{who}-router",
                                      "external_gateway_info": {"network_id": ext_id}})
        _put(c, f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    return {"network": net, "subnet": subnet, "port": port, "sg": sg, "rule": rule,
            "router": router}


@pytest.fixture(scope="module")
def scene(world) -> Iterator[Scene]:
    alpha = world.keystone.projects["alpha"]
    with world.client("admin") as admin, world.client("a_member") as a:
        ext = _post(admin, "networks", {"name": "iso-ext", "router:external": True})
        ext_subnet = _post(admin, "subnets", {"network_id": ext["id"], "ip_version": 4,
                                              "cidr": EXT_CIDR})
        shared = _post(admin, "networks", {"name": "iso-shared", "shared": True,
                                           "project_id": alpha})
        shared_subnet = _post(a, "subnets", {"network_id": shared["id"], "ip_version": 4,
                                             "cidr": SHARED_CIDR})
    yield Scene(ext, ext_subnet, shared, shared_subnet,
                _project(world, "a_member", ALPHA_CIDR, ext["id"]),
                _project(world, "b_member", BETA_CIDR, ext["id"]))


def _interfaces(world, router_id: str) -> list[str]:
    with world.client("admin") as admin:
        ports = admin.get("/v2.0/ports", params={
            "device_id": router_id, "device_owner": "network:router_interface"}).json()["ports"]
    return sorted(p["id"] for p in ports)


# -- security groups -------------------------------------------------------------------------
def test_another_projects_security_groups_and_rules_are_invisible(world, scene):
    sg, rule = scene.alpha["sg"], scene.alpha["rule"]
    with world.client("b_member") as b:
        for path, singular in ((f"security-groups/{sg['id']}", "security_group"),
                               (f"security-group-rules/{rule['id']}", "security_group_rule")):
            assert b.get(f"/v2.0/{path}").status_code == 404
            assert b.put(f"/v2.0/{path}", json={singular: {"description": "x"}}
                         ).status_code == 404
            assert b.delete(f"/v2.0/{path}").status_code == 404
        assert sg["id"] not in {g["id"] for g in b.get("/v2.0/security-groups").json()[
            "security_groups"]}
        assert b.get("/v2.0/security-group-rules", params={"security_group_id": sg["id"]}
                     ).json()["security_group_rules"] == []
    with world.client("a_member") as a:
        still = a.get(f"/v2.0/security-groups/{sg['id']}").json()["security_group"]
        assert (still["description"], len(still["security_group_rules"])) == ("", 3)


def test_a_project_cannot_add_rules_to_or_use_another_projects_group(world, scene):
    sg, own = scene.alpha["sg"], scene.beta["sg"]
    with world.client("b_member") as b:
        # Neutron evaluates create_security_group_rule against the group's owner: a 403.
        fault = _post(b, "security-group-rules", {"security_group_id": sg["id"],
                                                  "direction": "ingress"}, status=403)
        assert fault["NeutronError"]["type"] == "PolicyNotAuthorized"
        _post(b, "security-group-rules", {"security_group_id": own["id"], "direction": "ingress",
                                          "remote_group_id": sg["id"]}, status=404)
        _post(b, "security-group-rules", {
            "security_group_id": own["id"], "direction": "ingress", "protocol": "udp",
            "project_id": world.keystone.projects["alpha"]}, status=400)
        _post(b, "ports", {"network_id": scene.beta["network"]["id"],
                           "security_groups": [sg["id"]]}, status=404)
        _put(b, f"ports/{scene.beta['port']['id']}", {"port": {"security_groups": [sg["id"]]}},
             status=404)
    with world.client("a_member") as a:
        rules = a.get(f"/v2.0/security-groups/{sg['id']}").json()["security_group"][
            "security_group_rules"]
        assert len(rules) == 3


def test_creating_for_another_project_is_a_bad_request(world, scene):
    beta = world.keystone.projects["beta"]
    with world.client("a_member") as a:
        for path, body in (("networks", {"name": "x"}), ("security-groups", {"name": "x"}),
                           ("routers", {"name": "x"}),
                           ("ports", {"network_id": scene.alpha["network"]["id"]})):
            fault = _post(a, path, {**body, "project_id": beta}, status=400)
            assert "other than the authenticated project" in fault["NeutronError"]["message"]


# -- router interfaces -----------------------------------------------------------------------
def test_router_interfaces_with_another_projects_subnet_or_port(world, scene):
    router = scene.beta["router"]["id"]
    add, remove = (f"routers/{router}/add_router_interface",
                   f"routers/{router}/remove_router_interface")
    with world.client("b_member") as b:
        _put(b, add, {"subnet_id": scene.alpha["subnet"]["id"]}, status=404)
        _put(b, add, {"port_id": scene.alpha["port"]["id"]}, status=404)
        # A shared network's subnet owned by another project: Neutron's l3 refuses it (400;
        # only networks shared with the project by name are allowed, not with `*`).
        fault = _put(b, add, {"subnet_id": scene.shared_subnet["id"]}, status=400)
        assert "not owned by project" in fault["NeutronError"]["message"]
        # Its own port on that shared network is fine, as in Neutron.
        port = _post(b, "ports", {"network_id": scene.shared["id"]})
        _put(b, add, {"port_id": port["id"]})
        _put(b, remove, {"port_id": port["id"]})
        theirs = scene.alpha["router"]["id"]
        _put(b, f"routers/{theirs}/add_router_interface",
             {"subnet_id": scene.beta["subnet"]["id"]}, status=404)
        _put(b, f"routers/{theirs}/remove_router_interface",
             {"subnet_id": scene.alpha["subnet"]["id"]}, status=404)
    assert len(_interfaces(world, scene.alpha["router"]["id"])) == 1


# -- floating IPs ----------------------------------------------------------------------------
def test_floating_ips_on_another_projects_port(world, scene):
    ext, theirs = scene.ext["id"], scene.alpha["port"]["id"]
    with world.client("b_member") as b:
        _post(b, "floatingips", {"floating_network_id": ext, "port_id": theirs}, status=404)
        fip = _post(b, "floatingips", {"floating_network_id": ext})
        _put(b, f"floatingips/{fip['id']}", {"floatingip": {"port_id": theirs}}, status=404)
        assert b.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]["port_id"] is None
        # Its own port works (the refusal above is about ownership, not routing).
        own = _put(b, f"floatingips/{fip['id']}",
                   {"floatingip": {"port_id": scene.beta["port"]["id"]}})["floatingip"]
        assert own["port_id"] == scene.beta["port"]["id"]
    with world.client("a_member") as a:
        path = f"/v2.0/floatingips/{fip['id']}"
        assert a.get(path).status_code == 404
        assert a.put(path, json={"floatingip": {"port_id": None}}).status_code == 404
        assert a.delete(path).status_code == 404


# -- subnets and ports on a shared network ---------------------------------------------------
def test_another_projects_subnet_on_a_shared_network(world, scene):
    subnet = scene.shared_subnet
    with world.client("b_member") as b:
        assert b.get(f"/v2.0/subnets/{subnet['id']}").status_code == 200
        assert subnet["id"] in {s["id"] for s in b.get("/v2.0/subnets").json()["subnets"]}
        _put(b, f"subnets/{subnet['id']}", {"subnet": {"name": "mine"}}, status=403)
        assert b.delete(f"/v2.0/subnets/{subnet['id']}").status_code == 403
        port = _post(b, "ports", {"network_id": scene.shared["id"],
                                  "fixed_ips": [{"subnet_id": subnet["id"]}]})
        assert port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    with world.client("admin") as admin:
        # A subnet of beta's on alpha's shared network: beta may manage it (update_subnet is
        # "project member, or network owner" in Neutron).
        own = _post(admin, "subnets", {"network_id": scene.shared["id"], "ip_version": 4,
                                       "cidr": "10.213.0.0/24",
                                       "project_id": world.keystone.projects["beta"]})
    with world.client("b_member") as b:
        _put(b, f"subnets/{own['id']}", {"subnet": {"name": "mine"}})
        assert b.delete(f"/v2.0/subnets/{own['id']}").status_code == 204


def test_ports_on_a_network_the_project_does_not_own(world, scene):
    shared = scene.shared["id"]
    with world.client("b_member") as b:
        for body in ({"fixed_ips": [{"ip_address": "10.212.0.50"}]},
                     {"mac_address": "fa:16:3e:11:22:33"},
                     {"port_security_enabled": False}, {"port_security_enabled": True},
                     {"allowed_address_pairs": [{"ip_address": "10.212.0.0/24"}]}):
            fault = _post(b, "ports", {"network_id": shared, **body}, status=403)
            assert fault["NeutronError"]["type"] == "PolicyNotAuthorized", body
        port = _post(b, "ports", {"network_id": shared})
        for body in ({"port_security_enabled": False},
                     {"allowed_address_pairs": [{"ip_address": "10.212.0.0/24"}]},
                     {"fixed_ips": [{"subnet_id": scene.shared_subnet["id"]}]},
                     {"mac_address": "fa:16:3e:11:22:34"}):
            _put(b, f"ports/{port['id']}", {"port": body}, status=403)
        after = b.get(f"/v2.0/ports/{port['id']}").json()["port"]
        assert (after["port_security_enabled"], after["allowed_address_pairs"]) == (True, [])
        # An external network is visible but not shared: no ports on it (create_port needs
        # the network's owner or a shared network).
        _post(b, "ports", {"network_id": scene.ext["id"]}, status=403)


def test_device_owner_spoofing(world, scene):
    shared, router = scene.shared["id"], scene.alpha["router"]["id"]
    with world.client("b_member") as b:
        for owner in NETWORK_OWNERS:
            _post(b, "ports", {"network_id": shared, "device_owner": owner}, status=403)
        port = _post(b, "ports", {"network_id": shared, "device_owner": "compute:nova"})
        _put(b, f"ports/{port['id']}", {"port": {"device_owner": "network:dhcp"}}, status=403)
        # On its own network the owner may set network:* owners (as in Neutron), but never
        # name another project's router: that would plug beta's network into alpha's router.
        own_net = scene.beta["network"]["id"]
        fault = _post(b, "ports", {"network_id": own_net, "device_id": router,
                                   "device_owner": "network:router_interface"}, status=409)
        assert fault["NeutronError"]["type"] == "DeviceIDNotOwnedByTenant"
        _put(b, f"ports/{scene.beta['port']['id']}",
             {"port": {"device_id": router, "device_owner": "network:router_interface"}},
             status=409)
        dhcp = _post(b, "ports", {"network_id": own_net, "device_owner": "network:dhcp"})
        assert dhcp["security_groups"] == []
    assert len(_interfaces(world, router)) == 1
    with world.client("admin") as admin:
        on_shared = admin.get("/v2.0/ports", params={"network_id": shared}).json()["ports"]
    assert [p for p in on_shared if p["device_owner"].startswith("network:")] == []


# -- admin-only attributes -------------------------------------------------------------------
def test_admin_only_attributes_on_update(world, scene):
    net, port = scene.alpha["network"]["id"], scene.alpha["port"]["id"]
    with world.client("a_member") as a:
        for body in ({"shared": True}, {"shared": False}, {"router:external": False},
                     {"provider:network_type": "vlan"}, {"provider:segmentation_id": 7}):
            fault = _put(a, f"networks/{net}", {"network": body}, status=403)
            assert fault["NeutronError"]["type"] == "PolicyNotAuthorized", body
        for body in ({"binding:host_id": "hv1"}, {"binding:host_id": ""},
                     {"binding:profile": {"x": "y"}}, {"binding:profile": {}},
                     {"mac_address": "fa:16:3e:00:00:01"}):
            _put(a, f"ports/{port}", {"port": body}, status=403)
        updated = _put(a, f"ports/{port}", {"port": {"name": "renamed"}})["port"]
        assert not [k for k in updated if k.startswith("binding:") and k != "binding:vnic_type"]
        listed = a.get("/v2.0/networks", params={"id": net}).json()["networks"][0]
        assert not [k for k in listed if k.startswith("provider:")]
        only = a.get(f"/v2.0/ports/{port}", params={"fields": ["id", "binding:host_id"]})
        assert only.json()["port"] == {"id": port}


def test_router_gateway_details_are_admin_only(world, scene):
    ext, ext_subnet = scene.ext["id"], scene.ext_subnet["id"]
    router = scene.alpha["router"]["id"]
    fixed = {"network_id": ext, "external_fixed_ips": [{"subnet_id": ext_subnet}]}
    with world.client("a_member") as a:
        for info in (fixed, {"network_id": ext, "enable_snat": False},
                     {"network_id": ext, "enable_snat": True}):
            _post(a, "routers", {"name": "x", "external_gateway_info": info}, status=403)
            _put(a, f"routers/{router}", {"router": {"external_gateway_info": info}},
                 status=403)
        gateway = a.get(f"/v2.0/routers/{router}").json()["router"]["external_gateway_info"]
        assert gateway["enable_snat"] is True
    with world.client("admin") as admin:
        _put(admin, f"routers/{router}",
             {"router": {"external_gateway_info": {"network_id": ext, "enable_snat": False}}})


# -- tags ------------------------------------------------------------------------------------
def _tag_calls(client: httpx.Client, base: str) -> list[int]:
    return [client.get(f"{base}/tags").status_code,
            client.put(f"{base}/tags", json={"tags": ["x"]}).status_code,
            client.delete(f"{base}/tags").status_code,
            client.get(f"{base}/tags/t").status_code,
            client.put(f"{base}/tags/y").status_code,
            client.delete(f"{base}/tags/t").status_code]


def test_tags_on_other_projects_resources(world, scene):
    alpha = scene.alpha
    with world.client("a_member") as a:
        for path in (f"networks/{scene.shared['id']}", f"networks/{alpha['network']['id']}"):
            _put(a, f"{path}/tags", {"tags": ["t"]})
    with world.client("b_member") as b:
        for path in (f"networks/{alpha['network']['id']}", f"subnets/{alpha['subnet']['id']}",
                     f"ports/{alpha['port']['id']}", f"security-groups/{alpha['sg']['id']}",
                     f"routers/{alpha['router']['id']}"):
            assert _tag_calls(b, f"/v2.0/{path}") == [404] * 6, path
        # A shared network (and its subnet): visible, so reading works and changing is a 403.
        shared = f"/v2.0/networks/{scene.shared['id']}"
        assert _tag_calls(b, shared) == [200, 403, 403, 204, 403, 403]
        subnet = f"/v2.0/subnets/{scene.shared_subnet['id']}"
        assert b.put(f"{subnet}/tags", json={"tags": ["x"]}).status_code == 403
    with world.client("a_member") as a:
        for path in (f"networks/{scene.shared['id']}", f"networks/{alpha['network']['id']}"):
            assert a.get(f"/v2.0/{path}/tags").json()["tags"] == ["t"]


# -- tokens ----------------------------------------------------------------------------------
def _status_with(world, token: str) -> int:
    return httpx.get(f"{world.url}/v2.0/networks", headers={"X-Auth-Token": token},
                     timeout=60).status_code


def test_an_expired_token_is_refused(world):
    # Long enough to be valid at first use on a loaded machine; expiry is then awaited.
    lifetime = 15
    token = world.keystone.short_lived_token("b_member", "beta", seconds=lifetime)
    assert _status_with(world, token) == 200  # now also in keystonemiddleware's cache
    deadline = time.monotonic() + lifetime + 5
    while _status_with(world, token) != 401:  # expiry is checked on cached tokens too
        assert time.monotonic() < deadline, "an expired token still works"
        time.sleep(0.5)


def test_a_revoked_token_is_refused(world):
    unused = world.keystone.token("b_member", "beta")
    world.keystone.revoke(unused)
    assert _status_with(world, unused) == 401

    used = world.keystone.token("b_member", "beta")
    assert _status_with(world, used) == 200
    world.keystone.revoke(used)
    # A validated token is cached for token_cache_time: revocation shows within that time.
    deadline = time.monotonic() + TOKEN_CACHE_SECONDS + 3
    while _status_with(world, used) != 401:
        assert time.monotonic() < deadline, "a revoked token still works after the cache time"
        time.sleep(0.5)
    assert _status_with(world, world.tokens["b_member"]) == 200  # only that token went
