"""Keystone mode against a real Keystone: tokens, project isolation, policies, quotas."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from keystone_tools import PASSWORD


def _post(client: httpx.Client, path: str, body: dict, status: int = 201) -> dict:
    singular = path[:-1]
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json()


def test_a_token_is_required(world):
    with world.client(None) as anonymous:
        assert anonymous.get("/").status_code == 200  # version discovery stays open
        assert anonymous.get("/v2.0/networks").status_code == 401
        bad = anonymous.get("/v2.0/networks", headers={"X-Auth-Token": "not-a-token"})
        assert bad.status_code == 401
        assert "Keystone uri" in bad.headers.get("www-authenticate", "")


def test_projects_are_isolated(world):
    with world.client("a_member") as a, world.client("b_member") as b, \
            world.client("a_reader") as reader:
        net = _post(a, "networks", {"name": "alpha-net"})["network"]
        subnet = _post(a, "subnets", {"network_id": net["id"], "ip_version": 4,
                                      "cidr": "10.200.0.0/24"})["subnet"]
        port = _post(a, "ports", {"network_id": net["id"]})["port"]
        assert net["project_id"] == world.keystone.projects["alpha"]
        for path in (f"networks/{net['id']}", f"subnets/{subnet['id']}", f"ports/{port['id']}"):
            assert b.get(f"/v2.0/{path}").status_code == 404
            assert b.put(f"/v2.0/{path}", json={path.split("/")[0][:-1]: {"name": "x"}}
                         ).status_code == 404
            assert b.delete(f"/v2.0/{path}").status_code == 404
        listed = {n["id"] for n in b.get("/v2.0/networks").json()["networks"]}
        assert net["id"] not in listed
        by_field = b.get("/v2.0/ports", params={"fields": "id", "network_id": net["id"]})
        assert by_field.json()["ports"] == []
        sorted_page = b.get("/v2.0/networks", params={"sort_key": "name", "limit": 50})
        assert net["id"] not in {n["id"] for n in sorted_page.json()["networks"]}
        by_marker = b.get("/v2.0/networks", params={"marker": net["id"], "limit": 1})
        assert by_marker.status_code == 404  # as if the marker did not exist at all
        _post(b, "ports", {"network_id": net["id"]}, status=404)

        assert reader.get(f"/v2.0/networks/{net['id']}").status_code == 200
        _post(reader, "networks", {"name": "nope"}, status=403)
        assert reader.put(f"/v2.0/networks/{net['id']}", json={"network": {"name": "x"}}
                          ).status_code == 403
        assert reader.delete(f"/v2.0/ports/{port['id']}").status_code == 403


def test_admin_only_attributes(world):
    with world.client("a_member") as a, world.client("admin") as admin:
        for body in ({"shared": True}, {"router:external": True},
                     {"provider:network_type": "vlan", "provider:physical_network": "p",
                      "provider:segmentation_id": 5}):
            fault = _post(a, "networks", {"name": "x", **body}, status=403)
            assert fault["NeutronError"]["type"] == "PolicyNotAuthorized"
        net = _post(a, "networks", {"name": "mine"})["network"]
        assert "provider:network_type" not in net
        _post(a, "ports", {"network_id": net["id"], "binding:host_id": "hv1"}, status=403)
        port = _post(a, "ports", {"network_id": net["id"]})["port"]
        assert "binding:host_id" not in port and "binding:profile" not in port
        seen_by_admin = admin.get(f"/v2.0/ports/{port['id']}").json()["port"]
        assert seen_by_admin["binding:host_id"] == ""
        assert "provider:network_type" in admin.get(f"/v2.0/networks/{net['id']}"
                                                    ).json()["network"]


def test_shared_networks_are_usable_by_others(world):
    with world.client("admin") as admin, world.client("b_member") as b:
        shared = _post(admin, "networks", {"name": "shared", "shared": True})["network"]
        _post(admin, "subnets", {"network_id": shared["id"], "ip_version": 4,
                                 "cidr": "10.201.0.0/24"})
        assert shared["id"] in {n["id"] for n in b.get("/v2.0/networks").json()["networks"]}
        port = _post(b, "ports", {"network_id": shared["id"]})["port"]
        assert port["project_id"] == world.keystone.projects["beta"]
        _post(b, "subnets", {"network_id": shared["id"], "ip_version": 4,
                             "cidr": "10.202.0.0/24"}, status=403)
        assert b.put(f"/v2.0/networks/{shared['id']}", json={"network": {"name": "x"}}
                     ).status_code == 403


def test_quota_stops_exactly_at_the_limit(world):
    alpha = world.keystone.projects["alpha"]
    with world.client("admin") as admin, world.client("a_member") as a:
        assert a.put(f"/v2.0/quotas/{alpha}", json={"quota": {"network": 50}}
                     ).status_code == 403
        used = a.get(f"/v2.0/quotas/{alpha}/details").json()["quota"]["network"]["used"]
        limit = used + 5
        response = admin.put(f"/v2.0/quotas/{alpha}", json={"quota": {"network": limit}})
        assert response.json()["quota"]["network"] == limit
        assert a.get(f"/v2.0/quotas/{alpha}/default").json()["quota"]["network"] == 100

    def create(i: int) -> httpx.Response:
        with world.client("a_member") as client:
            return client.post("/v2.0/networks", json={"network": {"name": f"q{i}"}})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(create, range(20)))
    assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 15
    assert {r.json()["NeutronError"]["type"] for r in responses if r.status_code == 409} == \
        {"OverQuota"}
    with world.client("a_member") as a:
        details = a.get(f"/v2.0/quotas/{alpha}/details").json()["quota"]["network"]
        assert (details["used"], details["limit"]) == (limit, limit)
    with world.client("admin") as admin:
        assert admin.delete(f"/v2.0/quotas/{alpha}").status_code == 204
        assert admin.get(f"/v2.0/quotas/{alpha}").json()["quota"]["network"] == 100


def test_openstack_cli_with_password_authentication(world):
    env = dict(os.environ, OS_AUTH_URL=world.keystone.url, OS_USERNAME="b_member",
               OS_PASSWORD=PASSWORD, OS_PROJECT_NAME="beta", OS_USER_DOMAIN_NAME="Default",
               OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3",
               OS_REGION_NAME="RegionOne")
    cli = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")

    def run(*args: str) -> object:
        done = subprocess.run([cli, *args, "-f", "json"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    created = run("network", "create", "cli-beta")
    assert created["project_id"] == world.keystone.projects["beta"]
    assert "cli-beta" in [n["Name"] for n in run("network", "list")]
