"""What the journal holds right now: for /metrics, /healthz and `neutrino journal status`.

Pending entries are told apart by why they wait, so that none can wait unseen: `ready`
(a worker may claim it now), `backoff` (due after a retry delay), `blocked` (due, but an
older unfinished entry it depends on comes first) and `stuck` (due further ahead than any
retry delay allows: a state no code path should produce, reported so it can never hide).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.db.models import JournalEntry
from neutrino.journal import blocking
from neutrino.journal.claim import pending_window
from neutrino.journal.types import State

# Beyond the longest retry delay plus this, a pending entry's due time cannot be right.
STUCK_SLACK = timedelta(minutes=5)
DEFAULT_HORIZON = 3600.0  # seconds: the longest retry delay when none is given
# The `blocked` count looks at every due pending entry for what it waits on, a window of
# COUNT_WINDOW entries at a time (as a claim does, see journal/blocking.py): about 10 µs an
# entry on SQLite, 100-150 ms with a backlog of 10,000. Polled often (a monitor, /healthz
# every 50 ms while a backlog drains) it took a core away from the drain. A count that
# cost at least BLOCKED_CHEAP is reused for BLOCKED_REUSE times its cost, so counting takes
# at most about a tenth of a core however often it is asked; a cheaper one (a journal of a
# few hundred entries) is counted afresh every time.
BLOCKED_CHEAP = 0.005  # seconds
BLOCKED_REUSE = 10
COUNT_WINDOW = 2000
_blocked_counts: weakref.WeakKeyDictionary[Any, tuple[float, int]] = (
    weakref.WeakKeyDictionary())  # engine → (reusable until, monotonic clock; the count)


@dataclass
class JournalStats:
    counts: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)  # ready / backoff / blocked / stuck
    oldest_pending_seconds: float = 0.0
    latest_due_in_seconds: float = 0.0  # how far ahead the furthest pending entry is due
    leases: dict[str, str] = field(default_factory=dict)  # worker → latest lease expiry

    @property
    def problems(self) -> list[str]:
        found = []
        if self.pending.get("stuck"):
            found.append(f"{self.pending['stuck']} pending entries are due further ahead "
                         "than any retry delay (see `neutrino journal list --state pending`)")
        if self.counts.get(State.FAILED.value):
            found.append(f"{self.counts[State.FAILED.value]} failed entries "
                         "(`neutrino journal list --state failed`, then `journal retry`)")
        return found

    def as_dict(self) -> dict[str, object]:
        return {"counts": self.counts, "pending": self.pending,
                "oldest_pending_seconds": self.oldest_pending_seconds,
                "latest_due_in_seconds": self.latest_due_in_seconds,
                "leases": self.leases, "problems": self.problems}


def journal_stats(db: Database, retry_horizon: float = DEFAULT_HORIZON) -> JournalStats:
    """`retry_horizon`: the longest retry delay (NEUTRINO_JOURNAL backoff_max)."""
    now = utcnow()
    with db.read() as session:
        counts = dict(session.execute(
            select(JournalEntry.state, func.count()).group_by(JournalEntry.state)).all())
        oldest, latest = session.execute(
            select(func.min(JournalEntry.created_at), func.max(JournalEntry.next_attempt_at))
            .where(JournalEntry.state == State.PENDING.value)).one()
        leases = session.execute(
            select(JournalEntry.claimed_by, func.max(JournalEntry.lease_expires_at))
            .where(JournalEntry.state == State.PROCESSING.value)
            .group_by(JournalEntry.claimed_by)).all()
        pending = _pending_by_reason(session, now, timedelta(seconds=retry_horizon))
    age = (now - oldest).total_seconds() if oldest else 0.0
    ahead = max((latest - now).total_seconds(), 0.0) if latest else 0.0
    return JournalStats({s.value: counts.get(s.value, 0) for s in State}, pending,
                        round(age, 3), round(ahead, 3),
                        {worker: str(expiry) for worker, expiry in leases})


def _pending_by_reason(session: Session, now: datetime, horizon: timedelta) -> dict[str, int]:
    """One pass over the pending entries for the due-time classes, and one for `blocked`
    (only due entries are looked at for what they wait on; a costly count is reused for a
    while, see BLOCKED_REUSE)."""
    entry = JournalEntry
    is_pending = entry.state == State.PENDING.value
    due = entry.next_attempt_at <= now
    is_stuck = entry.next_attempt_at > now + horizon + STUCK_SLACK

    def tally(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    due_count, stuck, waiting = session.execute(
        select(tally(due), tally(is_stuck), tally(~due)).where(is_pending)).one()
    engine = session.get_bind()
    reusable = _blocked_counts.get(engine)
    if reusable is not None and time.monotonic() < reusable[0]:
        held = min(reusable[1], due_count)
    else:
        started = time.monotonic()
        held = _count_waiting(session, now)
        cost = time.monotonic() - started
        if cost >= BLOCKED_CHEAP:
            _blocked_counts[engine] = (time.monotonic() + BLOCKED_REUSE * cost, held)
        else:
            _blocked_counts.pop(engine, None)
    return {"ready": due_count - held, "backoff": waiting - stuck, "blocked": held,
            "stuck": stuck}


def _count_waiting(session: Session, now: datetime) -> int:
    """How many due pending entries wait for an older unfinished one."""
    conn = session.connection()
    window = pending_window(False, COUNT_WINDOW, False)
    params: dict[str, Any] = {"now": now, "after": 0}
    held = 0
    while True:
        rows = window.rows(conn, params)
        held += len(blocking.judge(conn, rows).waits)
        if len(rows) < COUNT_WINDOW:
            return held
        params["after"] = rows[-1].seq


class JournalCollector:
    """Prometheus gauges read from the database at scrape time."""

    def __init__(self, db: Database, retry_horizon: float = DEFAULT_HORIZON) -> None:
        self.db = db
        self.retry_horizon = retry_horizon

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = journal_stats(self.db, self.retry_horizon)
        entries = GaugeMetricFamily("neutrino_journal_entries", "Journal entries by state",
                                    labels=["state"])
        for state, count in stats.counts.items():
            entries.add_metric([state], count)
        yield entries
        pending = GaugeMetricFamily(
            "neutrino_journal_pending_entries",
            "Pending journal entries by why they wait (ready, backoff, blocked, stuck)",
            labels=["reason"])
        for reason, count in stats.pending.items():
            pending.add_metric([reason], count)
        yield pending
        yield GaugeMetricFamily("neutrino_journal_oldest_pending_seconds",
                                "Age of the oldest pending journal entry",
                                value=stats.oldest_pending_seconds)
