"""QoS: policies, bandwidth limit and DSCP marking rules, qos_policy_id on ports and networks

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-01 18:50:00.000000

Neutron's qos extension. A policy is named by ports and networks through a plain
`qos_policy_id` column (no foreign key: deleting a policy in use is refused by the service).
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qos_policies",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("project_id", sa.String(length=255), nullable=False, index=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "qos_bandwidth_limit_rules",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("qos_policy_id", sa.String(length=36),
                  sa.ForeignKey("qos_policies.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("max_kbps", sa.Integer(), nullable=False),
        sa.Column("max_burst_kbps", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.UniqueConstraint("qos_policy_id", "direction", name="uniq_qos_bw_policy_direction"),
    )
    op.create_table(
        "qos_dscp_marking_rules",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("qos_policy_id", sa.String(length=36),
                  sa.ForeignKey("qos_policies.id", ondelete="CASCADE"), nullable=False,
                  index=True, unique=True),
        sa.Column("dscp_mark", sa.Integer(), nullable=False),
    )
    # plain ADD COLUMN: a batch copy of ports or networks would trip the foreign keys that
    # name them
    for table in ("ports", "networks"):
        op.add_column(table, sa.Column("qos_policy_id", sa.String(length=36), nullable=True))
        op.create_index(f"ix_{table}_qos_policy_id", table, ["qos_policy_id"])


def downgrade() -> None:
    for table in ("networks", "ports"):
        op.drop_index(f"ix_{table}_qos_policy_id", table)
        op.drop_column(table, "qos_policy_id")
    op.drop_table("qos_dscp_marking_rules")
    op.drop_table("qos_bandwidth_limit_rules")
    op.drop_table("qos_policies")
