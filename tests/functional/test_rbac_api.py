"""RBAC policies through the HTTP API, as Neutron answers them, with callers who are not
admins: the project and roles come from the headers keystonemiddleware would set (no Keystone
here; tests/e2e/test_rbac_clients.py has the real one).

Project A owns things and shares them; B is the target; C is anybody else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from starlette.testclient import TestClient
from waiting import wait_for

from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import keystone_context
from neutrino.bootstrap import Neutrino
from neutrino.db.engine import make_engine
from neutrino.db.migrate import alembic_config, upgrade
from neutrino.services.address_scopes import AddressScopeService
from neutrino.services.floating_ips import FloatingIpService
from neutrino.services.quotas import QuotaService
from neutrino.services.rbac import RbacService
from neutrino.services.security_groups import RuleService, SecurityGroupService
from neutrino.services.subnetpools import SubnetPoolService
from neutrino.services.tags import TagService

SINGULAR = {"rbac-policies": "rbac_policy", "security-groups": "security_group",
            "address-scopes": "address_scope"}


@dataclass
class Cloud:
    app: Neutrino
    clients: dict[str, TestClient]
    projects: dict[str, str]

    def __call__(self, who: str) -> TestClient:
        return self.clients[who]


def _api(app: Neutrino) -> Any:
    """neutrino's routes over the app's own services, with the caller taken from headers."""
    db, settings, wakeup = app.db, app.settings, app.wakeup
    return build_app(ApiDeps(
        services={"networks": app.networks, "subnets": app.subnets, "ports": app.ports,
                  "security_groups": SecurityGroupService(db, settings, wakeup),
                  "security_group_rules": RuleService(db, settings, wakeup),
                  "routers": app.routers,
                  "floatingips": FloatingIpService(db, settings, wakeup),
                  "rbac_policies": RbacService(db, settings, wakeup),
                  "subnetpools": SubnetPoolService(db, settings, wakeup),
                  "address_scopes": AddressScopeService(db, settings, wakeup)},
        tags=TagService(db, wakeup), quotas=QuotaService(db, settings),
        context_for=keystone_context, health=app.health,
        metrics_registry=app.metrics.registry))


@pytest.fixture()
def cloud(neutrino: Neutrino) -> Iterator[Cloud]:
    projects = {who: uuid.uuid4().hex for who in ("a", "b", "c", "admin")}
    roles = {"a": "member", "b": "member", "c": "member", "admin": "admin",
             "a_reader": "reader"}
    api = _api(neutrino)
    clients = {who: TestClient(api, headers={"X-Project-Id": projects[who[0] if who != "admin"
                                                                          else who],
                                             "X-Roles": role})
               for who, role in roles.items()}
    yield Cloud(neutrino, clients, projects)
    for client in clients.values():
        client.close()


def post(client: TestClient, path: str, body: dict[str, Any], status: int = 201
         ) -> dict[str, Any]:
    singular = SINGULAR.get(path, path[:-1])
    response = client.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json().get(singular) or response.json()


def fault(response: Any, status: int, kind: str | None = None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    if kind is not None:
        assert error["type"] == kind, error
    return error["message"]


def share(cloud: Cloud, who: str, object_id: str, target: str,
          action: str = "access_as_shared", object_type: str = "network") -> dict[str, Any]:
    return post(cloud(who), "rbac-policies", {
        "object_type": object_type, "object_id": object_id, "action": action,
        "target_tenant": cloud.projects.get(target, target)})


def network_with_subnet(cloud: Cloud, who: str, cidr: str) -> dict[str, Any]:
    net = post(cloud(who), "networks", {"name": f"{who}-net"})
    post(cloud(who), "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": cidr})
    return net


def listed_ids(client: TestClient, path: str, **params: Any) -> set[str]:
    body = client.get(f"/v2.0/{path}", params=params).json()
    return {item["id"] for item in body[path.replace("-", "_")]}


# -- networks shared with one project -------------------------------------------------------
def test_a_network_shared_with_one_project(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.61.0.0/24")
    policy = share(cloud, "a", net["id"], "b")
    assert policy == {**policy, "object_type": "network", "object_id": net["id"],
                      "action": "access_as_shared", "target_tenant": cloud.projects["b"],
                      "project_id": cloud.projects["a"], "tenant_id": cloud.projects["a"]}
    assert set(policy) == {"id", "object_type", "object_id", "action", "target_tenant",
                           "project_id", "tenant_id"}
    # The target sees it, shared to it; the owner sees it as not shared (no `*` policy).
    shown = cloud("b").get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert shown["shared"] is True and len(shown["subnets"]) == 1
    assert net["id"] in listed_ids(cloud("b"), "networks")
    assert net["id"] in listed_ids(cloud("b"), "networks", shared="true")
    assert net["id"] not in listed_ids(cloud("a"), "networks", shared="true")
    assert cloud("a").get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False
    assert len(listed_ids(cloud("b"), "subnets", network_id=net["id"])) == 1
    # It puts a port on it; it may not add subnets or change the network (Neutron's policy).
    port = post(cloud("b"), "ports", {"network_id": net["id"]})
    assert port["project_id"] == cloud.projects["b"] and port["fixed_ips"]
    fault(cloud("b").post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.62.0.0/24"}}), 403)
    fault(cloud("b").put(f"/v2.0/networks/{net['id']}", json={"network": {"name": "x"}}), 403)
    fault(cloud("b").delete(f"/v2.0/networks/{net['id']}"), 403)
    # Anybody else: nothing.
    fault(cloud("c").get(f"/v2.0/networks/{net['id']}"), 404, "NetworkNotFound")
    assert net["id"] not in listed_ids(cloud("c"), "networks")
    assert listed_ids(cloud("c"), "subnets", network_id=net["id"]) == set()
    fault(cloud("c").post("/v2.0/ports", json={"port": {"network_id": net["id"]}}), 404)
    # The target's port goes through the journal to OVN like any other.
    wait_for(lambda: port["id"] in {r["name"] for r in
                                    cloud.app.nb.read_rows("Logical_Switch_Port")},
             15, "the target's port in NB")


def test_only_the_creator_sees_and_manages_a_policy(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.63.0.0/24")
    policy = share(cloud, "a", net["id"], "b")
    path = f"/v2.0/rbac-policies/{policy['id']}"
    for who in ("b", "c"):  # the target sees the network, not the policy (as in Neutron)
        message = fault(cloud(who).get(path), 404, "RbacPolicyNotFound")
        assert message == f"RBAC policy of type unknown with ID {policy['id']} not found"
        fault(cloud(who).put(path, json={"rbac_policy": {"target_tenant": cloud.projects[
            who]}}), 404)
        fault(cloud(who).delete(path), 404)
        assert listed_ids(cloud(who), "rbac-policies") == set()
    assert cloud("a").get(path).json()["rbac_policy"] == policy
    assert cloud("admin").get(path).json()["rbac_policy"] == policy
    fields = cloud("a").get("/v2.0/rbac-policies", params={
        "object_id": net["id"], "fields": ["target_tenant", "action"]}).json()
    assert fields["rbac_policies"] == [{"target_tenant": cloud.projects["b"],
                                        "action": "access_as_shared"}]
    assert listed_ids(cloud("a"), "rbac-policies", target_tenant=cloud.projects["c"]) == set()
    fault(cloud("a").put(path, json={"rbac_policy": {"target_tenant": "*"}}), 403,
          "PolicyNotAuthorized")
    # Only target_tenant changes; moving the grant moves who sees the network.
    fault(cloud("a").put(path, json={"rbac_policy": {"object_id": str(uuid.uuid4())}}), 400)
    moved = cloud("a").put(path, json={"rbac_policy": {"target_tenant": cloud.projects["c"]}})
    assert moved.json()["rbac_policy"]["target_tenant"] == cloud.projects["c"]
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)
    assert cloud("c").get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is True
    assert cloud("a").delete(path).status_code == 204
    fault(cloud("c").get(f"/v2.0/networks/{net['id']}"), 404)


def test_who_may_create_a_policy(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.64.0.0/24")
    body = {"object_type": "network", "object_id": net["id"], "action": "access_as_shared",
            "target_tenant": cloud.projects["b"]}

    def create(who: str, **change: Any) -> Any:
        return cloud(who).post("/v2.0/rbac-policies", json={"rbac_policy": {**body, **change}})

    # Every project is the admin's to grant (a policy rule), and nobody else's.
    fault(create("a", target_tenant="*"), 403, "PolicyNotAuthorized")
    fault(create("a_reader"), 403, "PolicyNotAuthorized")
    assert "Only admins can manipulate policies on objects they do not own" in fault(
        create("b"), 400, "InvalidInput")
    fault(create("c", object_id=str(uuid.uuid4())), 400, "InvalidInput")
    assert "not a valid RBAC object type" in fault(create("a", object_type="router"), 400)
    assert fault(create("a", action="access_as_admin"), 400, "InvalidActionForType") == (
        "Invalid action 'access_as_admin' for object type 'network'. Valid actions: "
        "('access_as_shared', 'access_as_external')")
    assert "not a valid target project ID" in fault(create("a", target_tenant="beta"), 400)
    fault(create("a", object_id="not-a-uuid"), 400)
    for missing in ("object_type", "object_id", "action", "target_tenant"):
        response = cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": {
            k: v for k, v in body.items() if k != missing}})
        assert missing in fault(response, 400)
    assert create("a").status_code == 201
    fault(create("a"), 409, "DuplicateRbacPolicy")
    assert create("admin", target_tenant="*").status_code == 201
    assert listed_ids(cloud("c"), "networks") >= {net["id"]}
    assert create("a", object_type=" Network ", target_tenant=cloud.projects["c"]
                  ).json()["rbac_policy"]["object_type"] == "network"


def test_a_policy_a_project_depends_on_cannot_go(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.65.0.0/24")
    policy = share(cloud, "a", net["id"], "b")
    path = f"/v2.0/rbac-policies/{policy['id']}"
    port = post(cloud("b"), "ports", {"network_id": net["id"]})
    message = fault(cloud("a").delete(path), 409, "RbacPolicyInUse")
    assert message.startswith(f"RBAC policy on object {net['id']} cannot be removed because "
                              "other objects depend on it.")
    fault(cloud("a").put(path, json={"rbac_policy": {"target_tenant": cloud.projects["c"]}}),
          409, "RbacPolicyInUse")
    # With every project granted too, B keeps access without it.
    everyone = share(cloud, "admin", net["id"], "*")
    assert cloud("a").delete(path).status_code == 204
    wildcard = f"/v2.0/rbac-policies/{everyone['id']}"
    fault(cloud("admin").delete(wildcard), 409, "RbacPolicyInUse")
    # Another project's own policy covers its ports when the wildcard goes.
    covered = share(cloud, "a", net["id"], "b")
    assert cloud("admin").delete(wildcard).status_code == 204
    assert cloud("a").delete(f"/v2.0/rbac-policies/{covered['id']}").status_code == 409
    assert cloud("b").delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert cloud("a").delete(f"/v2.0/rbac-policies/{covered['id']}").status_code == 204
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)


def test_shared_is_a_policy_for_every_project(cloud: Cloud):
    net = post(cloud("admin"), "networks", {"name": "everyone", "shared": True,
                                            "project_id": cloud.projects["a"]})
    policies = cloud("admin").get("/v2.0/rbac-policies", params={"object_id": net["id"]}
                                  ).json()["rbac_policies"]
    assert [(p["action"], p["target_tenant"], p["project_id"]) for p in policies] == [
        ("access_as_shared", "*", cloud.projects["a"])]
    assert listed_ids(cloud("a"), "rbac-policies", object_id=net["id"]) == {policies[0]["id"]}
    assert net["shared"] and cloud("c").get(f"/v2.0/networks/{net['id']}").json()[
        "network"]["shared"]
    post(cloud("admin"), "subnets", {"network_id": net["id"], "ip_version": 4,
                                     "cidr": "10.66.0.0/24", "project_id": cloud.projects["a"]})
    port = post(cloud("c"), "ports", {"network_id": net["id"]})
    unshare = {"network": {"shared": False}}
    assert fault(cloud("admin").put(f"/v2.0/networks/{net['id']}", json=unshare), 409,
                 "InvalidSharedSetting") == ("Unable to reconfigure sharing settings for "
                                             "network everyone. Multiple projects are using it.")
    fault(cloud("a").put(f"/v2.0/networks/{net['id']}", json=unshare), 403)
    # A policy of C's own keeps it allowed; then `shared` goes, and so does the `*` policy.
    share(cloud, "a", net["id"], "c")
    revision = net["revision_number"]
    after = cloud("admin").put(f"/v2.0/networks/{net['id']}", json=unshare).json()["network"]
    assert (after["shared"], after["revision_number"] > revision) == (False, True)
    assert [p["target_tenant"] for p in cloud("admin").get(
        "/v2.0/rbac-policies", params={"object_id": net["id"]}).json()["rbac_policies"]] == [
        cloud.projects["c"]]
    assert cloud("c").get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is True
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)
    assert cloud("c").delete(f"/v2.0/ports/{port['id']}").status_code == 204
    # Sharing again creates the policy again; deleting the network takes its policies along.
    assert cloud("admin").put(f"/v2.0/networks/{net['id']}", json={"network": {
        "shared": True}}).json()["network"]["shared"] is True
    assert len(listed_ids(cloud("admin"), "rbac-policies", object_id=net["id"])) == 2
    assert cloud("admin").delete(f"/v2.0/networks/{net['id']}").status_code == 204
    assert listed_ids(cloud("admin"), "rbac-policies", object_id=net["id"]) == set()


def test_a_policy_moves_the_networks_revision(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.67.0.0/24")
    before = cloud("a").get(f"/v2.0/networks/{net['id']}").json()["network"]
    share(cloud, "a", net["id"], "b")
    after = cloud("a").get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert after["revision_number"] == before["revision_number"] + 1


# -- external networks ----------------------------------------------------------------------
def test_a_network_external_to_one_project(cloud: Cloud):
    net = post(cloud("admin"), "networks", {"name": "outside"})
    post(cloud("admin"), "subnets", {"network_id": net["id"], "ip_version": 4,
                                     "cidr": "172.27.0.0/24"})
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)
    policy = share(cloud, "admin", net["id"], "b", action="access_as_external")
    # As in Neutron, an external policy makes the network external.
    shown = cloud("b").get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert (shown["router:external"], shown["shared"]) == (True, False)
    assert net["id"] in listed_ids(cloud("b"), "networks", **{"router:external": "true"})
    fault(cloud("c").get(f"/v2.0/networks/{net['id']}"), 404)
    # B may use it as a gateway and for floating IPs, not put ports on it.
    fault(cloud("b").post("/v2.0/ports", json={"port": {"network_id": net["id"]}}), 403)
    router = post(cloud("b"), "routers", {"name": "r", "external_gateway_info": {
        "network_id": net["id"]}})
    fip = post(cloud("b"), "floatingips", {"floating_network_id": net["id"]})
    assert fip["floating_ip_address"].startswith("172.27.0.")
    fault(cloud("c").post("/v2.0/routers", json={"router": {"external_gateway_info": {
        "network_id": net["id"]}}}), 404)
    path = f"/v2.0/rbac-policies/{policy['id']}"
    assert "routers attached" in fault(cloud("admin").delete(path), 409, "RbacPolicyInUse")
    fault(cloud("admin").put(f"/v2.0/networks/{net['id']}", json={"network": {
        "router:external": False}}), 409, "ExternalNetworkInUse")
    assert cloud("b").delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204
    assert cloud("b").put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": None}}).status_code == 200
    assert cloud("admin").delete(path).status_code == 204
    # The last external policy gone, the network is internal again (and B's no more).
    assert cloud("admin").get(f"/v2.0/networks/{net['id']}").json()["network"][
        "router:external"] is False
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)


def test_router_external_is_a_policy_for_every_project(cloud: Cloud):
    net = post(cloud("admin"), "networks", {"name": "ext", "router:external": True})
    found = cloud("admin").get("/v2.0/rbac-policies", params={"object_id": net["id"]}).json()
    assert [(p["action"], p["target_tenant"]) for p in found["rbac_policies"]] == [
        ("access_as_external", "*")]
    assert net["id"] in listed_ids(cloud("c"), "networks")
    share(cloud, "admin", net["id"], "b", action="access_as_external")
    internal = cloud("admin").put(f"/v2.0/networks/{net['id']}", json={"network": {
        "router:external": False}}).json()["network"]
    assert internal["router:external"] is False
    assert listed_ids(cloud("admin"), "rbac-policies", object_id=net["id"]) == set()
    fault(cloud("b").get(f"/v2.0/networks/{net['id']}"), 404)


# -- security groups ------------------------------------------------------------------------
def test_a_security_group_shared_with_one_project(cloud: Cloud):
    sg = post(cloud("a"), "security-groups", {"name": "web"})
    assert sg["shared"] is False
    fault(cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": {
        "object_type": "security_group", "object_id": sg["id"],
        "target_tenant": cloud.projects["b"], "action": "access_as_external"}}), 400,
        "InvalidActionForType")
    policy = share(cloud, "a", sg["id"], "b", object_type="security_group")
    seen = cloud("b").get(f"/v2.0/security-groups/{sg['id']}").json()["security_group"]
    assert (seen["shared"], len(seen["security_group_rules"])) == (True, 2)
    assert sg["id"] in listed_ids(cloud("b"), "security-groups")
    assert sg["id"] in listed_ids(cloud("b"), "security-groups", shared="true")
    assert cloud("a").get(f"/v2.0/security-groups/{sg['id']}").json()[
        "security_group"]["shared"] is False
    # B uses it on its own port; it may not change it.
    net = network_with_subnet(cloud, "b", "10.68.0.0/24")
    port = post(cloud("b"), "ports", {"network_id": net["id"], "security_groups": [sg["id"]]})
    assert port["security_groups"] == [sg["id"]]
    fault(cloud("b").put(f"/v2.0/security-groups/{sg['id']}", json={"security_group": {
        "name": "mine"}}), 403)
    fault(cloud("b").delete(f"/v2.0/security-groups/{sg['id']}"), 403)
    fault(cloud("b").post("/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress"}}), 403)
    # C sees nothing and cannot use it.
    fault(cloud("c").get(f"/v2.0/security-groups/{sg['id']}"), 404)
    assert sg["id"] not in listed_ids(cloud("c"), "security-groups")
    other = network_with_subnet(cloud, "c", "10.69.0.0/24")
    fault(cloud("c").post("/v2.0/ports", json={"port": {
        "network_id": other["id"], "security_groups": [sg["id"]]}}), 404)
    # The policy cannot go while B's port uses the group.
    path = f"/v2.0/rbac-policies/{policy['id']}"
    fault(cloud("a").delete(path), 409, "RbacPolicyInUse")
    assert cloud("b").put(f"/v2.0/ports/{port['id']}", json={"port": {
        "security_groups": []}}).status_code == 200
    assert cloud("a").delete(path).status_code == 204
    fault(cloud("b").get(f"/v2.0/security-groups/{sg['id']}"), 404)


def test_the_rbac_policy_quota(cloud: Cloud):
    admin, a = cloud("admin"), cloud.projects["a"]
    assert admin.get(f"/v2.0/quotas/{a}").json()["quota"]["rbac_policy"] == 10
    assert admin.put(f"/v2.0/quotas/{a}", json={"quota": {"rbac_policy": 1}}).status_code == 200
    net = network_with_subnet(cloud, "a", "10.70.0.0/24")
    share(cloud, "a", net["id"], "b")
    response = cloud("a").post("/v2.0/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": cloud.projects["c"]}})
    fault(response, 409, "OverQuota")
    details = admin.get(f"/v2.0/quotas/{a}/details").json()["quota"]["rbac_policy"]
    assert (details["limit"], details["used"]) == (1, 1)


def test_shared_networks_before_rbac_become_policies(tmp_path: Path):
    """0011 turns each shared (external) network into a `*` access_as_shared (external)
    policy of its project."""
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    _downgrade(engine, "0007")
    with engine.begin() as conn:
        for name, shared, external in (("s", 1, 0), ("e", 0, 1), ("p", 0, 0)):
            conn.execute(text(
                "INSERT INTO networks (id, project_id, name, description, revision_number, "
                "created_at, updated_at, admin_state_up, status, shared, router_external, "
                "mtu, port_security_enabled, availability_zone_hints) VALUES (:id, 'proj', "
                "'', '', 1, '2026-12-01', '2026-12-01', 1, 'ACTIVE', :s, :e, 1442, 1, '[]')"),
                {"id": name, "s": shared, "e": external})
    upgrade(engine)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT object_type, object_id, action, target_project, "
                                  "project_id FROM rbac_policies ORDER BY object_id")).all()
    assert [tuple(r) for r in found] == [
        ("network", "e", "access_as_external", "*", "proj"),
        ("network", "s", "access_as_shared", "*", "proj")]
    _downgrade(engine, "0007")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, shared FROM networks")).all()) == {
            "s": 1, "e": 0, "p": 0}


def test_a_router_interface_on_a_subnet_of_a_network_shared_by_name(cloud: Cloud):
    """Neutron attaches another project's subnet when the network is shared with the
    caller's project by a policy naming it, not when it is shared with every project."""
    net = network_with_subnet(cloud, "a", "10.71.0.0/24")
    subnet = cloud("a").get("/v2.0/subnets", params={"network_id": net["id"]}).json()[
        "subnets"][0]
    router = post(cloud("b"), "routers", {"name": "r"})
    add = f"/v2.0/routers/{router['id']}/add_router_interface"
    everyone = share(cloud, "admin", net["id"], "*")
    assert "is not owned by project" in fault(
        cloud("b").put(add, json={"subnet_id": subnet["id"]}), 400)
    assert cloud("admin").delete(f"/v2.0/rbac-policies/{everyone['id']}").status_code == 204
    share(cloud, "a", net["id"], "b")
    added = cloud("b").put(add, json={"subnet_id": subnet["id"]})
    assert added.status_code == 200, added.text
    assert added.json()["subnet_id"] == subnet["id"]


def test_the_rbac_extensions_are_listed(cloud: Cloud):
    aliases = {e["alias"] for e in cloud("c").get("/v2.0/extensions").json()["extensions"]}
    assert {"rbac-policies", "rbac-security-groups", "rbac-subnetpool",
            "rbac-address-scope"} <= aliases


def test_policies_sort_and_page_like_other_resources(cloud: Cloud):
    net = network_with_subnet(cloud, "a", "10.72.0.0/24")
    targets = sorted(uuid.uuid4().hex for _ in range(3))
    for target in targets:
        share(cloud, "a", net["id"], target)
    url = "/v2.0/rbac-policies?sort_key=target_tenant&sort_dir=desc&limit=2"
    first = cloud("a").get(url).json()
    assert [p["target_tenant"] for p in first["rbac_policies"]] == targets[::-1][:2]
    following = next(link["href"] for link in first["rbac_policies_links"]
                     if link["rel"] == "next")
    rest = cloud("a").get(following).json()["rbac_policies"]
    assert [p["target_tenant"] for p in rest] == targets[:1]
    assert listed_ids(cloud("a"), "rbac-policies", action="access_as_external") == set()
    fault(cloud("a").get("/v2.0/rbac-policies", params={"target_project": targets[0]}), 400)


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
