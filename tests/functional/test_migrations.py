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


def test_a_percent_sign_in_the_database_url_is_no_interpolation(tmp_path: Path):
    directory = tmp_path / "50%off"
    directory.mkdir()
    engine = make_engine(f"sqlite:///{directory / 'm.db'}")
    upgrade(engine)
    assert "networks" in inspect(engine).get_table_names()


def test_an_encoded_password_reaches_alembic_unchanged():
    from neutrino.db.migrate import alembic_config

    url = "postgresql+psycopg://neutrino:p%40ss%25word@db.example/neutrino"
    engine = make_engine(url)
    assert alembic_config(engine).get_main_option("sqlalchemy.url") == url
