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

A claim reads the oldest due pending entries a window at a time and asks `blocking` which
of them wait, by index lookups over those entries only: its cost is that of the window, not
of the backlog (see `blocking` for what one statement of anti-joins cost instead).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    Update,
    bindparam,
    delete,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.among import among, values
from neutrino.db.models import JournalEntry
from neutrino.journal import blocking
from neutrino.journal.types import State
from neutrino.reconcile.prepared import Prepared
from neutrino.text import escaped

JOURNAL: Table = JournalEntry.__table__  # type: ignore[assignment]
# A claim looks at the oldest due pending entries this many at a time (more when it wants
# more), and at no more than MAX_WINDOWS of them: what it costs does not grow with the
# backlog. Where the first windows hold only entries that wait, the next claim goes on
# from where this one stopped (see `ClaimScan`).
WINDOW = 256
MAX_WINDOWS = 8

# What a worker needs of a claimed entry: read as plain rows, not ORM objects (building and
# tracking those was a large part of a claim's time).
CLAIMED_COLUMNS = (JournalEntry.seq, JournalEntry.resource_type, JournalEntry.resource_id,
                   JournalEntry.operation, JournalEntry.created_at)


@dataclass
class ClaimScan:
    """Where a worker's last claim stopped looking, when it looked at MAX_WINDOWS windows
    of entries that wait without reaching the newest pending entry: its next claim looks at
    the oldest window again (what waited there is the likeliest to be free now), then goes
    on from here. Back at 0 once a claim reaches the newest entry, so every pending entry
    is looked at again within a bounded number of claims, however many wait before it."""

    resume_after: int = 0


def claim_batch(
    session: Session, worker: str, limit: int, lease: timedelta, now: datetime | None = None,
    *, request_limit: int = 0, scan: ClaimScan | None = None,
) -> list[Any]:
    """Claim up to `limit` eligible resources (with their newer entries) for `worker`: rows
    of `CLAIMED_COLUMNS`, in order. With a `request_limit` above `limit`, a batch that stops
    inside one request's entries (same `created_at`) takes its eligible rest too, up to
    `request_limit` resources in all. `scan`: the worker's own, kept between its claims."""
    now = now or utcnow()
    conn = _connection(session)
    locking = conn.dialect.name == "postgresql"
    heads, followed = _eligible(conn, locking, now, limit, scan or ClaimScan())
    if not heads:
        return []
    if len(heads) == limit and request_limit > limit:
        rest, more_followed = _eligible(
            conn, locking, now, request_limit - limit, ClaimScan(),
            after=heads[-1].seq, created_at=heads[-1].created_at)
        heads += rest
        followed |= more_followed
    tails = [h for h in heads if h.seq in followed]
    claimed = heads + (_followers(conn, tails, now) if tails else [])
    _prepared_mark().run(conn, {"seqs": [e.seq for e in claimed], "worker": worker,
                                "at": utcnow(), "expires": now + lease})
    return sorted(claimed, key=lambda e: e.seq)


def _eligible(conn: Connection, locking: bool, now: datetime, wanted: int, scan: ClaimScan,
              *, after: int = 0, created_at: datetime | None = None
              ) -> tuple[list[Any], set[int]]:
    """Up to `wanted` of the oldest due pending entries that wait for nothing, after seq
    `after` (and recorded at `created_at`, when given), with those of them that have newer
    pending entries."""
    size = max(wanted, WINDOW)
    statement = pending_window(locking, size, created_at is not None)
    params: dict[str, Any] = {"now": now, "after": after}
    if created_at is not None:
        params["created_at"] = created_at
    taken: list[Any] = []
    followed: set[int] = set()
    for looked in range(1, MAX_WINDOWS + 1):
        rows = statement.rows(conn, params)
        verdict = blocking.judge(conn, rows)
        for row in rows:
            if row.seq in verdict.waits:
                continue
            taken.append(row)
            if row.seq in verdict.followed:
                followed.add(row.seq)
            if len(taken) == wanted:
                if looked > 1:
                    scan.resume_after = row.seq
                return taken, followed
        if len(rows) < size:  # the newest pending entry was in this window
            scan.resume_after = 0
            return taken, followed
        params["after"] = rows[-1].seq
        if looked == 1:
            params["after"] = max(params["after"], scan.resume_after)
    scan.resume_after = params["after"]
    return taken, followed


@functools.cache
def pending_window(locking: bool, size: int, one_request: bool) -> Prepared:
    """The oldest `size` due pending entries after `after` (recorded at `created_at`: one
    request's), on the index on (state, seq). The limit is written into the SQL:
    PostgreSQL plans a statement it has prepared for any limit (a generic plan) as if it
    returned a tenth of the table.

    `locking` (PostgreSQL): row locks that other workers skip over; SQLite has one writer
    anyway. The window's entries that wait are locked too, until the claim commits."""
    j = JOURNAL.c
    pending = literal_column(f"'{State.PENDING.value}'")
    statement = select(*(j[c.key] for c in CLAIMED_COLUMNS)).where(
        # The state as a range of one value, and the order by state then seq: only the
        # index on (state, seq) gives that order, so it is read, from the window's start to
        # its end. Told `state = 'pending'`, PostgreSQL read the primary key in order
        # instead, through every completed entry older than the oldest pending one (it
        # knew how many entries are pending, not that they come last).
        j.state.between(pending, pending),
        j.next_attempt_at <= bindparam("now", type_=j.next_attempt_at.type),
        j.seq > bindparam("after", type_=Integer()),
    )
    if one_request:
        statement = statement.where(
            j.created_at == bindparam("created_at", type_=j.created_at.type))
    statement = statement.order_by(j.state, j.seq).limit(literal_column(str(int(size))))
    if locking:
        statement = statement.with_for_update(skip_locked=True, of=JOURNAL)
    return Prepared(statement)


@functools.cache
def _prepared_mark() -> Prepared:
    j = JOURNAL.c
    mark = update(JOURNAL).where(j.seq.in_(bindparam("seqs", expanding=True))).values(
        state=State.PROCESSING.value,
        claimed_by=bindparam("worker", type_=j.claimed_by.type),
        claimed_at=bindparam("at", type_=j.claimed_at.type),
        lease_expires_at=bindparam("expires", type_=j.lease_expires_at.type),
        updated_at=bindparam("at", type_=j.updated_at.type),
    )
    return Prepared(mark, ("seqs",))


@functools.cache
def _followers_statement(dialect: str) -> Prepared:
    """The pending entries of some resources, in order, with their due time (locked as the
    window's are)."""
    j = JOURNAL.c
    statement = select(*(j[c.key] for c in CLAIMED_COLUMNS), j.next_attempt_at).where(
        j.state == literal_column(f"'{State.PENDING.value}'"),
        among(j.resource_id, "resource_ids", dialect),
    ).order_by(j.seq)
    if dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=JOURNAL)
    return Prepared(statement)


def _followers(conn: Connection, heads: Sequence[Any], now: datetime) -> list[Any]:
    """Each head's newer pending entries, in order, up to the first that must wait (for a
    parent, for its children, or for its backoff): one resource is applied in order, so an
    entry that waits holds back every newer one of its resource."""
    first_seq = {h.resource_id: h.seq for h in heads}
    dialect = conn.dialect.name
    rows = _followers_statement(dialect).rows(
        conn, {"resource_ids": values(list(first_seq), dialect)})
    newer = [row for row in rows if row.seq > first_seq[row.resource_id]]
    waits = blocking.judge(conn, newer, own_resource=False).waits
    taken: list[Any] = []
    held_back: set[str] = set()
    for row in newer:
        rid = row.resource_id
        if rid in held_back:
            continue
        if row.seq in waits or row.next_attempt_at > now:
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
