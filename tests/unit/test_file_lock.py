"""SQLite's one-writer lock between processes (the API's and its journal process's): a
journal worker that goes first in its process is not starved by the other process's
writers, which come one after another."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from neutrino.db.engine import FileLock


def _held_by_another(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock it took
    return False


def test_a_first_writer_goes_before_the_holders_next_write(tmp_path: Path) -> None:
    # on one CPU the woken worker cannot run before the API's thread takes the lock again,
    # as on a busy machine: without the gate it would wait for all of the API's writes
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        _first_writer_goes_first(tmp_path)
    finally:
        os.sched_setaffinity(0, cpus)


def _first_writer_goes_first(tmp_path: Path) -> None:
    # each FileLock opens its own files: as good as another process for flock
    path = tmp_path / "db.writers"
    api, journal = FileLock(str(path)), FileLock(str(path))
    order: list[str] = []

    def worker() -> None:
        with journal.held(first=True):
            order.append("journal")

    with api.held():
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 10
        while not _held_by_another(Path(f"{path}-gate")):  # the worker waits, gate held
            assert time.monotonic() < deadline
            time.sleep(0.001)
        order.append("api")
    # the API's next writes, one after another at once: without the gate they would take
    # the lock back before the waiting worker woke up
    for _ in range(20):
        with api.held():
            order.append("api again")
    thread.join(timeout=10)
    assert order[:3] == ["api", "journal", "api again"]


def test_ordinary_writers_exclude_each_other(tmp_path: Path) -> None:
    path = str(tmp_path / "db.writers")
    inside = 0
    most = 0
    guard = threading.Lock()

    def write(lock: FileLock) -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock.held():
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0002)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=write, args=(FileLock(path),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most == 1


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_database_keeps_no_descriptor_of_its_lock_files(tmp_path: Path) -> None:
    # a test session builds hundreds of databases: kept descriptors pushed new sockets past
    # the 1,024 that select() can watch, and the OVSDB connections failed
    from sqlalchemy import text

    from neutrino.db.engine import Database, make_engine

    before = _open_descriptors()
    for i in range(20):
        db = Database(make_engine(f"sqlite:///{tmp_path / f'{i}.db'}"))
        with db.session() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        db.engine.dispose()
    assert _open_descriptors() == before
