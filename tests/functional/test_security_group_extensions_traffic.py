"""Address groups and stateless groups on the data path: NB rows and ovn-trace, allow and deny."""

from __future__ import annotations

from nb_state import one, rows, wait_journal_idle
from ovn_tools import delivered_to, trace, wait_sb_synced

NEW = ("new", "new")
PING = "icmp4 && icmp4.type == 8 && icmp4.code == 0"
SSH = "tcp && tcp.src == 40000 && tcp.dst == 22"


def _post(api, path: str, body: dict) -> dict:
    singular = path.replace("-", "_")[:-1]
    response = api.post(f"/v2.0/{path}", json={singular: body})
    assert response.status_code == 201, response.text
    return response.json()[singular]


def _ip4(port: dict) -> str:
    return next(ip["ip_address"] for ip in port["fixed_ips"] if "." in ip["ip_address"])


def _packet(src: dict, dst: dict, l4: str) -> str:
    return (f'inport == "{src["id"]}" && eth.src == {src["mac_address"]} && '
            f'eth.dst == {dst["mac_address"]} && ip4.src == {_ip4(src)} && '
            f'ip4.dst == {_ip4(dst)} && ip.ttl == 64 && {l4}')


def _settle(neutrino, local_ovn) -> None:
    wait_journal_idle(neutrino)
    wait_sb_synced(local_ovn)


def _set_name(ag_id: str, family: str) -> str:
    return f"ag_{ag_id.replace('-', '_')}_{family}"


def test_a_rule_with_a_remote_address_group_admits_its_addresses_only(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "ag-net"})
    inside = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                    "cidr": "10.71.0.0/24"})
    outside = _post(api, "subnets", {"network_id": net["id"], "ip_version": 4,
                                     "cidr": "10.72.0.0/24"})
    ag = _post(api, "address-groups", {"name": "trusted",
                                       "addresses": ["10.71.0.0/24", "2001:db8:71::/64"]})
    group = _post(api, "security-groups", {"name": "from-trusted"})
    rule = _post(api, "security-group-rules", {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp",
        "remote_address_group_id": ag["id"]})

    def port(subnet: dict, groups: list[str]) -> dict:
        return _post(api, "ports", {"network_id": net["id"], "security_groups": groups,
                                    "fixed_ips": [{"subnet_id": subnet["id"]}]})

    open_group = _post(api, "security-groups", {"name": "egress-only"})["id"]
    target = port(inside, [group["id"]])
    near, far = port(inside, [open_group]), port(outside, [open_group])
    _settle(neutrino, local_ovn)

    # NB: two Address_Sets named as ML2/OVN names them, and the ACL naming the IPv4 one
    v4 = one(neutrino, "Address_Set", name=_set_name(ag["id"], "ip4"))
    v6 = one(neutrino, "Address_Set", name=_set_name(ag["id"], "ip6"))
    assert v4["addresses"] == ["10.71.0.0/24"] and v6["addresses"] == ["2001:db8:71::/64"]
    assert v4["external_ids"]["neutron:address_group_id"] == ag["id"]
    acl = one(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": rule["id"]})
    assert f"ip4.src == ${_set_name(ag['id'], 'ip4')}" in acl["match"]

    switch = f"neutron-{net['id']}"

    def delivered(src: dict) -> bool:
        return target["id"] in delivered_to(
            trace(local_ovn, switch, _packet(src, target, PING), ct=NEW))

    assert delivered(near)  # 10.71.0.x is in the group
    assert not delivered(far)  # 10.72.0.x is not

    # add_addresses lets the outside subnet in; remove_addresses shuts the inside one out
    response = api.put(f"/v2.0/address-groups/{ag['id']}/add_addresses",
                       json={"addresses": ["10.72.0.0/24"]})
    assert response.status_code == 200, response.text
    response = api.put(f"/v2.0/address-groups/{ag['id']}/remove_addresses",
                       json={"addresses": ["10.71.0.0/24"]})
    assert response.status_code == 200, response.text
    _settle(neutrino, local_ovn)
    assert one(neutrino, "Address_Set", name=_set_name(ag["id"], "ip4"))["addresses"] == [
        "10.72.0.0/24"]
    assert delivered(far)
    assert not delivered(near)

    # the group cannot go while the rule names it; after the rule, it goes with its sets
    assert api.delete(f"/v2.0/address-groups/{ag['id']}").status_code == 409
    assert api.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    assert api.delete(f"/v2.0/address-groups/{ag['id']}").status_code == 204
    _settle(neutrino, local_ovn)
    assert rows(neutrino, "Address_Set", external_ids={"neutron:address_group_id": ag["id"]}) \
        == []


def test_a_stateless_group_skips_conntrack_and_a_stateful_one_does_not(api, neutrino,
                                                                       local_ovn):
    net = _post(api, "networks", {"name": "stateless-net"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.73.0.0/24"})
    stateless = _post(api, "security-groups", {"name": "stateless", "stateful": False})
    assert stateless["stateful"] is False
    _post(api, "security-group-rules", {"security_group_id": stateless["id"],
                                        "direction": "ingress", "protocol": "icmp"})
    stateful = _post(api, "security-groups", {"name": "stateful"})
    _post(api, "security-group-rules", {"security_group_id": stateful["id"],
                                        "direction": "ingress", "protocol": "icmp"})
    a, b = (_post(api, "ports", {"network_id": net["id"], "security_groups": [stateless["id"]]})
            for _ in range(2))
    c, d = (_post(api, "ports", {"network_id": net["id"], "security_groups": [stateful["id"]]})
            for _ in range(2))
    _settle(neutrino, local_ovn)
    for rule in stateless["security_group_rules"]:
        acl = one(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": rule["id"]})
        assert acl["action"] == "allow-stateless"
    switch = f"neutron-{net['id']}"

    output = trace(local_ovn, switch, _packet(a, b, PING), ct=NEW)
    assert delivered_to(output) == {b["id"]}, output  # allowed...
    assert "ct_next" not in output and "ct_commit" not in output, output  # ...without conntrack
    denied = trace(local_ovn, switch, _packet(a, b, SSH), ct=NEW)
    assert delivered_to(denied) == set(), denied  # no rule for tcp/22: dropped

    output = trace(local_ovn, switch, _packet(c, d, PING), ct=NEW)
    assert delivered_to(output) == {d["id"]}, output
    assert "ct_next" in output, output  # a stateful group's traffic goes through conntrack
    assert delivered_to(trace(local_ovn, switch, _packet(c, d, SSH), ct=NEW)) == set()


def test_stateful_changes_only_while_unused_and_rewrites_the_acls(api, neutrino, local_ovn):
    net = _post(api, "networks", {"name": "restate-net"})
    _post(api, "subnets", {"network_id": net["id"], "ip_version": 4, "cidr": "10.74.0.0/24"})
    group = _post(api, "security-groups", {"name": "restate"})
    rule_ids = [r["id"] for r in group["security_group_rules"]]
    url = f"/v2.0/security-groups/{group['id']}"
    response = api.put(url, json={"security_group": {"stateful": False}})
    assert response.status_code == 200, response.text
    assert response.json()["security_group"]["stateful"] is False
    _settle(neutrino, local_ovn)
    assert {one(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": r})["action"]
            for r in rule_ids} == {"allow-stateless"}

    port = _post(api, "ports", {"network_id": net["id"], "security_groups": [group["id"]]})
    response = api.put(url, json={"security_group": {"stateful": True}})
    assert response.status_code == 409, response.text
    assert response.json()["NeutronError"]["type"] == "SecurityGroupInUse"
    assert api.get(url).json()["security_group"]["stateful"] is False
    # an update that leaves it as it is passes
    assert api.put(url, json={"security_group": {"stateful": False}}).status_code == 200
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.put(url, json={"security_group": {"stateful": True}}).status_code == 200
    _settle(neutrino, local_ovn)
    assert {one(neutrino, "ACL", external_ids={"neutron:security_group_rule_id": r})["action"]
            for r in rule_ids} == {"allow-related"}
