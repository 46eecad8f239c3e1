"""internal DNS: dns_name and dns_domain on ports, dns_domain on networks

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-01 18:45:00.000000

`dns_current_domain` is the domain a port's names are published under in OVN: its own
dns_domain, else its network's, with the domain keywords substituted by the request that
set it (Neutron's PortDNS.current_dns_domain). Every existing row gets '' (no name, no
domain), Neutron's defaults.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

FQDN = 255


def upgrade() -> None:
    for column in ("dns_name", "dns_domain", "dns_current_domain"):
        op.add_column("ports", sa.Column(column, sa.String(FQDN), nullable=False,
                                         server_default=""))
    op.add_column("networks", sa.Column("dns_domain", sa.String(FQDN), nullable=False,
                                        server_default=""))


def downgrade() -> None:
    # Plain DROP COLUMN, as 0007: rebuilding the table would trip the foreign keys to it.
    op.drop_column("networks", "dns_domain")
    for column in ("dns_current_domain", "dns_domain", "dns_name"):
        op.drop_column("ports", column)
