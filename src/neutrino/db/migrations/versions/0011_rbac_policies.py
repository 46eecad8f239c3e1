"""RBAC policies: one table for every object type; a network's `shared` becomes a policy

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-01 18:00:00.000000

A network stored `shared` and `router:external` as flags. As in Neutron, sharing with every
project is now an `access_as_shared` policy to `*`, and an external network also has an
`access_as_external` policy to `*`; `router_external` stays (Neutron's externalnetworks row).
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

POLICIES = sa.table(
    "rbac_policies",
    sa.column("id", sa.String), sa.column("project_id", sa.String),
    sa.column("object_type", sa.String), sa.column("object_id", sa.String),
    sa.column("action", sa.String), sa.column("target_project", sa.String),
)
NETWORKS = sa.table("networks", sa.column("id", sa.String), sa.column("project_id", sa.String),
                    sa.column("shared", sa.Boolean), sa.column("router_external", sa.Boolean))


def upgrade() -> None:
    op.create_table(
        "rbac_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("target_project", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("object_type", "object_id", "action", "target_project",
                            name="uniq_rbac_policies_grant"),
    )
    for column in ("project_id", "object_id", "target_project"):
        op.create_index(f"ix_rbac_policies_{column}", "rbac_policies", [column])
    rows = op.get_bind().execute(sa.select(NETWORKS)).all()
    grants = [(net, "access_as_shared") for net in rows if net.shared]
    grants += [(net, "access_as_external") for net in rows if net.router_external]
    if grants:
        op.bulk_insert(POLICIES, [
            {"id": str(uuid.uuid4()), "project_id": net.project_id, "object_type": "network",
             "object_id": net.id, "action": action, "target_project": "*"}
            for net, action in grants])
    # A plain DROP COLUMN (SQLite has it since 3.35), as in 0007.
    op.drop_column("networks", "shared")


def downgrade() -> None:
    op.add_column("networks", sa.Column("shared", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    wildcard = sa.select(POLICIES.c.object_id).where(
        POLICIES.c.object_type == "network", POLICIES.c.action == "access_as_shared",
        POLICIES.c.target_project == "*")
    op.execute(NETWORKS.update().where(NETWORKS.c.id.in_(wildcard)).values(shared=True))
    op.drop_table("rbac_policies")
