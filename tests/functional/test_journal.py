"""The journal on a real SQLite database: ordering, collapsing, retries, batch splitting.

The reconciler is replaced by a fake with the same `apply(refs)` interface, so that these
tests see exactly which resources each OVSDB transaction would have carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from neutrino import errors
from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.db.models import JournalEntry
from neutrino.journal.claim import claim_batch, complete
from neutrino.journal.record import record_entries, record_entry
from neutrino.journal.types import Operation, ResourceRef, ResourceType, State
from neutrino.journal.wakeup import Wakeup
from neutrino.journal.worker import JournalWorker
from neutrino.metrics import Metrics
from neutrino.ovn.vtep_client import VtepUnavailable
from neutrino.settings import JournalSettings

NET, SUB, PORT = ResourceType.NETWORK, ResourceType.SUBNET, ResourceType.PORT


class FakeReconciler:
    def __init__(self, failing: set[str] = frozenset(), unavailable: bool = False) -> None:
        self.batches: list[list[ResourceRef]] = []
        self.failing = set(failing)
        self.unavailable = unavailable

    def desired(self, refs: Sequence[ResourceRef], session: object = None) -> list[None]:
        return [None] * len(refs)  # nothing to read: `apply` decides

    def apply(self, refs: Sequence[ResourceRef], states: object = None) -> list[object]:
        if self.unavailable:
            raise errors.BackendUnavailable("NB down")
        if any(ref.id in self.failing for ref in refs):
            raise RuntimeError("OVSDB Error: constraint violation")
        self.batches.append(list(refs))
        return []


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    upgrade(engine)
    return Database(engine)


def _record(db: Database, rtype, rid: str, op=Operation.CREATE, parents=None) -> None:
    with db.session() as session:
        record_entry(session, rtype, rid, op, parents or {})


def _claim_ids(db: Database, limit: int = 100) -> list[str]:
    with db.session() as session:
        return [e.resource_id for e in claim_batch(session, "t", limit, timedelta(seconds=60))]


def _worker(db: Database, reconciler, **settings) -> JournalWorker:
    js = JournalSettings(backoff_initial=0.0, backoff_max=0.0, **settings)
    return JournalWorker(db, reconciler, js, Wakeup(), Metrics())  # type: ignore[arg-type]


def _states(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {e.resource_id: e.state for e in session.scalars(select(JournalEntry))}


def test_children_wait_for_parents_and_deletes_go_in_reverse(db):
    _record(db, NET, "n1")
    _record(db, SUB, "s1", parents={NET: ["n1"]})
    _record(db, PORT, "p1", parents={NET: ["n1"], SUB: ["s1"]})
    _record(db, NET, "n2")
    assert _claim_ids(db) == ["n1", "n2"]
    assert _claim_ids(db) == []  # the subnet waits while its network is processing

    worker = _worker(db, FakeReconciler())
    with db.session() as session:  # settle n1 and n2 as the worker would
        complete(session, [e.seq for e in session.scalars(select(JournalEntry))
                           if e.resource_id in ("n1", "n2")])
    assert _claim_ids(db) == ["s1"]
    assert worker.run_once() == 0  # s1 is claimed above and still processing

    _record(db, PORT, "p1", Operation.DELETE, {NET: ["n1"], SUB: ["s1"]})
    _record(db, NET, "n2", Operation.DELETE)
    _record(db, NET, "n1", Operation.DELETE)
    # n2's delete is free; n1's waits for the unfinished port entries that name it.
    assert _claim_ids(db) == ["n2"]


def test_pending_updates_of_one_resource_collapse_into_one_write(db):
    _record(db, NET, "n1")
    for _ in range(5):
        _record(db, NET, "n1", Operation.UPDATE)
    reconciler = FakeReconciler()
    assert _worker(db, reconciler).run_once() == 6
    assert reconciler.batches == [[ResourceRef(NET, "n1")]]
    assert set(_states(db).values()) == {State.COMPLETED.value}


def _bulk(db: Database, ids: Sequence[str], parents=None) -> None:
    """Entries one request records together (a bulk create's): one `created_at`."""
    with db.session() as session:
        record_entries(session, [(PORT, rid, Operation.CREATE, parents) for rid in ids])


def test_a_bulk_goes_to_ovn_in_one_batch_beyond_the_batch_size(db):
    _record(db, NET, "n1")
    assert _worker(db, FakeReconciler()).run_once() == 1
    _bulk(db, [f"b{i:03}" for i in range(450)], {NET: ["n1"]})
    for i in range(3):  # one request each: batches of batch_size, as before
        _record(db, PORT, f"s{i}", parents={NET: ["n1"]})
    reconciler = FakeReconciler()
    worker = _worker(db, reconciler, batch_size=200, bulk_batch_size=1000)
    assert worker.run_once() == 450
    assert worker.run_once() == 3
    assert [len(b) for b in reconciler.batches] == [450, 3]
    assert [r.id for r in reconciler.batches[0]] == [f"b{i:03}" for i in range(450)]
    assert set(_states(db).values()) == {State.COMPLETED.value}


def test_a_bulk_batch_stops_at_its_limit_and_at_what_must_wait(db):
    _record(db, PORT, "x")
    assert _claim_ids(db, limit=1) == ["x"]  # another worker's, still processing
    with db.session() as session:
        record_entries(session, [(PORT, "a0", Operation.CREATE, None),
                                 (PORT, "x", Operation.UPDATE, None),
                                 *[(PORT, f"a{i}", Operation.CREATE, None) for i in (1, 2)]])
    _bulk(db, ["b0", "b1"])
    reconciler = FakeReconciler()
    worker = _worker(db, reconciler, batch_size=1, bulk_batch_size=3)
    while worker.run_once():
        pass
    # x's update waits for its create; the second batch's last head is the second
    # request's, whose rest it takes
    assert [[r.id for r in b] for b in reconciler.batches] == [
        ["a0", "a1", "a2"], ["b0", "b1"]]


def test_a_newer_entry_never_rides_ahead_of_an_older_one_that_waits(db):
    """Found by the three-node test: a port's newer update was claimed with the port's
    head while an older update, waiting for a parent, stayed behind."""
    from neutrino.clock import utcnow

    _record(db, PORT, "p1")
    _record(db, SUB, "s1")  # unfinished, so the port's next entry waits for it
    _record(db, PORT, "p1", Operation.UPDATE, {SUB: ["s1"]})
    _record(db, PORT, "p1", Operation.UPDATE)  # nothing to wait for of its own
    _record(db, PORT, "p2")
    _record(db, PORT, "p2", Operation.UPDATE)
    _record(db, PORT, "p2", Operation.UPDATE)
    with db.session() as session:  # ...and one in backoff holds back the ones after it
        *_, backoff, _newest = session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
        backoff.next_attempt_at = utcnow() + timedelta(seconds=30)
    with db.session() as session:
        claimed = claim_batch(session, "t", 100, timedelta(seconds=60))
    seqs = {rid: [e.seq for e in claimed if e.resource_id == rid] for rid in ("p1", "p2")}
    assert seqs == {"p1": [1], "p2": [5]}


def test_a_bad_entry_is_isolated_and_fails_after_max_attempts(db):
    for i in range(8):
        _record(db, NET, f"n{i}")
    _record(db, SUB, "s-of-bad", parents={NET: ["n5"]})
    reconciler = FakeReconciler(failing={"n5"})
    worker = _worker(db, reconciler, max_attempts=3)
    worker.run_once()
    applied = {ref.id for batch in reconciler.batches for ref in batch}
    assert applied == {f"n{i}" for i in range(8)} - {"n5"}
    for _ in range(5):
        worker.run_once()
    states = _states(db)
    assert states["n5"] == State.FAILED.value
    assert states["s-of-bad"] == State.PENDING.value  # blocked only by what it depends on
    with db.read() as session:
        bad = session.scalars(select(JournalEntry).where(JournalEntry.resource_id == "n5")).one()
        assert bad.attempts == 3 and "constraint violation" in bad.last_error


def test_unreachable_ovn_spends_no_attempts(db):
    _record(db, NET, "n1")
    reconciler = FakeReconciler(unavailable=True)
    worker = _worker(db, reconciler, max_attempts=2)
    for _ in range(4):
        worker.run_once()
    with db.read() as session:
        entry = session.scalars(select(JournalEntry)).one()
        assert entry.state == State.PENDING.value and entry.attempts == 0
    reconciler.unavailable = False
    assert worker.run_once() == 1
    assert _states(db) == {"n1": State.COMPLETED.value}


def test_start_up_reclaim_makes_a_dead_process_claims_due_now(db):
    """A SIGKILLed process leaves its batch "processing"; the next one on the same SQLite
    journal takes every claim back, due at once (a bug once made them due in 1,000 years)."""
    _record(db, NET, "n1")
    _record(db, NET, "n2")
    assert _claim_ids(db) == ["n1", "n2"]  # claimed, lease not yet expired

    from neutrino.maintenance.jobs import reclaim_orphans
    assert reclaim_orphans(db) == 2
    with db.read() as session:
        for entry in session.scalars(select(JournalEntry)):
            assert entry.state == State.PENDING.value and entry.claimed_by is None
            assert entry.next_attempt_at <= entry.updated_at
    assert _claim_ids(db) == ["n1", "n2"]


def test_expired_leases_are_reclaimed_and_live_ones_kept(db):
    from neutrino.clock import utcnow
    from neutrino.journal.claim import reclaim_expired

    _record(db, NET, "n1")
    assert _claim_ids(db) == ["n1"]
    with db.session() as session:
        assert reclaim_expired(session) == 0  # the lease still runs
        later = utcnow() + timedelta(seconds=61)
        assert reclaim_expired(session, later) == 1
        entry = session.scalars(select(JournalEntry)).one()
        assert entry.next_attempt_at == later


def test_stats_tell_why_each_pending_entry_waits(db):
    from neutrino.clock import utcnow
    from neutrino.journal.stats import journal_stats

    _record(db, NET, "ready")
    _record(db, NET, "parent")
    _record(db, SUB, "blocked", parents={NET: ["parent"]})
    _record(db, NET, "later")
    _record(db, NET, "stranded")
    with db.session() as session:
        entries = {e.resource_id: e for e in session.scalars(select(JournalEntry))}
        entries["parent"].state = State.FAILED.value
        entries["later"].next_attempt_at = utcnow() + timedelta(seconds=30)
        entries["stranded"].next_attempt_at = utcnow() + timedelta(days=365 * 1000)
    stats = journal_stats(db, retry_horizon=60)
    assert stats.pending == {"ready": 1, "backoff": 1, "blocked": 1, "stuck": 1}
    assert stats.latest_due_in_seconds > 3600 * 24 * 365
    assert any("due further ahead" in p for p in stats.problems)
    assert any("1 failed" in p for p in stats.problems)


def _blocked_counts_run(db: Database, calls: int) -> int:
    from neutrino.db.engine import statements_run
    from neutrino.journal.stats import journal_stats

    with statements_run(db.engine) as seen:
        for _ in range(calls):
            journal_stats(db, retry_horizon=60)
    # a count of a few entries: one window, whose parents are read once
    return sum(1 for sql in seen if "string_agg" in sql or "group_concat" in sql)


def test_a_costly_blocked_count_is_reused_for_a_while(db, monkeypatch):
    """Polled every 50 ms with 10,000 entries pending, the `blocked` count (100-150 ms on
    SQLite) took a core away from the drain it reported on: a costly one is reused for
    BLOCKED_REUSE times its cost; a cheap one is made afresh every time."""
    from neutrino.journal import stats

    _record(db, NET, "parent")
    _record(db, SUB, "child", parents={NET: ["parent"]})
    monkeypatch.setattr(stats, "BLOCKED_CHEAP", float("inf"))  # every count is cheap
    assert _blocked_counts_run(db, 3) == 3  # counted afresh every time
    monkeypatch.setattr(stats, "BLOCKED_CHEAP", 0.0)  # every count is costly
    monkeypatch.setattr(stats, "BLOCKED_REUSE", 10**6)
    assert _blocked_counts_run(db, 3) == 1
    assert stats.journal_stats(db, retry_horizon=60).pending["blocked"] == 1
    monkeypatch.setattr(stats, "BLOCKED_REUSE", 0)  # reused no longer than it cost
    stats._blocked_counts.clear()
    assert _blocked_counts_run(db, 2) == 2


def test_an_error_quoting_a_poison_value_is_stored_readably(db):
    from neutrino.journal.claim import retry_later

    _record(db, NET, "n1")
    assert _claim_ids(db) == ["n1"]
    with db.session() as session:
        seq = session.scalars(select(JournalEntry.seq)).one()
        retry_later(session, [seq], "refused: name 'a\x00b\ud800'", spend_attempt=True,
                    max_attempts=5, backoff_initial=0, backoff_max=0)
    with db.read() as session:
        error = session.scalars(select(JournalEntry.last_error)).one()
    assert "\x00" not in error and "a\\u0000b\\ud800" in error


class VtepDownReconciler:
    """NB is fine; the VTEP database the connection needs is down (as Reconciler says it)."""

    def desired(self, refs: Sequence[ResourceRef], session: object = None) -> list[None]:
        return [None] * len(refs)  # nothing to read: `apply` decides

    def apply(self, refs: Sequence[ResourceRef], states: object = None) -> list[object]:
        waiting = [ref for ref in refs if ref.type == ResourceType.L2_GATEWAY_CONNECTION]
        if waiting:
            raise VtepUnavailable("VTEP ps1 down", waiting)
        return []


def test_a_down_vtep_database_holds_only_the_entries_that_need_it(db):
    _record(db, ResourceType.L2_GATEWAY_CONNECTION, "c1")
    _record(db, NET, "n1")
    assert _worker(db, VtepDownReconciler()).run_once() == 2
    states = _states(db)
    assert states["n1"] == State.COMPLETED.value
    assert states["c1"] == State.PENDING.value
    with db.read() as session:
        waiting = session.scalars(select(JournalEntry).where(
            JournalEntry.resource_id == "c1")).one()
        assert waiting.attempts == 0  # an outage spends no attempt
