"""`reconcile.prepared.Prepared`: a Core statement compiled once per dialect and count of
expanding values, run on the driver's cursor (the journal's hot path, issue 15), gives what
SQLAlchemy's execution gives: the same rows with the same conversions (datetimes bound and
read, booleans, JSON), the same count of changed rows, SQLAlchemy's error types, and the
engine's statement listeners hear it. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, bindparam, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from neutrino.db.engine import Database, make_engine, statements_run
from neutrino.db.migrate import upgrade
from neutrino.db.models import JournalEntry, Network
from neutrino.reconcile.prepared import Prepared

J = JournalEntry.__table__.c
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)  # no microseconds: stored as SQLAlchemy does


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (f"sqlite:///{tmp_path / 'p.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    engine = make_engine(url)
    upgrade(engine)
    yield Database(engine)
    engine.dispose()


def _entries(db: Database, count: int) -> list[int]:
    with db.session() as s:
        conn = s.connection()
        return [conn.execute(insert(JournalEntry.__table__).values(
            resource_type="port", resource_id=str(uuid.uuid4()), operation="create",
            state="pending", attempts=0, next_attempt_at=NOW + datetime.timedelta(seconds=i),
            created_at=NOW, updated_at=NOW)).inserted_primary_key[0] for i in range(count)]


def test_rows_and_changes_are_those_sqlalchemy_gives(db: Database):
    seqs = _entries(db, 3)
    with db.session() as s:
        s.add(Network(id="n1", name="n", project_id="p", mtu=1442, admin_state_up=False,
                      availability_zone_hints=["az1", "az2"], created_at=NOW, updated_at=NOW))
    statement = (select(J.seq, J.resource_id, J.next_attempt_at, J.created_at,
                        literal("x").label("fixed"))
                 .where(J.seq.in_(bindparam("seqs", expanding=True)),
                        J.next_attempt_at <= bindparam("now", type_=J.next_attempt_at.type))
                 .order_by(J.seq).limit(bindparam("limit", type_=Integer())))
    prepared = Prepared(statement, ("seqs",))
    networks = select(Network.id, Network.admin_state_up, Network.availability_zone_hints,
                      Network.mtu).where(Network.id.in_(bindparam("ids", expanding=True)))
    with statements_run(db.engine) as seen, db.read() as s:
        conn = s.connection()
        for count in (1, 3, 2, 3):  # each count of seqs compiled once, then reused
            values = {"seqs": seqs[:count], "now": NOW + datetime.timedelta(seconds=1),
                      "limit": 5}
            got = prepared.rows(conn, values)
            assert got == conn.execute(statement, values).all()
            assert [r._asdict() for r in got] == \
                [r._asdict() for r in conn.execute(statement, values)]
        assert isinstance(got[0].next_attempt_at, datetime.datetime)
        (row,) = Prepared(networks, ("ids",)).rows(conn, {"ids": ["n1"]})
        assert row == ("n1", False, ["az1", "az2"], 1442)
        assert row.admin_state_up is False
    assert len(prepared._compiled) == 3
    assert sum("journal.seq IN" in q or "journal.seq = ANY" in q for q in seen) == 12, seen
    mark = Prepared(update(JournalEntry.__table__)
                    .where(J.seq.in_(bindparam("seqs", expanding=True)))
                    .values(claimed_by=bindparam("worker", type_=J.claimed_by.type),
                            updated_at=bindparam("at", type_=J.updated_at.type)), ("seqs",))
    with db.session() as s:
        assert mark.run(s.connection(), {"seqs": seqs[:2], "worker": "w",
                                         "at": NOW + datetime.timedelta(hours=1)}) == 2
    with db.read() as s:
        assert s.execute(select(J.seq, J.claimed_by, J.updated_at).order_by(J.seq)).all() == [
            (seqs[0], "w", NOW + datetime.timedelta(hours=1)),
            (seqs[1], "w", NOW + datetime.timedelta(hours=1)), (seqs[2], None, NOW)]


def test_a_driver_error_is_sqlalchemys(db: Database):
    seqs = _entries(db, 2)
    clash = Prepared(update(JournalEntry.__table__).where(J.seq == bindparam("from_seq"))
                     .values(seq=bindparam("to_seq")))
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        clash.run(conn, {"from_seq": seqs[0], "to_seq": seqs[1]})


def test_a_value_rendered_into_the_sql_is_refused(db: Database):
    statement = select(J.seq).where(J.seq == bindparam("seq", literal_execute=True))
    with pytest.raises(ValueError, match="literal_execute"), db.read() as s:
        Prepared(statement).rows(s.connection(), {"seq": 1})
