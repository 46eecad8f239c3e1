"""Address groups through real clients against a real `neutrino serve`: the openstack CLI
(`address group create/set/unset`, `security group rule create --remote-address-group`)
and openstacksdk (add/remove addresses), checked down to the Address_Sets and ACL in NB."""

from __future__ import annotations

import time

import openstack
from test_openstack_clients import _cli, _nb_rows


def _wait_addresses(served, name: str, wanted: list[str], timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = [r for r in _nb_rows(served, "Address_Set") if r["name"] == name]
        if found and sorted(found[0]["addresses"]) == sorted(wanted):
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"Address_Set {name} is {found}, not {wanted}")


def _set_name(ag_id: str, family: str) -> str:
    return f"ag_{ag_id.replace('-', '_')}_{family}"


def test_openstack_cli_address_groups_and_a_rule_naming_one(served):
    ag = _cli(served, "address", "group", "create", "--address", "10.82.0.5/24",
              "--address", "2001:db8:82::/64", "--description", "trusted", "cli-ag",
              "-f", "json")
    assert ag["name"] == "cli-ag" and ag["description"] == "trusted"
    assert sorted(ag["addresses"]) == ["10.82.0.0/24", "2001:db8:82::/64"]
    _wait_addresses(served, _set_name(ag["id"], "ip4"), ["10.82.0.0/24"])
    _wait_addresses(served, _set_name(ag["id"], "ip6"), ["2001:db8:82::/64"])

    _cli(served, "address", "group", "set", "--address", "10.83.0.0/24", "cli-ag")
    _cli(served, "address", "group", "unset", "--address", "10.82.0.0/24", "cli-ag")
    shown = _cli(served, "address", "group", "show", "cli-ag", "-f", "json")
    assert sorted(shown["addresses"]) == ["10.83.0.0/24", "2001:db8:82::/64"]
    _wait_addresses(served, _set_name(ag["id"], "ip4"), ["10.83.0.0/24"])

    group = _cli(served, "security", "group", "create", "cli-ag-sg", "-f", "json")
    rule = _cli(served, "security", "group", "rule", "create", "--ingress", "--protocol",
                "tcp", "--dst-port", "22", "--remote-address-group", "cli-ag", "cli-ag-sg",
                "-f", "json")
    assert rule["remote_address_group_id"] == ag["id"]
    deadline = time.monotonic() + 15
    acls: list[dict] = []
    while not acls and time.monotonic() < deadline:
        acls = [a for a in _nb_rows(served, "ACL")
                if a["external_ids"].get("neutron:security_group_rule_id") == rule["id"]]
        time.sleep(0.2)
    assert acls, "the rule's ACL did not appear"
    assert f"ip4.src == ${_set_name(ag['id'], 'ip4')}" in acls[0]["match"]
    assert "tcp.dst == 22" in acls[0]["match"]

    listed = _cli(served, "address", "group", "list", "--name", "cli-ag", "-f", "json")
    assert [g["ID"] for g in listed] == [ag["id"]]
    _cli(served, "security", "group", "rule", "delete", rule["id"])
    _cli(served, "security", "group", "delete", group["id"])
    _cli(served, "address", "group", "delete", "cli-ag")
    assert _cli(served, "address", "group", "list", "--name", "cli-ag", "-f", "json") == []


def test_openstacksdk_address_groups(served):
    conn = openstack.connect(auth_type="none", auth={"endpoint": served.url},
                             network_endpoint_override=served.url)
    ag = conn.network.create_address_group(name="sdk-ag", addresses=["10.84.0.0/24"])
    try:
        assert ag.addresses == ["10.84.0.0/24"]
        ag = conn.network.add_addresses_to_address_group(ag, ["10.85.0.0/24"])
        assert sorted(ag.addresses) == ["10.84.0.0/24", "10.85.0.0/24"]
        ag = conn.network.remove_addresses_from_address_group(ag, ["10.84.0.0/24"])
        assert ag.addresses == ["10.85.0.0/24"]
        _wait_addresses(served, _set_name(ag.id, "ip4"), ["10.85.0.0/24"])
        conn.network.update_address_group(ag, name="sdk-ag2")
        assert conn.network.get_address_group(ag.id).name == "sdk-ag2"
        assert [g.id for g in conn.network.address_groups(name="sdk-ag2")] == [ag.id]
    finally:
        conn.network.delete_address_group(ag)
    assert conn.network.find_address_group("sdk-ag2") is None


def test_openstack_cli_default_rules_and_stateless_groups(served):
    templates = _cli(served, "default", "security", "group", "rule", "list", "-f", "json")
    assert len(templates) == 4  # as Neutron ships them
    made = _cli(served, "default", "security", "group", "rule", "create", "--ingress",
                "--protocol", "tcp", "--dst-port", "2222", "--for-custom-sg", "-f", "json")
    try:
        assert made["used_in_non_default_sg"] is True and made["used_in_default_sg"] is False
        group = _cli(served, "security", "group", "create", "--stateless", "cli-stateless",
                     "-f", "json")
        assert group["stateful"] is False
        rules = _cli(served, "security", "group", "rule", "list", "cli-stateless", "--long",
                     "-f", "json")
        assert any(r["Port Range"] == "2222:2222" for r in rules), rules
        deadline = time.monotonic() + 15
        actions: set[str] = set()
        rule_ids = {r["ID"] for r in rules}
        while len(actions) == 0 and time.monotonic() < deadline:
            actions = {a["action"] for a in _nb_rows(served, "ACL")
                       if a["external_ids"].get("neutron:security_group_rule_id") in rule_ids}
            time.sleep(0.2)
        assert actions == {"allow-stateless"}
        _cli(served, "security", "group", "set", "--stateful", "cli-stateless")
        shown = _cli(served, "security", "group", "show", "cli-stateless", "-f", "json")
        assert shown["stateful"] is True
        _cli(served, "security", "group", "delete", "cli-stateless")
    finally:
        _cli(served, "default", "security", "group", "rule", "delete", made["id"])
    assert len(_cli(served, "default", "security", "group", "rule", "list", "-f", "json")) == 4
