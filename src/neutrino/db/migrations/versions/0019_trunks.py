"""trunks: a parent port and its subports, told apart by VLAN id

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-01 18:40:00.000000

A port is the parent of one trunk at most (unique), and a subport of one trunk at most
(primary key); a segmentation is used once per trunk.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trunks",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("project_id", sa.String(length=255), nullable=False, index=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("port_id", sa.String(length=36), sa.ForeignKey("ports.id"), nullable=False,
                  unique=True),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
    )
    op.create_table(
        "trunk_subports",
        sa.Column("port_id", sa.String(length=36), sa.ForeignKey("ports.id"),
                  primary_key=True),
        sa.Column("trunk_id", sa.String(length=36),
                  sa.ForeignKey("trunks.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("segmentation_type", sa.String(length=32), nullable=False),
        sa.Column("segmentation_id", sa.Integer(), nullable=False),
        sa.UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id",
                            name="uniq_trunk_subports_segmentation"),
    )


def downgrade() -> None:
    op.drop_table("trunk_subports")
    op.drop_table("trunks")
