"""Auditing the journal's dependency order after the fact, from the journal table (not a
test module).

A completed entry's `updated_at` is the moment it was settled (`claim.complete` sets it last)
and `claimed_at` the moment of its last claim, on whichever node. An entry waits for every
older entry of its own resource, of each resource it names as a parent, and (a delete) of
each entry that named it as a parent; the audit checks that each such older entry was
settled before the later one was claimed, or that both were claimed together (one batch,
one OVSDB transaction). Every node runs on this machine, so their clocks are one clock.
"""

from __future__ import annotations

from sqlalchemy import select

from neutrino.db.engine import Database
from neutrino.db.models import JournalDependency, JournalEntry


def dependency_pairs(db: Database) -> list[tuple[JournalEntry, JournalEntry]]:
    """(later, earlier): every pair where `later` had to wait for `earlier`."""
    with db.read() as session:
        entries = {e.seq: e for e in session.scalars(select(JournalEntry))}
        deps = session.execute(select(JournalDependency.seq, JournalDependency.resource_id)).all()
    by_resource: dict[str, list[JournalEntry]] = {}
    for entry in entries.values():
        by_resource.setdefault(entry.resource_id, []).append(entry)
    children: dict[str, list[int]] = {}
    for seq, parent in deps:
        children.setdefault(parent, []).append(seq)
    waits: list[tuple[JournalEntry, JournalEntry]] = []
    for seq, parent in deps:
        waits += [(entries[seq], p) for p in by_resource.get(parent, []) if p.seq < seq]
    for entry in entries.values():
        waits += [(entry, p) for p in by_resource[entry.resource_id] if p.seq < entry.seq]
        if entry.operation == "delete":
            waits += [(entry, entries[s]) for s in children.get(entry.resource_id, [])
                      if s < entry.seq]
    return waits


def assert_dependency_order(db: Database) -> int:
    """No entry was claimed before every older entry it depended on had been applied;
    returns how many such pairs were checked."""
    waits = dependency_pairs(db)
    assert waits, "the scenario produced no dependencies to check"
    for later, earlier in waits:
        same_claim = later.claimed_at == earlier.claimed_at
        assert same_claim or earlier.updated_at <= later.claimed_at, (
            f"{later.resource_type} {later.operation} seq {later.seq} claimed at "
            f"{later.claimed_at} before {earlier.resource_type} {earlier.operation} seq "
            f"{earlier.seq} was applied at {earlier.updated_at}")
    return len(waits)
