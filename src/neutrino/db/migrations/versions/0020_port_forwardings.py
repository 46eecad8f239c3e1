"""floating IP port forwardings

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-01 18:40:00.000000

Neutron's port forwarding table: a floating IP's external port range (per protocol) sent to
an internal port's IPv4 address and port range. The two unique constraints are Neutron's:
one external range per floating IP and protocol, one internal socket range per port,
address and protocol.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pf_port_forwardings",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("project_id", sa.String(length=255), nullable=False, index=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("floatingip_id", sa.String(length=36),
                  sa.ForeignKey("floating_ips.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("internal_port_id", sa.String(length=36),
                  sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("internal_ip_address", sa.String(length=64), nullable=False),
        sa.Column("protocol", sa.String(length=40), nullable=False),
        sa.Column("internal_port_start", sa.Integer(), nullable=False),
        sa.Column("internal_port_end", sa.Integer(), nullable=False),
        sa.Column("external_port_start", sa.Integer(), nullable=False),
        sa.Column("external_port_end", sa.Integer(), nullable=False),
        sa.UniqueConstraint("floatingip_id", "protocol", "external_port_start",
                            "external_port_end", name="uniq_pf_fip_protocol_external"),
        sa.UniqueConstraint("protocol", "internal_port_id", "internal_ip_address",
                            "internal_port_start", "internal_port_end",
                            name="uniq_pf_protocol_internal"),
    )


def downgrade() -> None:
    op.drop_table("pf_port_forwardings")
