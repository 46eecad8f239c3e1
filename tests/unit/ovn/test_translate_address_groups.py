"""Address groups → Address_Sets `ag_<id>_ip4` / `ag_<id>_ip6`, and rules that name them."""

from __future__ import annotations

from neutrino.ovn.rows import DesiredRow, DesiredState, RowKey
from neutrino.ovn.translate.address_groups import (
    build_address_group,
    build_address_group_absent,
)
from neutrino.ovn.translate.inputs import AddressGroupFacts, RuleFacts
from neutrino.ovn.translate.security_groups import build_rule, rule_match

AG = "0f6c5a38-1111-4c2e-9d1c-5f3a4b2c1d0e"
V4 = RowKey("Address_Set", "name", "ag_0f6c5a38_1111_4c2e_9d1c_5f3a4b2c1d0e_ip4")
V6 = RowKey("Address_Set", "name", "ag_0f6c5a38_1111_4c2e_9d1c_5f3a4b2c1d0e_ip6")
EXT = {"neutron:address_group_id": AG, "neutron:revision_number": "3"}
SG = "11111111-2222-4333-8444-555555555555"


def test_addresses_split_by_family_into_two_sets() -> None:
    facts = AddressGroupFacts(AG, 3, ("2001:db8::/64", "10.0.0.0/24", "192.0.2.7/32"))
    assert build_address_group(facts) == DesiredState(
        "address_group", AG,
        (DesiredRow(V4, {"addresses": ["10.0.0.0/24", "192.0.2.7/32"], "external_ids": EXT}),
         DesiredRow(V6, {"addresses": ["2001:db8::/64"], "external_ids": EXT})),
        (V4, V6))


def test_an_empty_group_still_has_both_sets() -> None:
    state = build_address_group(AddressGroupFacts(AG, 3, ()))
    assert [(r.key, r.columns["addresses"]) for r in state.rows] == [(V4, []), (V6, [])]


def test_absent_group_owns_both_sets() -> None:
    assert build_address_group_absent(AG) == DesiredState("address_group", AG, (), (V4, V6))


def _rule(**overrides: object) -> RuleFacts:
    values: dict[str, object] = {
        "id": "r1", "security_group_id": SG, "direction": "ingress", "ethertype": "IPv4",
        "protocol": None, "port_range_min": None, "port_range_max": None,
        "remote_ip_prefix": None, "remote_group_id": None, "remote_address_group_id": AG}
    values.update(overrides)
    return RuleFacts(**values)  # type: ignore[arg-type]


def test_a_remote_address_group_is_matched_by_its_set_of_the_rule_family() -> None:
    pg = "pg_11111111_2222_4333_8444_555555555555"
    assert rule_match(_rule(protocol="tcp", port_range_min=22, port_range_max=22)) == (
        f"outport == @{pg} && ip4 && ip4.src == ${V4.value} && tcp && tcp.dst == 22")
    assert rule_match(_rule(direction="egress", ethertype="IPv6")) == (
        f"inport == @{pg} && ip6 && ip6.dst == ${V6.value}")


def test_a_stateless_group_rule_is_allow_stateless() -> None:
    assert build_rule(_rule()).rows[0].columns["action"] == "allow-related"
    assert build_rule(_rule(stateful=False)).rows[0].columns["action"] == "allow-stateless"
