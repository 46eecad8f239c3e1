"""Engines and transactions, and the border where SQLAlchemy errors become domain errors.

SQLite (the embedded default) allows one writer at a time: write transactions start with
BEGIN IMMEDIATE so that concurrent writers queue on the database lock instead of failing
half-way (the classic "database is locked" upgrade deadlock of deferred transactions).
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from neutrino import errors

LOG = logging.getLogger(__name__)
T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 60_000


class RetryableConflict(Exception):
    """A transaction lost a race (unique key, serialization); running it again may succeed."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        mode = "IMMEDIATE" if conn.get_execution_options().get("write", True) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """Hands out sessions; `write` runs a function in one transaction, retrying lost races."""

    def __init__(self, engine: Engine, max_retries: int = 50) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = sessionmaker(engine.execution_options(write=True), expire_on_commit=False)
        self._reader = sessionmaker(engine.execution_options(write=False), expire_on_commit=False)
        self._max_retries = max_retries
        # SQLite has one writer at a time and its busy handler polls with sleeps of up to
        # 100 ms, which starves waiting writers under load. In one process a lock hands the
        # database to the next writer as soon as it is free.
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with mapped_db_errors(), self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One write transaction, committed on success (no retry)."""
        with self._write_lock, mapped_db_errors(), self._writer() as session, session.begin():
            yield session

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in one write transaction; rerun it when it lost a race."""
        for attempt in range(self._max_retries):
            try:
                with self.session() as session:
                    return fn(session)
            except RetryableConflict:
                LOG.debug("transaction lost a race, retrying (attempt %d)", attempt + 1)
                # Jitter, so that the losers of one race do not meet again in the next.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))
        raise errors.ServiceUnavailable("The request conflicted with concurrent requests; retry.")


@contextlib.contextmanager
def mapped_db_errors() -> Iterator[None]:
    """Translate SQLAlchemy failures into domain errors, keeping the cause."""
    try:
        yield
    except IntegrityError as exc:
        raise RetryableConflict(str(exc.orig)) from exc
    except OperationalError as exc:
        if _is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        raise errors.ServiceUnavailable(f"Database error: {exc.orig}") from exc
    except DBAPIError as exc:
        if _is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        raise


def _is_retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("database is locked", "deadlock", "could not serialize"))
