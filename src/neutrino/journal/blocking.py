"""Which of a few hundred journal entries must wait for an older unfinished one.

The rules are those of `claim` (its module says them): an entry waits while an older
entry about its own resource, about one of its parents, or (a delete) one that named it as
a parent, is unfinished. They are told here by a few statements that each read one table
through an index, over the given entries' seqs and resource ids, and decided in Python:
each costs the entries asked about, whatever the backlog behind them.

Written as anti-joins in one statement, the planner chose how to read the rules. With
20,000 entries pending, the statement for a claim's first 200 ran in 5 ms given statistics
(index lookups, EXPLAIN ANALYZE); without them (a backlog grown faster than autovacuum
looks at the tables) PostgreSQL hashed every unfinished entry once for each pending entry,
and ran it in 64 s. `/healthz`'s count of the same rules took 204 s.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Table, func, literal_column, select

from neutrino.db.among import among, each, values
from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal.types import UNFINISHED, Operation, State
from neutrino.reconcile.prepared import Prepared

JOURNAL: Table = JournalEntry.__table__  # type: ignore[assignment]
DEPENDENCIES: Table = JournalDependency.__table__  # type: ignore[assignment]


class Entry(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def resource_id(self) -> str: ...
    @property
    def operation(self) -> str: ...


@dataclass(frozen=True)
class Verdict:
    waits: frozenset[int]  # the entries that must wait, by seq
    followed: frozenset[int]  # entries with a newer pending entry about their resource


def judge(conn: Connection, entries: Sequence[Entry], *, own_resource: bool = True
          ) -> Verdict:
    """What waits among `entries` (pending ones). Without `own_resource`, an older entry
    about the entry's own resource does not count (the claim's followers: their older
    entries are claimed with them)."""
    if not entries:
        return Verdict(frozenset(), frozenset())
    dialect = conn.dialect.name
    statements = _prepared(dialect)
    parents: dict[int, list[str]] = {}
    seqs = values([e.seq for e in entries], dialect)
    for seq, joined in statements.parents.rows(conn, {"seqs": seqs}):
        if joined:
            parents[seq] = joined.split(",")
    named = {e.resource_id for e in entries} | {p for ps in parents.values() for p in ps}
    first: dict[str, int] = {}
    newest_pending: dict[str, int] = {}
    for rid, oldest, newest in statements.unfinished.rows(
            conn, {"ids": values(sorted(named), dialect)}):
        if oldest is not None:
            first[rid] = oldest
        if newest is not None:
            newest_pending[rid] = newest
    deletes = {e.resource_id for e in entries if e.operation == Operation.DELETE.value}
    first_dependent = dict(statements.dependents.rows(
        conn, {"ids": values(sorted(deletes), dialect)})) if deletes else {}
    waits: set[int] = set()
    for e in entries:
        older = [first.get(p) for p in parents.get(e.seq, ())]
        if own_resource:
            older.append(first.get(e.resource_id))
        if e.resource_id in deletes:
            older.append(first_dependent.get(e.resource_id))
        if any(seq is not None and seq < e.seq for seq in older):
            waits.add(e.seq)
    followed = {e.seq for e in entries if newest_pending.get(e.resource_id, 0) > e.seq}
    return Verdict(frozenset(waits), frozenset(followed))


@dataclass(frozen=True)
class _Statements:
    parents: Prepared
    unfinished: Prepared
    dependents: Prepared


def _unfinished(table: Any) -> Any:
    """The states written into the SQL: a list of values would be an "expanding" parameter,
    whose statement is rewritten on every run."""
    return table.c.state.in_([literal_column(f"'{s.value}'") for s in UNFINISHED])


@functools.cache
def _prepared(dialect: str) -> _Statements:
    """The statements for `dialect`: each list of values is one parameter (`db.among`)."""
    j, d = JOURNAL.c, DEPENDENCIES.c
    # Each value is asked about on its own, so that its rows are found through an index
    # whatever the planner's statistics say: given a list of them to match, PostgreSQL read
    # every unfinished entry, or every dependency, when that looked cheaper.
    # Each entry's parents (the dependencies' primary key), joined in one string: ids are
    # UUIDs.
    seqs = each("seqs", dialect, integers=True)
    joined = (func.string_agg if dialect == "postgresql" else func.group_concat)(
        d.resource_id, literal_column("','"))
    parents = select(seqs.c.value.label("seq"), select(joined).where(
        d.seq == seqs.c.value).scalar_subquery().label("parents")).select_from(seqs)
    # each resource's oldest unfinished entry, and its newest pending one (the index on
    # (resource_id, state))
    ids = each("ids", dialect)
    oldest = select(
        ids.c.value.label("resource_id"),
        select(func.min(j.seq)).where(
            j.resource_id == ids.c.value, _unfinished(JOURNAL)).scalar_subquery().label("first"),
        select(func.max(j.seq)).where(
            j.resource_id == ids.c.value,
            j.state == literal_column(f"'{State.PENDING.value}'"),
        ).scalar_subquery().label("newest_pending"),
    ).select_from(ids)
    # each deleted resource's oldest unfinished entry that named it as a parent: the index
    # on the dependencies' resource_id, then the journal's primary key
    dependents = select(d.resource_id, func.min(j.seq)).select_from(
        DEPENDENCIES.join(JOURNAL, j.seq == d.seq)).where(
        among(d.resource_id, "ids", dialect), _unfinished(JOURNAL),
    ).group_by(d.resource_id)
    return _Statements(Prepared(parents), Prepared(oldest), Prepared(dependents))
