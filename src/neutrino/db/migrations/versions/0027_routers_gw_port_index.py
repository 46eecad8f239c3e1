"""An index on routers.gw_port_id

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 12:00:00.000000

Deleting a port makes the database look for routers whose gateway it was (the foreign key's
ON DELETE SET NULL). Every other column that refers to a port has an index; this one had
none, so every port delete read the whole routers table (SQLite's plan: SCAN routers).
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_routers_gw_port_id", "routers", ["gw_port_id"])


def downgrade() -> None:
    op.drop_index("ix_routers_gw_port_id", table_name="routers")
