"""RBAC for subnet pools and address scopes: their `shared` becomes a policy

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:00:00.000000

As 0011 did for networks: a shared subnet pool or address scope gets an `access_as_shared`
policy to `*` of its own project, and the `shared` columns go. Downgrading restores the
flags from the `*` policies and drops every policy of the two types (the schema before
knows none).
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

POLICIES = sa.table(
    "rbac_policies",
    sa.column("id", sa.String), sa.column("project_id", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("action", sa.String), sa.column("target_project", sa.String),
)
# object type -> its table
TABLES = {"subnetpool": "subnetpools", "address_scope": "address_scopes"}


def _table(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.String), sa.column("project_id", sa.String),
                    sa.column("shared", sa.Boolean))


def upgrade() -> None:
    bind = op.get_bind()
    for object_type, name in TABLES.items():
        table = _table(name)
        shared = bind.execute(sa.select(table.c.id, table.c.project_id).where(
            table.c.shared)).all()
        if shared:
            op.bulk_insert(POLICIES, [
                {"id": str(uuid.uuid4()), "project_id": row.project_id,
                 "object_type": object_type, "object_id": row.id,
                 "action": "access_as_shared", "target_project": "*"} for row in shared])
        # A plain DROP COLUMN (SQLite has it since 3.35), as in 0011.
        op.drop_column(name, "shared")


def downgrade() -> None:
    for object_type, name in TABLES.items():
        op.add_column(name, sa.Column("shared", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        table = _table(name)
        wildcard = sa.select(POLICIES.c.object_id).where(
            POLICIES.c.object_type == object_type, POLICIES.c.action == "access_as_shared",
            POLICIES.c.target_project == "*")
        op.execute(table.update().where(table.c.id.in_(wildcard)).values(shared=True))
        op.execute(POLICIES.delete().where(POLICIES.c.object_type == object_type))
