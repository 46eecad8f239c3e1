"""routers and floating ips

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:34:03.237886
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routers",
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gw_port_id", sa.String(length=36), nullable=True),
        sa.Column("enable_snat", sa.Boolean(), nullable=False),
        sa.Column("gateway_chassis", sa.String(length=255), nullable=True),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["gw_port_id"], ["ports.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routers_project_id"), ["project_id"], unique=False)

    op.create_table(
        "floating_ips",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("floating_network_id", sa.String(length=36), nullable=False),
        sa.Column("floating_port_id", sa.String(length=36), nullable=False),
        sa.Column("floating_ip_address", sa.String(length=64), nullable=False),
        sa.Column("port_id", sa.String(length=36), nullable=True),
        sa.Column("fixed_ip_address", sa.String(length=64), nullable=True),
        sa.Column("router_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["floating_network_id"],
            ["networks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["floating_port_id"],
            ["ports.id"],
        ),
        sa.ForeignKeyConstraint(["port_id"], ["ports.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["router_id"],
            ["routers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("floating_port_id"),
    )
    with op.batch_alter_table("floating_ips", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_floating_ips_floating_network_id"), ["floating_network_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_floating_ips_port_id"), ["port_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_floating_ips_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_floating_ips_router_id"), ["router_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("floating_ips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_floating_ips_router_id"))
        batch_op.drop_index(batch_op.f("ix_floating_ips_project_id"))
        batch_op.drop_index(batch_op.f("ix_floating_ips_port_id"))
        batch_op.drop_index(batch_op.f("ix_floating_ips_floating_network_id"))

    op.drop_table("floating_ips")
    with op.batch_alter_table("routers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routers_project_id"))

    op.drop_table("routers")
