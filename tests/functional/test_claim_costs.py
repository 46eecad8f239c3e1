"""What a journal worker's claim and settlement cost (issue 15): building their statements
took most of the worker's time outside translation, so they are built once and a call only
binds values; and a resource with no newer pending entries is claimed without looking for
them. Counted in statements and statement objects, which are exact, not in time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.sql import ClauseElement

from neutrino.db.engine import Database, make_engine, statements_run
from neutrino.db.migrate import upgrade
from neutrino.journal.claim import claim_batch, complete
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    upgrade(engine)
    yield Database(engine)
    engine.dispose()


def _claim_and_settle(db: Database) -> tuple[list[str], list[ClauseElement]]:
    """A network's entry recorded, then claimed and settled in one transaction (as the
    worker's loop does): the SQL run, and the statement objects executed."""
    with db.session() as session:
        record_entry(session, ResourceType.NETWORK, str(uuid.uuid4()), Operation.CREATE)
    executed: list[ClauseElement] = []

    def note(_conn, element, *_args) -> None:  # type: ignore[no-untyped-def]
        if isinstance(element, ClauseElement):
            executed.append(element)

    event.listen(db.engine, "before_execute", note)
    try:
        with statements_run(db.engine) as seen, db.session() as session:
            claimed = claim_batch(session, "w", 10, timedelta(seconds=60))
            assert len(claimed) == 1
            complete(session, [e.seq for e in claimed], "w")
    finally:
        event.remove(db.engine, "before_execute", note)
    return [sql.split()[0] for sql in seen], executed


def test_a_claim_and_its_settlement_reuse_their_statements_and_read_no_followers(
        db: Database):
    first_sql, first = _claim_and_settle(db)
    second_sql, second = _claim_and_settle(db)
    # the oldest pending entries, their parents, the oldest unfinished entries of those and
    # of their own resources (journal/blocking.py), marking them processing, settling them:
    # no look for newer entries of a resource that has none
    assert first_sql == second_sql == ["BEGIN", "SELECT", "SELECT", "SELECT", "UPDATE",
                                       "UPDATE"]
    # compiled once and run on the driver's cursor (reconcile.prepared): no statement goes
    # through SQLAlchemy's execution, which built an execution context and hashed the
    # statement's cache key at every run
    assert first == second == []


def test_a_claim_marks_a_head_and_its_followers_and_nothing_else(db: Database):
    """A head and its newer entries are claimed together, marked once, in order; what the
    batch has no room for stays pending."""
    network, port = str(uuid.uuid4()), str(uuid.uuid4())
    with db.session() as session:
        first = record_entry(session, ResourceType.NETWORK, network, Operation.CREATE)
        newer = record_entry(session, ResourceType.NETWORK, network, Operation.UPDATE)
        record_entry(session, ResourceType.PORT, port, Operation.CREATE)
    with db.session() as session:
        claimed = claim_batch(session, "w", 1, timedelta(seconds=60))
    assert [e.seq for e in claimed] == [first.seq, newer.seq]
    with db.session() as session:
        rows = session.execute(text("SELECT seq, state, claimed_by FROM journal")).all()
    assert {seq: (state, by) for seq, state, by in rows} == {
        first.seq: ("processing", "w"), newer.seq: ("processing", "w"),
        first.seq + 2: ("pending", None)}
