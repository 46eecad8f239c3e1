"""`neutrino sync`: compare every resource with OVN NB, and repair in batched transactions.

Safe while the API serves: resources with unfinished journal entries are left to the
journal, a repair re-reads the database when it applies (so it never acts on a snapshot
older than the rows it writes), and the revision check never lets it revert a newer row.
A comparison of many resources takes seconds, while other nodes keep changing them: a
resource the journal touched meanwhile, or that this node's copy of NB had not caught up
with yet, looks different without being so. So every difference is looked at a second
time (`_confirm`), after the copy has caught up with the server, and only what the journal
did not touch meanwhile and still differs is reported (and repaired).
What the journal has owed for longer than `owed_after` seconds is reported (not repaired:
its entry would fight the repair, and a poison entry would fail it the same way), so that a
stranded or failed entry can never hide behind "left to the journal".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from neutrino.clock import utcnow
from neutrino.db.among import among, values
from neutrino.db.engine import Database
from neutrino.db.models import (
    AddressGroup,
    FloatingIp,
    JournalEntry,
    L2gwConnection,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    SfcPortChain,
    Subnet,
)
from neutrino.journal.types import UNFINISHED, ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.ownership import TABLES, owner_of
from neutrino.ovn.vtep_client import VtepUnavailable
from neutrino.reconcile.reconciler import Reconciler
from neutrino.reconcile.sfc_facts import unsteered
from neutrino.sync.differences import (
    GLOBAL_RESOURCE,
    VTEP_RESOURCE,
    Difference,
    differences,
    global_differences,
    vtep_differences,
)

# Parents before children, so that one repair batch never refers to a row not yet written.
ORDER = (ResourceType.NETWORK, ResourceType.SUBNET, ResourceType.SECURITY_GROUP,
         ResourceType.ADDRESS_GROUP, ResourceType.SECURITY_GROUP_RULE, ResourceType.ROUTER,
         ResourceType.PORT, ResourceType.FLOATING_IP, ResourceType.PORT_CHAIN,
         ResourceType.L2_GATEWAY_CONNECTION)
MODELS = {
    ResourceType.NETWORK: Network,
    ResourceType.SUBNET: Subnet,
    ResourceType.SECURITY_GROUP: SecurityGroup,
    ResourceType.SECURITY_GROUP_RULE: SecurityGroupRule,
    ResourceType.PORT: Port,
    ResourceType.ROUTER: Router,
    ResourceType.FLOATING_IP: FloatingIp,
    ResourceType.ADDRESS_GROUP: AddressGroup,
    ResourceType.PORT_CHAIN: SfcPortChain,
    ResourceType.L2_GATEWAY_CONNECTION: L2gwConnection,
}
BATCH = 1000
DEFAULT_OWED_AFTER = 300.0  # seconds

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class Owed:
    """A resource whose oldest unfinished journal entry is older than the threshold."""

    resource_type: str
    resource_id: str
    seq: int
    state: str
    age_seconds: float
    last_error: str | None

    def as_dict(self) -> dict[str, object]:
        return {"resource_type": self.resource_type, "resource_id": self.resource_id,
                "seq": self.seq, "state": self.state, "age_seconds": self.age_seconds,
                "last_error": self.last_error}


@dataclass
class SyncReport:
    mode: str
    differences: list[Difference] = field(default_factory=list)
    checked: int = 0
    left_to_journal: int = 0
    repaired: int = 0
    seconds: float = 0.0
    owed: list[Owed] = field(default_factory=list)
    # port chain id → why this OVN does not steer (all of) it: no difference to repair,
    # but the operator must know
    unsteered: dict[str, str] = field(default_factory=dict)
    vtep_unavailable: list[str] = field(default_factory=list)  # VTEP databases not compared
    # resources not compared because the journal was at them: an audit looks again next time
    deferred: set[ResourceRef] = field(default_factory=set)

    def summary(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for diff in self.differences:
            counts[diff.kind.value] = counts.get(diff.kind.value, 0) + 1
        return {"mode": self.mode, "checked": self.checked, "differences": counts,
                "left_to_journal": self.left_to_journal, "owed_by_journal": len(self.owed),
                "repaired": self.repaired, "seconds": round(self.seconds, 3),
                "unsteered_port_chains": len(self.unsteered),
                "vtep_unavailable": list(self.vtep_unavailable)}


class SyncRunner:
    def __init__(self, db: Database, nb: NorthboundClient, reconciler: Reconciler,
                 owed_after: float = DEFAULT_OWED_AFTER) -> None:
        self.db = db
        self.nb = nb
        self.reconciler = reconciler
        self.owed_after = owed_after

    def compare(self, types: Sequence[ResourceType] = ORDER,
                only: Iterable[ResourceRef] | None = None) -> SyncReport:
        """Compare every resource of `types` with NB, or `only` those resources (the drift
        audit's changed ones: then the VTEP databases and the port chains' steering, which
        are not about NB rows, are left out)."""
        started = time.monotonic()
        report = SyncReport("log")
        busy = self._busy()
        refs, report.deferred = self._settled_refs(types, busy, only)
        report.left_to_journal = len(report.deferred)
        report.owed = self._owed(types, busy)
        report.checked = len(refs)
        plans = [plan for chunk in _chunks(refs, BATCH) for plan in self.reconciler.plan(chunk)]
        report.differences = differences(plans)  # across chunks: shared rows count once
        if report.differences:
            report.differences, touched = self._confirm(report.differences)
            report.left_to_journal += len(touched)
            report.deferred |= touched
        if ResourceType.FLOATING_IP in types:
            report.differences += global_differences(self.reconciler.global_differences())
        if only is not None:
            report.seconds = time.monotonic() - started
            return report
        if ResourceType.PORT_CHAIN in types:
            report.unsteered = unsteered(self.db)
        if ResourceType.L2_GATEWAY_CONNECTION in types and self.reconciler.vtep:
            plans, report.vtep_unavailable = self.reconciler.plan_vtep()
            report.differences += vtep_differences(plans)
        report.seconds = time.monotonic() - started
        return report

    def repair(self, types: Sequence[ResourceType] = ORDER,
               progress: Progress | None = None) -> SyncReport:
        started = time.monotonic()
        found = self.compare(types)
        report = SyncReport("repair", found.differences, found.checked, found.left_to_journal,
                            owed=found.owed, unsteered=found.unsteered)
        refs = _ordered({ResourceRef(ResourceType(d.resource_type), d.resource_id)
                         for d in found.differences
                         if d.resource_type not in (VTEP_RESOURCE, GLOBAL_RESOURCE)})
        done = 0
        for chunk in _chunks(refs, BATCH):
            try:
                self.reconciler.apply(chunk)  # NB first; then the VTEP databases if concerned
            except VtepUnavailable as exc:
                report.vtep_unavailable.append(str(exc))
            done += len(chunk)
            if progress:
                progress(done, len(refs))
        if any(d.resource_type == GLOBAL_RESOURCE for d in found.differences):
            self.reconciler.apply_global()
            done += 1
        if any(d.resource_type == VTEP_RESOURCE for d in found.differences):
            try:
                self.reconciler.apply_vtep()  # every reachable database, whole
            except VtepUnavailable as exc:
                report.vtep_unavailable.append(str(exc))
            done += len({d.resource_id for d in found.differences
                         if d.resource_type == VTEP_RESOURCE})
        report.repaired = done
        report.seconds = time.monotonic() - started
        return report

    def _confirm(self, found: list[Difference]) -> tuple[list[Difference], set[ResourceRef]]:
        """The differences that are still there at a second look, and the resources that
        turned out to be the journal's business (it touched them during that look)."""
        suspects = _ordered({ResourceRef(ResourceType(d.resource_type), d.resource_id)
                             for d in found
                             if d.resource_type not in (VTEP_RESOURCE, GLOBAL_RESOURCE)})
        ids = {ref.id for ref in suspects}
        before = self._journal_marks(ids)
        self.nb.catch_up()  # what the journal applied before `before` is in the copy now
        plans = [p for chunk in _chunks(suspects, BATCH) for p in self.reconciler.plan(chunk)]
        after = self._journal_marks(ids)  # read after the plan: whatever it read, we see
        unfinished = {s.value for s in UNFINISHED}
        touched = {rid for rid in ids if before.get(rid) != after.get(rid)
                   or any(state in unfinished for _, state in after.get(rid, ()))}
        confirmed = [d for d in differences(plans) if d.resource_id not in touched]
        others = [d for d in found if d.resource_type in (VTEP_RESOURCE, GLOBAL_RESOURCE)]
        return others + confirmed, {ref for ref in suspects if ref.id in touched}

    def _journal_marks(self, ids: set[str]) -> dict[str, frozenset[tuple[int, str]]]:
        """resource id -> its journal entries and their states: any entry recorded,
        claimed or settled between two reads makes them differ (no clock involved)."""
        found: dict[str, set[tuple[int, str]]] = {}
        with self.db.read() as session:
            # the ids as one parameter: a repair of 100,000 ports would pass PostgreSQL's
            # limit of 65,535 parameters a statement
            dialect = session.get_bind().dialect.name
            stmt = select(JournalEntry.resource_id, JournalEntry.seq, JournalEntry.state) \
                .where(among(JournalEntry.resource_id, "ids", dialect))
            for rid, seq, state in session.execute(stmt, {"ids": values(sorted(ids),
                                                                          dialect)}):
                found.setdefault(rid, set()).add((seq, state))
        return {rid: frozenset(marks) for rid, marks in found.items()}

    def _settled_refs(self, types: Sequence[ResourceType], busy: dict[str, Row[Any]],
                      only: Iterable[ResourceRef] | None = None,
                      ) -> tuple[list[ResourceRef], set[ResourceRef]]:
        """Every resource in the database or in NB (or `only` those), minus those the
        journal still owes, and those."""
        if only is None:
            refs = self._database_refs(types) | self._nb_refs(types)
        else:
            refs = {ref for ref in only if ref.type in types}
        owed = {ref for ref in refs if ref.id in busy}
        return _ordered(refs - owed), owed

    def _database_refs(self, types: Sequence[ResourceType]) -> set[ResourceRef]:
        with self.db.read() as session:
            return {ResourceRef(t, rid) for t in types
                    for rid in session.scalars(select(MODELS[t].id))}

    def _nb_refs(self, types: Sequence[ResourceType]) -> set[ResourceRef]:
        wanted = {t.value for t in types}
        refs = set()
        for table in TABLES:
            for row in self.nb.read_rows(table):
                owner = owner_of(table, row)
                if owner and owner[0] in wanted:
                    refs.add(ResourceRef(ResourceType(owner[0]), owner[1]))
        return refs

    def _busy(self) -> dict[str, Row[Any]]:
        """resource id → its oldest unfinished journal entry (the columns a report needs,
        not ORM objects: a backlog can hold tens of thousands)."""
        unfinished = [s.value for s in UNFINISHED]
        entry = JournalEntry
        stmt = select(entry.resource_id, entry.resource_type, entry.seq, entry.state,
                      entry.created_at, entry.last_error) \
            .where(entry.state.in_(unfinished)).order_by(entry.seq.desc())
        with self.db.read() as session:
            return {row.resource_id: row for row in session.execute(stmt)}

    def _owed(self, types: Sequence[ResourceType], busy: dict[str, Row[Any]]) -> list[Owed]:
        now, wanted = utcnow(), {t.value for t in types}
        found = [_owed(entry, now) for entry in busy.values()
                 if entry.resource_type in wanted]
        return sorted((o for o in found if o.age_seconds > self.owed_after),
                      key=lambda o: o.seq)


def _owed(entry: Row[Any], now: datetime) -> Owed:
    return Owed(entry.resource_type, entry.resource_id, entry.seq, entry.state,
                round((now - entry.created_at).total_seconds(), 3), entry.last_error)


def _ordered(refs: Iterable[ResourceRef]) -> list[ResourceRef]:
    return sorted(refs, key=lambda r: (ORDER.index(r.type), r.id))


def _chunks(items: list[ResourceRef], size: int) -> Iterable[list[ResourceRef]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
