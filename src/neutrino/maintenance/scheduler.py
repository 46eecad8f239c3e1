"""One thread that runs the maintenance jobs on their intervals, on the elected node only."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from neutrino import errors
from neutrino.db import statistics
from neutrino.db.engine import Database, RetryableConflict
from neutrino.journal import claim
from neutrino.maintenance import jobs
from neutrino.maintenance.leader import Lead, try_lead
from neutrino.ovn.client import NorthboundClient
from neutrino.settings import MaintenanceSettings
from neutrino.sync.runner import SyncRunner

LOG = logging.getLogger(__name__)
LEASE_NAME = "maintenance"


@dataclass
class _Job:
    name: str
    every: float
    run: Callable[[], object]
    last: float = field(default=float("-inf"))


class MaintenanceScheduler:
    def __init__(self, db: Database, nb: NorthboundClient, sync: SyncRunner,
                 settings: MaintenanceSettings, wake_workers: Callable[[], None],
                 gateways: Callable[[], int] | None = None,
                 probe: Callable[[], object] | None = None,
                 vtep: Callable[[], int] | None = None,
                 vtep_macs: Callable[[], int] | None = None) -> None:
        self.db = db
        self.nb = nb
        self.settings = settings
        self.wake_workers = wake_workers
        self.holder = f"maintenance-{uuid.uuid4().hex[:8]}"
        self.detector = jobs.ColdRebootDetector(nb, db)
        self.sync = sync
        self.repairs = 0
        self.leading = False  # whether this node held the lease at its last tick
        self._was_connected = False
        self._stop = threading.Event()
        self._kicked = threading.Event()  # a job asked for now, not at its next interval
        self._thread: threading.Thread | None = None
        self.jobs = [
            _Job("reclaim_expired", settings.reclaim_every, lambda: jobs.reclaim_expired(db)),
            _Job("detect_cold_reboot", settings.cold_reboot_every, self._cold_reboot_check),
            # NB_Global's neutron: keys: written at start, but NB may have been away then, or
            # without its NB_Global yet (northd makes it), or wiped since
            _Job("nb_global_keys", settings.cold_reboot_every,
                 lambda: sync.reconciler.apply_global()),
            _Job("refresh_statistics", settings.statistics_every,
                 lambda: statistics.refresh(db)),
            _Job("purge_completed", settings.purge_every,
                 lambda: jobs.purge_completed(db, timedelta(seconds=settings.retention))),
        ]
        if settings.audit_every:  # 0: the operator runs `neutrino sync` on a schedule of theirs
            self.jobs.append(_Job("journal_drift", settings.audit_every,
                                  lambda: jobs.journal_drift(db, sync)))
        if gateways is not None:
            self.jobs.append(_Job("schedule_gateways", settings.schedule_every,
                                  self._then_wake(gateways)))
        if probe is not None:
            self.jobs.append(_Job("probe_chassis", settings.agent_probe_every, probe))
        if vtep is not None:
            self.jobs.append(_Job("vtep_catch_up", settings.vtep_every, vtep))
        if vtep_macs is not None:
            self.jobs.append(_Job("vtep_learned_macs", settings.vtep_macs_every,
                                  self._then_wake(vtep_macs)))

    def start(self) -> None:
        thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)
        thread.start()
        self._thread = thread

    def stop(self) -> None:
        self._stop.set()
        self._kicked.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def kick(self, name: str) -> None:
        """Run job `name` as soon as possible (on the leader; elsewhere the round only renews
        nothing), then keep its interval. Safe from any thread, an IDL's included."""
        for job in self.jobs:
            if job.name == name:
                job.last = float("-inf")
        self._kicked.set()

    def kick_gateways(self) -> None:
        """An SB chassis change: reschedule the gateways now rather than within 2 s."""
        self.kick("schedule_gateways")

    def _loop(self) -> None:
        while True:
            self._kicked.wait(self.settings.tick)
            self._kicked.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a failed round must not end maintenance
                LOG.exception("maintenance round failed")

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._notice_reconnect()
        lead = self._lead()
        if lead is Lead.TAKEN:
            # NB changes before this node led were another node's to audit, which may have
            # died before it did: its first audit compares everything
            self.nb.changes.invalidate()
        self.leading = bool(lead)
        if not self.leading:
            return
        for job in self.jobs:
            if now - job.last >= job.every:
                job.last = now
                self._run(job)

    def _notice_reconnect(self) -> None:
        """NB coming back is a signal in itself: drain the backlog and look for a wipe now."""
        connected = self.nb.connected
        if connected and not self._was_connected:
            self.wake_workers()
            for job in self.jobs:
                if job.name in ("detect_cold_reboot", "nb_global_keys"):
                    job.last = float("-inf")
        self._was_connected = connected

    def _lead(self) -> Lead:
        ttl = timedelta(seconds=self.settings.tick * 15)
        try:
            with self.db.session() as session:
                return try_lead(session, LEASE_NAME, self.holder, ttl)
        except (RetryableConflict, errors.NeutrinoError):
            return Lead.ELSEWHERE

    def _run(self, job: _Job) -> None:
        started = time.monotonic()
        try:
            result = job.run()
        except errors.BackendUnavailable as exc:
            LOG.info("maintenance %s skipped: %s", job.name, exc)
            return
        LOG.debug("maintenance %s: %s in %.3fs", job.name, result, time.monotonic() - started)

    def _then_wake(self, job: Callable[[], int]) -> Callable[[], int]:
        def run() -> int:
            changed = job()
            if changed:
                self.wake_workers()
            return changed

        return run

    def _cold_reboot_check(self) -> bool:
        if not self.detector.lost_state():
            return False
        LOG.warning("OVN NB lost its contents (cold reboot): running a full repair")
        report = self.sync.repair()
        self.repairs += 1
        LOG.warning("cold reboot repair: %s", report.summary())
        # Entries that failed against the emptied NB (a parent row gone) deserve a new try.
        with self.db.session() as session:
            retried = claim.retry_failed(session)
        if retried:
            LOG.warning("cold reboot: %d failed journal entries retried", retried)
        self.wake_workers()
        return True
