"""A sync's second look at the journal names every suspect resource in one statement: with
100,000 ports missing from NB (a full repair of a wiped NB) that was 100,000 bound
parameters, past PostgreSQL's limit of 65,535, and the repair failed."""

from __future__ import annotations

import uuid
from typing import Any, cast

from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.db.models import JournalEntry
from neutrino.sync.runner import SyncRunner

SUSPECTS = 70_000


def test_the_journal_marks_of_more_resources_than_a_statement_takes_parameters(
        pg_db: Database):
    now = utcnow()
    ids = [str(uuid.uuid4()) for _ in range(SUSPECTS)]
    with pg_db.engine.begin() as conn:
        rows = conn.execute(JournalEntry.__table__.insert().returning(
            JournalEntry.__table__.c.seq), [
            {"resource_type": "port", "resource_id": rid, "operation": "create",
             "state": "completed", "attempts": 0, "next_attempt_at": now,
             "created_at": now, "updated_at": now} for rid in ids[::2]]).scalars().all()
    nothing = cast(Any, None)  # the marks only read the database
    marks = SyncRunner(pg_db, nothing, nothing)._journal_marks(set(ids))
    assert len(marks) == SUSPECTS // 2
    assert {seq for found in marks.values() for seq, _state in found} == set(rows)
    assert {state for found in marks.values() for _seq, state in found} == {"completed"}
