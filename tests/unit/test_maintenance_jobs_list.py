"""Which maintenance jobs a node runs follows its settings (nothing is started here)."""

from __future__ import annotations

from typing import Any, cast

from neutrino.maintenance.scheduler import MaintenanceScheduler
from neutrino.settings import MaintenanceSettings


def _job_names(settings: MaintenanceSettings) -> list[str]:
    nothing = cast(Any, None)  # the constructor only keeps what it is given
    scheduler = MaintenanceScheduler(nothing, nothing, nothing, settings, lambda: None)
    return [job.name for job in scheduler.jobs]


def test_the_drift_audit_runs_by_default():
    assert "journal_drift" in _job_names(MaintenanceSettings())


def test_an_audit_interval_of_zero_turns_the_audit_off_and_nothing_else():
    names = _job_names(MaintenanceSettings(audit_every=0))
    assert "journal_drift" not in names
    assert set(_job_names(MaintenanceSettings())) - set(names) == {"journal_drift"}
