"""subnet pools and address scopes

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 18:00:00.000000

Existing subnets came from no pool.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_scopes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "subnetpools",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("prefixes", sa.JSON(), nullable=False),
        sa.Column("default_prefixlen", sa.Integer(), nullable=False),
        sa.Column("min_prefixlen", sa.Integer(), nullable=False),
        sa.Column("max_prefixlen", sa.Integer(), nullable=False),
        sa.Column("default_quota", sa.Integer(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("address_scope_id", sa.String(36), sa.ForeignKey("address_scopes.id"),
                  nullable=True, index=True),
    )
    op.create_index("uniq_subnetpools_default", "subnetpools", ["ip_version"], unique=True,
                    sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with an inline REFERENCES, not a constraint by ALTER.
        op.execute("ALTER TABLE subnets ADD COLUMN subnetpool_id VARCHAR(36) "
                   "REFERENCES subnetpools (id)")
    else:
        op.add_column("subnets", sa.Column("subnetpool_id", sa.String(36), nullable=True))
        op.create_foreign_key("subnets_subnetpool_id_fkey", "subnets", "subnetpools",
                              ["subnetpool_id"], ["id"])
    op.create_index("ix_subnets_subnetpool_id", "subnets", ["subnetpool_id"])


def downgrade() -> None:
    op.drop_index("ix_subnets_subnetpool_id", "subnets")
    # A plain DROP COLUMN, as 0007 does: a batch rebuild trips the foreign keys.
    op.drop_column("subnets", "subnetpool_id")
    op.drop_table("subnetpools")
    op.drop_table("address_scopes")
