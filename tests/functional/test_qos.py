"""QoS on neutrino: policies and rules through the API (Neutron's paths, defaults, faults and
policy), and their realisation as OVN `QoS` rows on the ports they reach."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from nb_state import rows, wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced
from sqlalchemy import select
from starlette.testclient import TestClient

from neutrino.api.app import ApiDeps, build_app
from neutrino.api.auth import keystone_context
from neutrino.db.models import JournalEntry, Router
from neutrino.services.qos.policies import QosPolicyService
from neutrino.services.qos.rules import RULE_KINDS, QosRuleService
from neutrino.services.quotas import QuotaService
from neutrino.services.tags import TagService

POLICIES = "/v2.0/qos/policies"


def post(api, path: str, body: dict, status: int = 201) -> dict:
    singular = path.rstrip("s").rsplit("/", 1)[-1]
    singular = "policy" if singular == "policie" else singular
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json()[singular] if status == 201 else response.json()


def fault(response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    assert error["type"] == kind, error
    return error["message"]


def policy_with_rules(api, **extra: Any) -> dict:
    pol = post(api, "qos/policies", {"name": "gold", **extra})
    base = f"qos/policies/{pol['id']}"
    post(api, f"{base}/bandwidth_limit_rules",
         {"max_kbps": 10000, "max_burst_kbps": 1000})  # egress by default
    post(api, f"{base}/bandwidth_limit_rules",
         {"max_kbps": 20000, "max_burst_kbps": 2000, "direction": "ingress"})
    post(api, f"{base}/dscp_marking_rules", {"dscp_mark": 26})
    return pol


def qos_rows(app, port_id: str) -> list[dict]:
    found = rows(app, "QoS", external_ids={"neutron:port_id": port_id})
    return sorted(({k: r[k] for k in ("direction", "match", "priority", "bandwidth",
                                      "action", "external_ids")} for r in found),
                  key=lambda r: r["direction"])


def expected_rows(port_id: str, egress=(10000, 1000), ingress=(20000, 2000), dscp=26,
                  router_id: str | None = None) -> list[dict]:
    extra = {"neutron:router_id": router_id} if router_id else {}
    found = []
    if egress or dscp is not None:
        found.append({"direction": "from-lport", "match": f'inport == "{port_id}"',
                      "priority": 2002,
                      "bandwidth": _bandwidth(egress),
                      "action": {"dscp": dscp} if dscp is not None else {},
                      "external_ids": {"neutron:port_id": port_id, **extra,
                                       "neutron:qos_key": f"{port_id} from-lport"}})
    if ingress:
        found.append({"direction": "to-lport", "match": f'outport == "{port_id}"',
                      "priority": 2002, "bandwidth": _bandwidth(ingress),
                      "action": {},
                      "external_ids": {"neutron:port_id": port_id, **extra,
                                       "neutron:qos_key": f"{port_id} to-lport"}})
    return found


def _bandwidth(limit: tuple[int, int] | None) -> dict:
    if not limit:
        return {}
    return {"rate": limit[0], **({"burst": limit[1]} if limit[1] else {})}


def in_switch(app, net_id: str, port_id: str) -> bool:
    switch = rows(app, "Logical_Switch", name=f"neutron-{net_id}")[0]
    uuids = {str(u) for u in switch["qos_rules"]} if isinstance(switch["qos_rules"], list) \
        else {str(switch["qos_rules"])}
    return {r["_uuid"] for r in rows(app, "QoS", external_ids={"neutron:port_id": port_id})} \
        <= uuids


def test_policy_crud_defaults_and_rules_listed(api):
    pol = post(api, "qos/policies", {"name": "gold", "tags": ["t1"]})
    assert {k: pol[k] for k in ("name", "description", "shared", "is_default", "rules",
                                "revision_number", "tags")} == {
        "name": "gold", "description": "", "shared": False, "is_default": False, "rules": [],
        "revision_number": 1, "tags": ["t1"]}
    rule = post(api, f"qos/policies/{pol['id']}/bandwidth_limit_rules", {"max_kbps": 5})
    assert rule == {"id": rule["id"], "type": "bandwidth_limit", "qos_policy_id": pol["id"],
                    "max_kbps": 5, "max_burst_kbps": 0, "direction": "egress"}
    shown = api.get(f"{POLICIES}/{pol['id']}").json()["policy"]
    assert shown["rules"] == [rule] and shown["revision_number"] == 2
    updated = api.put(f"{POLICIES}/{pol['id']}", json={"policy": {"name": "silver",
                                                                   "shared": True}})
    assert updated.json()["policy"]["name"] == "silver"
    listed = api.get(POLICIES, params={"shared": "true"}).json()["policies"]
    assert [p["id"] for p in listed] == [pol["id"]]
    assert api.get(POLICIES, params={"name": "gold"}).json()["policies"] == []
    rules = api.get(f"{POLICIES}/{pol['id']}/bandwidth_limit_rules",
                    params={"direction": "ingress"}).json()["bandwidth_limit_rules"]
    assert rules == []
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 204
    fault(api.get(f"{POLICIES}/{pol['id']}"), 404, "QosPolicyNotFound")


def test_rule_types_tell_what_ovn_realises(api):
    types = api.get("/v2.0/qos/rule-types").json()["rule_types"]
    assert sorted(t["type"] for t in types) == ["bandwidth_limit", "dscp_marking"]
    details = api.get("/v2.0/qos/rule-types/bandwidth_limit").json()["rule_type"]
    assert details["drivers"][0]["name"] == "ovn"
    assert {p["parameter_name"] for p in details["drivers"][0]["supported_parameters"]} == {
        "max_kbps", "max_burst_kbps", "direction"}
    fault(api.get("/v2.0/qos/rule-types/packet_rate_limit"), 404, "NotFound")
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"qos", "qos-bw-limit-direction", "qos-default", "qos-rule-type-details",
            "qos-rules-alias", "qos-gateway-ip"} <= aliases
    assert not {"qos-pps", "qos-pps-minimum", "qos-bw-minimum-ingress"} & aliases


def test_bad_values_are_400_and_conflicts_409(api):
    pol = post(api, "qos/policies", {"name": "p"})
    base = f"qos/policies/{pol['id']}"
    for body in ({"max_kbps": -1}, {"max_kbps": "x"}, {"max_kbps": 1, "direction": "up"},
                 {}, {"max_kbps": 1, "max_burst_kbps": 2147483648}):
        post(api, f"{base}/bandwidth_limit_rules", body, status=400)
    for mark in (1, 64, "af11"):
        post(api, f"{base}/dscp_marking_rules", {"dscp_mark": mark}, status=400)
    post(api, f"{base}/bandwidth_limit_rules", {"max_kbps": 1})
    conflict = api.post(f"/v2.0/{base}/bandwidth_limit_rules",
                        json={"bandwidth_limit_rule": {"max_kbps": 2}})
    fault(conflict, 409, "QoSRulesConflict")
    post(api, f"{base}/dscp_marking_rules", {"dscp_mark": 10})
    fault(api.post(f"/v2.0/{base}/dscp_marking_rules",
                   json={"dscp_marking_rule": {"dscp_mark": 12}}), 409, "QoSRulesConflict")
    fault(api.post(f"/v2.0/qos/policies/{uuid.uuid4()}/dscp_marking_rules",
                   json={"dscp_marking_rule": {"dscp_mark": 12}}), 404, "QosPolicyNotFound")
    net = post(api, "networks", {"name": "n"})
    fault(api.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                 "qos_policy_id": str(uuid.uuid4())}}),
          404, "QosPolicyNotFound")
    port = post(api, "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]})
    fault(api.delete(f"{POLICIES}/{pol['id']}"), 409, "QosPolicyInUse")
    api.put(f"/v2.0/ports/{port['id']}", json={"port": {"qos_policy_id": None}})
    api.put(f"/v2.0/networks/{net['id']}", json={"network": {"qos_policy_id": pol["id"]}})
    fault(api.delete(f"{POLICIES}/{pol['id']}"), 409, "QosPolicyInUse")
    api.put(f"/v2.0/networks/{net['id']}", json={"network": {"qos_policy_id": None}})
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 204


def test_one_default_policy_per_project_and_new_networks_get_it(api):
    pol = post(api, "qos/policies", {"name": "d", "is_default": True})
    fault(api.post(POLICIES, json={"policy": {"name": "e", "is_default": True}}), 409,
          "QoSPolicyDefaultAlreadyExists")
    other = post(api, "qos/policies", {"name": "e"})
    fault(api.put(f"{POLICIES}/{other['id']}", json={"policy": {"is_default": True}}), 409,
          "QoSPolicyDefaultAlreadyExists")
    net = post(api, "networks", {"name": "n"})
    assert net["qos_policy_id"] == pol["id"]
    assert post(api, "networks", {"name": "m", "qos_policy_id": None})["qos_policy_id"] is None


def test_alias_paths_reach_a_rule_without_its_policy(api):
    pol = post(api, "qos/policies", {"name": "p"})
    rule = post(api, f"qos/policies/{pol['id']}/bandwidth_limit_rules", {"max_kbps": 7})
    alias = f"/v2.0/qos/alias_bandwidth_limit_rules/{rule['id']}"
    assert api.get(alias).json()["bandwidth_limit_rule"]["max_kbps"] == 7
    updated = api.put(alias, json={"bandwidth_limit_rule": {"max_kbps": 8}})
    assert updated.json()["bandwidth_limit_rule"]["max_kbps"] == 8
    assert api.delete(alias).status_code == 204
    fault(api.get(alias), 404, "QosRuleNotFound")
    fault(api.get(f"/v2.0/qos/alias_dscp_marking_rules/{uuid.uuid4()}"), 404,
          "QosRuleNotFound")


def test_port_policy_is_realised_as_ml2_ovn_qos_rows(api, neutrino):
    pol = policy_with_rules(api)
    net = post(api, "networks", {"name": "n"})
    post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.77.0.0/24"})
    port = post(api, "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]})
    plain = post(api, "ports", {"network_id": net["id"]})
    assert port["qos_policy_id"] == pol["id"] and plain["qos_policy_id"] is None
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, port["id"]) == expected_rows(port["id"])
    assert in_switch(neutrino, net["id"], port["id"])
    assert qos_rows(neutrino, plain["id"]) == []

    api.put(f"/v2.0/ports/{port['id']}", json={"port": {"qos_policy_id": None}})
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, port["id"]) == []


def test_network_policy_reaches_its_ports_but_not_neutrons_own(api, neutrino):
    pol = policy_with_rules(api)
    own = post(api, "qos/policies", {"name": "own"})
    post(api, f"qos/policies/{own['id']}/bandwidth_limit_rules", {"max_kbps": 300})
    net = post(api, "networks", {"name": "n"})
    subnet = post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                   "cidr": "10.78.0.0/24"})
    vm = post(api, "ports", {"network_id": net["id"]})
    mine = post(api, "ports", {"network_id": net["id"], "qos_policy_id": own["id"]})
    router = post(api, "routers", {"name": "r"})
    interface = api.put(f"/v2.0/routers/{router['id']}/add_router_interface",
                        json={"subnet_id": subnet["id"]}).json()
    api.put(f"/v2.0/networks/{net['id']}", json={"network": {"qos_policy_id": pol["id"]}})
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, vm["id"]) == expected_rows(vm["id"])
    assert qos_rows(neutrino, mine["id"]) == expected_rows(mine["id"], egress=(300, 0),
                                                           ingress=None, dscp=None)
    assert qos_rows(neutrino, interface["port_id"]) == []
    # a port created later on the network is under the network's policy too
    late = post(api, "ports", {"network_id": net["id"]})
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, late["id"]) == expected_rows(late["id"])


def test_a_rule_change_reaches_every_port_in_one_transaction(api, neutrino):
    pol = policy_with_rules(api)
    net = post(api, "networks", {"name": "n", "qos_policy_id": pol["id"]})
    post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.79.0.0/24"})
    ports = [post(api, "ports", {"network_id": net["id"]}) for _ in range(3)]
    ports.append(post(api, "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]}))
    wait_journal_idle(neutrino)
    with neutrino.db.read() as session:
        before = session.scalar(select(JournalEntry.seq).order_by(JournalEntry.seq.desc()))
    rules = api.get(f"{POLICIES}/{pol['id']}/bandwidth_limit_rules",
                    params={"direction": "ingress"}).json()["bandwidth_limit_rules"]
    response = api.put(f"{POLICIES}/{pol['id']}/bandwidth_limit_rules/{rules[0]['id']}",
                       json={"bandwidth_limit_rule": {"max_kbps": 40000}})
    assert response.status_code == 200, response.text
    with neutrino.db.read() as session:
        entries = session.scalars(select(JournalEntry).where(JournalEntry.seq > before)).all()
    assert sorted(e.resource_id for e in entries) == sorted(p["id"] for p in ports)
    seqs = sorted(e.seq for e in entries)
    assert seqs == list(range(seqs[0], seqs[0] + len(ports)))  # recorded together
    wait_journal_idle(neutrino)
    with neutrino.db.read() as session:
        claims = session.scalars(select(JournalEntry.claimed_at).where(
            JournalEntry.seq.in_(seqs))).all()
    assert len(set(claims)) == 1 and None not in claims  # and applied in one batch
    for port in ports:
        assert qos_rows(neutrino, port["id"]) == expected_rows(port["id"],
                                                               ingress=(40000, 2000))
    dscp = api.get(f"{POLICIES}/{pol['id']}/dscp_marking_rules").json()["dscp_marking_rules"]
    api.delete(f"{POLICIES}/{pol['id']}/dscp_marking_rules/{dscp[0]['id']}")
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, ports[0]["id"]) == expected_rows(
        ports[0]["id"], ingress=(40000, 2000), dscp=None)


def test_deleting_a_port_takes_its_qos_rows(api, neutrino):
    pol = policy_with_rules(api)
    net = post(api, "networks", {"name": "n"})
    port = post(api, "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]})
    wait_journal_idle(neutrino)
    assert len(qos_rows(neutrino, port["id"])) == 2
    api.delete(f"/v2.0/ports/{port['id']}")
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, port["id"]) == []


# -- policy: QoS policies and rules are an admin's, as in Neutron ---------------------------
@pytest.fixture()
def as_member(neutrino):
    db, settings, wakeup = neutrino.db, neutrino.settings, neutrino.wakeup
    app = build_app(ApiDeps(
        services={"networks": neutrino.networks, "ports": neutrino.ports,
                  "policies": QosPolicyService(db, settings, wakeup)},
        tags=TagService(db, wakeup), quotas=QuotaService(db, settings),
        context_for=keystone_context, health=neutrino.health,
        metrics_registry=neutrino.metrics.registry,
        qos_rules={n: QosRuleService(db, wakeup, k) for n, k in RULE_KINDS.items()}))
    project = uuid.uuid4().hex
    with TestClient(app, headers={"X-Project-Id": project, "X-Roles": "member"}) as member, \
            TestClient(app, headers={"X-Project-Id": uuid.uuid4().hex,
                                     "X-Roles": "admin"}) as admin:
        yield member, admin, project


def test_members_may_not_write_policies_or_rules_but_use_shared_ones(as_member):
    member, admin, project = as_member
    fault(member.post(POLICIES, json={"policy": {"name": "x"}}), 403, "PolicyNotAuthorized")
    private = post(admin, "qos/policies", {"name": "private"})
    shared = post(admin, "qos/policies", {"name": "shared", "shared": True})
    fault(member.get(f"{POLICIES}/{private['id']}"), 404, "QosPolicyNotFound")
    assert [p["id"] for p in member.get(POLICIES).json()["policies"]] == [shared["id"]]
    fault(member.post(f"{POLICIES}/{shared['id']}/dscp_marking_rules",
                      json={"dscp_marking_rule": {"dscp_mark": 8}}), 403,
          "PolicyNotAuthorized")
    fault(member.put(f"{POLICIES}/{shared['id']}", json={"policy": {"name": "y"}}), 403,
          "PolicyNotAuthorized")
    net = post(member, "networks", {"name": "n"})
    fault(member.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                    "qos_policy_id": private["id"]}}),
          404, "QosPolicyNotFound")
    port = post(member, "ports", {"network_id": net["id"], "qos_policy_id": shared["id"]})
    assert port["qos_policy_id"] == shared["id"]
    # unsharing a policy another project's port uses is refused (Neutron: the `*` RBAC
    # policy cannot go)
    fault(admin.put(f"{POLICIES}/{shared['id']}", json={"policy": {"shared": False}}), 409,
          "RbacPolicyInUse")


def test_router_gateway_policy_is_realised_on_the_gateway_port(api, neutrino):
    pol = policy_with_rules(api)
    ext = post(api, "networks", {"name": "ext", "router:external": True})
    post(api, "subnets", {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.40.0/24"})
    router = post(api, "routers", {"name": "r", "external_gateway_info": {
        "network_id": ext["id"], "qos_policy_id": pol["id"]}})
    assert router["external_gateway_info"]["qos_policy_id"] == pol["id"]
    with neutrino.db.read() as session:
        gw_port = session.get(Router, router["id"]).gw_port_id
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, gw_port) == expected_rows(gw_port, router_id=router["id"])
    assert in_switch(neutrino, ext["id"], gw_port)
    fault(api.delete(f"{POLICIES}/{pol['id']}"), 409, "QosPolicyInUse")

    cleared = api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["id"], "qos_policy_id": None}}})
    assert cleared.json()["router"]["external_gateway_info"]["qos_policy_id"] is None
    wait_journal_idle(neutrino)
    assert qos_rows(neutrino, gw_port) == []
    fault(api.put(f"/v2.0/routers/{router['id']}", json={"router": {
        "external_gateway_info": {"network_id": ext["id"],
                                  "qos_policy_id": str(uuid.uuid4())}}}),
          404, "QosPolicyNotFound")
    assert api.delete(f"{POLICIES}/{pol['id']}").status_code == 204


def test_ovn_trace_meters_and_marks_what_the_policy_says(api, neutrino, local_ovn):
    """northd turns the QoS rows into a meter per direction and a DSCP rewrite: the traced
    packet from the port is metered at 10 Mbit/s and marked 26, the one to it metered at
    20 Mbit/s; a port under no policy is neither."""
    pol = policy_with_rules(api)
    net = post(api, "networks", {"name": "n", "port_security_enabled": False})
    post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.81.0.0/24"})
    limited = post(api, "ports", {"network_id": net["id"], "qos_policy_id": pol["id"]})
    free = post(api, "ports", {"network_id": net["id"]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    def flow(src: dict, dst: dict) -> str:
        return (f'inport == "{src["id"]}" && eth.src == {src["mac_address"]} && '
                f'eth.dst == {dst["mac_address"]} && ip4.src == '
                f'{src["fixed_ips"][0]["ip_address"]} && ip4.dst == '
                f'{dst["fixed_ips"][0]["ip_address"]} && ip.ttl == 64 && tcp && tcp.dst == 80')

    switch = f"neutron-{net['id']}"
    out = trace(local_ovn, switch, flow(limited, free))
    assert delivered_to(out) == {free["id"]}
    assert "set_meter(10000, 1000)" in out and "ip.dscp = 26" in out, out
    back = trace(local_ovn, switch, flow(free, limited))
    assert delivered_to(back) == {limited["id"]}
    assert "set_meter(20000, 2000)" in back and "ip.dscp" not in back, back
