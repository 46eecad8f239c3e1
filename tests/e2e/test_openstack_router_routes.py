"""Extra routes through real clients against a real `neutrino serve`: the openstack CLI's
`router add route` / `router remove route` (extraroute-atomic) and openstacksdk's calls."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openstack
import pytest

from neutrino.ovn.client import NorthboundClient


def _openstack_cli() -> str:
    found = shutil.which("openstack") or str(Path(sys.executable).parent / "openstack")
    if not Path(found).exists():
        pytest.fail("the openstack CLI (python-openstackclient) is not installed")
    return found


def _cli(served, *args: str) -> dict | list | str:
    argv = [_openstack_cli(), "--os-auth-type", "none", "--os-endpoint", served.url, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return json.loads(done.stdout) if "-f" in args and "json" in args else done.stdout


def _nb_routes(served, router_id: str) -> set[tuple[str, str]]:
    client = NorthboundClient(served.ovn.nb)
    try:
        client.connect()
        routers = [r for r in client.read_rows("Logical_Router")
                   if r["name"] == f"neutron-{router_id}"]
        if not routers:
            return set()
        return {(r["ip_prefix"], r["nexthop"])
                for r in client.read_rows("Logical_Router_Static_Route")
                if r["_uuid"] in routers[0]["static_routes"]}
    finally:
        client.close()


def _wait_routes(served, router_id: str, wanted: set[tuple[str, str]]) -> None:
    deadline = time.monotonic() + 15
    while _nb_routes(served, router_id) != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _nb_routes(served, router_id) == wanted


def _routes(router: dict) -> list[dict]:
    routes = router["routes"]
    return json.loads(routes) if isinstance(routes, str) else routes


def test_openstack_cli_adds_and_removes_routes(served):
    _cli(served, "network", "create", "rt-cli-net")
    _cli(served, "subnet", "create", "--network", "rt-cli-net", "--subnet-range",
         "10.85.0.0/24", "rt-cli-sub")
    router = _cli(served, "router", "create", "rt-cli", "-f", "json")
    _cli(served, "router", "add", "subnet", "rt-cli", "rt-cli-sub")
    first = "destination=192.168.85.0/24,gateway=10.85.0.10"
    second = "destination=192.168.86.0/24,gateway=10.85.0.11"
    added = _cli(served, "router", "add", "route", "--route", first, "--route", second,
                 "rt-cli", "-f", "json")
    wanted = [{"destination": "192.168.85.0/24", "nexthop": "10.85.0.10"},
              {"destination": "192.168.86.0/24", "nexthop": "10.85.0.11"}]
    assert _routes(added) == wanted
    again = _cli(served, "router", "add", "route", "--route", first, "rt-cli", "-f", "json")
    assert _routes(again) == wanted  # a route already there is no error, and stays once
    _wait_routes(served, router["id"], {("192.168.85.0/24", "10.85.0.10"),
                                        ("192.168.86.0/24", "10.85.0.11")})
    removed = _cli(served, "router", "remove", "route", "--route", first, "rt-cli",
                   "-f", "json")
    assert _routes(removed) == wanted[1:]
    _wait_routes(served, router["id"], {("192.168.86.0/24", "10.85.0.11")})
    _cli(served, "router", "remove", "route", "--route", second, "rt-cli")
    _cli(served, "router", "remove", "subnet", "rt-cli", "rt-cli-sub")
    _cli(served, "router", "delete", "rt-cli")
    _cli(served, "network", "delete", "rt-cli-net")


def test_openstacksdk_extra_routes(served):
    conn = openstack.connect(auth_type="none", auth={"endpoint": served.url},
                             network_endpoint_override=served.url)
    net = conn.network.create_network(name="rt-sdk-net")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                        cidr="10.86.0.0/24")
    router = conn.network.create_router(name="rt-sdk")
    try:
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        route = {"destination": "192.168.87.0/24", "nexthop": "10.86.0.20"}
        updated = conn.network.add_extra_routes_to_router(
            router, body={"router": {"routes": [route]}})
        assert updated.routes == [route]
        assert conn.network.get_router(router.id).routes == [route]
        _wait_routes(served, router.id, {("192.168.87.0/24", "10.86.0.20")})
        bad = {"destination": "192.168.88.0/24", "nexthop": "10.99.0.1"}
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.network.add_extra_routes_to_router(router, body={"router": {"routes": [bad]}})
        emptied = conn.network.remove_extra_routes_from_router(
            router, body={"router": {"routes": [route]}})
        assert emptied.routes == []
        _wait_routes(served, router.id, set())
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    finally:
        conn.network.delete_router(router)
        conn.network.delete_network(net)
