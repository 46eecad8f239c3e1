"""L2 gateway translation: vtep switch ports in NB, and the plan of a VTEP database."""

from __future__ import annotations

import pytest

from neutrino.ovn.rows import RowKey
from neutrino.ovn.translate.l2gw import (
    ConnectionFacts,
    VtepActual,
    VtepBinding,
    VtepDesired,
    VtepPlan,
    build_connection,
    build_connection_absent,
    build_vtep_desired,
    connection_bindings,
    learned_macs,
    plan_vtep,
)

NET, OTHER = "net-1", "net-2"
LS, LS2 = f"neutron-{NET}", f"neutron-{OTHER}"


def facts(*bindings: VtepBinding, network: str = NET, cid: str = "c1") -> ConnectionFacts:
    return ConnectionFacts(cid, network, 3, "proj", tuple(bindings))


def test_one_vtep_port_per_device_in_the_networks_switch() -> None:
    state = build_connection(facts(VtepBinding("ps1", "p0", 100), VtepBinding("ps1", "p1", 100),
                                   VtepBinding("ps2", "p0", 100)))
    assert [r.key for r in state.rows] == [RowKey("Logical_Switch_Port", "name", "l2gw-c1-ps1"),
                                           RowKey("Logical_Switch_Port", "name", "l2gw-c1-ps2")]
    row = state.rows[0]
    assert row.parent is not None and row.parent.key == RowKey("Logical_Switch", "name", LS)
    assert dict(row.columns) == {
        "type": "vtep", "addresses": ["unknown"], "port_security": [],
        "options": {"vtep-physical-switch": "ps1", "vtep-logical-switch": LS},
        "enabled": True,
        "external_ids": {"neutron:l2gw_connection_id": "c1", "neutron:l2gw_device": "ps1",
                         "neutron:network_name": LS, "neutron:device_owner": "network:l2gateway",
                         "neutron:project_id": "proj", "neutron:revision_number": "3"}}
    assert state.owned_tagged == (("Logical_Switch_Port", "neutron:l2gw_connection_id", "c1"),)


def test_a_deleted_connection_owns_its_tagged_ports() -> None:
    state = build_connection_absent("c1")
    assert state.rows == () and state.owned_tagged == (
        ("Logical_Switch_Port", "neutron:l2gw_connection_id", "c1"),)


@pytest.mark.parametrize(("devices", "vlan", "expected"), [
    pytest.param([{"device_name": "ps1", "interfaces": [{"name": "p0",
                                                         "segmentation_id": [5, 6]}]}],
                 None, [("ps1", "p0", 5), ("ps1", "p0", 6)], id="interface-vlans"),
    pytest.param([{"device_name": "ps1", "interfaces": [{"name": "p0"}, {"name": "p1"}]}],
                 7, [("ps1", "p0", 7), ("ps1", "p1", 7)], id="connection-vlan"),
    pytest.param([{"device_name": "ps1", "interfaces": [{"name": "p0"}]}], None, [],
                 id="no-vlan-at-all"),
])
def test_connection_bindings(devices: list, vlan: int | None, expected: list) -> None:
    assert connection_bindings(devices, vlan) == tuple(VtepBinding(*b) for b in expected)


def test_vtep_desired_per_configured_switch() -> None:
    wanted = build_vtep_desired(
        [facts(VtepBinding("ps1", "p0", 100), VtepBinding("psX", "p0", 1)),
         facts(VtepBinding("ps1", "p1", 200), network=OTHER, cid="c2")], ["ps1", "ps2"])
    assert wanted == {
        "ps1": VtepDesired("ps1", frozenset({LS, LS2}), {("p0", 100): LS, ("p1", 200): LS2}),
        "ps2": VtepDesired("ps2", frozenset(), {}),
    }


ACTUAL = VtepActual(frozenset({LS}), {("p0", 100): LS, ("p1", 7): None},
                    frozenset({"p0", "p1"}))


@pytest.mark.parametrize(("desired", "actual", "plan"), [
    pytest.param(VtepDesired("ps1", frozenset({LS}), {("p0", 100): LS}), ACTUAL,
                 VtepPlan("ps1"), id="in-step"),
    pytest.param(VtepDesired("ps1", frozenset({LS2}), {("p0", 200): LS2}),
                 VtepActual(frozenset(), {}, frozenset({"p0"})),
                 VtepPlan("ps1", add_switches=(LS2,), bind=(("p0", 200, LS2),)),
                 id="missing"),
    pytest.param(VtepDesired("ps1"), ACTUAL,
                 VtepPlan("ps1", remove_switches=(LS,), unbind=(("p0", 100),)),
                 id="extra-ours-only"),
    pytest.param(VtepDesired("ps1", frozenset({LS}), {("p1", 7): LS, ("p9", 1): LS}), ACTUAL,
                 VtepPlan("ps1", unbind=(("p0", 100),), problems=(
                     "ps1: p1 vlan 7 is bound to a logical switch neutrino does not own",
                     "ps1: no physical port p9")),
                 id="foreign-and-missing-port-are-problems"),
])
def test_plan_vtep(desired: VtepDesired, actual: VtepActual, plan: VtepPlan) -> None:
    assert plan_vtep(desired, actual) == plan


def test_a_devices_learnt_macs_join_unknown_in_its_vtep_port_only() -> None:
    found = facts(VtepBinding("ps1", "p0", 100), VtepBinding("ps2", "p0", 100))
    found = ConnectionFacts(found.id, found.network_id, found.revision, found.project_id,
                            found.bindings,
                            learned=(("ps2", ("00:00:5e:00:53:02", "00:00:5e:00:53:01")),))
    ps1, ps2 = build_connection(found).rows
    assert ps1.columns["addresses"] == ["unknown"]
    assert ps2.columns["addresses"] == ["unknown", "00:00:5e:00:53:01", "00:00:5e:00:53:02"]


def test_learnt_macs_of_wanted_switches_normalised_and_capped() -> None:
    rows = [(LS, "00:00:5E:00:53:03"), (LS, " 00:00:5e:00:53:01"), (LS, "00:00:5e:00:53:02"),
            (LS, "00:00:5e:00:53:01"),  # the same MAC twice (another locator)
            (LS, "not-a-mac"), (LS, "01:00:5e:00:00:01"),  # malformed; a group MAC
            (LS2, "00:00:5e:00:53:09"), ("theirs", "00:00:5e:00:53:08")]
    taken = learned_macs(rows, {LS, LS2}, cap=2)
    assert dict(taken.macs) == {LS: ("00:00:5e:00:53:01", "00:00:5e:00:53:02"),
                                LS2: ("00:00:5e:00:53:09",)}
    assert taken.over_cap == (LS,)
    assert learned_macs(rows, set(), cap=2).macs == {}
