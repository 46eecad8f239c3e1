"""RBAC for QoS policies: their `shared` becomes a policy

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-01 21:30:00.000000

As 0016 did for subnet pools and address scopes: a shared QoS policy gets an
`access_as_shared` policy to `*` of its own project (object type `qos_policy`), and the
`shared` column goes. Downgrading restores the flag from the `*` policies and drops every
policy of the type (the schema before knows none).
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

OBJECT_TYPE = "qos_policy"
POLICIES = sa.table(
    "rbac_policies",
    sa.column("id", sa.String), sa.column("project_id", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("action", sa.String), sa.column("target_project", sa.String),
)
QOS_POLICIES = sa.table("qos_policies", sa.column("id", sa.String),
                        sa.column("project_id", sa.String), sa.column("shared", sa.Boolean))


def upgrade() -> None:
    shared = op.get_bind().execute(sa.select(QOS_POLICIES.c.id, QOS_POLICIES.c.project_id)
                                   .where(QOS_POLICIES.c.shared)).all()
    if shared:
        op.bulk_insert(POLICIES, [
            {"id": str(uuid.uuid4()), "project_id": row.project_id, "object_type": OBJECT_TYPE,
             "object_id": row.id, "action": "access_as_shared", "target_project": "*"}
            for row in shared])
    # A plain DROP COLUMN (SQLite has it since 3.35), as in 0011 and 0016.
    op.drop_column("qos_policies", "shared")


def downgrade() -> None:
    op.add_column("qos_policies", sa.Column("shared", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    wildcard = sa.select(POLICIES.c.object_id).where(
        POLICIES.c.object_type == OBJECT_TYPE, POLICIES.c.action == "access_as_shared",
        POLICIES.c.target_project == "*")
    op.execute(QOS_POLICIES.update().where(QOS_POLICIES.c.id.in_(wildcard)).values(shared=True))
    op.execute(POLICIES.delete().where(POLICIES.c.object_type == OBJECT_TYPE))
