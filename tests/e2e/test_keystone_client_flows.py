"""Issue 11's client flows as a real Keystone user (`a_member` of project alpha), against
`neutrino serve` with keystonemiddleware: subnet pools and address scopes, address groups,
and extraroute-atomic, through the openstack CLI and openstacksdk. (The noauth e2e files
also follow each flow down to OVN NB; RBAC's Keystone flow is in test_rbac_clients.py.)"""

from __future__ import annotations

import ipaddress

from keystone_cli import cli, run, sdk

USER = "a_member"


def _ok(done) -> None:
    """A CLI command without output (`set`, `add`) succeeded."""
    assert done.returncode == 0, f"{done.args}: {done.stderr}"


def test_subnet_pool_flow_as_a_keystone_member(world):
    alpha = world.keystone.projects["alpha"]
    scope = cli(world, USER, "address", "scope", "create", "--ip-version", "4", "ks-scope")
    pool = cli(world, USER, "subnet", "pool", "create", "--pool-prefix", "10.90.0.0/16",
               "--default-prefix-length", "26", "--address-scope", scope["id"], "ks-pool")
    assert pool["project_id"] == alpha and pool["address_scope_id"] == scope["id"]
    net = cli(world, USER, "network", "create", "ks-pool-net")
    subnet = cli(world, USER, "subnet", "create", "--network", net["id"], "--subnet-pool",
                 pool["id"], "--prefix-length", "27", "ks-pool-sub")
    cidr = ipaddress.ip_network(subnet["cidr"])
    assert cidr.prefixlen == 27 and cidr.subnet_of(ipaddress.ip_network("10.90.0.0/16"))
    assert subnet["subnetpool_id"] == pool["id"]
    _ok(run(world, USER, "subnet", "pool", "set", "--pool-prefix", "10.91.0.0/16",
            pool["id"]))
    grown = cli(world, USER, "subnet", "pool", "show", pool["id"])
    assert grown["prefixes"] == ["10.90.0.0/15"]  # merged into the fewest CIDRs, as Neutron
    assert cli(world, USER, "network", "show", net["id"])["ipv4_address_scope"] == scope["id"]

    conn = sdk(world, USER)
    made = conn.network.create_subnet(network_id=net["id"], ip_version=4,
                                      subnetpool_id=pool["id"])
    assert ipaddress.ip_network(made.cidr).prefixlen == 26  # the pool's default length
    assert made.project_id == alpha


def test_address_group_flow_as_a_keystone_member(world):
    group = cli(world, USER, "address", "group", "create", "--address", "10.92.0.0/24",
                "ks-ag")
    _ok(run(world, USER, "address", "group", "set", "--address", "10.93.0.1", group["id"]))
    shown = cli(world, USER, "address", "group", "show", group["id"])
    assert set(shown["addresses"]) == {"10.92.0.0/24", "10.93.0.1/32"}
    sg = cli(world, USER, "security", "group", "create", "ks-sg")
    rule = cli(world, USER, "security", "group", "rule", "create", "--protocol", "tcp",
               "--dst-port", "22", "--remote-address-group", group["id"], sg["id"])
    assert rule["remote_address_group_id"] == group["id"]

    conn = sdk(world, USER)
    found = conn.network.get_address_group(group["id"])
    assert found.name == "ks-ag" and "10.93.0.1/32" in found.addresses


def test_extraroute_atomic_flow_as_a_keystone_member(world):
    net = cli(world, USER, "network", "create", "ks-route-net")
    subnet = cli(world, USER, "subnet", "create", "--network", net["id"], "--subnet-range",
                 "10.94.0.0/24", "ks-route-sub")
    router = cli(world, USER, "router", "create", "ks-router")
    _ok(run(world, USER, "router", "add", "subnet", router["id"], subnet["id"]))
    _ok(run(world, USER, "router", "add", "route", "--route",
            "destination=10.95.0.0/24,gateway=10.94.0.5", router["id"]))
    routes = cli(world, USER, "router", "show", router["id"])["routes"]
    assert routes == [{"destination": "10.95.0.0/24", "nexthop": "10.94.0.5"}]

    conn = sdk(world, USER)
    conn.network.add_extra_routes_to_router(router["id"], body={"router": {"routes": [
        {"destination": "10.96.0.0/24", "nexthop": "10.94.0.6"}]}})
    conn.network.remove_extra_routes_from_router(router["id"], body={"router": {"routes": [
        {"destination": "10.95.0.0/24", "nexthop": "10.94.0.5"}]}})
    left = conn.network.get_router(router["id"]).routes
    assert left == [{"destination": "10.96.0.0/24", "nexthop": "10.94.0.6"}]
