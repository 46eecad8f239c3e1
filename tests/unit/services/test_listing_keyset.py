"""The keyset builder: its ORDER BY, and "after this row" from every row, agree with the
API's in-memory sort for every mix of directions, with NULLs and ties, on SQLite."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from neutrino.db.models import Port, Subnet
from neutrino.services.keyset import after, order_by, sort_key
from neutrino.services.listing import sort_items, with_id

metadata = MetaData()
T = Table("t", metadata, Column("id", String, primary_key=True),
          Column("a", String, nullable=True), Column("b", Integer, nullable=True),
          Column("c", String, nullable=False), Column("d", Boolean, nullable=False))
# NULLs, ties on every key, case and non-ASCII text (code point order: 'B' < 'a' < 'é').
ROWS = [
    {"id": "01", "a": "a", "b": 1, "c": "x", "d": True},
    {"id": "02", "a": None, "b": 1, "c": "x", "d": False},
    {"id": "03", "a": "B", "b": None, "c": "y", "d": True},
    {"id": "04", "a": "a", "b": None, "c": "x", "d": False},
    {"id": "05", "a": None, "b": None, "c": "y", "d": True},
    {"id": "06", "a": "é", "b": 2, "c": "x", "d": True},
    {"id": "07", "a": "a", "b": 2, "c": "y", "d": False},
    {"id": "08", "a": "B", "b": 1, "c": "x", "d": False},
    {"id": "09", "a": None, "b": 2, "c": "x", "d": True},
    {"id": "10", "a": "a", "b": 1, "c": "y", "d": True},
]
SORTS = [
    (),
    (("id", False),),
    *((("a", d),) for d in (True, False)),
    *((("a", d1), ("b", d2)) for d1, d2 in itertools.product((True, False), repeat=2)),
    *((("b", d1), ("c", d2), ("a", d3))
      for d1, d2, d3 in itertools.product((True, False), repeat=3)),
    *((("d", d1), ("a", d2)) for d1, d2 in itertools.product((True, False), repeat=2)),
    (("c", True), ("id", False), ("a", True)),  # keys after `id` change nothing
]


@pytest.fixture(scope="module")
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(T.insert(), ROWS)
        yield connection


def _keys(sort: tuple[tuple[str, bool], ...]) -> list[Any]:
    return [sort_key(T.c[attr], ascending, "sqlite") for attr, ascending in with_id(sort)]


def _ids(conn: Connection, keys: list[Any], *where: Any) -> list[str]:
    return list(conn.execute(select(T.c.id).where(*where).order_by(*order_by(keys))).scalars())


@pytest.mark.parametrize("sort", SORTS, ids=str)
def test_order_by_is_the_in_memory_order(conn: Connection,
                                         sort: tuple[tuple[str, bool], ...]) -> None:
    expected = [d["id"] for d in sort_items([dict(r) for r in ROWS], sort)]
    assert _ids(conn, _keys(sort)) == expected


@pytest.mark.parametrize("sort", SORTS, ids=str)
def test_after_and_before_every_row(conn: Connection,
                                    sort: tuple[tuple[str, bool], ...]) -> None:
    keys = _keys(sort)
    backwards = [key.reversed() for key in keys]
    everything = _ids(conn, keys)
    for at, marker in enumerate(everything):
        values = conn.execute(select(*(k.expr for k in keys)).where(T.c.id == marker)).one()
        assert _ids(conn, keys, after(keys, values)) == everything[at + 1:], marker
        assert _ids(conn, backwards, after(backwards, values)) == everything[:at][::-1], marker


def test_not_null_columns_keep_plain_order_by_and_comparisons() -> None:
    """No NULLS FIRST / IS NULL on NOT NULL columns, so that an index can serve the order."""
    keys = [sort_key(Port.name, False, "sqlite"), sort_key(Port.id, False, "sqlite")]
    compiled = str(select(Port.id).where(after(keys, ("n", "i"))).order_by(*order_by(keys))
                   .compile(dialect=sqlite.dialect()))
    assert "NULL" not in compiled
    assert compiled.endswith("ORDER BY ports.name DESC, ports.id DESC")


def test_nullable_columns_place_nulls_as_python_does() -> None:
    keys = [sort_key(Subnet.gateway_ip, True, "sqlite"),
            sort_key(Subnet.gateway_ip, False, "sqlite")]
    compiled = str(select(Subnet.id).order_by(*order_by(keys)).compile(dialect=sqlite.dialect()))
    assert compiled.endswith("ORDER BY subnets.gateway_ip ASC NULLS FIRST, "
                             "subnets.gateway_ip DESC NULLS LAST")


def test_postgresql_compares_text_by_code_point() -> None:
    keys = [sort_key(Subnet.cidr, True, "postgresql"),
            sort_key(Subnet.ip_version, True, "postgresql")]
    compiled = str(select(Subnet.id).order_by(*order_by(keys))
                   .compile(dialect=postgresql.dialect()))
    assert compiled.endswith('ORDER BY subnets.cidr COLLATE "C" ASC, subnets.ip_version ASC')


def test_after_a_null_descending_is_nothing_more_of_that_key(conn: Connection) -> None:
    """Descending, NULL is last: after ('05': a NULL, b NULL) comes only what ties on a."""
    keys = _keys((("a", False), ("b", False)))
    assert _ids(conn, keys, after(keys, (None, None, "05"))) == []
    assert _ids(conn, keys, after(keys, (None, 2, "09"))) == ["02", "05"]
