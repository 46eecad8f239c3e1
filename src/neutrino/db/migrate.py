"""Running Alembic migrations from code: `neutrino db upgrade`, start-up and tests."""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from neutrino.db.engine import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
MIGRATION_LOCK = 0x6E65757472  # any constant shared by all nodes


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's options go through ConfigParser, where "%" starts an interpolation: an
    # encoded password or socket path in the URL must reach it escaped.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision. Migration `NNNN_<name>.py` is revision "NNNN", and
    each one's down revision is the file before it in number order (a unit test holds every
    file to that: tests/unit/test_migration_files.py), so the head is the highest number."""
    return max(path.name[:4] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def at_head(engine: Engine) -> bool:
    """Whether the database is at the newest revision already (false for a new one)."""
    try:
        with engine.execution_options(write=False).connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(found) == [head_revision()]
    except DBAPIError:  # no alembic_version table: nothing was ever migrated
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    # A server restarting on its own database finds it at head: asking Alembic would cost
    # a start-up a third of a second (importing it and every migration) to learn that.
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Nodes starting together queue here; PostgreSQL DDL is transactional, so the
            # later ones find the schema already at head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def migrated(url: str) -> bool:
    """`at_head` for a database named by its URL, on an engine of its own (disposed)."""
    engine = make_engine(url)
    try:
        return at_head(engine)
    finally:
        engine.dispose()


def upgrade_apart(url: str) -> None:
    """`upgrade`, for a process that lives on (`neutrino serve`): a database not at head is
    migrated by a forked child, so that Alembic and every migration are imported there and
    go with it. Imported in the server, they stayed for good: about 15 MB of a first
    start's RSS (bench/README.md, "Session 11"). In this process when it runs threads
    already, which a fork would copy in whatever state they are."""
    if migrated(url):
        return
    if threading.active_count() > 1:
        upgrade(make_engine(url))
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            upgrade(make_engine(url))
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"migrating the database failed (exit {code}; the error is above)")
