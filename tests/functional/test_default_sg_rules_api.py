"""Default security group rules (security-groups-default-rules): the templates new groups
take their rules from, as Neutron ships them and as an admin changes them."""

from __future__ import annotations

import pytest
from nb_state import one, wait_journal_idle

from neutrino import errors
from neutrino.services.context import Context
from neutrino.services.default_sg_rules import DefaultRuleService
from neutrino.services.listing import ListQuery

URL = "/v2.0/default-security-group-rules"


def _fault(response, status: int, fault_type: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == fault_type, response.text
    return fault


def _create(api, **body):
    return api.post(URL, json={"default_security_group_rule": body})


def _shape(rule: dict) -> tuple:
    return (rule["direction"], rule["ethertype"], rule["protocol"], rule["port_range_min"],
            rule["remote_group_id"], rule["remote_ip_prefix"])


def test_neutrons_templates_are_there_from_the_start(api):
    templates = api.get(URL).json()["default_security_group_rules"]
    assert {(t["direction"], t["ethertype"], t["remote_group_id"], t["used_in_default_sg"],
             t["used_in_non_default_sg"]) for t in templates} == {
        ("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
        ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False)}
    assert set(templates[0]) == {
        "id", "description", "direction", "ethertype", "protocol", "port_range_min",
        "port_range_max", "remote_ip_prefix", "remote_group_id", "remote_address_group_id",
        "used_in_default_sg", "used_in_non_default_sg"}


def test_create_show_filter_sort_page_delete(api):
    made = _create(api, direction="ingress", protocol="tcp", port_range_min=22,
                   port_range_max=22, remote_ip_prefix="10.0.0.0/8", description="ssh",
                   used_in_non_default_sg=True)
    assert made.status_code == 201, made.text
    rule = made.json()["default_security_group_rule"]
    assert (rule["used_in_default_sg"], rule["used_in_non_default_sg"]) == (False, True)
    assert rule["description"] == "ssh" and rule["ethertype"] == "IPv4"
    shown = api.get(f"{URL}/{rule['id']}?fields=protocol&fields=id").json()
    assert shown["default_security_group_rule"] == {"id": rule["id"], "protocol": "tcp"}
    found = api.get(f"{URL}?protocol=tcp&used_in_non_default_sg=true").json()
    assert [r["id"] for r in found["default_security_group_rules"]] == [rule["id"]]
    ordered = api.get(f"{URL}?sort_key=direction&sort_key=ethertype&sort_dir=asc"
                      "&sort_dir=desc").json()["default_security_group_rules"]
    assert [(r["direction"], r["ethertype"]) for r in ordered][:2] == [
        ("egress", "IPv6"), ("egress", "IPv4")]
    page = api.get(f"{URL}?limit=2").json()
    assert len(page["default_security_group_rules"]) == 2
    assert any(link["rel"] == "next" for link in page["default_security_group_rules_links"])
    _fault(api.put(f"{URL}/{rule['id']}", json={"default_security_group_rule": {
        "description": "x"}}), 400, "BadRequest")
    assert api.delete(f"{URL}/{rule['id']}").status_code == 204
    _fault(api.get(f"{URL}/{rule['id']}"), 404, "DefaultSecurityGroupRuleNotFound")
    _fault(api.delete(f"{URL}/{rule['id']}"), 404, "DefaultSecurityGroupRuleNotFound")


def test_bad_templates_are_refused(api):
    before = api.get(URL).json()
    _fault(_create(api), 400, "BadRequest")  # direction is required
    _fault(_create(api, direction="ingress", remote_group_id="a-real-looking-id"), 400,
           "InvalidInput")
    _fault(_create(api, direction="ingress", protocol="tcp", port_range_min=90,
                   port_range_max=80), 400, "BadRequest")
    _fault(_create(api, direction="ingress", remote_group_id="PARENT",
                   remote_ip_prefix="10.0.0.0/8"), 400, "BadRequest")
    _fault(_create(api, direction="ingress",
                   remote_address_group_id="5b0c6a3e-8c89-4a34-9b0a-3f8f1f1e2d3c"), 404,
           "AddressGroupNotFound")
    _fault(_create(api, direction="egress", ethertype="IPv4"), 409,
           "DefaultSecurityGroupRuleExists")  # Neutron's own template
    _fault(_create(api, direction="ingress", used_in_default_sg="perhaps"), 400, "BadRequest")
    assert api.get(URL).json() == before


def test_only_admins_change_templates_and_anyone_reads_them(neutrino):
    service = DefaultRuleService(neutrino.db, neutrino.settings, neutrino.wakeup)
    member = Context(project_id="p", is_admin=False, roles=("member",))
    reader = Context(project_id="p", is_admin=False, roles=("reader",))
    body = {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None, "remote_address_group_id": None, "description": "",
            "used_in_default_sg": True, "used_in_non_default_sg": False}
    with pytest.raises(errors.PolicyNotAuthorized):
        service.create(member, [body])
    templates = service.list(reader, ListQuery())
    assert len(templates) == 4
    assert service.get(member, templates[0]["id"])["id"] == templates[0]["id"]
    with pytest.raises(errors.PolicyNotAuthorized):
        service.delete(member, templates[0]["id"], None)
    with pytest.raises(errors.PolicyNotAuthorized):
        service.list(Context(project_id="p", is_admin=False, roles=()), ListQuery())


def test_new_groups_take_their_rules_from_the_templates(api, neutrino):
    ag = api.post("/v2.0/address-groups", json={"address_group": {
        "addresses": ["10.40.0.0/16"]}}).json()["address_group"]
    ssh = _create(api, direction="ingress", protocol="tcp", port_range_min=22,
                  port_range_max=22, used_in_non_default_sg=True,
                  remote_address_group_id=ag["id"]).json()["default_security_group_rule"]
    icmp = _create(api, direction="ingress", protocol="icmp", remote_group_id="PARENT",
                   used_in_default_sg=True).json()["default_security_group_rule"]
    egress4 = next(t for t in api.get(f"{URL}?direction=egress&ethertype=IPv4").json()[
        "default_security_group_rules"])
    assert api.delete(f"{URL}/{egress4['id']}").status_code == 204  # no more IPv4 egress

    group = api.post("/v2.0/security-groups", json={"security_group": {"name": "g"}},
                     headers={"X-Project-Id": "tpl"}).json()["security_group"]
    assert {_shape(r) for r in group["security_group_rules"]} == {
        ("egress", "IPv6", None, None, None, None),
        ("ingress", "IPv4", "tcp", 22, None, None)}
    from_ag = next(r for r in group["security_group_rules"] if r["protocol"] == "tcp")
    assert from_ag["remote_address_group_id"] == ag["id"]
    assert not any(r["belongs_to_default_sg"] for r in group["security_group_rules"])

    default = next(g for g in api.get("/v2.0/security-groups?name=default",
                                      headers={"X-Project-Id": "tpl"}).json()[
        "security_groups"])
    assert {_shape(r) for r in default["security_group_rules"]} == {
        ("egress", "IPv6", None, None, None, None),
        ("ingress", "IPv4", None, None, default["id"], None),  # PARENT: the group itself
        ("ingress", "IPv6", None, None, default["id"], None),
        ("ingress", "IPv4", "icmp", None, default["id"], None)}
    assert all(r["belongs_to_default_sg"] for r in default["security_group_rules"])

    # the rules made from templates are ordinary rules: they reach OVN as ACLs
    wait_journal_idle(neutrino)
    acl = one(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": from_ag["id"]})
    assert f"ip4.src == $ag_{ag['id'].replace('-', '_')}_ip4" in acl["match"]
    # templates are not rules: deleting one leaves the rules made from it; an address group
    # a template names stays while it does
    assert api.delete(f"/v2.0/security-group-rules/{from_ag['id']}").status_code == 204
    _fault(api.delete(f"/v2.0/address-groups/{ag['id']}"), 409, "AddressGroupInUse")
    assert api.delete(f"{URL}/{ssh['id']}").status_code == 204
    assert api.delete(f"/v2.0/address-groups/{ag['id']}").status_code == 204
    assert api.delete(f"{URL}/{icmp['id']}").status_code == 204
    assert all(api.get(f"/v2.0/security-group-rules/{r['id']}").status_code == 200
               for r in default["security_group_rules"])
