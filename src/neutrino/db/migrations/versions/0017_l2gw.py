"""L2 gateways and their connections (networking-l2gw's resources)

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-01 18:45:00.000000

A gateway keeps its devices and interfaces as one JSON document (they are given and shown
whole); a connection names its gateway and network, once per pair.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _standard() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("project_id", sa.String(length=255), nullable=False, index=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table("l2gw_gateways", *_standard(),
                    sa.Column("devices", sa.JSON(), nullable=False))
    op.create_table(
        "l2gw_connections", *_standard(),
        sa.Column("gateway_id", sa.String(length=36), sa.ForeignKey("l2gw_gateways.id"),
                  nullable=False, index=True),
        sa.Column("network_id", sa.String(length=36),
                  sa.ForeignKey("networks.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("segmentation_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("gateway_id", "network_id", name="uniq_l2gw_mapping"),
    )


def downgrade() -> None:
    op.drop_table("l2gw_connections")
    op.drop_table("l2gw_gateways")
