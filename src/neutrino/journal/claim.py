"""Claiming entries for a worker, and settling them afterwards.

An entry is eligible when it is pending, due, and nothing older blocks it:
- an older unfinished entry about the same resource (one resource is applied in order);
- an older unfinished entry about a resource it waits for (see `dependencies`);
- for a delete, an older unfinished entry that waits for the deleted resource.
Newer pending entries of a claimed resource are claimed with it, in order, up to the first
that must wait (for a parent, its children or its backoff): the worker applies the resource's
current state once for all of them, and never a newer entry before an older one.
A batch that stops inside the entries one request recorded (a bulk create's, which share
their `created_at`) takes the rest of them too, up to a larger limit: a bulk reaches OVN in
one transaction, not in one per batch.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    delete,
    exists,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal.types import UNFINISHED, Operation, State
from neutrino.reconcile.prepared import Prepared
from neutrino.text import escaped

UNFINISHED_VALUES = [s.value for s in UNFINISHED]
JOURNAL: Table = JournalEntry.__table__  # type: ignore[assignment]
DEPENDENCIES: Table = JournalDependency.__table__  # type: ignore[assignment]
Rule = Callable[[Any], ColumnElement[bool]]


def _unfinished(entry: Any) -> ColumnElement[bool]:
    """The states written into the SQL: a list of values would be an "expanding" parameter,
    whose statement is rewritten on every run."""
    return entry.c.state.in_([literal_column(f"'{value}'") for value in UNFINISHED_VALUES])


def _built_once(rule: Rule) -> Rule:
    """Build the rule's expression for the journal table once and reuse it: building the
    aliases anew took most of a claim's time, and an expression is immutable (aliases of
    a caller's own are built each time)."""
    built = functools.cache(rule)

    @functools.wraps(rule)
    def wrapper(entry: Any) -> ColumnElement[bool]:
        return built(entry) if entry is JournalEntry else rule(entry)

    return wrapper


# The rules' own aliases are Core (tables, not mapped classes), so that a claim built on the
# journal table's columns is a Core statement (see `_claim_statements`); `entry` is the
# mapped class, an alias of it, or the table's columns.
@_built_once
def _blocked_by_parents(entry: Any) -> ColumnElement[bool]:
    other = JOURNAL.alias()
    dep = DEPENDENCIES.alias()
    return exists(
        select(1)
        .select_from(dep)
        .join(other, other.c.resource_id == dep.c.resource_id)
        .where(
            dep.c.seq == entry.seq,
            other.c.seq < entry.seq,
            _unfinished(other),
        )
    )


@_built_once
def _blocked_by_children(entry: Any) -> ColumnElement[bool]:
    other = JOURNAL.alias()
    dep = DEPENDENCIES.alias()
    return and_(
        entry.operation == Operation.DELETE.value,
        exists(
            select(1)
            .select_from(dep)
            .join(other, other.c.seq == dep.c.seq)
            .where(
                dep.c.resource_id == entry.resource_id,
                other.c.seq < entry.seq,
                _unfinished(other),
            )
        ),
    )


@_built_once
def _blocked_by_same_resource(entry: Any) -> ColumnElement[bool]:
    other = JOURNAL.alias()
    return exists(
        select(1).where(
            other.c.resource_id == entry.resource_id,
            other.c.seq < entry.seq,
            _unfinished(other),
        )
    )


def blocked(entry: type[JournalEntry] = JournalEntry) -> ColumnElement[bool]:
    """An entry waits for an older unfinished one: the claim rule, for reporting."""
    return (_blocked_by_same_resource(entry) | _blocked_by_parents(entry)
            | _blocked_by_children(entry))


# What a worker needs of a claimed entry: read as plain rows, not ORM objects (building and
# tracking those was a large part of a claim's time).
CLAIMED_COLUMNS = (JournalEntry.seq, JournalEntry.resource_type, JournalEntry.resource_id,
                   JournalEntry.operation, JournalEntry.created_at)


def claim_batch(
    session: Session, worker: str, limit: int, lease: timedelta, now: datetime | None = None,
    *, request_limit: int = 0,
) -> list[Row[Any]]:
    """Claim up to `limit` eligible resources (with their newer entries) for `worker`: rows
    of `CLAIMED_COLUMNS`, in order. With a `request_limit` above `limit`, a batch that stops
    inside one request's entries (same `created_at`) takes its eligible rest too, up to
    `request_limit` resources in all."""
    now = now or utcnow()
    conn = _connection(session)
    locking = conn.dialect.name == "postgresql"
    heads_stmt, followers_stmt, mark_stmt = _prepared_claim_statements(locking)
    heads: list[Any] = heads_stmt.rows(conn, {"now": now, "limit": limit})
    if not heads:
        return []
    if len(heads) == limit and request_limit > limit:
        heads += conn.execute(_request_rest_statement(locking), {
            "now": now, "limit": request_limit - limit,
            "created_at": heads[-1].created_at, "after": heads[-1].seq}).all()
    followed = [h for h in heads if h.followed]
    claimed = heads + (_followers(conn, followers_stmt, followed, now) if followed else [])
    mark_stmt.run(conn, {"seqs": [e.seq for e in claimed], "worker": worker,
                         "at": utcnow(), "expires": now + lease})
    return sorted(claimed, key=lambda e: e.seq)


@functools.cache
def _prepared_claim_statements(locking: bool) -> tuple[Prepared, Prepared, Prepared]:
    """`_claim_statements`, run on the driver's cursor (see `reconcile.prepared`)."""
    heads, followers, mark = _claim_statements(locking)
    return Prepared(heads), Prepared(followers, ("resource_ids",)), Prepared(mark, ("seqs",))


@functools.cache
def _claim_statements(locking: bool) -> tuple[Select[Any], Select[Any], Update]:
    """The claim's statements (eligible heads, their followers, marking them processing),
    built once with parameters: a claim only binds values, where building the statements
    and their cache keys anew took most of its time. Core statements, run on the session's
    connection: the rows are plain, with nothing for the ORM to do. A head tells whether
    newer entries of its resource are pending: most have none, and their claim reads no
    followers.

    `locking` (PostgreSQL): row locks that other workers skip over; SQLite has one writer
    anyway."""
    j = JOURNAL.c
    columns = [j[c.key] for c in CLAIMED_COLUMNS]
    now = bindparam("now", type_=j.next_attempt_at.type)
    newer = JOURNAL.alias()
    followed = exists(select(1).where(
        newer.c.resource_id == j.resource_id,
        newer.c.state == State.PENDING.value,
        newer.c.seq > j.seq,
    ))
    heads = select(*columns, followed.label("followed")).where(
        j.state == State.PENDING.value,
        j.next_attempt_at <= now,
        ~_blocked_by_same_resource(j),
        ~_blocked_by_parents(j),
        ~_blocked_by_children(j),
    ).order_by(j.seq).limit(bindparam("limit", type_=Integer()))
    # Each head's newer pending entries, in order, up to the first that must wait (for a
    # parent, for its children, or for its backoff): see `_followers`
    waits = _blocked_by_parents(j) | _blocked_by_children(j) | (j.next_attempt_at > now)
    followers = select(*columns, waits.label("waits")).where(
        j.state == State.PENDING.value,
        j.resource_id.in_(bindparam("resource_ids", expanding=True)),
    ).order_by(j.seq)
    if locking:
        heads = heads.with_for_update(skip_locked=True, of=JOURNAL)
        followers = followers.with_for_update(skip_locked=True, of=JOURNAL)
    mark = update(JOURNAL).where(j.seq.in_(bindparam("seqs", expanding=True))).values(
        state=State.PROCESSING.value,
        claimed_by=bindparam("worker", type_=j.claimed_by.type),
        claimed_at=bindparam("at", type_=j.claimed_at.type),
        lease_expires_at=bindparam("expires", type_=j.lease_expires_at.type),
        updated_at=bindparam("at", type_=j.updated_at.type),
    )
    return heads, followers, mark


@functools.cache
def _request_rest_statement(locking: bool) -> Select[Any]:
    """Eligible heads after `after` recorded at `created_at` (by the same request as the
    batch's last): the heads' statement, narrowed."""
    j = JOURNAL.c
    return _claim_statements(locking)[0].where(
        j.created_at == bindparam("created_at", type_=j.created_at.type),
        j.seq > bindparam("after", type_=Integer()))


def _followers(conn: Connection, stmt: Prepared, heads: Sequence[Any],
               now: datetime) -> list[Any]:
    """Each head's newer pending entries, in order, up to the first that must wait (for a
    parent, for its children, or for its backoff): one resource is applied in order, so an
    entry that waits holds back every newer one of its resource."""
    first_seq = {h.resource_id: h.seq for h in heads}
    taken: list[Any] = []
    held_back: set[str] = set()
    for row in stmt.rows(conn, {"resource_ids": list(first_seq), "now": now}):
        rid = row.resource_id
        if row.seq <= first_seq[rid] or rid in held_back:
            continue
        if row.waits:
            held_back.add(rid)
        else:
            taken.append(row)
    return taken


def _connection(session: Session) -> Connection:
    """The session's connection, for Core statements; what they would have autoflushed
    as ORM statements is flushed first."""
    session.flush()
    return session.connection()


def renew_claims(session: Session, workers: Sequence[str], expires: datetime,
                 claimed_after: datetime) -> int:
    """The heartbeat: the entries `workers` are processing stay theirs until `expires`,
    unless they claimed them before `claimed_after` (a worker that hangs loses them)."""
    result = session.execute(
        update(JournalEntry)
        .where(JournalEntry.state == State.PROCESSING.value,
               JournalEntry.claimed_by.in_(list(workers)),
               JournalEntry.claimed_at > claimed_after)
        .values(lease_expires_at=expires)
    )
    return result.rowcount or 0


def complete(session: Session, seqs: Iterable[int], worker: str | None = None) -> None:
    """Settle applied entries; with `worker`, only those it still holds (a worker whose
    lease ran out must not settle entries another worker has claimed since).

    A Core statement built once (see `_claim_statements`): entries the session holds as
    objects are not updated."""
    params: dict[str, Any] = {"seqs": list(seqs), "at": utcnow()}
    if not params["seqs"]:
        return  # nothing to settle (SQLAlchemy ran an UPDATE of no row)
    if worker is not None:
        params["worker"] = worker
    _prepared_complete(worker is not None).run(_connection(session), params)


@functools.cache
def _prepared_complete(held: bool) -> Prepared:
    return Prepared(_complete_statement(held), ("seqs",))


@functools.cache
def _complete_statement(held: bool) -> Update:
    j = JOURNAL.c
    stmt = update(JOURNAL).where(j.seq.in_(bindparam("seqs", expanding=True)))
    if held:
        stmt = stmt.where(j.claimed_by == bindparam("worker", type_=j.claimed_by.type),
                          j.state == State.PROCESSING.value)
    return stmt.values(
        state=State.COMPLETED.value,
        claimed_by=None,
        lease_expires_at=None,
        last_error=None,
        updated_at=bindparam("at", type_=j.updated_at.type),
    )


def retry_later(
    session: Session,
    seqs: Iterable[int],
    error: str,
    *,
    spend_attempt: bool,
    max_attempts: int,
    backoff_initial: float,
    backoff_max: float,
    worker: str | None = None,
) -> None:
    """Back to pending after a backoff, or `failed` once the attempts are spent.

    An unreachable backend does not spend an attempt: the entry did nothing wrong.
    """
    now = utcnow()
    stmt = select(JournalEntry).where(JournalEntry.seq.in_(list(seqs)))
    if worker is not None:
        stmt = stmt.where(JournalEntry.claimed_by == worker,
                          JournalEntry.state == State.PROCESSING.value)
    for entry in session.scalars(stmt):
        attempts = entry.attempts + (1 if spend_attempt else 0)
        entry.attempts = attempts
        # it may quote the very value (a NUL, a surrogate) that made the transaction fail
        entry.last_error = escaped(error)[:2000]
        entry.claimed_by = None
        entry.lease_expires_at = None
        entry.updated_at = now
        if attempts >= max_attempts:
            entry.state = State.FAILED.value
            continue
        entry.state = State.PENDING.value
        entry.next_attempt_at = now + timedelta(
            seconds=backoff_delay(attempts, backoff_initial, backoff_max)
        )


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter, so that retries of many entries spread out."""
    ceiling = min(maximum, initial * (2 ** max(attempt, 0)))
    return random.uniform(min(initial / 2, ceiling), ceiling)


def reclaim_expired(session: Session, now: datetime | None = None, *,
                    every_claim: bool = False) -> int:
    """Entries whose worker vanished (its lease ran out) go back to pending, due at once.

    `every_claim` reclaims unexpired claims too: for a journal only this process works on
    (SQLite), where whatever is still "processing" at start-up was left by a dead process.
    """
    now = now or utcnow()
    stmt = update(JournalEntry).where(JournalEntry.state == State.PROCESSING.value)
    if not every_claim:
        stmt = stmt.where(JournalEntry.lease_expires_at < now)
    result = session.execute(
        stmt.values(state=State.PENDING.value, claimed_by=None, lease_expires_at=None,
                    next_attempt_at=now, updated_at=now)
    )
    return result.rowcount or 0


def retry_failed(session: Session, seqs: Iterable[int] | None = None) -> int:
    """The operator's retry: failed entries (all, or these) become pending with fresh
    attempts."""
    stmt = update(JournalEntry).where(JournalEntry.state == State.FAILED.value)
    if seqs is not None:
        stmt = stmt.where(JournalEntry.seq.in_(list(seqs)))
    now = utcnow()
    result = session.execute(stmt.values(state=State.PENDING.value, attempts=0,
                                         next_attempt_at=now, updated_at=now))
    return result.rowcount or 0


def purge_completed(session: Session, older_than: datetime) -> int:
    result = session.execute(
        delete(JournalEntry).where(JournalEntry.state == State.COMPLETED.value,
                                   JournalEntry.updated_at < older_than)
    )
    return result.rowcount or 0
