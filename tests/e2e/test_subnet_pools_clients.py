"""Subnet pools and address scopes with real clients (the openstack CLI and openstacksdk)
against a real `neutrino serve`; subnets allocated from a pool reach OVN like any subnet."""

from __future__ import annotations

import ipaddress
import time

import openstack
from test_openstack_clients import _cli, _nb_rows


def _wait_dhcp(served, subnet_id: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in _nb_rows(served, "DHCP_Options")
                 if r["external_ids"].get("subnet_id") == subnet_id]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"DHCP_Options of subnet {subnet_id} did not appear in OVN NB")


def test_openstack_cli_scope_pool_and_a_subnet_from_it(served):
    scope = _cli(served, "address", "scope", "create", "--ip-version", "4", "cli-scope",
                 "-f", "json")
    pool = _cli(served, "subnet", "pool", "create", "--pool-prefix", "10.96.0.0/16",
                "--default-prefix-length", "24", "--address-scope", "cli-scope", "cli-pool",
                "-f", "json")
    assert scope["ip_version"] == 4
    assert pool["prefixes"] == ["10.96.0.0/16"] and pool["default_prefixlen"] == 24
    assert pool["address_scope_id"] == scope["id"]

    net = _cli(served, "network", "create", "cli-pool-net", "-f", "json")
    subnet = _cli(served, "subnet", "create", "--network", "cli-pool-net", "--subnet-pool",
                  "cli-pool", "--prefix-length", "26", "cli-pool-sub", "-f", "json")
    assert subnet["cidr"] == "10.96.0.0/26" and subnet["subnetpool_id"] == pool["id"]
    assert subnet["gateway_ip"] == "10.96.0.1"
    dhcp = _wait_dhcp(served, subnet["id"])
    assert dhcp["cidr"] == "10.96.0.0/26"
    assert dhcp["options"]["router"] == "10.96.0.1"
    shown = _cli(served, "network", "show", "cli-pool-net", "-f", "json")
    assert shown["ipv4_address_scope"] == scope["id"] and shown["id"] == net["id"]

    _cli(served, "subnet", "pool", "set", "--pool-prefix", "10.94.0.0/16", "cli-pool")
    grown = _cli(served, "subnet", "pool", "show", "cli-pool", "-f", "json")
    assert grown["prefixes"] == ["10.94.0.0/16", "10.96.0.0/16"]
    second = _cli(served, "subnet", "create", "--network", "cli-pool-net", "--subnet-pool",
                  "cli-pool", "--subnet-range", "10.94.3.0/24", "cli-pool-sub2", "-f", "json")
    assert second["cidr"] == "10.94.3.0/24"
    listed = _cli(served, "subnet", "list", "--subnet-pool", "cli-pool", "-f", "json")
    assert sorted(s["Name"] for s in listed) == ["cli-pool-sub", "cli-pool-sub2"]

    _cli(served, "subnet", "delete", "cli-pool-sub", "cli-pool-sub2")
    _cli(served, "subnet", "pool", "delete", "cli-pool")
    _cli(served, "address", "scope", "delete", "cli-scope")
    assert _cli(served, "subnet", "pool", "list", "-f", "json") == []


def test_openstacksdk_pools_default_pool_and_prefix_growth(served):
    conn = openstack.connect(auth_type="none", auth={"endpoint": served.url},
                             network_endpoint_override=served.url)
    scope = conn.network.create_address_scope(name="sdk-scope", ip_version=4, is_shared=True)
    pool = conn.network.create_subnet_pool(
        name="sdk-pool", prefixes=["10.98.0.0/24"], default_prefix_length=26,
        maximum_prefix_length=28, address_scope_id=scope.id, is_default=True)
    assert (pool.ip_version, pool.minimum_prefix_length, pool.is_default) == (4, 8, True)
    net = conn.network.create_network(name="sdk-pool-net")
    made = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                      use_default_subnet_pool=True)
    assert made.subnet_pool_id == pool.id and made.cidr == "10.98.0.0/26"
    small = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                       subnet_pool_id=pool.id, prefix_length=28)
    assert ipaddress.ip_network(small.cidr).subnet_of(ipaddress.ip_network("10.98.0.64/26"))
    assert _wait_dhcp(served, small.id)["cidr"] == small.cidr

    grown = conn.network.update_subnet_pool(pool, prefixes=["10.98.0.0/24", "10.99.0.0/24"])
    assert grown.prefixes == ["10.98.0.0/24", "10.99.0.0/24"]
    assert conn.network.get_network(net.id).ipv4_address_scope_id == scope.id
    assert [p.id for p in conn.network.subnet_pools(address_scope_id=scope.id)] == [pool.id]

    for subnet in (made, small):
        conn.network.delete_subnet(subnet)
    conn.network.delete_subnet_pool(pool)
    conn.network.delete_address_scope(scope)
    conn.network.delete_network(net)
