"""The drift audit's record of whose NB rows changed (pure: rows are plain objects here)."""

from __future__ import annotations

from types import SimpleNamespace

from neutrino.ovn.changes import ChangeLog, Changes

NET = "6b4c1a8e-0000-4000-8000-000000000001"
PORT = "6b4c1a8e-0000-4000-8000-000000000002"
ROUTER = "6b4c1a8e-0000-4000-8000-000000000003"
OURS = {"neutron:network_name": "n", "neutron:revision_number": "1"}


def _watching() -> ChangeLog:
    log = ChangeLog()
    assert log.take().everything  # nothing was watched before the first take
    return log


def test_rows_are_attributed_to_their_resources_and_taken_once():
    log = _watching()
    log.record_row("Logical_Switch_Port", "update",
                   SimpleNamespace(name=PORT, type="", external_ids=OURS))
    log.record_row("Logical_Switch", "delete",
                   SimpleNamespace(name=f"neutron-{NET}", external_ids=OURS))
    assert log.take() == Changes(False, frozenset({("port", PORT), ("network", NET)}))
    assert log.take() == Changes(False, frozenset())


def test_foreign_and_untracked_rows_are_not_recorded():
    log = _watching()
    log.record_row("Logical_Switch", "create", SimpleNamespace(name="theirs", external_ids={}))
    log.record_row("NB_Global", "update", SimpleNamespace(external_ids={"x": "1"}))
    assert log.take() == Changes(False, frozenset())


def test_an_update_that_renames_a_row_changes_both_owners():
    log = _watching()
    old = SimpleNamespace(name=f"neutron-{NET}")  # an update carries the changed columns
    log.record_row("Logical_Switch", "update",
                   SimpleNamespace(name=f"neutron-{ROUTER}", external_ids=OURS), old)
    assert log.take().owners == {("network", NET), ("network", ROUTER)}


def test_ha_chassis_rows_belong_to_the_router_their_key_names():
    log = _watching()
    key = {"neutron:ha_chassis_key": f"neutron-{ROUTER} chassis-1"}
    log.record_row("HA_Chassis", "update", SimpleNamespace(external_ids=key))
    assert log.take().owners == {("router", ROUTER)}


def test_too_many_changes_or_an_invalidation_mean_everything():
    log = ChangeLog(limit=2)
    log.take()
    log.add([("port", "a"), ("port", "b"), ("port", "c")])
    assert log.take() == Changes(True, frozenset())
    log.add([("port", "a")])
    log.invalidate()
    log.add([("port", "b")])  # nothing more to remember once everything is to be compared
    assert log.take() == Changes(True, frozenset())
    assert log.take() == Changes(False, frozenset())


def test_a_ports_up_set_by_ovn_alone_is_no_change_to_audit():
    log = _watching()
    port = SimpleNamespace(name=PORT, type="", external_ids=OURS, up=[True])
    log.record_row("Logical_Switch_Port", "update", port, SimpleNamespace(up=[False]))
    assert log.take().owners == frozenset()
    log.record_row("Logical_Switch_Port", "update", port,
                   SimpleNamespace(up=[False], addresses=["fa:16:3e:00:00:01"]))
    assert log.take().owners == {("port", PORT)}
