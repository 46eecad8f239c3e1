"""subnet service types and dns_publish_fixed_ip

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 18:00:00.000000

Both were absent until now: every existing subnet serves every device owner and does not
ask for its fixed IPs to be published in DNS (Neutron's defaults).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subnets", sa.Column("service_types", sa.JSON(), nullable=False,
                                       server_default=sa.text("'[]'")))
    op.add_column("subnets", sa.Column("dns_publish_fixed_ip", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    # Plain DROP COLUMN, as 0007: rebuilding the table would trip the foreign keys to it.
    op.drop_column("subnets", "dns_publish_fixed_ip")
    op.drop_column("subnets", "service_types")
