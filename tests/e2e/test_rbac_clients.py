"""Network RBAC with real clients and real Keystone users: alpha shares a network with beta
alone (`openstack network rbac create`, and openstacksdk's create_rbac_policy); beta sees it
and puts a port on it; gamma, a third project, still sees nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import openstack
import pytest
from keystone_cli import USERS
from keystone_cli import cli as _cli
from keystone_cli import refused as _refused
from keystone_cli import run as _run
from keystone_cli import sdk as _sdk


@pytest.fixture(scope="module")
def gamma(world) -> Iterator[str]:
    """A third project with a member of its own."""
    keystone = world.keystone
    if "gamma" not in keystone.projects:
        keystone.projects["gamma"] = keystone.create(
            "projects", {"name": "gamma", "domain_id": "default"})
        keystone.user("g_member", "gamma", "member")
    yield keystone.projects["gamma"]


def test_openstack_cli_shares_a_network_with_one_project(world, gamma):
    beta = world.keystone.projects["beta"]
    net = _cli(world, "a_member", "network", "create", "rbac-cli-net")
    _cli(world, "a_member", "subnet", "create", "--network", net["id"], "--subnet-range",
         "10.220.0.0/24", "rbac-cli-sub")
    policy = _cli(world, "a_member", "network", "rbac", "create", "--target-project", beta,
                  "--action", "access_as_shared", "--type", "network", net["id"])
    assert (policy["object_id"], policy["target_project_id"], policy["action"]) == (
        net["id"], beta, "access_as_shared")

    listed = _cli(world, "b_member", "network", "list")
    assert net["id"] in {n["ID"] for n in listed}
    assert _cli(world, "b_member", "network", "show", net["id"])["shared"] is True
    port = _cli(world, "b_member", "port", "create", "--network", net["id"], "rbac-cli-port")
    assert port["project_id"] == beta and port["fixed_ips"][0]["ip_address"].startswith(
        "10.220.0.")

    assert net["id"] not in {n["ID"] for n in _cli(world, "g_member", "network", "list")}
    assert "No Network found" in _refused(world, "g_member", "network", "show", net["id"])
    _refused(world, "g_member", "port", "create", "--network", net["id"], "nope")
    # Beta's port depends on the policy: it stays until the port goes.
    _refused(world, "a_member", "network", "rbac", "delete", policy["id"])
    assert _run(world, "b_member", "port", "delete", port["id"]).returncode == 0
    assert _run(world, "a_member", "network", "rbac", "delete", policy["id"]).returncode == 0
    assert net["id"] not in {n["ID"] for n in _cli(world, "b_member", "network", "list")}


def test_openstacksdk_shares_a_network_with_one_project(world, gamma):
    beta = world.keystone.projects["beta"]
    alpha_conn, beta_conn, gamma_conn = (_sdk(world, u) for u in USERS)
    net = alpha_conn.network.create_network(name="rbac-sdk-net")
    alpha_conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.221.0.0/24")
    policy = alpha_conn.network.create_rbac_policy(
        object_type="network", object_id=net.id, action="access_as_shared",
        target_project_id=beta)
    assert policy.target_project_id == beta
    assert [p.id for p in alpha_conn.network.rbac_policies(object_id=net.id)] == [policy.id]
    assert list(beta_conn.network.rbac_policies(object_id=net.id)) == []

    assert net.id in {n.id for n in beta_conn.network.networks()}
    port = beta_conn.network.create_port(network_id=net.id, name="rbac-sdk-port")
    assert port.project_id == beta

    assert net.id not in {n.id for n in gamma_conn.network.networks()}
    with pytest.raises(openstack.exceptions.NotFoundException):
        gamma_conn.network.get_network(net.id)
    with pytest.raises(openstack.exceptions.ConflictException):
        alpha_conn.network.delete_rbac_policy(policy)
    beta_conn.network.delete_port(port)
    alpha_conn.network.delete_rbac_policy(policy)
    with pytest.raises(openstack.exceptions.NotFoundException):
        beta_conn.network.get_network(net.id)


def test_openstack_cli_shares_a_subnet_pool_with_one_project(world, gamma):
    """`rbac-subnetpool`: beta allocates a subnet from alpha's pool once it is shared."""
    beta = world.keystone.projects["beta"]
    pool = _cli(world, "a_member", "subnet", "pool", "create", "--pool-prefix",
                "10.222.0.0/16", "--default-prefix-length", "26", "rbac-cli-pool")
    _refused(world, "b_member", "subnet", "pool", "show", pool["id"])
    policy = _cli(world, "a_member", "network", "rbac", "create", "--target-project", beta,
                  "--action", "access_as_shared", "--type", "subnetpool", pool["id"])
    assert (policy["object_type"], policy["object_id"]) == ("subnetpool", pool["id"])
    assert _cli(world, "b_member", "subnet", "pool", "show", pool["id"])["shared"] is True
    net = _cli(world, "b_member", "network", "create", "rbac-pool-net")
    subnet = _cli(world, "b_member", "subnet", "create", "--network", net["id"],
                  "--subnet-pool", pool["id"], "rbac-pool-sub")
    assert subnet["cidr"].startswith("10.222.") and subnet["cidr"].endswith("/26")
    _refused(world, "g_member", "subnet", "pool", "show", pool["id"])
    # Beta's subnet depends on the policy: it stays until the subnet goes.
    _refused(world, "a_member", "network", "rbac", "delete", policy["id"])
    assert _run(world, "b_member", "subnet", "delete", subnet["id"]).returncode == 0
    assert _run(world, "a_member", "network", "rbac", "delete", policy["id"]).returncode == 0
    _refused(world, "b_member", "subnet", "pool", "show", pool["id"])
