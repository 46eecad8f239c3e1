"""Security group API behaviour and the Port_Groups and ACLs it leaves in NB."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle


def _post(api, path: str, body: dict, project: str | None = None) -> dict:
    singular = path.replace("-", "_")[:-1]
    headers = {"X-Project-Id": project} if project else {}
    response = api.post(f"/v2.0/{path}", json={singular: body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(response, status: int, fault_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["NeutronError"]["type"] == fault_type, response.text


def _rule(api, sg_id: str, **body):
    return api.post("/v2.0/security-group-rules",
                    json={"security_group_rule": {"security_group_id": sg_id, **body}})


def test_default_group_per_project(api):
    listed = api.get("/v2.0/security-groups", headers={"X-Project-Id": "p1"}).json()
    groups = listed["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"])
             for r in groups[0]["security_group_rules"]}
    sg_id = groups[0]["id"]
    assert rules == {("egress", "IPv4", None), ("egress", "IPv6", None),
                     ("ingress", "IPv4", sg_id), ("ingress", "IPv6", sg_id)}
    again = api.get("/v2.0/security-groups?name=default",
                    headers={"X-Project-Id": "p1"}).json()["security_groups"]
    assert [g["id"] for g in again] == [sg_id]
    _fault(api.delete(f"/v2.0/security-groups/{sg_id}", headers={"X-Project-Id": "p1"}),
           409, "SecurityGroupCannotRemoveDefault")
    port_net = _post(api, "networks", {"name": "n"}, project="p1")
    port = _post(api, "ports", {"network_id": port_net["id"]}, project="p1")
    assert port["security_groups"] == [sg_id]


def test_rule_validation(api):
    sg = _post(api, "security-groups", {"name": "web"})
    assert {(r["direction"], r["ethertype"]) for r in sg["security_group_rules"]} == \
        {("egress", "IPv4"), ("egress", "IPv6")}
    _fault(_rule(api, sg["id"], direction="ingress", protocol="tcp", port_range_min=90,
                 port_range_max=80), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", port_range_min=80), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", protocol="gre", port_range_min=1),
           400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", ethertype="IPv6",
                 remote_ip_prefix="10.0.0.0/8"), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", remote_ip_prefix="10.0.0.0/8",
                 remote_group_id=sg["id"]), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="sideways"), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", protocol="300"), 400, "BadRequest")
    _fault(_rule(api, sg["id"], direction="ingress", remote_group_id="nope"), 404,
           "SecurityGroupNotFound")
    _fault(_rule(api, "nope", direction="ingress"), 404, "SecurityGroupNotFound")
    ok = _rule(api, sg["id"], direction="ingress", protocol="tcp", port_range_min=80,
               port_range_max=80, remote_ip_prefix="10.0.0.0/8")
    assert ok.status_code == 201
    _fault(_rule(api, sg["id"], direction="ingress", protocol="tcp", port_range_min=80,
                 port_range_max=80, remote_ip_prefix="10.1.2.3/8"), 409,
           "SecurityGroupRuleExists")
    icmp = _rule(api, sg["id"], direction="ingress", protocol="icmp", port_range_min=8,
                 port_range_max=0)
    assert icmp.status_code == 201
    bulk = api.post("/v2.0/security-group-rules", json={"security_group_rules": [
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "udp"},
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "udp"},
    ]})
    _fault(bulk, 409, "SecurityGroupRuleExists")
    shown = api.get(f"/v2.0/security-groups/{sg['id']}").json()["security_group"]
    assert len(shown["security_group_rules"]) == 4  # the failed bulk added nothing


def test_ports_and_groups(api):
    net = _post(api, "networks", {"name": "n"})
    sg = _post(api, "security-groups", {"name": "g"})
    port = _post(api, "ports", {"network_id": net["id"], "security_groups": [sg["id"]]})
    assert port["security_groups"] == [sg["id"]]
    _fault(api.delete(f"/v2.0/security-groups/{sg['id']}"), 409, "SecurityGroupInUse")
    _fault(api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "port_security_enabled": False,
        "security_groups": [sg["id"]]}}), 409, "PortSecurityAndIPRequiredForSecurityGroups")
    _fault(api.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "port_security_enabled": False}}), 409, "PortSecurityAndIPRequiredForSecurityGroups")
    _fault(api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "port_security_enabled": False,
        "allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}}), 409,
        "AddressPairAndPortSecurityRequired")
    open_port = _post(api, "ports", {"network_id": net["id"], "port_security_enabled": False})
    assert open_port["security_groups"] == []
    _fault(api.post("/v2.0/ports", json={"port": {
        "network_id": net["id"], "security_groups": ["missing"]}}), 404,
        "SecurityGroupNotFound")
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.delete(f"/v2.0/security-groups/{sg['id']}").status_code == 204


def test_groups_and_rules_in_nb(api, neutrino):
    net = _post(api, "networks", {"name": "nb"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.70.0.0/24"})
    sg = _post(api, "security-groups", {"name": "nbg"})
    other = _post(api, "security-groups", {"name": "other"})
    ssh = _rule(api, sg["id"], direction="ingress", protocol="tcp", port_range_min=22,
                port_range_max=22, remote_ip_prefix="0.0.0.0/0").json()["security_group_rule"]
    ping = _rule(api, sg["id"], direction="ingress", protocol="icmp",
                 remote_group_id=other["id"]).json()["security_group_rule"]
    port = _post(api, "ports", {"network_id": net["id"], "security_groups": [sg["id"]]})
    wait_journal_idle(neutrino)

    pg_name = "pg_" + sg["id"].replace("-", "_")
    group = one(neutrino, "Port_Group", name=pg_name)
    assert group["external_ids"] == {"neutron:security_group_id": sg["id"]}
    lsp = one(neutrino, "Logical_Switch_Port", name=port["id"])
    assert group["ports"] == [lsp["_uuid"]]
    acls = {a["_uuid"]: a for a in rows(neutrino, "ACL")}
    matches = {acls[u]["external_ids"]["neutron:security_group_rule_id"]: acls[u]
               for u in group["acls"]}
    other_pg = "pg_" + other["id"].replace("-", "_")
    assert matches[ssh["id"]]["match"] == \
        f"outport == @{pg_name} && ip4 && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22"
    assert matches[ping["id"]]["match"] == \
        f"outport == @{pg_name} && ip4 && ip4.src == ${other_pg}_ip4 && icmp4"
    egress = [a for a in matches.values() if a["direction"] == "from-lport"]
    assert sorted(a["match"] for a in egress) == [f"inport == @{pg_name} && ip4",
                                                  f"inport == @{pg_name} && ip6"]
    for acl in matches.values():
        assert (acl["priority"], acl["action"], acl["log"]) == (1002, "allow-related", False)
    drop = one(neutrino, "Port_Group", name="neutron_pg_drop")
    assert lsp["_uuid"] in drop["ports"]
    drop_acls = sorted((acls[u]["direction"], acls[u]["action"], acls[u]["match"])
                       for u in drop["acls"])
    assert drop_acls[:2] == [
        ("from-lport", "allow", "inport == @neutron_pg_drop && ip4 && udp && udp.src == 68 "
                                "&& udp.dst == 67"),
        ("from-lport", "allow", "inport == @neutron_pg_drop && ip6 && udp && udp.src == 546 "
                                "&& udp.dst == 547"),
    ]
    assert drop_acls[2:] == [("from-lport", "drop", "inport == @neutron_pg_drop && ip"),
                             ("to-lport", "drop", "outport == @neutron_pg_drop && ip")]

    # Moving the port to another group moves its membership; deletions follow.
    moved = api.put(f"/v2.0/ports/{port['id']}",
                    json={"port": {"security_groups": [other["id"]]}})
    assert moved.status_code == 200
    assert api.delete(f"/v2.0/security-group-rules/{ssh['id']}").status_code == 204
    wait_journal_idle(neutrino)
    assert one(neutrino, "Port_Group", name=pg_name)["ports"] == []
    assert one(neutrino, "Port_Group", name=other_pg)["ports"] == [lsp["_uuid"]]
    assert rows(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": ssh["id"]}) \
        == []
    assert lsp["external_ids"]["neutron:security_group_ids"] == sg["id"]
    assert one(neutrino, "Logical_Switch_Port", name=port["id"])["external_ids"][
        "neutron:security_group_ids"] == other["id"]

    assert api.delete(f"/v2.0/security-groups/{other['id']}").status_code == 409
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.delete(f"/v2.0/security-groups/{other['id']}").status_code == 204
    assert api.delete(f"/v2.0/security-groups/{sg['id']}").status_code == 204
    wait_journal_idle(neutrino)
    assert rows(neutrino, "Port_Group", name=pg_name) == []
    assert rows(neutrino, "Port_Group", name=other_pg) == []
    assert rows(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": ping["id"]}) \
        == []
