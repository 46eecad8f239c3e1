"""Which database failures `Database.write` reruns, decided by error code, on real databases.

PostgreSQL errors are raised with PL/pgSQL `RAISE ... USING ERRCODE`, so the code and the
message can disagree: only the code may decide.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import Database, make_engine

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("name", String(20), nullable=False))


class Attempts:
    """A transaction body that fails its first `failures` runs with `fail`."""

    def __init__(self, fail, failures: int = 1) -> None:
        self.fail, self.failures, self.calls = fail, failures, 0

    def __call__(self, session: Session) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            self.fail(session)
        return "done"


@pytest.fixture()
def pg(pg_url: str) -> Iterator[Database]:
    db = Database(make_engine(pg_url), max_retries=5)
    yield db
    db.engine.dispose()


def _raise(sqlstate: str, message: str, extra: str = "") -> Callable[[Session], object]:
    sql = f"DO $$ BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '{sqlstate}'{extra}; END $$"
    return lambda session: session.execute(text(sql))


@pytest.mark.parametrize(("sqlstate", "message"), [
    ("40001", "the transaction is fine"),       # serialization_failure
    ("40P01", "nothing happened"),              # deadlock_detected
    ("23505", "all good"),                      # unique_violation: maybe a lost race
    ("23503", "all good"),                      # foreign_key_violation: parent deleted
])
def test_postgresql_races_are_rerun(pg, sqlstate, message):
    body = Attempts(_raise(sqlstate, message))
    assert pg.write(body) == "done"
    assert body.calls == 2


@pytest.mark.parametrize(("sqlstate", "expected"), [
    ("P0001", DBAPIError),      # raise_exception, whatever its message says
    ("23502", IntegrityError),  # not_null_violation: a bug, not a race
    ("23514", IntegrityError),  # check_violation
])
def test_postgresql_other_failures_are_not_rerun(pg, sqlstate, expected):
    body = Attempts(_raise(sqlstate, "deadlock detected: could not serialize, database is "
                                     "locked"), failures=5)
    with pytest.raises(expected):
        pg.write(body)
    assert body.calls == 1


def test_postgresql_same_violation_twice_is_a_conflict(pg):
    same = _raise("23505", "duplicate key", ", CONSTRAINT = 'uniq_things_name', "
                  "DETAIL = 'Key (name)=(a) already exists.'")
    body = Attempts(same, failures=5)
    with pytest.raises(errors.Conflict, match="uniq_things_name"):
        pg.write(body)
    assert body.calls == 2


def test_postgresql_different_violations_are_rerun(pg):
    keys = iter("abcd")
    body = Attempts(lambda s: _raise("23505", "duplicate key", ", CONSTRAINT = 'uniq_x', "
                                     f"DETAIL = 'Key (name)=({next(keys)}) exists.'")(s),
                    failures=3)
    assert pg.write(body) == "done"
    assert body.calls == 4


@pytest.fixture()
def lite(tmp_path: Path) -> Iterator[Database]:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"), max_retries=5)
    metadata.create_all(db.engine)
    with db.session() as session:
        session.execute(insert(things).values(id=1, name="one"))
    yield db
    db.engine.dispose()


def test_sqlite_duplicate_key_is_a_conflict_at_once(lite):
    """SQLite runs one writer at a time: a duplicate key is never a lost race."""
    body = Attempts(lambda s: s.execute(insert(things).values(id=1, name="again")),
                    failures=5)
    with pytest.raises(errors.Conflict):
        lite.write(body)
    assert body.calls == 1


def test_sqlite_not_null_is_not_rerun(lite):
    body = Attempts(lambda s: s.execute(insert(things).values(id=2, name=None)), failures=5)
    with pytest.raises(IntegrityError):
        lite.write(body)
    assert body.calls == 1


def test_sqlite_busy_is_rerun(tmp_path):
    path = tmp_path / "busy.sqlite"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    metadata.create_all(engine)
    db = Database(engine, max_retries=500)  # ample: a loaded machine may fire the timer late
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock...
    release = threading.Timer(0.3, blocker.rollback)  # ...for a while
    release.start()
    calls = []

    def write(session: Session) -> str:
        calls.append(1)
        session.execute(insert(things).values(id=7, name="x"))  # busy while the lock is held
        return "done"

    try:
        assert db.write(write) == "done"
    finally:
        release.join()
        blocker.close()
        engine.dispose()
    assert len(calls) >= 2
