"""A claim behind a large backlog (issue 15): it reads the entries it looks at, not the
backlog; it looks past entries that wait, a bounded number at a time, and still reaches
every entry; and PostgreSQL's statistics follow a journal that grows fast.

With 73,700 entries pending and the journal never analysed, PostgreSQL planned the claim's
anti-joins as a hash of every unfinished entry for each pending entry: a claim ran for
minutes and the API's `/healthz` with it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from neutrino.clock import utcnow
from neutrino.db import statistics
from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.db.models import JournalDependency, JournalEntry
from neutrino.journal import claim
from neutrino.journal.stats import journal_stats

JOURNAL = JournalEntry.__table__
DEPENDENCIES = JournalDependency.__table__
BACKLOG = 20_000


def _entries(db: Database, rows: list[tuple[str, str, str]],
             parents: list[str] | None = None) -> list[int]:
    """Entries (type, id, state) written as they are, each waiting for `parents`; their
    seqs. Distinct `created_at`s: no two are one request's."""
    now = utcnow()
    values = [{"resource_type": rtype, "resource_id": rid, "operation": "create",
               "state": state, "attempts": 0, "next_attempt_at": now, "claimed_by": None,
               "claimed_at": None, "lease_expires_at": None, "last_error": None,
               "created_at": now + timedelta(microseconds=i), "updated_at": now}
              for i, (rtype, rid, state) in enumerate(rows)]
    seqs: list[int] = []
    with db.engine.begin() as conn:
        for start in range(0, len(values), 5000):
            made = [r[0] for r in conn.execute(JOURNAL.insert().returning(JOURNAL.c.seq),
                                               values[start:start + 5000])]
            if parents:
                conn.execute(DEPENDENCIES.insert(), [{"seq": seq, "resource_id": parent}
                                                     for seq in made for parent in parents])
            seqs += made
    return sorted(seqs)


def _ports(count: int, state: str) -> list[tuple[str, str, str]]:
    return [("port", str(uuid.uuid4()), state) for _ in range(count)]


def _backlog(db: Database) -> None:
    """A network and a group, applied; BACKLOG ports of theirs applied, BACKLOG pending."""
    network, group = str(uuid.uuid4()), str(uuid.uuid4())
    _entries(db, [("network", network, "completed"), ("security_group", group, "completed")])
    _entries(db, _ports(BACKLOG, "completed"), [network, group])
    _entries(db, _ports(BACKLOG, "pending"), [network, group])


@pytest.fixture()
def lite(tmp_path: Path) -> Iterator[Database]:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'j.db'}"))
    upgrade(db.engine)
    yield db
    db.engine.dispose()


def _rows_read(session: Any) -> int:
    """Rows this transaction read from the journal's tables so far: by scans of the tables
    and through their indexes."""
    return int(session.execute(text(
        "SELECT coalesce(sum(seq_tup_read + idx_tup_fetch), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname IN ('journal', 'journal_dependencies')")).scalar_one())


def _changes_counted(db: Database, table: str, at_least: int) -> None:
    """Wait until PostgreSQL's statistics system has heard of the writes (a backend
    reports them when idle, within seconds)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.read() as session:
            changed = session.scalar(text(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table})
        if changed is not None and changed >= at_least:
            return
        time.sleep(0.2)
    pytest.fail(f"PostgreSQL did not count the writes to {table} within 30 s")


def test_a_grown_journal_is_analysed_and_a_claim_then_reads_what_it_claims(pg_db: Database):
    with pg_db.session() as session:  # autovacuum's analysis would come at any time, or not
        for table in ("journal", "journal_dependencies"):
            session.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    _backlog(pg_db)
    pg_db.engine.dispose()  # the writing backends report their writes as they end
    _changes_counted(pg_db, "journal", 2 * BACKLOG)
    _changes_counted(pg_db, "journal_dependencies", 4 * BACKLOG)
    stale = statistics.refresh(pg_db)
    assert {"journal", "journal_dependencies"} <= set(stale)
    assert "journal" not in statistics.refresh(pg_db)  # analysed: fresh until it changes again

    with pg_db.session() as session:
        before = _rows_read(session)
        claimed = claim.claim_batch(session, "w", 20, timedelta(seconds=60))
        read = _rows_read(session) - before
    assert len(claimed) == 20
    # A window of 256 entries, their 512 dependencies, the entries of those resources,
    # the 20 marked: about 1,100 rows. The anti-joins read every unfinished entry, 20,000
    # and more, for one claim.
    assert read < 2_000, read


def test_the_blocked_count_of_a_large_backlog_is_counted_a_window_at_a_time(pg_db: Database):
    """/healthz's count: every pending entry looked at, each window of them by index."""
    _backlog(pg_db)
    network = str(uuid.uuid4())
    _entries(pg_db, [("network", network, "failed")])
    _entries(pg_db, _ports(300, "pending"), [network])  # waiting for a failed network
    stats = journal_stats(pg_db)
    assert stats.pending == {"ready": BACKLOG, "backoff": 0, "blocked": 300, "stuck": 0}


def test_a_claim_looks_past_entries_that_wait(lite: Database):
    """Three windows of ports waiting for their network, which failed, then one free entry:
    the claim reaches it."""
    network = str(uuid.uuid4())
    _entries(lite, [("network", network, "failed")])
    _entries(lite, _ports(2 * claim.WINDOW + 100, "pending"), [network])
    [free] = _entries(lite, [("network", str(uuid.uuid4()), "pending")])
    with lite.session() as session:
        claimed = claim.claim_batch(session, "w", 10, timedelta(seconds=60))
    assert [e.seq for e in claimed] == [free]


def test_claims_past_a_long_wait_go_on_where_the_last_stopped(
        lite: Database, monkeypatch: pytest.MonkeyPatch):
    """Windows of 4, two a claim: 20 entries that wait, then a free one. A worker's claims
    look at the first window and then where its previous claim stopped, so its fifth claim
    reaches the free entry; claims that always start over never would."""
    monkeypatch.setattr(claim, "WINDOW", 4)
    monkeypatch.setattr(claim, "MAX_WINDOWS", 2)
    network = str(uuid.uuid4())
    _entries(lite, [("network", network, "failed")])
    _entries(lite, _ports(20, "pending"), [network])
    [free] = _entries(lite, [("network", str(uuid.uuid4()), "pending")])

    def claims(scan: claim.ClaimScan | None, count: int) -> list[list[int]]:
        found = []
        for _ in range(count):
            with lite.session() as session:
                claimed = claim.claim_batch(session, "w", 1, timedelta(seconds=60),
                                            scan=scan)
                found.append([e.seq for e in claimed])
                session.rollback()  # left pending, for the next claim
        return found

    assert claims(None, 6) == [[]] * 6
    scan = claim.ClaimScan()
    assert claims(scan, 5) == [[]] * 4 + [[free]]
