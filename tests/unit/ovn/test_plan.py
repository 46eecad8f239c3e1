"""plan_changes: hand-built desired and actual rows in, a whole Plan out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from neutrino.ovn.plan import canonical, plan_changes
from neutrino.ovn.rows import (
    ActualRow,
    AddMember,
    Delete,
    DesiredRow,
    DesiredState,
    Insert,
    Membership,
    ParentLink,
    Plan,
    RemoveMember,
    RowKey,
    Update,
)

LS = RowKey("Logical_Switch", "name", "neutron-n1")
LSP = RowKey("Logical_Switch_Port", "name", "p1")
LOCALNET = RowKey("Logical_Switch_Port", "name", "provnet-s1")
DHCP_A = RowKey("DHCP_Options", "external_ids", "sub-a", map_key="subnet_id")
DHCP_B = RowKey("DHCP_Options", "external_ids", "sub-b", map_key="subnet_id")


def ext(revision: int | None, **more: str) -> dict[str, str]:
    ids = dict(more)
    if revision is not None:
        ids["neutron:revision_number"] = str(revision)
    return ids


def lsp_columns(revision: int | None = 2, **overrides: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "type": "",
        "addresses": ["fa:16:3e:00:00:01 10.0.0.5", "unknown"],
        "port_security": [],
        "options": {"requested-chassis": "h1"},
        "enabled": True,
        "tag": None,
        "external_ids": ext(revision, **{"neutron:port_name": "p"}),
    }
    columns.update(overrides)
    return columns


def desired_lsp(revision: int | None = 2, refs: dict[str, RowKey | None] | None = None,
                **overrides: Any) -> DesiredRow:
    return DesiredRow(
        LSP,
        lsp_columns(revision, **overrides),
        refs={"dhcpv4_options": DHCP_A} if refs is None else refs,
        parent=ParentLink(LS, "ports"),
    )


def actual_lsp(revision: int | None = 2, refs: dict[str, str | None] | None = None,
               **overrides: Any) -> ActualRow:
    return ActualRow(
        "uuid-lsp",
        lsp_columns(revision, **overrides),
        refs={"dhcpv4_options": "uuid-a"} if refs is None else refs,
        parent_column="ports",
        parent_uuid="uuid-ls",
    )


def state(*rows: DesiredRow, owned: tuple[RowKey, ...] = (LSP,)) -> DesiredState:
    return DesiredState("port", "p1", rows, owned)


def plan(*ops: Any, stale: tuple[RowKey, ...] = ()) -> Plan:
    return Plan("port", "p1", tuple(ops), stale)


DHCP_ROWS = {
    DHCP_A: ActualRow("uuid-a", {}),
    DHCP_B: ActualRow("uuid-b", {}),
    LS: ActualRow("uuid-ls", {}),  # the port's switch, where the port already is
}


@pytest.mark.parametrize(
    ("desired", "actual", "expected"),
    [
        pytest.param(
            state(desired_lsp()), {}, plan(Insert(desired_lsp())), id="insert-when-missing"
        ),
        pytest.param(
            state(desired_lsp()),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(),
            id="noop-when-equal",
        ),
        pytest.param(
            state(desired_lsp()),
            {
                LSP: actual_lsp(addresses=["unknown", "fa:16:3e:00:00:01 10.0.0.5"]),
                **DHCP_ROWS,
            },
            plan(),
            id="noop-set-in-other-order",
        ),
        pytest.param(
            state(desired_lsp(tag=None)),
            {LSP: ActualRow("uuid-lsp",
                            {k: v for k, v in lsp_columns().items() if k != "tag"},
                            refs={"dhcpv4_options": "uuid-a"}),
             **DHCP_ROWS},
            plan(),
            id="noop-none-optional-scalar-absent-in-actual",
        ),
        pytest.param(
            state(desired_lsp(port_security=())),
            {LSP: actual_lsp(port_security=[]), **DHCP_ROWS},
            plan(),
            id="noop-tuple-equals-list",
        ),
        pytest.param(
            state(desired_lsp(enabled=False, options={})),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"enabled": False, "options": {}}, {})),
            id="update-lists-only-changed-columns",
        ),
        pytest.param(
            state(desired_lsp(tag=101)),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"tag": 101}, {})),
            id="update-optional-scalar-set",
        ),
        pytest.param(
            state(desired_lsp(addresses=["fa:16:3e:00:00:01 10.0.0.5"])),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"addresses": ["fa:16:3e:00:00:01 10.0.0.5"]}, {})),
            id="update-set-member-removed",
        ),
        pytest.param(
            state(desired_lsp(refs={"dhcpv4_options": DHCP_B})),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {}, {"dhcpv4_options": DHCP_B})),
            id="update-ref-to-row-with-other-uuid",
        ),
        pytest.param(
            state(desired_lsp(refs={"dhcpv4_options": None})),
            {LSP: actual_lsp(), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {}, {"dhcpv4_options": None})),
            id="update-ref-cleared",
        ),
        pytest.param(
            state(desired_lsp(refs={"dhcpv4_options": DHCP_A})),
            {LSP: actual_lsp(refs={}), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {}, {"dhcpv4_options": DHCP_A})),
            id="update-ref-set",
        ),
        pytest.param(
            state(desired_lsp(refs={"dhcpv4_options": DHCP_A, "dhcpv6_options": None})),
            {LSP: actual_lsp(refs={"dhcpv4_options": "uuid-a", "dhcpv6_options": None}),
             **DHCP_ROWS},
            plan(),
            id="noop-refs-same-uuid",
        ),
        pytest.param(
            # the DHCP row was deleted behind our back, which emptied the weak reference:
            # once the row is written again, the switch port must point at it again
            state(desired_lsp(refs={"dhcpv4_options": DHCP_B})),
            {LSP: actual_lsp(refs={"dhcpv4_options": None}), LS: DHCP_ROWS[LS]},
            plan(Update(LSP, "uuid-lsp", {}, {"dhcpv4_options": DHCP_B})),
            id="update-ref-to-row-nb-lacks",
        ),
        pytest.param(
            state(desired_lsp(revision=2, enabled=False, refs={"dhcpv4_options": DHCP_B})),
            {LSP: actual_lsp(revision=3), **DHCP_ROWS},
            plan(stale=(LSP,)),
            id="stale-actual-newer-left-alone",
        ),
        pytest.param(
            state(desired_lsp(revision=3, enabled=False)),
            {LSP: actual_lsp(revision=3), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"enabled": False}, {})),
            id="same-revision-still-updated",
        ),
        pytest.param(
            state(desired_lsp(revision=4)),
            {LSP: actual_lsp(revision=3), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"external_ids": ext(4, **{"neutron:port_name": "p"})},
                        {})),
            id="older-revision-updated",
        ),
        pytest.param(
            state(desired_lsp(revision=2, enabled=False)),
            {LSP: actual_lsp(revision=None), **DHCP_ROWS},
            plan(Update(LSP, "uuid-lsp", {"enabled": False,
                                          "external_ids": ext(2, **{"neutron:port_name": "p"})},
                        {})),
            id="actual-without-revision-updated",
        ),
        pytest.param(
            state(owned=(LSP,)),
            {LSP: actual_lsp()},
            plan(Delete(LSP, "uuid-lsp", "ports", "uuid-ls")),
            id="delete-owned-present-with-parent",
        ),
        pytest.param(
            state(owned=(LSP,)),
            {},
            plan(),
            id="owned-absent-nothing",
        ),
        pytest.param(
            state(owned=(LS,)),
            {LS: ActualRow("uuid-ls", {"external_ids": ext(9)})},
            plan(Delete(LS, "uuid-ls", None, None)),
            id="delete-root-row-ignores-revision",
        ),
    ],
)
def test_plan_changes(desired: DesiredState, actual: dict[RowKey, ActualRow],
                      expected: Plan) -> None:
    assert plan_changes(desired, actual) == expected


def test_plan_mixes_insert_update_delete_in_order() -> None:
    ls_row = DesiredRow(LS, {"external_ids": ext(2), "other_config": {"a": "b"}})
    localnet = DesiredRow(LOCALNET, {"type": "localnet"}, parent=ParentLink(LS, "ports"))
    desired = DesiredState("network", "n1", (ls_row, localnet), (LS, LSP))
    actual = {
        LS: ActualRow("uuid-ls", {"external_ids": ext(1), "other_config": {"a": "b"}}),
        LSP: ActualRow("uuid-old", {}, parent_column="ports", parent_uuid="uuid-ls"),
    }
    assert plan_changes(desired, actual) == Plan(
        "network",
        "n1",
        (
            Update(LS, "uuid-ls", {"external_ids": ext(2)}, {}),
            Insert(localnet),
            Delete(LSP, "uuid-old", "ports", "uuid-ls"),
        ),
        (),
    )


def test_wanted_owned_row_is_not_deleted() -> None:
    row = DesiredRow(LS, {"external_ids": ext(1)})
    actual = {LS: ActualRow("uuid-ls", {"external_ids": ext(1)})}
    result = plan_changes(DesiredState("network", "n1", (row,), (LS,)), actual)
    assert result == Plan("network", "n1", (), ())
    assert result.is_noop


def test_stale_plan_is_noop_but_reports_key() -> None:
    row = DesiredRow(LS, {"external_ids": ext(1)})
    actual = {LS: ActualRow("uuid-ls", {"external_ids": ext(5)})}
    result = plan_changes(DesiredState("network", "n1", (row,), (LS,)), actual)
    assert (result.is_noop, result.stale) == (True, (LS,))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("x", "x"),
        (7, 7),
        (["b", "a"], ["a", "b"]),
        (("b", "a"), ["a", "b"]),
        ({"b", "a"}, ["a", "b"]),
        ({"k": ["z", "y"]}, {"k": ["y", "z"]}),
        ({1: "v"}, {"1": "v"}),
        ([], []),
    ],
)
def test_canonical(value: Any, expected: Any) -> None:
    assert canonical(value) == expected


@pytest.mark.parametrize(
    ("columns", "revision"),
    [
        ({}, None),
        ({"external_ids": {}}, None),
        ({"external_ids": None}, None),
        ({"external_ids": {"neutron:revision_number": "3"}}, 3),
        ({"external_ids": {"neutron:revision_number": 3}}, 3),
        ({"external_ids": {"neutron:revision_number": "-1"}}, -1),
        ({"external_ids": {"neutron:revision_number": "x"}}, None),
        ({"external_ids": {"neutron:revision_number": ""}}, None),
    ],
)
def test_row_revision(columns: dict[str, Any], revision: int | None) -> None:
    assert DesiredRow(LS, columns).revision == revision
    assert ActualRow("u", columns).revision == revision


# --- memberships of weak sets (Port_Group.ports) ----------------------------------------

DROP = RowKey("Port_Group", "name", "neutron_pg_drop")
PG_A = RowKey("Port_Group", "name", "pg_a")
PG_B = RowKey("Port_Group", "name", "pg_b")
LSP2 = RowKey("Logical_Switch_Port", "name", "p2")
IN_DROP = Membership(DROP, "ports", LSP)
IN_A = Membership(PG_A, "ports", LSP)
IN_B = Membership(PG_B, "ports", LSP)


def member_state(*members: Membership, rows: tuple[DesiredRow, ...] | None = None,
                 member_rows: tuple[RowKey, ...] = (LSP,)) -> DesiredState:
    return DesiredState("port", "p1", (desired_lsp(),) if rows is None else rows, (LSP,),
                        members, member_rows)


def lsp_in(*sets: RowKey, revision: int | None = 2) -> ActualRow:
    return replace(actual_lsp(revision), member_of=frozenset((s, "ports") for s in sets))


@pytest.mark.parametrize(
    ("desired", "actual", "expected"),
    [
        pytest.param(
            member_state(IN_DROP, IN_A),
            {},
            plan(Insert(desired_lsp()), AddMember(IN_DROP), AddMember(IN_A)),
            id="child-not-yet-there-joins-after-insert",
        ),
        pytest.param(
            member_state(IN_DROP, IN_A),
            {LSP: lsp_in(), **DHCP_ROWS},
            plan(AddMember(IN_DROP), AddMember(IN_A)),
            id="existing-child-lacks-memberships",
        ),
        pytest.param(
            member_state(IN_DROP, IN_A),
            {LSP: lsp_in(DROP), **DHCP_ROWS},
            plan(AddMember(IN_A)),
            id="only-the-missing-membership-added",
        ),
        pytest.param(
            member_state(IN_DROP, IN_A),
            {LSP: lsp_in(DROP, PG_A), **DHCP_ROWS},
            plan(),
            id="memberships-present-noop",
        ),
        pytest.param(
            member_state(IN_DROP, IN_A),
            {LSP: lsp_in(DROP, PG_A, PG_B), **DHCP_ROWS},
            plan(RemoveMember(IN_B)),
            id="left-group-removed",
        ),
        pytest.param(
            member_state(IN_DROP, IN_B),
            {LSP: lsp_in(DROP, PG_A), **DHCP_ROWS},
            plan(AddMember(IN_B), RemoveMember(IN_A)),
            id="group-swapped-add-then-remove",
        ),
        pytest.param(
            member_state(),
            {LSP: lsp_in(PG_B, DROP, PG_A), **DHCP_ROWS},
            plan(RemoveMember(IN_DROP), RemoveMember(IN_A), RemoveMember(IN_B)),
            id="port-security-off-leaves-every-set-sorted",
        ),
        pytest.param(
            member_state(member_rows=()),
            {LSP: lsp_in(DROP, PG_A), **DHCP_ROWS},
            plan(),
            id="row-not-in-member-rows-left-alone",
        ),
        pytest.param(
            member_state(IN_A, member_rows=()),
            {LSP: lsp_in(PG_A, PG_B), **DHCP_ROWS},
            plan(),
            id="wanted-present-and-unmanaged-extra-kept",
        ),
        pytest.param(
            member_state(IN_A),
            {LSP: lsp_in(PG_A), LSP2: lsp_in(PG_B), **DHCP_ROWS},
            plan(),
            id="other-rows-memberships-not-touched",
        ),
        pytest.param(
            member_state(rows=()),
            {},
            plan(),
            id="managed-row-absent-nothing-to-remove",
        ),
        pytest.param(
            member_state(IN_A, rows=(), member_rows=()),
            {LSP: lsp_in(), **DHCP_ROWS},
            plan(Delete(LSP, "uuid-lsp", "ports", "uuid-ls"), AddMember(IN_A)),
            id="ops-order-rows-then-memberships",
        ),
    ],
)
def test_plan_memberships(desired: DesiredState, actual: dict[RowKey, ActualRow],
                          expected: Plan) -> None:
    assert plan_changes(desired, actual) == expected


def test_plan_membership_ops_follow_row_ops() -> None:
    desired = member_state(IN_A, rows=(desired_lsp(enabled=False),))
    actual = {LSP: lsp_in(PG_B), **DHCP_ROWS}
    assert plan_changes(desired, actual) == plan(
        Update(LSP, "uuid-lsp", {"enabled": False}, {}), AddMember(IN_A), RemoveMember(IN_B)
    )


def test_membership_lookup_keys_cover_parents_and_children() -> None:
    desired = member_state(IN_DROP, IN_A, rows=(), member_rows=(LSP2,))
    assert desired.lookup_keys() == {LSP, LSP2, DROP, PG_A}


def test_stale_child_memberships_left_alone() -> None:
    desired = member_state(IN_DROP, IN_A)
    actual = {LSP: lsp_in(DROP, PG_B, revision=3), **DHCP_ROWS}
    assert plan_changes(desired, actual) == plan(stale=(LSP,))


def test_a_row_under_another_parent_moves() -> None:
    """A gateway port between the gateway router and the distributed router (a change of
    L3 mode): made anew under its new parent, the old one deleted from its old one."""
    lrp = RowKey("Logical_Router_Port", "name", "lrp-gw")
    dr = RowKey("Logical_Router", "name", "neutron-r")
    wanted = DesiredRow(lrp, {"mac": "fa:16:3e:00:00:09"}, parent=ParentLink(dr, "ports"))
    current = ActualRow("uuid-lrp", {"mac": "fa:16:3e:00:00:09"}, parent_column="ports",
                        parent_uuid="uuid-gwr")
    desired = DesiredState("router", "r", (wanted,), ())
    moved = Plan("router", "r", (Insert(wanted),
                                 Delete(lrp, "uuid-lrp", "ports", "uuid-gwr")))
    assert plan_changes(desired, {lrp: current, dr: ActualRow("uuid-dr", {})}) == moved
    # the new parent not in NB yet: moved all the same
    assert plan_changes(desired, {lrp: current}) == moved
    # already there: nothing to do
    there = ActualRow("uuid-lrp", {"mac": "fa:16:3e:00:00:09"}, parent_column="ports",
                      parent_uuid="uuid-dr")
    assert plan_changes(desired, {lrp: there, dr: ActualRow("uuid-dr", {})}) == plan_none()


def plan_none() -> Plan:
    return Plan("router", "r", ())
