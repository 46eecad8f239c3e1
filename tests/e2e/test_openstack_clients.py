"""Real clients against a real `neutrino serve`: the openstack CLI and openstacksdk."""

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


def _nb_rows(served, table: str) -> list[dict]:
    client = NorthboundClient(served.ovn.nb)
    try:
        client.connect()
        return client.read_rows(table)
    finally:
        client.close()


def _wait_nb(served, table: str, name: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in _nb_rows(served, table) if r["name"] == name]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"{table} {name} did not appear in OVN NB")


def test_openstack_cli_creates_network_subnet_port_that_reach_ovn(served):
    net = _cli(served, "network", "create", "cli-net", "-f", "json")
    subnet = _cli(served, "subnet", "create", "--network", "cli-net", "--subnet-range",
                  "10.80.0.0/24", "--dns-nameserver", "10.80.0.53", "cli-sub", "-f", "json")
    port = _cli(served, "port", "create", "--network", "cli-net", "--fixed-ip",
                "subnet=cli-sub,ip-address=10.80.0.42", "cli-port", "-f", "json")
    assert net["name"] == "cli-net" and net["mtu"] == 1442
    assert subnet["cidr"] == "10.80.0.0/24" and subnet["gateway_ip"] == "10.80.0.1"
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.80.0.42"}]

    switch = _wait_nb(served, "Logical_Switch", f"neutron-{net['id']}")
    lsp = _wait_nb(served, "Logical_Switch_Port", port["id"])
    assert lsp["_uuid"] in switch["ports"]
    assert lsp["addresses"] == [f"{port['mac_address']} 10.80.0.42"]

    listed = _cli(served, "port", "list", "--network", "cli-net", "-f", "json")
    assert [p["ID"] for p in listed] == [port["id"]]
    _cli(served, "port", "delete", "cli-port")
    _cli(served, "network", "delete", "cli-net")
    assert _cli(served, "network", "list", "--name", "cli-net", "-f", "json") == []


def test_openstacksdk_round_trip(served):
    conn = openstack.connect(auth_type="none", auth={"endpoint": served.url},
                             network_endpoint_override=served.url)
    net = conn.network.create_network(name="sdk-net", is_shared=True)
    try:
        subnet = conn.network.create_subnet(network_id=net.id, ip_version=6,
                                            cidr="fd00:81::/64", ipv6_address_mode="slaac",
                                            ipv6_ra_mode="slaac")
        port = conn.network.create_port(network_id=net.id, name="sdk-port")
        assert port.fixed_ips[0]["subnet_id"] == subnet.id
        assert conn.network.get_network(net.id).subnet_ids == [subnet.id]
        conn.network.update_port(port, name="renamed", is_admin_state_up=False)
        assert conn.network.get_port(port.id).name == "renamed"
        found = list(conn.network.ports(network_id=net.id, name="renamed"))
        assert [p.id for p in found] == [port.id]
        lsp = _wait_nb(served, "Logical_Switch_Port", port.id)
        deadline = time.monotonic() + 15
        while lsp["enabled"] is not False and time.monotonic() < deadline:
            time.sleep(0.2)
            lsp = _wait_nb(served, "Logical_Switch_Port", port.id)
        assert lsp["enabled"] is False
        conn.network.delete_port(port)
    finally:
        conn.network.delete_network(net)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.network.get_network(net.id)
