"""compute side of ports: inactive bindings (binding-extended), device_profile, NUMA policy

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-01 18:00:00.000000

A port's active binding stays in its own columns; the bindings Nova creates for a live
migration's destination, inactive until activated, get a table of their own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_port_bindings",
        sa.Column("port_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("vnic_type", sa.String(length=32), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("vif_type", sa.String(length=32), nullable=False),
        sa.Column("vif_details", sa.JSON(), nullable=False),
        sa.Column("previously_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["port_id"], ["ports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("port_id", "host"),
    )
    op.add_column("ports", sa.Column("device_profile", sa.String(length=255), nullable=True))
    op.add_column("ports", sa.Column("numa_affinity_policy", sa.String(length=16),
                                     nullable=True))


def downgrade() -> None:
    op.drop_column("ports", "numa_affinity_policy")
    op.drop_column("ports", "device_profile")
    op.drop_table("compute_port_bindings")
