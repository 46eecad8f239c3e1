"""RBAC on QoS policies (object type `qos_policy`), through the HTTP API with callers who are
not admins, as tests/functional/test_rbac_api.py does; Neutron's behaviour as its tempest
plugin checks it (`RbacSharedQosPoliciesTest`).

Creating and changing QoS policies is an admin's (Neutron's policy), so the admin makes each
policy for project A; A owns it and shares it. B is the target; C is anybody else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.testclient import TestClient
from test_rbac_api import Cloud, _downgrade, fault, listed_ids, post, share

from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import keystone_context
from neutrino.bootstrap import Neutrino
from neutrino.db.engine import make_engine
from neutrino.db.migrate import alembic_config, upgrade
from neutrino.services.qos.policies import QosPolicyService
from neutrino.services.qos.rules import RULE_KINDS, QosRuleService
from neutrino.services.quotas import QuotaService
from neutrino.services.rbac import RbacService
from neutrino.services.tags import TagService

POLICIES = "/v2.0/qos/policies"


def _api(app: Neutrino) -> Any:
    db, settings, wakeup = app.db, app.settings, app.wakeup
    return build_app(ApiDeps(
        services={"networks": app.networks, "subnets": app.subnets, "ports": app.ports,
                  "routers": app.routers,
                  "rbac_policies": RbacService(db, settings, wakeup),
                  "policies": QosPolicyService(db, settings, wakeup)},
        tags=TagService(db, wakeup), quotas=QuotaService(db, settings),
        context_for=keystone_context, health=app.health,
        metrics_registry=app.metrics.registry,
        qos_rules={n: QosRuleService(db, wakeup, k) for n, k in RULE_KINDS.items()}))


@pytest.fixture()
def cloud(neutrino: Neutrino) -> Iterator[Cloud]:
    projects = {who: uuid.uuid4().hex for who in ("a", "b", "c", "admin")}
    api = _api(neutrino)
    clients = {who: TestClient(api, headers={"X-Project-Id": projects[who],
                                             "X-Roles": "admin" if who == "admin" else "member"})
               for who in projects}
    yield Cloud(neutrino, clients, projects)
    for client in clients.values():
        client.close()


def qos_policy(cloud: Cloud, owner: str = "a", **body: Any) -> dict[str, Any]:
    """A policy with a rule, made by the admin for `owner`."""
    made = cloud("admin").post(POLICIES, json={"policy": {
        "name": f"{owner}-qos", "project_id": cloud.projects[owner], **body}})
    assert made.status_code == 201, made.text
    pol = made.json()["policy"]
    rule = cloud("admin").post(f"{POLICIES}/{pol['id']}/bandwidth_limit_rules",
                               json={"bandwidth_limit_rule": {"max_kbps": 1000}})
    assert rule.status_code == 201, rule.text
    return pol


def shown(cloud: Cloud, who: str, pol: dict[str, Any]) -> Any:
    return cloud(who).get(f"{POLICIES}/{pol['id']}")


def listed(cloud: Cloud, who: str, **params: Any) -> set[str]:
    found = cloud(who).get(POLICIES, params=params)
    assert found.status_code == 200, found.text
    return {p["id"] for p in found.json()["policies"]}


def policies_on(cloud: Cloud, object_id: str) -> list[tuple[str, str, str]]:
    found = cloud("admin").get("/v2.0/rbac-policies", params={"object_id": object_id})
    return [(p["object_type"], p["action"], p["target_tenant"])
            for p in found.json()["rbac_policies"]]


def share_qos(cloud: Cloud, who: str, pol: dict[str, Any], target: str) -> dict[str, Any]:
    return share(cloud, who, pol["id"], target, object_type="qos_policy")


def network_under(cloud: Cloud, who: str, pol: dict[str, Any]) -> Any:
    return cloud(who).post("/v2.0/networks", json={"network": {
        "name": f"{who}-net", "qos_policy_id": pol["id"]}})


def set_policy(cloud: Cloud, who: str, kind: str, resource_id: str, policy_id: str | None
               ) -> Any:
    return cloud(who).put(f"/v2.0/{kind}s/{resource_id}",
                          json={kind: {"qos_policy_id": policy_id}})


def test_a_qos_policy_shared_with_one_project(cloud: Cloud):
    pol = qos_policy(cloud)
    fault(shown(cloud, "b", pol), 404, "QosPolicyNotFound")
    fault(network_under(cloud, "b", pol), 404, "QosPolicyNotFound")
    grant = share_qos(cloud, "a", pol, "b")
    assert grant == {**grant, "object_type": "qos_policy", "object_id": pol["id"],
                     "action": "access_as_shared", "target_tenant": cloud.projects["b"],
                     "project_id": cloud.projects["a"]}
    # B sees it, shared to it; A, the owner, sees it unshared (no `*` policy); C sees nothing.
    assert shown(cloud, "b", pol).json()["policy"]["shared"] is True
    assert shown(cloud, "a", pol).json()["policy"]["shared"] is False
    assert pol["id"] in listed(cloud, "b", shared="true")
    assert pol["id"] not in listed(cloud, "b", shared="false")
    assert pol["id"] in listed(cloud, "a", shared="false")
    fault(shown(cloud, "c", pol), 404, "QosPolicyNotFound")
    assert pol["id"] not in listed(cloud, "c")
    # B reads its rules, and puts it on a network and a port of its own; C may not.
    rules = cloud("b").get(f"{POLICIES}/{pol['id']}/bandwidth_limit_rules").json()
    assert [r["max_kbps"] for r in rules["bandwidth_limit_rules"]] == [1000]
    net = network_under(cloud, "b", pol)
    assert net.status_code == 201, net.text
    net = net.json()["network"]
    assert net["qos_policy_id"] == pol["id"]
    port = post(cloud("b"), "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]})
    assert port["qos_policy_id"] == pol["id"]
    fault(network_under(cloud, "c", pol), 404, "QosPolicyNotFound")
    c_net = post(cloud("c"), "networks", {"name": "c-net"})
    fault(set_policy(cloud, "c", "network", c_net["id"], pol["id"]), 404, "QosPolicyNotFound")
    # B sees the policy, not the grant, and cannot change the policy.
    assert listed_ids(cloud("b"), "rbac-policies") == set()
    fault(cloud("b").put(f"{POLICIES}/{pol['id']}", json={"policy": {"name": "x"}}), 403)
    # The grant cannot go, nor move to C, while B's network or port uses the policy.
    path = f"/v2.0/rbac-policies/{grant['id']}"
    assert f"project_id={cloud.projects['b']}" in fault(cloud("a").delete(path), 409,
                                                        "RbacPolicyInUse")
    fault(cloud("a").put(path, json={"rbac_policy": {"target_tenant": cloud.projects["c"]}}),
          409, "RbacPolicyInUse")
    assert set_policy(cloud, "b", "network", net["id"], None).status_code == 200
    fault(cloud("a").delete(path), 409, "RbacPolicyInUse")  # the port still has it
    assert set_policy(cloud, "b", "port", port["id"], None).status_code == 200
    assert cloud("a").delete(path).status_code == 204
    fault(shown(cloud, "b", pol), 404, "QosPolicyNotFound")
    fault(set_policy(cloud, "b", "port", port["id"], pol["id"]), 404, "QosPolicyNotFound")


def test_a_router_gateway_of_the_target_depends_on_the_grant(cloud: Cloud):
    pol = qos_policy(cloud)
    grant = share_qos(cloud, "a", pol, "b")
    ext = post(cloud("admin"), "networks", {"name": "ext", "router:external": True})
    post(cloud("admin"), "subnets", {"network_id": ext["id"], "ip_version": 4,
                                     "cidr": "172.30.9.0/24"})
    router = post(cloud("b"), "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"], "qos_policy_id": pol["id"]}})
    assert router["external_gateway_info"]["qos_policy_id"] == pol["id"]
    fault(cloud("a").delete(f"/v2.0/rbac-policies/{grant['id']}"), 409, "RbacPolicyInUse")


def test_who_may_share_a_qos_policy(cloud: Cloud):
    pol = qos_policy(cloud)
    body = {"object_type": "qos_policy", "object_id": pol["id"],
            "action": "access_as_shared", "target_tenant": cloud.projects["b"]}

    def create(who: str, **change: Any) -> Any:
        return cloud(who).post("/v2.0/rbac-policies", json={"rbac_policy": {**body, **change}})

    fault(create("a", target_tenant="*"), 403, "PolicyNotAuthorized")
    assert fault(create("a", action="access_as_external"), 400, "InvalidActionForType") == (
        "Invalid action 'access_as_external' for object type 'qos_policy'. Valid actions: "
        "('access_as_shared',)")
    missing = str(uuid.uuid4())
    assert f"QoS policy {missing} could not be found." in fault(
        create("a", object_id=missing), 400, "InvalidInput")
    assert create("a").status_code == 201
    fault(create("a"), 409, "DuplicateRbacPolicy")
    # B sees the policy now, and still may not share it further (Neutron: 400).
    assert "Only admins can manipulate policies on objects they do not own" in fault(
        create("b", target_tenant=cloud.projects["c"]), 400, "InvalidInput")
    assert create("admin", target_tenant="*").status_code == 201
    assert shown(cloud, "c", pol).json()["policy"]["shared"] is True


def test_shared_is_the_policy_for_every_project(cloud: Cloud):
    pol = qos_policy(cloud, shared=True)
    assert pol["shared"] is True
    assert policies_on(cloud, pol["id"]) == [("qos_policy", "access_as_shared", "*")]
    assert pol["id"] in listed(cloud, "c", shared="true")
    assert shown(cloud, "a", pol).json()["policy"]["shared"] is True
    c_net = network_under(cloud, "c", pol)
    assert c_net.status_code == 201, c_net.text
    c_net = c_net.json()["network"]
    # Unsharing would strand C's network: refused, whether by `shared` or by the policy.
    path = f"{POLICIES}/{pol['id']}"
    unshare = {"policy": {"shared": False}}
    fault(cloud("admin").put(path, json=unshare), 409, "RbacPolicyInUse")
    [wildcard] = cloud("a").get("/v2.0/rbac-policies", params={
        "object_id": pol["id"]}).json()["rbac_policies"]
    fault(cloud("admin").delete(f"/v2.0/rbac-policies/{wildcard['id']}"), 409,
          "RbacPolicyInUse")
    # With the `*` policy the only one, it cannot move to one project either (Neutron checks
    # a moved policy as a deleted one).
    fault(cloud("admin").put(f"/v2.0/rbac-policies/{wildcard['id']}", json={"rbac_policy": {
        "target_tenant": cloud.projects["c"]}}), 409, "RbacPolicyInUse")
    assert set_policy(cloud, "c", "network", c_net["id"], None).status_code == 200
    revision = shown(cloud, "admin", pol).json()["policy"]["revision_number"]
    after = cloud("admin").put(path, json=unshare).json()["policy"]
    assert (after["shared"], after["revision_number"]) == (False, revision + 1)
    assert policies_on(cloud, pol["id"]) == []
    fault(shown(cloud, "c", pol), 404, "QosPolicyNotFound")
    assert pol["id"] not in listed(cloud, "a", shared="true")
    # Shared again by update: the `*` policy is back.
    again = cloud("admin").put(path, json={"policy": {"shared": True}}).json()["policy"]
    assert again["shared"] is True
    assert policies_on(cloud, pol["id"]) == [("qos_policy", "access_as_shared", "*")]
    assert shown(cloud, "c", pol).json()["policy"]["shared"] is True
    # Deleting the policy takes its RBAC policies along.
    share_qos(cloud, "a", pol, "b")
    assert cloud("admin").delete(path).status_code == 204
    assert policies_on(cloud, pol["id"]) == []


def test_the_owners_own_use_keeps_the_wildcard(cloud: Cloud):
    """Neutron (tempest's test_policy_sharing_with_wildcard): unsharing a policy its own
    project's network uses is refused too."""
    pol = qos_policy(cloud, shared=True)
    net = network_under(cloud, "a", pol)
    assert net.status_code == 201, net.text
    path = f"{POLICIES}/{pol['id']}"
    fault(cloud("admin").put(path, json={"policy": {"shared": False}}), 409, "RbacPolicyInUse")
    assert set_policy(cloud, "a", "network", net.json()["network"]["id"], None
                      ).status_code == 200
    assert cloud("admin").put(path, json={"policy": {"shared": False}}).status_code == 200


def test_a_grant_and_the_wildcard_cover_each_other(cloud: Cloud):
    """tempest: with B's own grant and the `*` policy, either may go while B uses it."""
    pol = qos_policy(cloud)
    grant = share_qos(cloud, "a", pol, "b")
    wildcard = share_qos(cloud, "admin", pol, "*")
    assert network_under(cloud, "b", pol).status_code == 201
    assert cloud("admin").delete(f"/v2.0/rbac-policies/{wildcard['id']}").status_code == 204
    wildcard = share_qos(cloud, "admin", pol, "*")
    assert cloud("a").delete(f"/v2.0/rbac-policies/{grant['id']}").status_code == 204
    fault(cloud("admin").delete(f"/v2.0/rbac-policies/{wildcard['id']}"), 409,
          "RbacPolicyInUse")


def test_a_shared_policy_is_no_default_of_another_project(cloud: Cloud):
    """qos-default: a project's new networks get its own default policy, never one another
    project shares with it."""
    theirs = qos_policy(cloud, "a", is_default=True)
    share_qos(cloud, "a", theirs, "b")
    assert post(cloud("b"), "networks", {"name": "n"})["qos_policy_id"] is None
    mine = qos_policy(cloud, "b", is_default=True)
    assert post(cloud("b"), "networks", {"name": "m"})["qos_policy_id"] == mine["id"]
    assert listed(cloud, "b", is_default="true") == {theirs["id"], mine["id"]}
    assert listed(cloud, "b", is_default="true", shared="false") == {mine["id"]}


def test_qos_policies_sort_and_page_by_shared_as_the_caller_sees_it(cloud: Cloud):
    to_b = qos_policy(cloud, "a", name="q1")
    share_qos(cloud, "a", to_b, "b")
    own = qos_policy(cloud, "b", name="q2")
    everyone = qos_policy(cloud, "c", name="q3", shared=True)
    order = {"sort_key": ["shared", "name"], "sort_dir": ["desc", "asc"]}
    found = cloud("b").get(POLICIES, params=order).json()["policies"]
    assert [(p["id"], p["shared"]) for p in found] == [
        (to_b["id"], True), (everyone["id"], True), (own["id"], False)]
    page = cloud("b").get(POLICIES, params={**order, "limit": 2}).json()
    assert [p["id"] for p in page["policies"]] == [to_b["id"], everyone["id"]]
    following = cloud("b").get("/v2.0" + page["policies_links"][0]["href"].split("/v2.0")[1])
    assert [p["id"] for p in following.json()["policies"]] == [own["id"]]
    # A, the owner, sees its policy to B unshared
    assert [p["id"] for p in cloud("a").get(POLICIES, params=order).json()["policies"]] == [
        everyone["id"], to_b["id"]]


def test_a_policy_the_project_cannot_see_is_not_its_to_take_off(cloud: Cloud):
    """Neutron: changing a port's or network's policy needs access to the policy it has now
    (PolicyRemoveAuthorizationError, 403), here one the admin put on B's resources."""
    private = qos_policy(cloud, "a")
    net = post(cloud("b"), "networks", {"name": "b-net"})
    port = post(cloud("b"), "ports", {"network_id": net["id"]})
    for kind, found in (("network", net), ("port", port)):
        assert set_policy(cloud, "admin", kind, found["id"], private["id"]).status_code == 200
        for wanted in (None, private["id"]):
            assert fault(set_policy(cloud, "b", kind, found["id"], wanted), 403,
                         "PolicyRemoveAuthorizationError") == (
                f"Failed to remove provided policy {private['id']} because you are not "
                "authorized.")
        renamed = cloud("b").put(f"/v2.0/{kind}s/{found['id']}", json={kind: {"name": "x"}})
        assert renamed.json()[kind]["qos_policy_id"] == private["id"]
        # shared with B, it is B's to take off
        grant = share_qos(cloud, "a", private, "b")
        assert set_policy(cloud, "b", kind, found["id"], None).status_code == 200
        assert cloud("a").delete(f"/v2.0/rbac-policies/{grant['id']}").status_code == 204


def test_qos_policies_before_rbac_become_policies(tmp_path: Path):
    """0023 turns each shared QoS policy into a `*` access_as_shared policy of its project,
    and back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    before = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0023")
    _downgrade(engine, before.down_revision)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO rbac_policies (id, project_id, object_type, object_id, action, "
            "target_project) VALUES ('net-grant', 'proj', 'network', 'n', "
            "'access_as_shared', '*')"))
        for name, shared in (("s", 1), ("p", 0)):
            conn.execute(text(
                "INSERT INTO qos_policies (id, project_id, name, description, "
                "revision_number, created_at, updated_at, shared, is_default) VALUES "
                "(:id, 'proj', '', '', 1, '2026-12-01', '2026-12-01', :s, 0)"),
                {"id": f"qos-{name}", "s": shared})
    upgrade(engine)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT object_type, object_id, action, target_project, "
                                  "project_id FROM rbac_policies ORDER BY object_id")).all()
        columns = {c[1] for c in conn.execute(text("PRAGMA table_info(qos_policies)"))}
    assert [tuple(r) for r in found] == [
        ("network", "n", "access_as_shared", "*", "proj"),
        ("qos_policy", "qos-s", "access_as_shared", "*", "proj")]
    assert "shared" not in columns
    _downgrade(engine, before.down_revision)
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, shared FROM qos_policies")).all()) == {
            "qos-s": 1, "qos-p": 0}
        assert conn.execute(text("SELECT object_type FROM rbac_policies")).scalars().all() == [
            "network"]
