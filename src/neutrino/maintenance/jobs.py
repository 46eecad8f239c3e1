"""The maintenance jobs, each small and separately testable."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import agents, errors, scheduling
from neutrino.agents import SouthboundView
from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.db.models import Network, Router
from neutrino.journal import claim
from neutrino.journal.parents import parents_of, router_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.ownership import owner_of
from neutrino.reconcile.reconciler import Reconciler
from neutrino.services.common import bump_revision
from neutrino.services.routers import (
    ChassisSource,
    choose_ha_chassis,
    gateway_load,
    lock_gateway_scheduling,
)
from neutrino.settings import Settings
from neutrino.sync.differences import GLOBAL_RESOURCE
from neutrino.sync.runner import SyncRunner

LOG = logging.getLogger(__name__)


def purge_completed(db: Database, retention: timedelta) -> int:
    with db.session() as session:
        return claim.purge_completed(session, utcnow() - retention)


def reclaim_expired(db: Database) -> int:
    with db.session() as session:
        return claim.reclaim_expired(session)


def reclaim_orphans(db: Database) -> int:
    """Every claim, expired or not: for a journal only this process works on (SQLite)."""
    with db.session() as session:
        return claim.reclaim_expired(session, every_claim=True)


def schedule_gateways(db: Database, chassis: ChassisSource, settings: Settings,
                      rng: random.Random,
                      unresponsive: Callable[[], set[str]] | None = None) -> int:
    """Bind unscheduled gateways, and move those whose chassis left (or opted out, or left
    the router's hinted availability zones).

    SB is read once: every router of the round is placed from one snapshot, and every move
    is one database transaction, so the journal applies them to NB in one batch.

    A gateway router moves to the scheduler's choice; also, with `unresponsive` (the chassis
    whose controller stopped answering probes), off a chassis that stopped answering, when
    a candidate that answers exists. A distributed gateway port's HA_Chassis_Group is only
    re-prioritised: a chassis that left is dropped, the next one moves up (OVN fails over by
    itself, by BFD, before this runs), and candidates that appeared fill the group up to five.

    With no candidate at all the routers stay unscheduled, status ERROR, and are bound as
    soon as a chassis appears.
    """
    try:
        found = chassis()
    except errors.BackendUnavailable:
        return 0
    with db.session() as session:
        routers = list(session.scalars(select(Router).where(Router.gw_port_id.is_not(None))))
        if settings.l3_mode == "distributed-gateway-port":
            return _reprioritise_groups(session, routers, found, settings, rng)
        dead = unresponsive() if unresponsive is not None else set()
        return _move_gateway_routers(session, routers, found, dead, settings, rng)


def _move_gateway_routers(session: Session, routers: Sequence[Router],
                          found: Sequence[scheduling.Chassis], dead: set[str],
                          settings: Settings, rng: random.Random) -> int:
    load: dict[str, int] | None = None  # read once, when the first router must move
    moved = 0
    for router in routers:
        names = scheduling.answering(
            scheduling.candidates(found, router.availability_zone_hints or []), dead)
        if router.gateway_chassis in names:
            continue
        if load is None:
            lock_gateway_scheduling(session)
            load = gateway_load(session)
        choice = scheduling.choose(settings.gateway_scheduler, names, load, rng)
        if choice == router.gateway_chassis:
            continue
        scheduling.count_move(load, router.gateway_chassis, choice)
        wanted = scheduling.by_priority(router.gateway_ha_chassis or [], choice, names, load)
        _place(session, router, choice, wanted)
        moved += 1
    return moved


def _reprioritise_groups(session: Session, routers: Sequence[Router],
                         found: Sequence[scheduling.Chassis], settings: Settings,
                         rng: random.Random) -> int:
    def snapshot() -> list[scheduling.Chassis]:
        return list(found)

    moved = 0
    for router in routers:
        hints = router.availability_zone_hints or []
        names = scheduling.candidates(found, hints)
        current = list(router.gateway_ha_chassis or [])
        known = current or ([router.gateway_chassis] if router.gateway_chassis else [])
        wanted = scheduling.by_priority(known, None, names, gateway_load(session)) \
            if known else []
        if not wanted:  # none yet or none left: chosen as for a new gateway
            wanted = choose_ha_chassis(session, snapshot, settings, rng, hints)
        if wanted == current and router.gateway_chassis == (wanted or [None])[0]:
            continue
        _place(session, router, (wanted or [None])[0], wanted)
        session.flush()  # the next router's load counts this one
        moved += 1
    return moved


def _place(session: Session, router: Router, choice: str | None, wanted: list[str]) -> None:
    if choice != router.gateway_chassis:
        LOG.warning("router %s: gateway chassis %s -> %s", router.id,
                    router.gateway_chassis, choice)
    router.gateway_chassis = choice
    router.gateway_ha_chassis = wanted
    router.status = "ACTIVE" if choice else "ERROR"
    bump_revision(session, router, ResourceType.ROUTER, router_parents(router))


@dataclass
class UnresponsiveChassis:
    """The chassis whose ovn-controller stopped acknowledging probes (agents.unresponsive).

    It says nothing until this process has asked for `down_time` seconds: a probe is sent
    only by the maintenance leader, so a node that just started (or a service back from an
    outage) has not yet given any chassis the chance to answer, and all would look dead.
    """

    view: Callable[[], SouthboundView]
    down_time: float
    started: float | None = None

    def __call__(self) -> set[str]:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if now - self.started < self.down_time:
            return set()
        try:
            return agents.unresponsive(self.view(), utcnow(), self.down_time)
        except errors.BackendUnavailable:
            return set()


def probe_chassis(nb: NorthboundClient) -> int | None:
    """Bump NB_Global.nb_cfg so that every live ovn-controller acknowledges it in SB.

    The agents API calls a chassis alive when it acknowledged a probe recently, so this must
    run more often than `agent_down_time`.
    """
    if not nb.connected:
        return None
    return nb.bump_nb_cfg()


@dataclass(frozen=True)
class DriftAudit:
    everything: bool  # whether everything was compared, or only what changed
    compared: int
    drifted: list[ResourceRef]  # each journalled for a fix


def journal_drift(db: Database, sync: SyncRunner) -> DriftAudit:
    """Compare NB with the database and journal a fix for each drifted resource.

    Only the resources whose NB rows changed since the last audit are compared (the NB
    client's change log), so the audit's cost follows what happened, not the cloud's size;
    everything is compared when the log cannot tell (a reconnect, a new maintenance node).
    The fix goes through the journal like any change, so it is ordered against what is
    already queued and retried like anything else.
    """
    changes = sync.nb.changes.take()
    started = time.monotonic()
    try:
        report = sync.compare() if changes.everything else \
            sync.compare(only=_known_refs(changes.owners))
    except BaseException:
        sync.nb.changes.invalidate()  # what was taken must not be lost with this audit
        raise
    # what the journal was at is looked at next time, when it is done with it
    sync.nb.changes.add((ref.type.value, ref.id) for ref in report.deferred)
    journaled = {t.value for t in ResourceType}  # VTEP databases are `vtep_catch_up`'s
    refs = sorted({ResourceRef(ResourceType(d.resource_type), d.resource_id)
                   for d in report.differences if d.resource_type in journaled})
    with db.session() as session:
        for ref in refs:
            record_entry(session, ref.type, ref.id, Operation.UPDATE, parents_of(session, ref))
    if any(d.resource_type == GLOBAL_RESOURCE for d in report.differences):
        sync.reconciler.apply_global()  # NB_Global's keys: no resource, no journal entry
    LOG.log(logging.INFO if refs else logging.DEBUG,
            "drift audit (%s): %d resources compared in %.3fs, %d drifted",
            "everything" if changes.everything else "changed since the last audit",
            report.checked, time.monotonic() - started, len(refs))
    return DriftAudit(changes.everything, report.checked, refs)


def _known_refs(owners: frozenset[tuple[str, str]]) -> set[ResourceRef]:
    known = {t.value for t in ResourceType}
    return {ResourceRef(ResourceType(kind), rid) for kind, rid in owners if kind in known}


def vtep_catch_up(reconciler: Reconciler) -> int:
    """Write what the VTEP databases miss (a database back after an outage that a
    connection's delete, or a network's, did not wait for; rows changed behind neutrino's
    back); returns how many databases needed a change."""
    plans, down = reconciler.write_reachable_vtep()
    if down:
        LOG.debug("VTEP catch-up: unavailable %s", "; ".join(down))
    return sum(not plan.is_noop for plan in plans)


@dataclass
class ColdRebootDetector:
    """Notices an NB that lost its contents: a new NB_Global, or our rows gone wholesale."""

    nb: NorthboundClient
    db: Database
    last_database_id: str | None = None

    def lost_state(self) -> bool:
        if not self.nb.connected:
            return False
        current = self.nb.database_id  # None until something creates NB_Global again
        replaced = current is not None and self.last_database_id not in (None, current)
        if current is not None:
            self.last_database_id = current
        return replaced or self._switches_missing_wholesale()

    def _switches_missing_wholesale(self) -> bool:
        with self.db.read() as session:
            networks = session.scalar(select(func.count()).select_from(Network)) or 0
        if networks == 0:
            return False
        # One switch of ours is enough, and it is nearly always the first one read: reading
        # them all, every few seconds on the NB connection's thread, cost as much as the
        # cloud has networks (their `ports` too, once: as much as it has ports).
        return not self.nb.holds_any("Logical_Switch", ("name", "external_ids"),
                                     lambda row: owner_of("Logical_Switch", row) is not None)
