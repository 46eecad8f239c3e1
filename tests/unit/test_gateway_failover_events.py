"""What wakes gateway rescheduling at once: which SB changes count, and the scheduler's kick."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from neutrino.maintenance.jobs import UnresponsiveChassis
from neutrino.maintenance.scheduler import MaintenanceScheduler
from neutrino.ovn.client import gateway_relevant
from neutrino.settings import MaintenanceSettings


@pytest.mark.parametrize(("table", "event", "changed", "relevant"), [
    ("Chassis", "delete", (), True),
    ("Chassis_Private", "delete", (), True),
    ("Chassis", "create", (), True),  # a new candidate: unscheduled gateways get bound
    ("Chassis", "update", ("other_config",), True),  # ovn-cms-options may have changed
    ("Chassis", "update", ("external_ids",), True),  # older OVN keeps them there
    ("Chassis", "update", ("encaps",), False),
    ("Chassis_Private", "update", ("nb_cfg", "nb_cfg_timestamp"), False),  # a probe answered
    ("Chassis_Private", "create", (), False),
    ("Encap", "delete", (), False),
    ("SB_Global", "update", ("nb_cfg",), False),
])
def test_sb_changes_that_may_move_a_gateway(table, event, changed, relevant) -> None:
    updates = SimpleNamespace(**dict.fromkeys(changed)) if event == "update" else None
    assert gateway_relevant(table, event, updates) is relevant


def _scheduler(runs: list[str]) -> MaintenanceScheduler:
    nothing = cast(Any, None)
    scheduler = MaintenanceScheduler(nothing, nothing, nothing, MaintenanceSettings(),
                                     lambda: None, gateways=lambda: runs.append("gw") or 0)
    scheduler._lead = lambda: True  # type: ignore[method-assign]
    scheduler.nb = cast(Any, SimpleNamespace(connected=True))
    scheduler.jobs = [j for j in scheduler.jobs if j.name == "schedule_gateways"]
    return scheduler


def test_a_kick_runs_gateway_scheduling_before_its_interval() -> None:
    runs: list[str] = []
    scheduler = _scheduler(runs)
    scheduler.tick(now=100.0)
    scheduler.tick(now=100.5)  # within schedule_every (2 s): nothing
    assert runs == ["gw"]
    scheduler.kick_gateways()
    scheduler.tick(now=100.6)
    assert runs == ["gw", "gw"]
    scheduler.tick(now=101.0)  # then its interval again
    assert runs == ["gw", "gw"]


def test_a_kick_wakes_the_maintenance_thread_at_once() -> None:
    runs: list[str] = []
    scheduler = _scheduler(runs)
    scheduler.settings = MaintenanceSettings(tick=3600)  # only a kick can wake it
    scheduler.start()
    try:
        for _ in range(200):
            if runs:
                break
            scheduler.kick_gateways()
            time.sleep(0.01)
        assert runs
    finally:
        scheduler.stop()


def test_unresponsive_chassis_named_only_after_a_down_time_of_probing(monkeypatch) -> None:
    clock = iter([0.0, 10.0, 80.0])
    monkeypatch.setattr("neutrino.maintenance.jobs.time.monotonic", lambda: next(clock))
    views: list[int] = []

    def view() -> Any:
        views.append(1)
        return SimpleNamespace(chassis=(), sb_nb_cfg=0)

    unresponsive = UnresponsiveChassis(view, down_time=75)
    assert unresponsive() == set() and unresponsive() == set()
    assert views == []  # no chassis had the chance to answer yet: SB not even read
    assert unresponsive() == set()
    assert views == [1]
