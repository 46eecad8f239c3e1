"""What `neutrino serve` does before it serves: what it imports, and the collector's work.

A restart's ready time is mostly its imports (bench/README.md, "Session 8: ready and
memory"). These run `neutrino serve` in a process of its own, on a database already at the
newest migration (a restart), up to the point where it would start serving, and look at
the process from inside there. No OVN: the connections are made in the background and the
test stops before they matter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from neutrino.db.engine import make_engine
from neutrino.db.migrate import at_head, upgrade

# `serve` stops where it would start uvicorn and says what it found.
SCRIPT = r"""
import gc, json, sys

found = []


def watch(phase, info):
    # collections between importing neutrino's start-up and its first freeze
    if phase == "start" and gc.get_freeze_count() == 0 and "neutrino.bootstrap" in sys.modules:
        found.append(info["generation"])


gc.callbacks.append(watch)
import neutrino.server


def serve(*args, **kwargs):
    print(json.dumps({"modules": sorted(sys.modules), "collections": found,
                      "collector": gc.isenabled(), "frozen": gc.get_freeze_count()}),
          flush=True)


neutrino.server.serve = serve
from neutrino.cli import main

sys.exit(main(["serve"]))
"""
# What the default path (SQLite, no authentication, a database at head) never needs.
NOT_IMPORTED = (
    "alembic",  # the database is at head: no migration to run
    "keystonemiddleware", "keystoneauth1", "requests",  # NEUTRINO_AUTH=keystone, Nova
    "psycopg", "psycopg2", "sqlalchemy.dialects.postgresql",  # PostgreSQL
    "rich", "neutrino.sync.render",  # `neutrino sync`'s output
    "neutrino.ovn.local", "neutrino.lab",  # `--local-ovn`, `neutrino lab`
)


def _start_up(state: Path, migrated: bool = True, **env: str) -> dict[str, Any]:
    state.mkdir(exist_ok=True)
    if migrated:
        upgrade(make_engine(f"sqlite:///{state / 'neutrino.db'}"))
    full_env = dict(os.environ, NEUTRINO_STATE_DIR=str(state), NEUTRINO_BIND="127.0.0.1:1",
                    NEUTRINO_OVN_NB=f"unix:{state / 'no-nb.sock'}",
                    NEUTRINO_OVN_SB=f"unix:{state / 'no-sb.sock'}", **env)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=full_env, capture_output=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["separate", "inline"])
def test_a_restart_imports_only_what_serving_needs(tmp_path: Path, mode: str):
    found = _start_up(tmp_path / "state", NEUTRINO_JOURNAL_PROCESS=mode)
    modules = set(found["modules"])
    assert "neutrino.bootstrap" in modules and "uvicorn" in modules
    assert [m for m in NOT_IMPORTED if m in modules] == []


@pytest.mark.parametrize("mode", ["separate", "inline"])
def test_a_first_start_migrates_without_keeping_alembic(tmp_path: Path, mode: str):
    """A new database is migrated by a child of the server: Alembic and the migrations
    (about 15 MB) never stay in a process that serves."""
    state = tmp_path / "state"
    found = _start_up(state, migrated=False, NEUTRINO_JOURNAL_PROCESS=mode)
    assert "neutrino.bootstrap" in found["modules"]
    assert [m for m in found["modules"] if m == "alembic" or m.startswith("alembic.")] == []
    assert at_head(make_engine(f"sqlite:///{state / 'neutrino.db'}"))


def test_a_failed_migration_stops_the_start(tmp_path: Path):
    """The child's error is the start's: the server does not serve an unmigrated database."""
    state = tmp_path / "state"
    state.mkdir()
    engine = make_engine(f"sqlite:///{state / 'neutrino.db'}")
    with engine.begin() as conn:  # a revision no migration knows
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
    with pytest.raises(subprocess.CalledProcessError) as failed:
        _start_up(state, migrated=False)
    assert b"migrating the database failed" in failed.value.stderr
    assert b"9999" in failed.value.stderr


@pytest.mark.parametrize("mode", ["separate", "inline"])
def test_start_up_runs_no_collection_before_freezing(tmp_path: Path, mode: str):
    """Start-up's objects live as long as the process: the collector passing over them
    while importing, or a full collection before freezing them, frees next to nothing
    (about 0.1-0.2 s of a start's CPU)."""
    found = _start_up(tmp_path / "state", NEUTRINO_JOURNAL_PROCESS=mode)
    assert found["collections"] == []
    assert found["collector"] and found["frozen"] > 50_000
