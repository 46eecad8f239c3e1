"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from neutrino.db.engine import make_engine
from neutrino.db.migrate import alembic_config, at_head, head_revision, upgrade
from neutrino.db.models import Base

# Indexes the models keep to one database (`ddl_if`): on PostgreSQL, pages in code-point
# order (0026), on indexes of `id COLLATE "C"`, which Alembic reflects as plain `id` and
# cannot compare; they are checked by their definitions.
POSTGRESQL_ONLY = {"ix_ports_id_c": 'USING btree (id COLLATE "C")',
                   "ix_ports_project_id_id_c": 'USING btree (project_id, id COLLATE "C")'}
SQLITE_ONLY = {"ix_ports_project_id_id"}


def compared(conn: Connection) -> list[Any]:
    """Alembic's differences between the models and the database, for this database."""
    skipped = SQLITE_ONLY | set(POSTGRESQL_ONLY)

    def include(_obj: object, name: str | None, type_: str, *_args: object) -> bool:
        return not (type_ == "index" and name in skipped)

    context = MigrationContext.configure(conn, opts={"include_object": include})
    return compare_metadata(context, Base.metadata)


def test_upgrade_from_empty_matches_models(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        diff = compared(conn)
    assert diff == []
    assert {i["name"] for i in inspect(engine).get_indexes("ports")} >= SQLITE_ONLY
    assert {"networks", "subnets", "ports", "ip_allocations", "journal"} <= set(
        inspect(engine).get_table_names())


def test_upgrade_from_empty_matches_models_on_postgresql(pg_url: str):
    """PostgreSQL gets the models' schema too, with its own indexes of port pages (0026),
    and loses them again going back to 0025."""
    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compared(conn)
    assert diff == []
    assert port_indexes(engine) == POSTGRESQL_ONLY
    _downgrade(engine, "0025")
    assert port_indexes(engine) == {"ix_ports_project_id_id": "USING btree (project_id, id)"}
    upgrade(engine)
    assert port_indexes(engine) == POSTGRESQL_ONLY


def port_indexes(engine: Engine) -> dict[str, str]:
    """The definitions (from `USING`) of the ports' indexes among those kept to one
    database."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                                 "WHERE tablename = 'ports'")).all()
    return {name: "USING" + definition.split("USING", 1)[1] for name, definition in rows
            if name in SQLITE_ONLY | set(POSTGRESQL_ONLY)}


def _leading_columns(engine: Engine, table: str) -> dict[str, tuple[list[str], bool]]:
    """Each index of `table` (unique keys included): its columns, and whether it is unique.
    An expression (`id COLLATE "C"`) reads as its column."""
    found = inspect(engine).get_indexes(table)
    found += [{"name": key["name"], "column_names": key["column_names"], "unique": True}
              for key in inspect(engine).get_unique_constraints(table)]
    return {index["name"]: ([c or "id" for c in index["column_names"]], index["unique"])
            for index in found}


def _repeated(engine: Engine, table: str) -> list[str]:
    """The non-unique indexes of `table` whose columns begin another index's: every write
    pays for them, and the longer index serves their lookups."""
    indexes = _leading_columns(engine, table)
    return sorted(name for name, (columns, unique) in indexes.items() if not unique and any(
        other != name and len(longer) > len(columns) and longer[:len(columns)] == columns
        for other, (longer, _) in indexes.items()))


def test_a_port_write_pays_for_no_index_another_covers(tmp_path: Path, pg_url: str):
    """A port's create or delete writes every index of `ports` (26 pages of SQLite's log a
    create before 0028, 24 after): none may repeat the first columns of another, on either
    database; before 0028 `network_id` and `project_id` alone did."""
    for engine in (make_engine(f"sqlite:///{tmp_path / 'i.db'}"), make_engine(pg_url)):
        upgrade(engine)
        assert _repeated(engine, "ports") == [], engine.dialect.name
        _downgrade(engine, "0027")
        assert _repeated(engine, "ports") == ["ix_ports_network_id", "ix_ports_project_id"]
        upgrade(engine)
        assert _repeated(engine, "ports") == []
        engine.dispose()


def test_a_flow_classifier_is_found_by_its_destination_port_through_an_index(
        tmp_path: Path):
    """A port's load asks whether a flow classifier names it as source or destination;
    before 0028 the destination had no index and every port show read the whole table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT 1 FROM sfc_flow_classifiers "
            "WHERE logical_destination_port = ?", ("p",))]
    assert plan and all(step.startswith("SEARCH") for step in plan), plan
    engine.dispose()


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


def test_ports_bound_before_0006_keep_the_binding_they_answered(tmp_path: Path):
    """Before 0006 vif_type was computed on read (ovs with a host); 0006 stores that answer
    for ports bound then, and leaves unbound ports alone."""
    from datetime import datetime

    from sqlalchemy.orm import Session

    from neutrino.db.models import Network, Port, Segment

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    # The rows are written with today's models (a port then stored vif_type "unbound" even
    # when it had a host), and the schema taken back to 0005 under them.
    upgrade(engine)
    now = datetime(2026, 12, 1)
    stamps = {"project_id": "p", "created_at": now, "updated_at": now}
    with Session(engine) as session, session.begin():
        session.add(Network(id="n", mtu=1442, **stamps, segment=Segment(
            id="s", network_type="geneve", segmentation_id=7, segment_key="geneve:7")))
        session.flush()
        for n, (port_id, host) in enumerate((("bound", "compute-1"), ("free", ""))):
            session.add(Port(id=port_id, network_id="n", mac_address=f"fa:16:3e:00:00:0{n}",
                             binding_host_id=host, **stamps))
    _downgrade(engine, "0005")
    upgrade(engine)
    with Session(engine) as session:
        found = {p.id: (p.binding_vif_type, p.binding_vif_details)
                 for p in session.query(Port)}
    assert found == {"bound": ("ovs", {"port_filter": True}), "free": ("unbound", {})}


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_hints_of_rows_from_before_0007_are_empty(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0006")
    now = "2026-12-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO routers (id, project_id, name, description, revision_number,"
            " created_at, updated_at, admin_state_up, status, enable_snat, routes)"
            " VALUES ('r', 'p', '', '', 0, :now, :now, 1, 'ACTIVE', 1, '[]')"), {"now": now})
    upgrade(engine)
    with engine.connect() as conn:
        hints = conn.execute(text("SELECT availability_zone_hints FROM routers")).scalar_one()
    assert json.loads(hints) == []


def test_a_database_at_head_is_not_migrated_again_and_one_behind_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    assert not at_head(engine)  # a new database: no alembic_version yet
    upgrade(engine)
    assert at_head(engine)
    previous = f"{int(head_revision()) - 1:04d}"
    with engine.begin() as conn:  # as a server one migration behind would find it
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.downgrade(config, previous)
    assert not at_head(engine)
    upgrade(engine)
    assert at_head(engine)

    def asked(*_args: object) -> None:
        raise AssertionError("Alembic was asked to upgrade a database at head")

    monkeypatch.setattr(command, "upgrade", asked)
    upgrade(engine)  # at head: start-up does not load Alembic and the migrations



def test_default_pools_index_is_partial_on_postgresql_from_models_and_migrations(postgres):
    """The models leave `postgresql_where` out (it would load SQLAlchemy's PostgreSQL
    dialect on every SQLite start); `create_all` still makes the index partial there, as
    migration 0010 does."""
    from pg_tools import new_database

    migrated = make_engine(new_database(postgres))
    upgrade(migrated)
    created = make_engine(new_database(postgres))
    Base.metadata.create_all(created)
    assert _pool_index(created) == _pool_index(migrated)
    assert _pool_index(created).endswith("WHERE is_default")


def _pool_index(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                 "'uniq_subnetpools_default'")).scalar_one()
