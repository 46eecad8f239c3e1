"""the gateway chassis of a router by priority (distributed gateway port HA groups)

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-01 21:30:00.000000

Existing routers start with none: scheduling fills the list (maintenance, or the next
change of gateway); until then a distributed gateway port's group holds gateway_chassis.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routers", sa.Column("gateway_ha_chassis", sa.JSON(), nullable=False,
                                       server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column("routers", "gateway_ha_chassis")
