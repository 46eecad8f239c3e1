"""Statements built once and run for many ids: the fact loaders' hot path.

A statement object built at import time, with its ids as one expanding parameter (`IDS`),
costs SQLAlchemy only the binding of values when it runs: building a select(), coercing an
`in_()` list and generating the statement's cache key on every call (the ORM path) cost a
port's facts most of their time. Run on the session's connection, it returns plain rows
(SQLAlchemy Core), not ORM entities: the loaders only read values. It runs as a
`prepared.Prepared` statement, on the driver's cursor (SQLAlchemy's execution of even a
prebuilt statement was most of a port's facts' time).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from neutrino.reconcile.prepared import Prepared

CHUNK = 500  # ids per IN (...) list
IDS = "ids"


def ids_param() -> Any:
    """The expanding parameter a prebuilt statement's `in_()` takes its ids from."""
    return bindparam(IDS, expanding=True)


def chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """The ids, CHUNK at a time: what one IN (...) list of a fact loader holds."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def rows_for(db: Session | Connection, statement: Executable,
             ids: Iterable[str]) -> Iterator[Row]:
    """The rows of `statement` for these ids, CHUNK ids at a time (no statement for none),
    on `db`: a session's connection (a caller running several asks the session once)."""
    ordered = list(ids)
    if not ordered:
        return
    connection = db.connection() if isinstance(db, Session) else db
    prepared = _prepared(statement)
    for chunk in chunks(ordered):
        yield from prepared.rows(connection, {IDS: chunk})


@functools.cache
def _prepared(statement: Executable) -> Prepared:
    """The statement `rows_for` ran, prepared once."""
    return Prepared(statement, (IDS,))
