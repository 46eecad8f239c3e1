"""Writing journal entries, inside the resource's own SQL transaction (precommit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

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
    _notify_listeners(session)
    return entry


def _notify_listeners(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Delivered at commit to every node's listener; PostgreSQL folds repeats in one
        # transaction into one notification.
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


Parents = Mapping[ResourceType, Iterable[str]] | None


def record_entries(
    session: Session, entries: Sequence[tuple[ResourceType, str, Operation, Parents]]
) -> None:
    """`record_entry` for many entries at once, in the order given (a bulk create's): one
    multi-row INSERT of the entries and one of their dependencies, not an ORM object each.
    Entries the session still holds are flushed first, so that they keep their place."""
    if not entries:
        return
    session.flush()
    now = utcnow()
    rows = [{"resource_type": rtype.value, "resource_id": rid, "operation": operation.value,
             "state": State.PENDING.value, "attempts": 0, "next_attempt_at": now,
             "claimed_by": None, "claimed_at": None, "lease_expires_at": None,
             "last_error": None, "created_at": now, "updated_at": now}
            for rtype, rid, operation, _ in entries]
    # RETURNING in any order (asking for the parameters' order makes SQLAlchemy insert one
    # row a statement on SQLite): an entry's number is found by what it is about, and
    # entries about the same resource were numbered in the order given
    made: dict[tuple[str, str], list[int]] = {}
    connection = session.connection()  # flushed: the session's execute would only add cost
    for seq, rtype, rid in connection.execute(_NEW_ENTRIES, rows):
        made.setdefault((rtype, rid), []).append(seq)
    for seqs in made.values():
        seqs.sort(reverse=True)
    waits = []
    for rtype, rid, _, parents in entries:
        seq = made[rtype.value, rid].pop()
        waits.extend({"seq": seq, "resource_id": parent}
                     for parent in parent_ids(rtype, parents or {}))
    if waits:
        connection.execute(_NEW_DEPENDENCIES, waits)
    _notify_listeners(session)


_JOURNAL = JournalEntry.__table__
_NEW_ENTRIES = _JOURNAL.insert().returning(
    _JOURNAL.c.seq, _JOURNAL.c.resource_type, _JOURNAL.c.resource_id)
_NEW_DEPENDENCIES = JournalDependency.__table__.insert()
