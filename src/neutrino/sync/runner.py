"""`neutrino sync`: compare every resource with OVN NB, and repair in batched transactions.

Safe while the API serves: resources with unfinished journal entries are left to the
journal, a repair re-reads the database when it applies (so it never acts on a snapshot
older than the rows it writes), and the revision check never lets it revert a newer row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from neutrino.db.engine import Database
from neutrino.db.models import (
    FloatingIp,
    JournalEntry,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from neutrino.journal.types import UNFINISHED, ResourceRef, ResourceType
from neutrino.ovn.client import NorthboundClient
from neutrino.ovn.ownership import TABLES, owner_of
from neutrino.reconcile.reconciler import Reconciler
from neutrino.sync.differences import Difference, differences

# Parents before children, so that one repair batch never refers to a row not yet written.
ORDER = (ResourceType.NETWORK, ResourceType.SUBNET, ResourceType.SECURITY_GROUP,
         ResourceType.SECURITY_GROUP_RULE, ResourceType.ROUTER, ResourceType.PORT,
         ResourceType.FLOATING_IP)
MODELS = {
    ResourceType.NETWORK: Network,
    ResourceType.SUBNET: Subnet,
    ResourceType.SECURITY_GROUP: SecurityGroup,
    ResourceType.SECURITY_GROUP_RULE: SecurityGroupRule,
    ResourceType.PORT: Port,
    ResourceType.ROUTER: Router,
    ResourceType.FLOATING_IP: FloatingIp,
}
BATCH = 1000

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class SyncReport:
    mode: str
    differences: list[Difference] = field(default_factory=list)
    checked: int = 0
    left_to_journal: int = 0
    repaired: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for diff in self.differences:
            counts[diff.kind.value] = counts.get(diff.kind.value, 0) + 1
        return {"mode": self.mode, "checked": self.checked, "differences": counts,
                "left_to_journal": self.left_to_journal, "repaired": self.repaired,
                "seconds": round(self.seconds, 3)}


class SyncRunner:
    def __init__(self, db: Database, nb: NorthboundClient, reconciler: Reconciler) -> None:
        self.db = db
        self.nb = nb
        self.reconciler = reconciler

    def compare(self, types: Sequence[ResourceType] = ORDER) -> SyncReport:
        started = time.monotonic()
        report = SyncReport("log")
        refs, report.left_to_journal = self._settled_refs(types)
        report.checked = len(refs)
        plans = [plan for chunk in _chunks(refs, BATCH) for plan in self.reconciler.plan(chunk)]
        report.differences = differences(plans)  # across chunks: shared rows count once
        report.seconds = time.monotonic() - started
        return report

    def repair(self, types: Sequence[ResourceType] = ORDER,
               progress: Progress | None = None) -> SyncReport:
        started = time.monotonic()
        found = self.compare(types)
        report = SyncReport("repair", found.differences, found.checked, found.left_to_journal)
        refs = _ordered({ResourceRef(ResourceType(d.resource_type), d.resource_id)
                         for d in found.differences})
        done = 0
        for chunk in _chunks(refs, BATCH):
            self.reconciler.apply(chunk)
            done += len(chunk)
            if progress:
                progress(done, len(refs))
        report.repaired = done
        report.seconds = time.monotonic() - started
        return report

    def _settled_refs(self, types: Sequence[ResourceType]) -> tuple[list[ResourceRef], int]:
        """Every resource in the database or in NB, minus those the journal still owes."""
        refs = self._database_refs(types) | self._nb_refs(types)
        busy = self._busy_ids()
        settled = [ref for ref in refs if ref.id not in busy]
        return _ordered(settled), len(refs) - len(settled)

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

    def _busy_ids(self) -> set[str]:
        unfinished = [s.value for s in UNFINISHED]
        with self.db.read() as session:
            return set(session.scalars(select(JournalEntry.resource_id).where(
                JournalEntry.state.in_(unfinished))))


def _ordered(refs: Iterable[ResourceRef]) -> list[ResourceRef]:
    return sorted(refs, key=lambda r: (ORDER.index(r.type), r.id))


def _chunks(items: list[ResourceRef], size: int) -> Iterable[list[ResourceRef]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
