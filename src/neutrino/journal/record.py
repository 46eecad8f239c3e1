"""Writing journal entries, inside the resource's own SQL transaction (precommit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal.dependencies import parent_ids
from neutrino.journal.types import Operation, ResourceType, State

NOTIFY_CHANNEL = "neutrino_journal"


def record_entry(
    session: Session,
    resource_type: ResourceType,
    resource_id: str,
    operation: Operation,
    parents: Mapping[ResourceType, Iterable[str]] | None = None,
) -> JournalEntry:
    now = utcnow()
    entry = JournalEntry(
        resource_type=resource_type.value,
        resource_id=resource_id,
        operation=operation.value,
        state=State.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    for rid in parent_ids(resource_type, parents or {}):
        entry.depends_on.append(JournalDependency(resource_id=rid))
    session.add(entry)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit to every node's listener; PostgreSQL folds repeats in one
        # transaction into one notification.
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return entry
