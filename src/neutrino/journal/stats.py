"""What the journal holds right now: for /metrics, /healthz and `neutrino journal status`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.db.models import JournalEntry
from neutrino.journal.types import State


@dataclass
class JournalStats:
    counts: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float = 0.0
    leases: dict[str, str] = field(default_factory=dict)  # worker → latest lease expiry

    def as_dict(self) -> dict[str, object]:
        return {"counts": self.counts, "oldest_pending_seconds": self.oldest_pending_seconds,
                "leases": self.leases}


def journal_stats(db: Database) -> JournalStats:
    with db.read() as session:
        counts = dict(session.execute(
            select(JournalEntry.state, func.count()).group_by(JournalEntry.state)).all())
        oldest = session.scalar(select(func.min(JournalEntry.created_at)).where(
            JournalEntry.state == State.PENDING.value))
        leases = session.execute(
            select(JournalEntry.claimed_by, func.max(JournalEntry.lease_expires_at))
            .where(JournalEntry.state == State.PROCESSING.value)
            .group_by(JournalEntry.claimed_by)).all()
    age = (utcnow() - oldest).total_seconds() if oldest else 0.0
    return JournalStats({s.value: counts.get(s.value, 0) for s in State}, round(age, 3),
                        {worker: str(expiry) for worker, expiry in leases})


class JournalCollector:
    """Prometheus gauges read from the database at scrape time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = journal_stats(self.db)
        entries = GaugeMetricFamily("neutrino_journal_entries", "Journal entries by state",
                                    labels=["state"])
        for state, count in stats.counts.items():
            entries.add_metric([state], count)
        yield entries
        yield GaugeMetricFamily("neutrino_journal_oldest_pending_seconds",
                                "Age of the oldest pending journal entry",
                                value=stats.oldest_pending_seconds)
