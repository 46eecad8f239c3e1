"""Engines and transactions, and the border where SQLAlchemy errors become domain errors.

SQLite (the embedded default) allows one writer at a time: write transactions start with
BEGIN IMMEDIATE so that concurrent writers queue on the database lock instead of failing
half-way (the classic "database is locked" upgrade deadlock of deferred transactions).

Which failures are a lost race is decided from the driver's error code, never its message:
- PostgreSQL (READ COMMITTED) sees other transactions' commits between two statements, so a
  unique or foreign key violation can be a race: a value chosen as free was committed by
  someone else meanwhile, or a parent was deleted. So are serialization failures and
  deadlocks. The transaction is run again; its reads then see the winner's row. A rerun that
  hits the very same violation again did not lose a race (it ignores the row it collides
  with), and the request fails with a Conflict rather than with ServiceUnavailable after
  every retry.
- SQLite writers run one at a time (BEGIN IMMEDIATE), so a constraint violation there is never
  a race; only "busy" and "locked" are.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from neutrino import errors

LOG = logging.getLogger(__name__)
T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 60_000


class RetryableConflict(Exception):
    """A transaction lost a race (unique key, serialization); running it again may succeed.

    `violation` names the integrity violation it hit, if any: the same one twice in a row is
    not a race.
    """

    def __init__(self, message: str, violation: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.violation = violation


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
        # database to the next writer as soon as it is free; between processes (the API's
        # and the journal's, `neutrino sync`) a lock on a file beside the database does.
        self._write_lock = WriteLock() if self.is_sqlite else None
        path = engine.url.database if self.is_sqlite else None
        self._file_lock = (FileLock(f"{path}.writers") if path and path != ":memory:"
                           else None)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with mapped_db_errors(), self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def session(self, urgent: bool = False,
                urgent_after: float | None = None) -> Iterator[Session]:
        """One write transaction, committed on success (no retry).

        `urgent` (the journal workers' claims and settlements, a few ms each) goes before
        the API's writers waiting for SQLite: behind a queue of them, a committed entry
        would wait for every one of their transactions before reaching OVN. `urgent_after`
        (seconds): wait in turn, but go before the others once waited that long.
        """
        if self._write_lock is None:
            with mapped_db_errors(), self._writer() as session, session.begin():
                yield session
            return
        # between processes there is no queue to jump, only the writer of the other
        # process: a journal worker that may go first in its process goes first there too
        first = urgent or urgent_after is not None
        with self._write_lock.held(urgent, urgent_after), self._held_file(first), \
                mapped_db_errors(), self._writer() as session, session.begin():
            yield session

    def _held_file(self, first: bool) -> contextlib.AbstractContextManager[None]:
        return (contextlib.nullcontext() if self._file_lock is None
                else self._file_lock.held(first))

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in one write transaction; rerun it when it lost a race."""
        previous: tuple[str, ...] | None = None
        for attempt in range(self._max_retries):
            try:
                with self.session() as session:
                    return fn(session)
            except RetryableConflict as exc:
                if exc.violation is not None and exc.violation == previous:
                    raise errors.Conflict(f"The request conflicts with an existing resource "
                                          f"({exc.violation[1]}).") from exc
                previous = exc.violation
                LOG.debug("transaction lost a race, retrying (attempt %d)", attempt + 1)
                # Jitter, so that the losers of one race do not meet again in the next.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))
        raise errors.ServiceUnavailable("The request conflicted with concurrent requests; retry.")


class WriteLock:
    """One writer at a time; a waiting urgent writer goes before every waiting ordinary one,
    and ordinary ones are served in turn (Condition waiters are woken first in, first out)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._urgent = threading.Condition(self._mutex)
        self._ordinary = threading.Condition(self._mutex)
        self._held = False
        self._urgent_waiting = 0
        self._ordinary_waiting = 0

    @property
    def waiting(self) -> tuple[int, int]:
        """(urgent, ordinary) writers waiting now."""
        with self._mutex:
            return self._urgent_waiting, self._ordinary_waiting

    @contextlib.contextmanager
    def held(self, urgent: bool = False, urgent_after: float | None = None) -> Iterator[None]:
        """`urgent_after`: an ordinary writer that waited this long becomes urgent."""
        self._acquire(urgent, urgent_after)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, urgent: bool, urgent_after: float | None = None) -> None:
        with self._mutex:
            if not urgent:
                urgent = not self._wait_ordinary(urgent_after)
            if urgent:
                self._urgent_waiting += 1
                try:
                    while self._held:
                        self._urgent.wait()
                finally:
                    self._urgent_waiting -= 1
            self._held = True

    def _wait_ordinary(self, urgent_after: float | None) -> bool:
        """Wait in turn (the mutex held); False when `urgent_after` ran out first.

        A waiter leaving after its time out may have taken the notification of a release:
        it then finds the lock free and takes it, or finds it held by one who notifies again.
        """
        deadline = None if urgent_after is None else time.monotonic() + urgent_after
        self._ordinary_waiting += 1
        try:
            while self._held or self._urgent_waiting:
                if deadline is None:
                    self._ordinary.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ordinary.wait(remaining)
            return True
        finally:
            self._ordinary_waiting -= 1

    def _release(self) -> None:
        with self._mutex:
            self._held = False
            # every release wakes one waiter: the one woken re-checks, and a waiter that
            # finds the lock taken again is woken by that holder's release
            if self._urgent_waiting:
                self._urgent.notify()
            else:
                self._ordinary.notify()


class FileLock:
    """An exclusive lock between processes, on a file: a waiter sleeps in the kernel and
    wakes as soon as the holder lets go (SQLite's own busy handler sleeps and polls).

    A writer that goes `first` holds a second file, the gate, from before it waits until it
    is done; the others pass through the gate before they wait. So once a first writer
    waits, the others wait behind it: it waits for the holder and at most one writer that
    passed the gate just before, never for a stream of them.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @contextlib.contextmanager
    def held(self, first: bool = False) -> Iterator[None]:
        # opened for each use (some microseconds): a Database has no close that would
        # give kept descriptors back, and closing one releases its lock whatever happens
        with _opened(f"{self.path}-gate") as gate:
            fcntl.flock(gate, fcntl.LOCK_EX)
            if not first:
                fcntl.flock(gate, fcntl.LOCK_UN)
            with _opened(self.path) as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                yield


@contextlib.contextmanager
def _opened(path: str) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        yield fd
    finally:
        os.close(fd)


# SQLSTATEs (PostgreSQL appendix A) of a statement that may have lost a race.
PG_UNIQUE_VIOLATION = "23505"
PG_FOREIGN_KEY_VIOLATION = "23503"
PG_SERIALIZATION_FAILURE = "40001"
PG_DEADLOCK_DETECTED = "40P01"
PG_RACES = {PG_UNIQUE_VIOLATION, PG_FOREIGN_KEY_VIOLATION, PG_SERIALIZATION_FAILURE,
            PG_DEADLOCK_DETECTED}
# SQLite primary result codes (the low byte of the extended code) of a writer that waited.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
# SQLite extended result codes of a duplicate key.
SQLITE_CONSTRAINT_UNIQUE = 2067
SQLITE_CONSTRAINT_PRIMARYKEY = 1555


@contextlib.contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs meanwhile, from every session: what a hot path costs
    in round trips, for the benchmarks and the tests that hold those costs down."""
    seen: list[str] = []
    with _noting(engine, lambda statement, _parameters: seen.append(statement)):
        yield seen


@contextlib.contextmanager
def statements_and_parameters_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """`statements_run`, each with the parameters it ran with: to run it again (EXPLAIN)."""
    seen: list[tuple[str, Any]] = []
    with _noting(engine, lambda statement, parameters: seen.append((statement, parameters))):
        yield seen


@contextlib.contextmanager
def _noting(engine: Engine, note: Callable[[str, Any], None]) -> Iterator[None]:
    def listener(_conn, _cursor, statement, parameters, *_args) -> None:  # type: ignore[no-untyped-def]
        note(statement, parameters)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@contextlib.contextmanager
def mapped_db_errors() -> Iterator[None]:
    """Translate SQLAlchemy failures into domain errors, keeping the cause."""
    try:
        yield
    except IntegrityError as exc:
        if _is_retryable(exc):
            raise RetryableConflict(str(exc.orig), _violation(exc)) from exc
        if _sqlite_code(exc) in (SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY):
            raise errors.Conflict(f"The request conflicts with an existing resource "
                                  f"({exc.orig}).") from exc
        raise
    except OperationalError as exc:
        if _is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        raise errors.ServiceUnavailable(f"Database error: {exc.orig}") from exc
    except DBAPIError as exc:
        if _is_retryable(exc):
            raise RetryableConflict(str(exc.orig)) from exc
        raise


def _is_retryable(exc: DBAPIError) -> bool:
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        return sqlstate in PG_RACES
    code = _sqlite_code(exc)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)  # psycopg (3)


def _sqlite_code(exc: DBAPIError) -> int | None:
    return getattr(exc.orig, "sqlite_errorcode", None)  # sqlite3, Python 3.11+


def _violation(exc: DBAPIError) -> tuple[str, ...] | None:
    """Which constraint, for which key: what tells one integrity violation from another."""
    diag = getattr(exc.orig, "diag", None)
    if diag is None or _sqlstate(exc) not in (PG_UNIQUE_VIOLATION, PG_FOREIGN_KEY_VIOLATION):
        return None
    return (str(_sqlstate(exc)), str(diag.constraint_name), str(diag.message_detail))
