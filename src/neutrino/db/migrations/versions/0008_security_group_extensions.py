"""security group extensions: address groups, remote address groups, stateful groups,
default rule templates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 18:00:00.000000

Existing groups stay stateful (Neutron's default) and existing rules name no address group.
The rule templates start as Neutron ships them, which is what new groups got until now: all
egress for every new group, and ingress from members of the group for the `default` one.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_address_groups_project_id", "address_groups", ["project_id"])
    op.create_table(
        "address_group_addresses",
        sa.Column("address_group_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["address_group_id"], ["address_groups.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("address_group_id", "address"),
    )
    op.add_column("security_groups", sa.Column("stateful", sa.Boolean(), nullable=False,
                                               server_default=sa.true()))
    op.add_column("security_group_rules",
                  sa.Column("remote_address_group_id", sa.String(length=36), nullable=True))
    op.create_index("ix_security_group_rules_remote_address_group_id", "security_group_rules",
                    ["remote_address_group_id"])


    templates = op.create_table(
        "sg_default_rule_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("ethertype", sa.String(length=8), nullable=False),
        sa.Column("protocol", sa.String(length=32), nullable=True),
        sa.Column("port_range_min", sa.Integer(), nullable=True),
        sa.Column("port_range_max", sa.Integer(), nullable=True),
        sa.Column("remote_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("remote_group_id", sa.String(length=36), nullable=True),
        sa.Column("remote_address_group_id", sa.String(length=36), nullable=True),
        sa.Column("used_in_default_sg", sa.Boolean(), nullable=False),
        sa.Column("used_in_non_default_sg", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(templates, [
        {"id": str(uuid.uuid4()), "description": "", "direction": direction,
         "ethertype": ethertype, "remote_group_id": remote, "used_in_default_sg": True,
         "used_in_non_default_sg": remote is None}
        for direction, remote in (("egress", None), ("ingress", "PARENT"))
        for ethertype in ("IPv4", "IPv6")
    ])


def downgrade() -> None:
    op.drop_table("sg_default_rule_templates")
    op.drop_index("ix_security_group_rules_remote_address_group_id", "security_group_rules")
    # plain DROP COLUMN (see 0007): a batch rebuild would trip the foreign keys to the table
    op.drop_column("security_group_rules", "remote_address_group_id")
    op.drop_column("security_groups", "stateful")
    op.drop_table("address_group_addresses")
    op.drop_index("ix_address_groups_project_id", "address_groups")
    op.drop_table("address_groups")
