"""Security groups, policy, quotas and revision numbers as Neutron answers them.

Each test pins one answer of Neutron's (its API definitions and database layer): numeric
protocols, IPv6-only protocols, duplicate groups on a port, the name `default`, bulk bodies,
who may set what on a port, rules an admin adds to a project's group, the implicit default
group and quotas, `force` on quota updates, and the revisions a child moves on its parent.
"""

from __future__ import annotations

from typing import Any

import pytest
from nb_state import wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced

from neutrino import errors
from neutrino.api.attributes import SPECS, parse_create
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery
from neutrino.services.quotas import QuotaService
from neutrino.services.security_groups import RuleService, SecurityGroupService

ADMIN = Context(project_id="admin")


def member(project: str) -> Context:
    return Context(project_id=project, is_admin=False, user_id="u", roles=("member",))


def _post(api, path: str, body: dict, status: int = 201) -> dict:
    singular = path.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == status, response.text
    return response.json()[singular] if status == 201 else response.json()["NeutronError"]


def _get(api, path: str) -> dict:
    response = api.get(f"/v2.0/{path}")
    assert response.status_code == 200, response.text
    return next(iter(response.json().values()))


def _fault(response, status: int, fault_type: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == fault_type, response.text
    return fault


def _body(collection: str, **values: Any) -> dict[str, Any]:
    return parse_create(SPECS[collection], values)


# --- 1. protocols ------------------------------------------------------------------------


def test_numeric_protocol_is_accepted_and_stored_as_given(api):
    sg = _post(api, "security-groups", {"name": "numbers"})
    rule = {"security_group_id": sg["id"], "direction": "ingress"}
    assert _post(api, "security-group-rules", {**rule, "protocol": 17})["protocol"] == "17"
    assert _post(api, "security-group-rules", {**rule, "protocol": "6"})["protocol"] == "6"
    # "udp" and 17 are the same rule to Neutron, whichever came first
    fault = _post(api, "security-group-rules", {**rule, "protocol": "udp"}, status=409)
    assert fault["type"] == "SecurityGroupRuleExists"
    _fault(api.post("/v2.0/security-group-rules", json={"security_group_rule": {
        **rule, "protocol": "tcp"}}), 409, "SecurityGroupRuleExists")
    # with IPv6, ICMP by a legacy name or by number 1 is stored as Neutron stores it
    v6 = {**rule, "ethertype": "IPv6"}
    assert _post(api, "security-group-rules", {**v6, "protocol": "icmp"})["protocol"] == \
        "ipv6-icmp"
    _fault(api.post("/v2.0/security-group-rules", json={"security_group_rule": {
        **v6, "protocol": "58"}}), 409, "SecurityGroupRuleExists")


@pytest.mark.parametrize("protocol", ["ipv6-encap", "41", 41, "ipv6-route", "ipv6-opts",
                                      "ipv6-nonxt", "ipv6-frag", "icmpv6"])
def test_ipv6_only_protocols_refused_with_ipv4(api, protocol):
    sg = _post(api, "security-groups", {"name": "v6-only"})
    response = api.post("/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
        "protocol": protocol}})
    fault = _fault(response, 400, "SecurityGroupEthertypeConflictWithProtocol")
    assert fault["message"] == f"Invalid ethertype IPv4 for protocol {protocol}."
    assert len(_get(api, f"security-groups/{sg['id']}")["security_group_rules"]) == 2
    ok = {"security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv6",
          "protocol": protocol}
    assert _post(api, "security-group-rules", ok)["protocol"] == \
        ("ipv6-icmp" if protocol == "icmpv6" else str(protocol))


def test_protocol_17_admits_udp_only(api, neutrino, local_ovn):
    """The ACL of a rule given protocol 17 matches UDP, as one given "udp" would."""
    net = _post(api, "networks", {"name": "proto-net"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.71.0.0/24"})
    dns = _post(api, "security-groups", {"name": "dns"})
    _post(api, "security-group-rules", {"security_group_id": dns["id"], "direction": "ingress",
                                        "protocol": 17, "port_range_min": 53,
                                        "port_range_max": 53})
    client = _post(api, "ports", {"network_id": net["id"]})
    server = _post(api, "ports", {"network_id": net["id"], "security_groups": [dns["id"]]})
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)

    def delivered(l4: str) -> bool:
        packet = (f'inport == "{client["id"]}" && eth.src == {client["mac_address"]} && '
                  f'eth.dst == {server["mac_address"]} && '
                  f'ip4.src == {client["fixed_ips"][0]["ip_address"]} && '
                  f'ip4.dst == {server["fixed_ips"][0]["ip_address"]} && ip.ttl == 64 && {l4}')
        output = trace(local_ovn, f"neutron-{net['id']}", packet, ct=("new", "new"))
        return server["id"] in delivered_to(output)

    assert delivered("udp && udp.src == 40000 && udp.dst == 53")
    assert not delivered("udp && udp.src == 40000 && udp.dst == 54")
    assert not delivered("tcp && tcp.src == 40000 && tcp.dst == 53")


# --- 2. a group listed twice on a port ---------------------------------------------------


def test_port_listing_a_group_twice_is_refused(api):
    net = _post(api, "networks", {"name": "twice"})
    sg = _post(api, "security-groups", {"name": "once"})
    expected = (f"Invalid input for security_groups. Reason: Duplicate items in the list: "
                f"'{sg['id']}'.")
    create = api.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                    "security_groups": [sg["id"], sg["id"]]}})
    assert _fault(create, 400, "BadRequest")["message"] == expected
    assert _get(api, f"ports?network_id={net['id']}") == []
    port = _post(api, "ports", {"network_id": net["id"], "security_groups": [sg["id"]]})
    update = api.put(f"/v2.0/ports/{port['id']}",
                     json={"port": {"security_groups": [sg["id"], sg["id"]]}})
    assert _fault(update, 400, "BadRequest")["message"] == expected
    assert _get(api, f"ports/{port['id']}")["revision_number"] == port["revision_number"]


# --- 3. the name `default` ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["default", "Default", "DEFAULT"])
def test_no_other_group_may_be_called_default(api, name):
    fault = _fault(api.post("/v2.0/security-groups", json={"security_group": {"name": name}}),
                   409, "SecurityGroupDefaultAlreadyExists")
    assert fault["message"] == "Default security group already exists."
    sg = _post(api, "security-groups", {"name": "web"})
    _fault(api.put(f"/v2.0/security-groups/{sg['id']}",
                   json={"security_group": {"name": name}}),
           409, "SecurityGroupDefaultAlreadyExists")
    assert _get(api, f"security-groups/{sg['id']}")["name"] == "web"
    assert [g["name"] for g in _get(api, "security-groups")].count("default") == 1


def test_the_default_group_keeps_its_name(api):
    default = _get(api, "security-groups?name=default")[0]
    fault = _fault(api.put(f"/v2.0/security-groups/{default['id']}",
                           json={"security_group": {"name": "renamed"}}),
                   409, "SecurityGroupCannotUpdateDefault")
    assert fault["message"] == "Updating default security group not allowed."
    described = api.put(f"/v2.0/security-groups/{default['id']}",
                        json={"security_group": {"description": "ours"}})
    assert described.status_code == 200 and described.json()["security_group"]["name"] == \
        "default"


# --- 4. bulk bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "collection", "singular", "item"), [
    ("security-groups", "security_groups", "security_group", lambda i: {"name": f"g{i}"}),
    ("networks", "networks", "network", lambda i: {"name": f"n{i}"}),
])
def test_bulk_items_may_be_wrapped_or_bare(api, path, collection, singular, item):
    body = {collection: [{singular: item(0)}, item(1), {singular: item(2)}]}
    response = api.post(f"/v2.0/{path}", json=body)
    assert response.status_code == 201, response.text
    assert [c["name"] for c in response.json()[collection]] == \
        [item(i)["name"] for i in range(3)]
    bad = {collection: [{singular: item(3)}, {singular: "not an object"}]}
    _fault(api.post(f"/v2.0/{path}", json=bad), 400, "BadRequest")
    _fault(api.post(f"/v2.0/{path}", json={collection: []}), 400, "BadRequest")


def test_bulk_rules_may_be_wrapped(api):
    sg = _post(api, "security-groups", {"name": "bulk-rules"})
    rule = {"security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp"}
    response = api.post("/v2.0/security-group-rules", json={"security_group_rules": [
        {"security_group_rule": {**rule, "port_range_min": 80, "port_range_max": 80}},
        {**rule, "port_range_min": 443, "port_range_max": 443}]})
    assert response.status_code == 201, response.text
    assert [r["port_range_min"] for r in response.json()["security_group_rules"]] == [80, 443]


# --- 5. policy ---------------------------------------------------------------------------


@pytest.fixture()
def groups(neutrino) -> SecurityGroupService:
    return SecurityGroupService(neutrino.db, neutrino.settings, neutrino.wakeup)


@pytest.fixture()
def rules(neutrino) -> RuleService:
    return RuleService(neutrino.db, neutrino.settings, neutrino.wakeup)


@pytest.fixture()
def quotas(neutrino) -> QuotaService:
    return QuotaService(neutrino.db, neutrino.settings)


def test_member_on_a_shared_network_may_not_weaken_port_security(neutrino):
    net = neutrino.networks.create(ADMIN, [_body("networks", name="shared", shared=True,
                                                 project_id="owner")])[0]
    neutrino.subnets.create(ADMIN, [_body("subnets", network_id=net["id"], ip_version=4,
                                          cidr="10.72.0.0/24")])
    user = member("tenant")
    plain = _body("ports", network_id=net["id"])
    for extra, rule in (({"allowed_address_pairs": [{"ip_address": "10.72.0.99"}]},
                         "create_port:allowed_address_pairs"),
                        ({"port_security_enabled": False}, "create_port:port_security_enabled")):
        with pytest.raises(errors.PolicyNotAuthorized, match=rule):
            neutrino.ports.create(user, [{**plain, **extra}])
    port = neutrino.ports.create(user, [plain])[0]
    for change in ({"allowed_address_pairs": [{"ip_address": "10.72.0.99"}]},
                   {"port_security_enabled": False}):
        with pytest.raises(errors.PolicyNotAuthorized):
            neutrino.ports.update(user, port["id"], change, None)
    assert neutrino.ports.get(user, port["id"])["revision_number"] == port["revision_number"]


def test_member_naming_another_project_is_refused(neutrino, groups):
    user = member("tenant")
    for create, body in ((groups.create, _body("security_groups", name="x", project_id="o")),
                         (groups.create, _body("security_groups", name="x", tenant_id="o")),
                         (neutrino.networks.create, _body("networks", project_id="o"))):
        with pytest.raises(errors.BadRequest) as exc:
            create(user, [body])
        assert exc.value.type == "HTTPBadRequest"
    assert groups.list(ADMIN, ListQuery(filters={"project_id": ["o"]})) == []


def test_rules_an_admin_adds_to_a_project_group_are_the_projects_to_see(groups, rules):
    owner = member("owner")
    sg = groups.create(owner, [_body("security_groups", name="app")])[0]
    added = rules.create(ADMIN, [_body("security_group_rules", security_group_id=sg["id"],
                                       direction="ingress", protocol="tcp",
                                       port_range_min=22, port_range_max=22)])[0]
    assert added["project_id"] == "admin"  # the caller's, as in Neutron
    listed = rules.list(owner, ListQuery(filters={"security_group_id": [sg["id"]]}))
    assert added["id"] in {r["id"] for r in listed}
    assert rules.get(owner, added["id"])["port_range_min"] == 22
    assert added["id"] in {r["id"] for r in groups.get(owner, sg["id"])["security_group_rules"]}
    with pytest.raises(errors.SecurityGroupRuleNotFound):
        rules.get(member("stranger"), added["id"])
    assert added["id"] not in {r["id"] for r in rules.list(member("stranger"), ListQuery())}
    rules.delete(owner, added["id"], None)  # the group's owner may remove it
    assert added["id"] not in {r["id"] for r in groups.get(owner, sg["id"])
                               ["security_group_rules"]}


def test_the_implicit_default_group_never_counts_against_its_trigger(groups, quotas):
    quotas.update(ADMIN, "q1", {"security_group": 1})
    user = member("q1")
    first = groups.create(user, [_body("security_groups", name="only")])[0]
    names = sorted(g["name"] for g in groups.list(user, ListQuery()))
    assert names == ["default", "only"]  # the default group came with the first
    with pytest.raises(errors.OverQuota):  # once it exists, it counts
        groups.create(user, [_body("security_groups", name="second")])
    assert first["revision_number"] == 1
    # its four rules do not count against the rules the new group brings either
    quotas.update(ADMIN, "q2", {"security_group_rule": 2})
    groups.create(member("q2"), [_body("security_groups", name="two-rules")])
    with pytest.raises(errors.OverQuota):
        groups.create(member("q2"), [_body("security_groups", name="more")])
    # and a bulk is judged as a whole, before the default group is made
    quotas.update(ADMIN, "q3", {"security_group": 2})
    made = groups.create(member("q3"), [_body("security_groups", name=n) for n in "ab"])
    assert len(made) == 2


# --- 6. quotas ---------------------------------------------------------------------------


def test_a_limit_below_usage_needs_force(api):
    for name in ("a", "b"):
        _post(api, "networks", {"name": name, "project_id": "busy"})
    refused = api.put("/v2.0/quotas/busy", json={"quota": {"network": 1}})
    fault = _fault(refused, 400, "HTTPBadRequest")
    assert fault["message"] == ("Quota limit 1 for network must be greater than or equal to "
                                "already used 2")
    assert _get(api, "quotas/busy")["network"] == 100
    assert api.put("/v2.0/quotas/busy", json={"quota": {"network": 2}}).status_code == 200
    assert api.put("/v2.0/quotas/busy", json={"quota": {"network": -1}}).status_code == 200
    checked = api.put("/v2.0/quotas/busy", json={"quota": {"network": 1, "check_limit": True}})
    _fault(checked, 400, "HTTPBadRequest")
    forced = api.put("/v2.0/quotas/busy", json={"quota": {"network": 1, "force": True}})
    assert forced.status_code == 200, forced.text
    assert forced.json()["quota"]["network"] == 1 and "force" not in forced.json()["quota"]
    details = _get(api, "quotas/busy/details")["network"]
    assert details == {"limit": 1, "used": 2, "reserved": 0}
    _fault(api.put("/v2.0/quotas/busy", json={"quota": {"network": 5, "force": "maybe"}}),
           400, "BadRequest")
    assert _get(api, "quotas/busy")["network"] == 1
    assert _get(api, "quotas/busy/default")["network"] == 100
    aliases = {e["alias"] for e in _get(api, "extensions")}
    assert {"quota-check-limit", "quota-check-limit-default"} <= aliases


# --- 7. revisions a child moves on its parent --------------------------------------------


def test_a_subnet_revises_its_network(api):
    net = _post(api, "networks", {"name": "rev"})
    revision = net["revision_number"]
    subnet = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.73.0.0/24"})
    revision = _moved(api, f"networks/{net['id']}", revision)
    assert api.put(f"/v2.0/subnets/{subnet['id']}",
                   json={"subnet": {"name": "renamed"}}).status_code == 200
    revision = _moved(api, f"networks/{net['id']}", revision)
    assert api.delete(f"/v2.0/subnets/{subnet['id']}").status_code == 204
    _moved(api, f"networks/{net['id']}", revision)


def test_a_rule_revises_its_group(api):
    sg = _post(api, "security-groups", {"name": "rev"})
    assert sg["revision_number"] == 1  # its own two egress rules came with it
    rule = _post(api, "security-group-rules", {"security_group_id": sg["id"],
                                               "direction": "ingress", "protocol": "tcp"})
    revision = _moved(api, f"security-groups/{sg['id']}", 1)
    assert api.put(f"/v2.0/security-group-rules/{rule['id']}",
                   json={"security_group_rule": {"description": "d"}}).status_code == 200
    revision = _moved(api, f"security-groups/{sg['id']}", revision)
    bulk = api.post("/v2.0/security-group-rules", json={"security_group_rules": [
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": p}
        for p in ("udp", "sctp")]})
    assert bulk.status_code == 201
    assert _get(api, f"security-groups/{sg['id']}")["revision_number"] == revision + 1
    revision += 1
    assert api.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    _moved(api, f"security-groups/{sg['id']}", revision)


def test_deleting_a_group_revises_groups_whose_rules_named_it(api):
    remote = _post(api, "security-groups", {"name": "remote"})
    other = _post(api, "security-groups", {"name": "other"})
    _post(api, "security-group-rules", {"security_group_id": other["id"],
                                        "direction": "ingress", "remote_group_id": remote["id"]})
    revision = _get(api, f"security-groups/{other['id']}")["revision_number"]
    assert api.delete(f"/v2.0/security-groups/{remote['id']}").status_code == 204
    _moved(api, f"security-groups/{other['id']}", revision)


def _moved(api, path: str, before: int) -> int:
    after = _get(api, path)["revision_number"]
    assert after == before + 1, (path, before, after)
    return after


def test_quotas_project_and_tenant_name_the_caller(api):
    """Neutron's collection actions, not a project called `project` or `tenant`."""
    mine = api.get("/v2.0/quotas/project", headers={"X-Project-Id": "p-7"})
    assert mine.json() == {"project": {"project_id": "p-7"}}
    legacy = api.get("/v2.0/quotas/tenant", headers={"X-Project-Id": "p-7"})
    assert legacy.json() == {"tenant": {"tenant_id": "p-7"}}
