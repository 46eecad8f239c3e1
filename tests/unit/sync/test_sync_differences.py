"""differences: plans read as missing / extra / stale, one Difference per reported op."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import (
    AddMember,
    Delete,
    DesiredRow,
    Insert,
    Membership,
    Op,
    ParentLink,
    Plan,
    RemoveMember,
    RowKey,
    Update,
)
from neutrino.sync.differences import Difference, Kind, differences, global_differences

PORT = "p1"
LS = RowKey("Logical_Switch", "name", "neutron-n1")
LSP = RowKey("Logical_Switch_Port", "name", PORT)
LSP2 = RowKey("Logical_Switch_Port", "name", "p2")
DHCP = RowKey("DHCP_Options", "external_ids", "s1", map_key="subnet_id")
DROP = RowKey("Port_Group", "name", "neutron_pg_drop")
PG_A = RowKey("Port_Group", "name", "pg_a")
ACL = RowKey("ACL", "external_ids", "r1", map_key="neutron:security_group_rule_id")
LSP_ROW = DesiredRow(LSP, {"type": ""}, parent=ParentLink(LS, "ports"))
DROP_ROW = DesiredRow(DROP, {})


def port_plan(*ops: Op) -> Plan:
    return Plan("port", PORT, ops)


def diff(kind: Kind, row: str, detail: str, resource: tuple[str, str] = ("port", PORT)
         ) -> Difference:
    return Difference(resource[0], resource[1], kind, row, detail)


@pytest.mark.parametrize(
    ("plans", "expected"),
    [
        pytest.param([], [], id="no-plans"),
        pytest.param([port_plan()], [], id="noop-plan"),
        pytest.param([Plan("port", PORT, (), (LSP,))], [], id="stale-newer-rows-not-reported"),
        pytest.param(
            [port_plan(Insert(LSP_ROW))],
            [diff(Kind.MISSING, "Logical_Switch_Port(name=p1)", "not in OVN NB")],
            id="insert-is-missing",
        ),
        pytest.param(
            [port_plan(Delete(LSP, "uuid-lsp", "ports", "uuid-ls"))],
            [diff(Kind.EXTRA, "Logical_Switch_Port(name=p1)",
                  "in OVN NB but not in the database")],
            id="delete-is-extra",
        ),
        pytest.param(
            [port_plan(Update(LSP, "uuid-lsp", {"type": "", "enabled": False, "addresses": []},
                              {"dhcpv4_options": DHCP}))],
            [diff(Kind.STALE, "Logical_Switch_Port(name=p1)",
                  "differs in addresses, dhcpv4_options, enabled, type")],
            id="update-is-stale-sorted-columns-and-refs",
        ),
        pytest.param(
            [Plan("network", "n1", (Update(LS, "uuid-ls", {"external_ids": {}}, {}),))],
            [diff(Kind.STALE, "Logical_Switch(name=neutron-n1)", "differs in external_ids",
                  ("network", "n1"))],
            id="update-one-column",
        ),
        pytest.param(
            [Plan("subnet", "s1", (Update(DHCP, "uuid-d", {"options": {}}, {}),))],
            [diff(Kind.STALE, "DHCP_Options(external_ids:subnet_id=s1)", "differs in options",
                  ("subnet", "s1"))],
            id="map-key-row-named",
        ),
        pytest.param(
            [port_plan(Insert(LSP_ROW), AddMember(Membership(DROP, "ports", LSP)),
                       AddMember(Membership(PG_A, "ports", LSP)))],
            [diff(Kind.MISSING, "Logical_Switch_Port(name=p1)", "not in OVN NB")],
            id="joining-groups-of-a-missing-row-not-reported",
        ),
        pytest.param(
            [port_plan(AddMember(Membership(PG_A, "ports", LSP)))],
            [diff(Kind.STALE, "Logical_Switch_Port(name=p1)",
                  "not listed in Port_Group(name=pg_a).ports")],
            id="existing-child-not-in-group-is-stale",
        ),
        pytest.param(
            [port_plan(Insert(DROP_ROW), AddMember(Membership(DROP, "ports", LSP)))],
            [diff(Kind.MISSING, "Port_Group(name=neutron_pg_drop)", "not in OVN NB"),
             diff(Kind.STALE, "Logical_Switch_Port(name=p1)",
                  "not listed in Port_Group(name=neutron_pg_drop).ports")],
            id="inserted-parent-does-not-hide-existing-child",
        ),
        pytest.param(
            [port_plan(RemoveMember(Membership(PG_A, "ports", LSP)))],
            [diff(Kind.STALE, "Logical_Switch_Port(name=p1)",
                  "wrongly listed in Port_Group(name=pg_a).ports")],
            id="remove-member-is-stale",
        ),
        pytest.param(
            [Plan("security_group_rule", "r1",
                  (Delete(ACL, "uuid-acl", "acls", "uuid-pg"),))],
            [diff(Kind.EXTRA, "ACL(external_ids:neutron:security_group_rule_id=r1)",
                  "in OVN NB but not in the database", ("security_group_rule", "r1"))],
            id="rule-acl-extra",
        ),
    ],
)
def test_differences(plans: list[Plan], expected: list[Difference]) -> None:
    assert differences(plans) == expected


def test_differences_keep_plan_and_op_order() -> None:
    first = port_plan(Update(LSP, "u", {"enabled": True}, {}), Insert(DROP_ROW))
    second = Plan("port", "p2", (Delete(LSP2, "u2"),))
    assert differences([first, second]) == [
        diff(Kind.STALE, "Logical_Switch_Port(name=p1)", "differs in enabled"),
        diff(Kind.MISSING, "Port_Group(name=neutron_pg_drop)", "not in OVN NB"),
        diff(Kind.EXTRA, "Logical_Switch_Port(name=p2)", "in OVN NB but not in the database",
             ("port", "p2")),
    ]


def test_insert_in_one_plan_does_not_hide_membership_in_another() -> None:
    """Only a child inserted by the same plan is skipped."""
    inserting = Plan("port", "p2", (Insert(DesiredRow(LSP, {})),))
    joining = port_plan(AddMember(Membership(PG_A, "ports", LSP)))
    assert differences([inserting, joining]) == [
        diff(Kind.MISSING, "Logical_Switch_Port(name=p1)", "not in OVN NB", ("port", "p2")),
        diff(Kind.STALE, "Logical_Switch_Port(name=p1)",
             "not listed in Port_Group(name=pg_a).ports"),
    ]


def test_as_dict() -> None:
    found = diff(Kind.STALE, "Logical_Switch_Port(name=p1)", "differs in enabled")
    assert found.as_dict() == {
        "resource_type": "port",
        "resource_id": PORT,
        "kind": "stale",
        "row": "Logical_Switch_Port(name=p1)",
        "detail": "differs in enabled",
    }


def test_nb_global_keys_read_as_differences() -> None:
    found = global_differences({"neutron:fip-distributed": ("False", "True"),
                                "neutron:other": (None, "x")})
    assert found == [
        Difference("nb_global", "neutron:fip-distributed", Kind.STALE,
                   "NB_Global(external_ids:neutron:fip-distributed)",
                   "is 'False', should be 'True'"),
        Difference("nb_global", "neutron:other", Kind.MISSING,
                   "NB_Global(external_ids:neutron:other)", "is None, should be 'x'"),
    ]
    assert global_differences({}) == []
