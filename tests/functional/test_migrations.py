"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from neutrino.db.engine import make_engine
from neutrino.db.migrate import upgrade
from neutrino.db.models import Base


def test_upgrade_from_empty_matches_models(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"networks", "subnets", "ports", "ip_allocations", "journal"} <= set(
        inspect(engine).get_table_names())
