"""Session fixtures shared by functional and end-to-end tests: a real local OVN, and a real
`neutrino serve` process on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pg_tools import new_database
from serve_tools import free_port, start_serve, stop_serve, throwaway_ovn

from neutrino.db.engine import Database, make_engine
from neutrino.db.migrate import upgrade
from neutrino.ovn.local import LocalOvn


@pytest.fixture(scope="session")
def local_ovn() -> Iterator[LocalOvn]:
    """One OVN for the whole session, shared by tests that only add rows of their own."""
    with throwaway_ovn("nov") as ovn:
        yield ovn


@dataclass(frozen=True)
class Served:
    url: str
    state_dir: Path
    ovn: LocalOvn


@pytest.fixture(scope="module")
def served(local_ovn: LocalOvn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`neutrino serve` as a real process (uvicorn, SQLite, journal workers)."""
    state = tmp_path_factory.mktemp("served")
    url, proc = start_serve(local_ovn, state, NEUTRINO_STARTUP_SYNC="off")
    try:
        yield Served(url, state, local_ovn)
    finally:
        stop_serve(proc)


@pytest.fixture()
def private_ovn() -> Iterator[LocalOvn]:
    """An OVN of the test's own, for tests that stop, freeze or wipe it, or sync against it
    (sync treats every neutrino-looking row as its business)."""
    with throwaway_ovn("nop") as ovn:
        yield ovn


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (Debian package postgresql)")
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a loopback port, for the session."""
    directory = Path(tempfile.mkdtemp(prefix="npg", dir="/tmp"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    bin_dir, port = _pg_bin(), free_port()
    run = lambda *argv: subprocess.run(_as_postgres(list(argv)), check=True,  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
        str(directory / "log"), "-w", "start")
    try:
        yield Postgres("127.0.0.1", port)
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture()
def pg_url(postgres: Postgres) -> str:
    """A fresh, empty database for one test."""
    return new_database(postgres)




@pytest.fixture()
def pg_db(pg_url: str) -> Iterator[Database]:
    """A fresh database for one test, migrated, with neutrino's engine."""
    db = Database(make_engine(pg_url))
    upgrade(db.engine)
    yield db
    db.engine.dispose()
