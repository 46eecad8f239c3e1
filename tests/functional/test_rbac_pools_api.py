"""RBAC on subnet pools and address scopes (`rbac-subnetpool`, `rbac-address-scope`) and the
`shared` filter of security groups (`security-groups-shared-filtering`), through the HTTP
API with callers who are not admins, as tests/functional/test_rbac_api.py does.

Project A owns things and shares them; B is the target; C is anybody else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.testclient import TestClient
from test_rbac_api import Cloud, _downgrade, fault, listed_ids, post, share
from test_rbac_api import cloud as rbac_cloud  # noqa: F401 (a fixture)

from neutrino.db.engine import make_engine
from neutrino.db.migrate import alembic_config, upgrade


@pytest.fixture()
def cloud(rbac_cloud: Cloud) -> Cloud:  # noqa: F811
    """test_rbac_api's projects A, B, C and an admin, each with its client."""
    return rbac_cloud


def pool(cloud: Cloud, who: str, prefix: str, **body: Any) -> dict[str, Any]:
    return post(cloud(who), "subnetpools", {"name": f"{who}-pool", "prefixes": [prefix],
                                            "default_prefixlen": 26, **body})


def subnet_from(client: TestClient, pool_id: str, network_id: str) -> Any:
    return client.post("/v2.0/subnets", json={"subnet": {
        "network_id": network_id, "ip_version": 4, "subnetpool_id": pool_id}})


def policies_on(cloud: Cloud, object_id: str) -> list[tuple[str, str, str]]:
    found = cloud("admin").get("/v2.0/rbac-policies", params={"object_id": object_id})
    return [(p["object_type"], p["action"], p["target_tenant"])
            for p in found.json()["rbac_policies"]]


# -- subnet pools ---------------------------------------------------------------------------
def test_a_subnet_pool_shared_with_one_project(cloud: Cloud):
    mine = pool(cloud, "a", "10.160.0.0/16")
    path = f"/v2.0/subnetpools/{mine['id']}"
    fault(cloud("b").get(path), 404, "SubnetPoolNotFound")
    policy = share(cloud, "a", mine["id"], "b", object_type="subnetpool")
    assert (policy["object_type"], policy["object_id"]) == ("subnetpool", mine["id"])
    # The target sees it, shared to it; the owner sees it unshared (no `*` policy).
    assert cloud("b").get(path).json()["subnetpool"]["shared"] is True
    assert cloud("a").get(path).json()["subnetpool"]["shared"] is False
    assert mine["id"] in listed_ids(cloud("b"), "subnetpools", shared="true")
    assert mine["id"] not in listed_ids(cloud("b"), "subnetpools", shared="false")
    assert mine["id"] in listed_ids(cloud("a"), "subnetpools", shared="false")
    # B allocates a subnet from it on its own network; it may not change or delete it.
    net = post(cloud("b"), "networks", {"name": "b-net"})
    allocated = subnet_from(cloud("b"), mine["id"], net["id"])
    assert allocated.status_code == 201, allocated.text
    subnet = allocated.json()["subnet"]
    assert subnet["subnetpool_id"] == mine["id"] and subnet["cidr"].startswith("10.160.")
    fault(cloud("b").put(path, json={"subnetpool": {"name": "x"}}), 403)
    fault(cloud("b").delete(path), 403)
    # C sees nothing and allocates nothing.
    fault(cloud("c").get(path), 404, "SubnetPoolNotFound")
    assert mine["id"] not in listed_ids(cloud("c"), "subnetpools")
    other = post(cloud("c"), "networks", {"name": "c-net"})
    fault(subnet_from(cloud("c"), mine["id"], other["id"]), 404, "SubnetPoolNotFound")
    # The policy cannot go, nor move, while B's subnet comes from the pool.
    policy_path = f"/v2.0/rbac-policies/{policy['id']}"
    assert f"project_id={cloud.projects['b']}" in fault(cloud("a").delete(policy_path), 409,
                                                        "RbacPolicyInUse")
    fault(cloud("a").put(policy_path, json={"rbac_policy": {
        "target_tenant": cloud.projects["c"]}}), 409, "RbacPolicyInUse")
    assert cloud("b").delete(f"/v2.0/subnets/{subnet['id']}").status_code == 204
    assert cloud("a").delete(policy_path).status_code == 204
    fault(cloud("b").get(path), 404, "SubnetPoolNotFound")


def test_a_subnet_pool_takes_only_the_shared_action(cloud: Cloud):
    mine = pool(cloud, "a", "10.161.0.0/16")
    response = cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": {
        "object_type": "subnetpool", "object_id": mine["id"], "action": "access_as_external",
        "target_tenant": cloud.projects["b"]}})
    assert fault(response, 400, "InvalidActionForType") == (
        "Invalid action 'access_as_external' for object type 'subnetpool'. Valid actions: "
        "('access_as_shared',)")
    theirs = pool(cloud, "c", "10.162.0.0/16")
    assert "Only admins can manipulate policies on objects they do not own" in fault(
        cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": {
            "object_type": "subnetpool", "object_id": theirs["id"],
            "action": "access_as_shared", "target_tenant": cloud.projects["b"]}}),
        400, "InvalidInput")


def test_a_shared_subnet_pool_is_a_policy_for_every_project(cloud: Cloud):
    everyone = pool(cloud, "admin", "10.163.0.0/16", shared=True,
                    project_id=cloud.projects["a"])
    assert everyone["shared"] is True
    assert policies_on(cloud, everyone["id"]) == [("subnetpool", "access_as_shared", "*")]
    assert everyone["id"] in listed_ids(cloud("c"), "subnetpools", shared="true")
    net = post(cloud("c"), "networks", {"name": "c-net"})
    subnet = subnet_from(cloud("c"), everyone["id"], net["id"]).json()["subnet"]
    [wildcard] = cloud("a").get("/v2.0/rbac-policies", params={
        "object_id": everyone["id"]}).json()["rbac_policies"]
    fault(cloud("admin").delete(f"/v2.0/rbac-policies/{wildcard['id']}"), 409,
          "RbacPolicyInUse")
    # `shared` is not updatable on a pool (neutron-lib: allow_put False).
    fault(cloud("admin").put(f"/v2.0/subnetpools/{everyone['id']}", json={"subnetpool": {
        "shared": False}}), 400)
    assert cloud("c").delete(f"/v2.0/subnets/{subnet['id']}").status_code == 204
    assert cloud("admin").delete(f"/v2.0/rbac-policies/{wildcard['id']}").status_code == 204
    fault(cloud("c").get(f"/v2.0/subnetpools/{everyone['id']}"), 404)
    # Deleting a pool takes its policies along.
    share(cloud, "a", everyone["id"], "b", object_type="subnetpool")
    assert cloud("a").delete(f"/v2.0/subnetpools/{everyone['id']}").status_code == 204
    assert policies_on(cloud, everyone["id"]) == []


# -- address scopes -------------------------------------------------------------------------
def test_an_address_scope_shared_with_one_project(cloud: Cloud):
    scope = post(cloud("a"), "address-scopes", {"name": "a-scope", "ip_version": 4})
    path = f"/v2.0/address-scopes/{scope['id']}"
    fault(cloud("b").get(path), 404, "AddressScopeNotFound")
    policy = share(cloud, "a", scope["id"], "b", object_type="address_scope")
    assert policy["object_type"] == "address_scope"
    assert cloud("b").get(path).json()["address_scope"]["shared"] is True
    assert cloud("a").get(path).json()["address_scope"]["shared"] is False
    assert scope["id"] in listed_ids(cloud("b"), "address-scopes", shared="true")
    assert scope["id"] in listed_ids(cloud("a"), "address-scopes", shared="false")
    fault(cloud("b").put(path, json={"address_scope": {"name": "x"}}), 403)
    # B puts a pool of its own in it; C cannot see the scope.
    theirs = pool(cloud, "b", "10.164.0.0/16", address_scope_id=scope["id"])
    assert theirs["address_scope_id"] == scope["id"]
    fault(cloud("c").get(path), 404, "AddressScopeNotFound")
    fault(cloud("c").post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "c", "prefixes": ["10.165.0.0/16"], "address_scope_id": scope["id"]}}),
        404, "AddressScopeNotFound")
    # The policy cannot go while B's pool is in the scope.
    policy_path = f"/v2.0/rbac-policies/{policy['id']}"
    fault(cloud("a").delete(policy_path), 409, "RbacPolicyInUse")
    assert cloud("b").delete(f"/v2.0/subnetpools/{theirs['id']}").status_code == 204
    assert cloud("a").delete(policy_path).status_code == 204
    fault(cloud("b").get(path), 404)


def test_a_shared_address_scope_is_a_policy_for_every_project(cloud: Cloud):
    scope = post(cloud("admin"), "address-scopes", {"name": "all", "ip_version": 4,
                                                    "shared": True})
    assert policies_on(cloud, scope["id"]) == [("address_scope", "access_as_shared", "*")]
    later = post(cloud("admin"), "address-scopes", {"name": "later", "ip_version": 6,
                                                    "project_id": cloud.projects["a"]})
    assert later["shared"] is False
    path = f"/v2.0/address-scopes/{later['id']}"
    fault(cloud("c").get(path), 404)
    shared = cloud("admin").put(path, json={"address_scope": {"shared": True}})
    assert shared.json()["address_scope"]["shared"] is True
    assert policies_on(cloud, later["id"]) == [("address_scope", "access_as_shared", "*")]
    assert cloud("c").get(path).json()["address_scope"]["shared"] is True
    fault(cloud("admin").put(path, json={"address_scope": {"shared": False}}), 400,
          "AddressScopeUpdateError")
    assert cloud("admin").delete(path).status_code == 204
    assert policies_on(cloud, later["id"]) == []


def test_a_pool_in_a_scope_is_shared_only_where_the_scope_is(cloud: Cloud):
    """Neutron: sharing a pool of an address scope with a project needs the scope shared
    with that project (or with every project)."""
    scope = post(cloud("a"), "address-scopes", {"name": "s", "ip_version": 4})
    scoped = pool(cloud, "a", "10.166.0.0/16", address_scope_id=scope["id"])
    body = {"object_type": "subnetpool", "object_id": scoped["id"],
            "action": "access_as_shared", "target_tenant": cloud.projects["b"]}
    refused = cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": body})
    assert fault(refused, 400, "InvalidInput") == (
        f"Invalid input for operation: Failed to create RBAC policy on object "
        f"{scoped['id']} because target project doesn't have access to associated address "
        "scope.")
    assert policies_on(cloud, scoped["id"]) == []
    # An admin sharing it with everyone needs the scope shared with everyone.
    fault(cloud("admin").post("/v2.0/subnetpools", json={"subnetpool": {
        "name": "x", "prefixes": ["10.167.0.0/16"], "address_scope_id": scope["id"],
        "shared": True}}), 400, "InvalidInput")
    share(cloud, "a", scope["id"], "b", object_type="address_scope")
    assert cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": body}
                           ).status_code == 201
    assert cloud("b").get(f"/v2.0/subnetpools/{scoped['id']}").json()["subnetpool"][
        "shared"] is True


def test_shared_pools_and_scopes_before_rbac_become_policies(tmp_path: Path):
    """0016 turns each shared subnet pool and address scope into a `*` access_as_shared
    policy of its project, and back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    before = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0016")
    _downgrade(engine, before.down_revision)
    with engine.begin() as conn:
        for name, shared in (("s", 1), ("p", 0)):
            conn.execute(text(
                "INSERT INTO address_scopes (id, project_id, name, shared, ip_version) "
                "VALUES (:id, 'proj', '', :s, 4)"), {"id": f"scope-{name}", "s": shared})
            conn.execute(text(
                "INSERT INTO subnetpools (id, project_id, name, description, revision_number, "
                "created_at, updated_at, ip_version, prefixes, default_prefixlen, "
                "min_prefixlen, max_prefixlen, shared, is_default) VALUES (:id, 'proj', '', "
                "'', 1, '2026-12-01', '2026-12-01', 4, '[]', 24, 8, 32, :s, 0)"),
                {"id": f"pool-{name}", "s": shared})
    upgrade(engine)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT object_type, object_id, action, target_project, "
                                  "project_id FROM rbac_policies ORDER BY object_id")).all()
    assert [tuple(r) for r in found] == [
        ("subnetpool", "pool-s", "access_as_shared", "*", "proj"),
        ("address_scope", "scope-s", "access_as_shared", "*", "proj")]
    _downgrade(engine, before.down_revision)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, shared FROM subnetpools")).all()) == {
            "pool-s": 1, "pool-p": 0}
        assert dict(conn.execute(text("SELECT id, shared FROM address_scopes")).all()) == {
            "scope-s": 1, "scope-p": 0}
        assert conn.execute(text("SELECT count(*) FROM rbac_policies")).scalar() == 0


# -- security groups: the shared filter -----------------------------------------------------
def test_security_groups_filter_on_shared_as_the_caller_sees_it(cloud: Cloud):
    to_b = post(cloud("a"), "security-groups", {"name": "to-b"})
    to_all = post(cloud("admin"), "security-groups", {"name": "to-all",
                                                      "project_id": cloud.projects["a"]})
    share(cloud, "a", to_b["id"], "b", object_type="security_group")
    share(cloud, "admin", to_all["id"], "*", object_type="security_group")
    own_b = post(cloud("b"), "security-groups", {"name": "b-own"})
    # B: both groups are shared with it; its own are not.
    shared_b = listed_ids(cloud("b"), "security-groups", shared="true")
    assert shared_b == {to_b["id"], to_all["id"]}
    unshared_b = listed_ids(cloud("b"), "security-groups", shared="false")
    assert own_b["id"] in unshared_b and not unshared_b & shared_b
    # A, the owner: only the group shared with every project is shared to it.
    assert listed_ids(cloud("a"), "security-groups", shared="true") == {to_all["id"]}
    assert to_b["id"] in listed_ids(cloud("a"), "security-groups", shared="false")
    # C: the `*` group only; paging stays in the filtered set.
    assert listed_ids(cloud("c"), "security-groups", shared="true") == {to_all["id"]}
    page = cloud("b").get("/v2.0/security-groups", params={"shared": "true", "limit": 1})
    assert len(page.json()["security_groups"]) == 1
    fault(cloud("b").get("/v2.0/security-groups", params={"shared": "maybe"}), 400)
    fault(cloud("b").get("/v2.0/security-groups", params={"sort_key": "shared",
                                                           "sort_dir": "asc"}), 400)


def test_the_pool_scope_and_sg_filter_extensions_are_listed(cloud: Cloud):
    aliases = {e["alias"] for e in cloud("c").get("/v2.0/extensions").json()["extensions"]}
    assert {"rbac-subnetpool", "rbac-address-scope",
            "security-groups-shared-filtering"} <= aliases
