"""PostgreSQL: port pages read an index in code-point order (id COLLATE "C")

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 06:30:00.000000

Pages sort ids by code point on every database (`keyset.sort_key`: `id COLLATE "C"` on
PostgreSQL, SQLite's BINARY). PostgreSQL's indexes on `id` are in the database's collation
(C.UTF-8, en_US.UTF-8, ...), which cannot serve that order, so each page of ports read and
sorted the whole table (a project's page, every port of the project): 0.3 ms at 1k ports,
35-55 ms at 100k, whatever the statistics. Indexes on `id COLLATE "C"` and
`(project_id, id COLLATE "C")` serve a page from its first 100 entries; the latter replaces
0025's (project_id, id), which nothing on PostgreSQL reads. SQLite is left as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

CODE_POINT_ID = sa.text('id COLLATE "C"')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_ports_id_c", "ports", [CODE_POINT_ID])
    op.create_index("ix_ports_project_id_id_c", "ports", ["project_id", CODE_POINT_ID])
    op.drop_index("ix_ports_project_id_id", table_name="ports")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_ports_project_id_id", "ports", ["project_id", "id"])
    op.drop_index("ix_ports_project_id_id_c", table_name="ports")
    op.drop_index("ix_ports_id_c", table_name="ports")
