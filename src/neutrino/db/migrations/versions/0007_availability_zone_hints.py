"""availability zone hints of networks and routers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:30:00.000000

Hints were accepted and dropped until now, so every existing row has none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("networks", "routers")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("availability_zone_hints", sa.JSON(), nullable=False,
                                       server_default=sa.text("'[]'")))


def downgrade() -> None:
    for table in TABLES:
        # A plain DROP COLUMN (SQLite has it since 3.35): rebuilding the table, as a batch
        # would, trips the foreign keys that point at it.
        op.drop_column(table, "availability_zone_hints")
