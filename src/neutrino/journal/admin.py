"""The operator's view of the journal: `neutrino journal status|list|retry`."""

from __future__ import annotations

from sqlalchemy import select

from neutrino.db.engine import Database
from neutrino.db.models import JournalEntry
from neutrino.journal import claim
from neutrino.journal.stats import JournalStats, journal_stats


def status(db: Database, retry_horizon: float) -> JournalStats:
    return journal_stats(db, retry_horizon)


def list_entries(db: Database, state: str | None = None, resource_type: str | None = None,
                 limit: int = 100) -> list[dict[str, object]]:
    stmt = select(JournalEntry).order_by(JournalEntry.seq).limit(limit)
    if state:
        stmt = stmt.where(JournalEntry.state == state)
    if resource_type:
        stmt = stmt.where(JournalEntry.resource_type == resource_type)
    with db.read() as session:
        return [_summary(e) for e in session.scalars(stmt)]


def _summary(entry: JournalEntry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "operation": entry.operation,
        "state": entry.state,
        "attempts": entry.attempts,
        "claimed_by": entry.claimed_by,
        "created_at": str(entry.created_at),
        "next_attempt_at": str(entry.next_attempt_at),
        "last_error": entry.last_error,
    }


def retry(db: Database, seqs: list[int] | None) -> int:
    """Failed entries (these, or all) back to pending with fresh attempts."""
    with db.session() as session:
        return claim.retry_failed(session, seqs)
