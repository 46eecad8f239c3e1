"""The address-group API, rules naming address groups, stateful groups and the rule
attributes belongs_to_default_sg and normalized_cidr."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.services.address_groups import AddressGroupService
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery
from neutrino.services.security_groups import RuleService


def _post(api, path: str, body: dict, project: str | None = None) -> dict:
    singular = path.replace("-", "_")[:-1]
    headers = {"X-Project-Id": project} if project else {}
    response = api.post(f"/v2.0/{path}", json={singular: body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _fault(response, status: int, fault_type: str) -> dict:
    assert response.status_code == status, response.text
    fault = response.json()["NeutronError"]
    assert fault["type"] == fault_type, response.text
    return fault


def _ag_post(api, body: dict):
    return api.post("/v2.0/address-groups", json={"address_group": body})


def test_create_show_update_delete(api):
    ag = _post(api, "address-groups", {"name": "web", "description": "d",
                                       "addresses": ["10.0.0.5/24", "192.0.2.1/32",
                                                     "2001:db8::1/64", "10.0.0.0/24"]})
    # normalised to networks, duplicates dropped
    assert sorted(ag["addresses"]) == ["10.0.0.0/24", "192.0.2.1/32", "2001:db8::/64"]
    assert ag["name"] == "web" and ag["description"] == "d"
    assert ag["project_id"] == ag["tenant_id"] and ag["revision_number"] == 1
    assert "tags" not in ag
    url = f"/v2.0/address-groups/{ag['id']}"
    shown = api.get(url).json()["address_group"]
    assert shown == ag
    assert api.get(f"{url}?fields=name&fields=addresses").json()["address_group"] == {
        "name": "web", "addresses": ag["addresses"]}
    updated = api.put(url, json={"address_group": {"name": "web2", "description": ""}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["address_group"]["name"] == "web2"
    assert updated.json()["address_group"]["revision_number"] == 2
    # addresses change only through the actions
    _fault(api.put(url, json={"address_group": {"addresses": []}}), 400, "BadRequest")
    _fault(api.put(url, headers={"If-Match": "revision_number=1"},
                   json={"address_group": {"name": "x"}}), 412,
           "RevisionNumberConstraintFailed")
    assert api.delete(url).status_code == 204
    _fault(api.get(url), 404, "AddressGroupNotFound")
    _fault(api.delete(url), 404, "AddressGroupNotFound")
    empty = _post(api, "address-groups", {})
    assert empty["addresses"] == [] and empty["name"] == ""
    assert _post(api, "address-groups", {"addresses": None})["addresses"] == []


@pytest.mark.parametrize("addresses", [
    ["10.0.0.1"],  # a bare address is no CIDR to Neutron
    ["10.0.0.0/33"],
    ["not-an-address"],
    [7],
    "10.0.0.0/24",
])
def test_bad_addresses_are_refused_and_change_nothing(api, addresses):
    before = api.get("/v2.0/address-groups").json()["address_groups"]
    _fault(_ag_post(api, {"addresses": addresses}), 400, "BadRequest")
    assert api.get("/v2.0/address-groups").json()["address_groups"] == before


def test_add_and_remove_addresses(api):
    ag = _post(api, "address-groups", {"addresses": ["10.1.0.0/16"]})
    url = f"/v2.0/address-groups/{ag['id']}"
    added = api.put(f"{url}/add_addresses", json={"addresses": ["10.2.0.7/16", "fd00::/8"]})
    assert added.status_code == 200, added.text
    body = added.json()["address_group"]
    assert sorted(body["addresses"]) == ["10.1.0.0/16", "10.2.0.0/16", "fd00::/8"]
    assert body["revision_number"] == 2
    fault = _fault(api.put(f"{url}/add_addresses", json={"addresses": ["10.1.0.0/16"]}), 400,
                   "AddressesAlreadyExist")
    assert "10.1.0.0/16" in fault["message"]
    _fault(api.put(f"{url}/remove_addresses", json={"addresses": ["10.9.0.0/16"]}), 404,
           "AddressesNotFound")
    removed = api.put(f"{url}/remove_addresses", json={"addresses": ["10.1.0.0/16",
                                                                     "fd00::/8"]})
    assert removed.status_code == 200, removed.text
    assert removed.json()["address_group"]["addresses"] == ["10.2.0.0/16"]
    _fault(api.put(f"{url}/add_addresses", json={"addresses": ["nope"]}), 400, "BadRequest")
    # ipaddress would read a bool or an integer as an address (0.0.0.1)
    _fault(api.put(f"{url}/add_addresses", json={"addresses": [True]}), 400, "BadRequest")
    _fault(api.put(f"{url}/add_addresses", json={"addresses": [167772160]}), 400, "BadRequest")
    _fault(api.put(f"{url}/add_addresses", json={"addresses": "10.3.0.0/16"}), 400,
           "BadRequest")
    _fault(api.put(f"{url}/add_addresses", json={"address": ["10.3.0.0/16"]}), 400,
           "BadRequest")
    _fault(api.put(f"{url}/add_addresses", json=["10.3.0.0/16"]), 400, "BadRequest")
    _fault(api.put("/v2.0/address-groups/nope/add_addresses",
                   json={"addresses": ["10.3.0.0/16"]}), 404, "AddressGroupNotFound")
    assert api.get(url).json()["address_group"]["addresses"] == ["10.2.0.0/16"]


def test_list_filters_sorting_paging(api):
    made = [_post(api, "address-groups", {"name": f"ag{i}", "addresses": [f"10.9.{i}.0/24"]},
                  project="lister") for i in range(5)]
    headers = {"X-Project-Id": "lister"}
    listed = api.get("/v2.0/address-groups?sort_key=name&sort_dir=desc&project_id=lister",
                     headers=headers).json()["address_groups"]
    assert [g["name"] for g in listed] == ["ag4", "ag3", "ag2", "ag1", "ag0"]
    names = api.get("/v2.0/address-groups?name=ag1&name=ag3&fields=name",
                    headers=headers).json()["address_groups"]
    assert sorted(g["name"] for g in names) == ["ag1", "ag3"]
    assert all(set(g) == {"name"} for g in names)
    by_address = api.get("/v2.0/address-groups?addresses=10.9.2.0/24",
                         headers=headers).json()["address_groups"]
    assert [g["id"] for g in by_address] == [made[2]["id"]]
    page = api.get("/v2.0/address-groups?limit=2&sort_key=name&project_id=lister",
                   headers=headers).json()
    assert [g["name"] for g in page["address_groups"]] == ["ag0", "ag1"]
    assert any(link["rel"] == "next" for link in page["address_groups_links"])
    _fault(api.get("/v2.0/address-groups?colour=red"), 400, "BadRequest")


def test_policy_and_visibility(neutrino, api):
    ag = _post(api, "address-groups", {"name": "theirs"}, project="owner")
    service = AddressGroupService(neutrino.db, neutrino.settings, neutrino.wakeup)
    member = Context(project_id="owner", is_admin=False, roles=("member",))
    reader = Context(project_id="owner", is_admin=False, roles=("reader",))
    stranger = Context(project_id="other", is_admin=False, roles=("member",))
    assert service.get(reader, ag["id"])["name"] == "theirs"
    with pytest.raises(errors.PolicyNotAuthorized):
        service.add_addresses(reader, ag["id"], {"addresses": ["10.0.0.0/8"]})
    with pytest.raises(errors.PolicyNotAuthorized):
        service.delete(reader, ag["id"], None)
    with pytest.raises(errors.AddressGroupNotFound):  # another project's group is unseen
        service.get(stranger, ag["id"])
    with pytest.raises(errors.AddressGroupNotFound):
        service.remove_addresses(stranger, ag["id"], {"addresses": []})
    assert service.add_addresses(member, ag["id"], {"addresses": ["10.0.0.0/8"]})[
        "address_group"]["addresses"] == ["10.0.0.0/8"]
    assert [g["id"] for g in service.list(stranger, ListQuery())] == []
    assert [g["id"] for g in service.list(member, ListQuery())] == [ag["id"]]


def test_rules_with_a_remote_address_group(api):
    ag = _post(api, "address-groups", {"addresses": ["10.5.0.0/16"]})
    sg = _post(api, "security-groups", {"name": "ag-rules"})

    def rule(**body):
        return api.post("/v2.0/security-group-rules", json={"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", **body}})

    created = rule(protocol="tcp", port_range_min=22, port_range_max=22,
                   remote_address_group_id=ag["id"])
    assert created.status_code == 201, created.text
    made = created.json()["security_group_rule"]
    assert made["remote_address_group_id"] == ag["id"]
    assert made["remote_group_id"] is None and made["remote_ip_prefix"] is None
    # the same rule again is a duplicate; the same rule without the group is not
    _fault(rule(protocol="tcp", port_range_min=22, port_range_max=22,
                remote_address_group_id=ag["id"]), 409, "SecurityGroupRuleExists")
    assert rule(protocol="tcp", port_range_min=22, port_range_max=22).status_code == 201
    _fault(rule(remote_address_group_id=ag["id"], remote_ip_prefix="10.0.0.0/8"), 400,
           "SecurityGroupMultipleRemoteEntites")
    _fault(rule(remote_address_group_id=ag["id"], remote_group_id=sg["id"]), 400,
           "SecurityGroupMultipleRemoteEntites")
    _fault(rule(remote_address_group_id="7a1c0e43-3b52-4a33-9d65-37d1a0b3e2b1"), 404,
           "AddressGroupNotFound")
    listed = api.get(f"/v2.0/security-group-rules?remote_address_group_id={ag['id']}"
                     ).json()["security_group_rules"]
    assert [r["id"] for r in listed] == [made["id"]]
    # in use: the group cannot be deleted until the rule goes
    fault = _fault(api.delete(f"/v2.0/address-groups/{ag['id']}"), 409, "AddressGroupInUse")
    assert ag["id"] in fault["message"]
    assert api.delete(f"/v2.0/security-group-rules/{made['id']}").status_code == 204
    assert api.delete(f"/v2.0/address-groups/{ag['id']}").status_code == 204


def test_another_projects_address_group_cannot_be_named(neutrino, api):
    theirs = _post(api, "address-groups", {"addresses": ["10.6.0.0/16"]}, project="them")
    mine = _post(api, "security-groups", {"name": "mine"}, project="me")
    rules = RuleService(neutrino.db, neutrino.settings, neutrino.wakeup)
    me = Context(project_id="me", is_admin=False, roles=("member",))
    body = {"security_group_id": mine["id"], "direction": "ingress", "ethertype": "IPv4",
            "protocol": None, "port_range_min": None, "port_range_max": None,
            "remote_ip_prefix": None, "remote_group_id": None, "description": "",
            "remote_address_group_id": theirs["id"]}
    with pytest.raises(errors.AddressGroupNotFound):
        rules.create(me, [body])
    own = _post(api, "address-groups", {"addresses": ["10.7.0.0/16"]}, project="me")
    made = rules.create(me, [{**body, "remote_address_group_id": own["id"]}])
    assert made[0]["remote_address_group_id"] == own["id"]


def test_stateful_attribute(api):
    default = _post(api, "security-groups", {"name": "plain"})
    assert default["stateful"] is True
    stateless = _post(api, "security-groups", {"name": "nostate", "stateful": False})
    assert stateless["stateful"] is False
    listed = api.get("/v2.0/security-groups?stateful=false&fields=id"
                     ).json()["security_groups"]
    assert {g["id"] for g in listed} == {stateless["id"]}
    _fault(api.post("/v2.0/security-groups", json={"security_group": {
        "name": "x", "stateful": "maybe"}}), 400, "BadRequest")
    sorted_groups = api.get("/v2.0/security-groups?sort_key=stateful&sort_dir=asc"
                            "&fields=stateful").json()["security_groups"]
    assert sorted_groups[0]["stateful"] is False


def test_belongs_to_default_sg_and_normalized_cidr(api):
    headers = {"X-Project-Id": "p-default"}
    groups = api.get("/v2.0/security-groups", headers=headers).json()["security_groups"]
    default_id = groups[0]["id"]
    other = _post(api, "security-groups", {"name": "other"}, project="p-default")
    created = api.post("/v2.0/security-group-rules", headers=headers, json={
        "security_group_rule": {"security_group_id": other["id"], "direction": "ingress",
                                "remote_ip_prefix": "10.20.30.40/16"}})
    assert created.status_code == 201, created.text
    rule = created.json()["security_group_rule"]
    assert rule["remote_ip_prefix"] == "10.20.30.40/16"
    assert rule["normalized_cidr"] == "10.20.0.0/16"
    assert rule["belongs_to_default_sg"] is False
    _fault(api.put(f"/v2.0/security-group-rules/{rule['id']}", json={
        "security_group_rule": {"normalized_cidr": "10.0.0.0/8"}}), 400, "BadRequest")
    _fault(api.post("/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": other["id"], "direction": "ingress",
        "belongs_to_default_sg": True}}), 400, "BadRequest")

    in_default = api.get("/v2.0/security-group-rules?belongs_to_default_sg=true",
                         headers=headers).json()["security_group_rules"]
    assert {r["security_group_id"] for r in in_default} >= {default_id}
    assert other["id"] not in {r["security_group_id"] for r in in_default}
    assert all(r["belongs_to_default_sg"] for r in in_default)
    not_default = api.get("/v2.0/security-group-rules?belongs_to_default_sg=false"
                          f"&security_group_id={other['id']}").json()["security_group_rules"]
    assert len(not_default) == 3 and not any(r["belongs_to_default_sg"] for r in not_default)
    both = api.get("/v2.0/security-group-rules?belongs_to_default_sg=false"
                   "&belongs_to_default_sg=true", headers=headers).json()
    assert len(both["security_group_rules"]) >= 4 + 3
    _fault(api.get("/v2.0/security-group-rules?belongs_to_default_sg=perhaps"), 400,
           "BadRequest")


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"address-group", "security-groups-remote-address-group", "stateful-security-group",
            "security-groups-normalized-cidr",
            "security-groups-rules-belongs-to-default-sg",
            "security-groups-default-rules"} <= aliases
