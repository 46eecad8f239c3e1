"""service function chaining: port pairs, port pair groups, flow classifiers, port chains

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01 18:20:00.000000

networking-sfc's four resources. A pair names its ports without foreign keys (a deleted
port leaves the pair, whose chain then reports the hop as unsteerable); a pair is in one
group, a group and a classifier in one chain (unique columns).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
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
    op.create_table(
        "sfc_port_pair_groups", *_standard(),
        sa.Column("group_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("lb_fields", sa.JSON(), nullable=False),
        sa.Column("n_tuple_mapping", sa.JSON(), nullable=False),
        sa.Column("tap_enabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "sfc_port_pairs", *_standard(),
        sa.Column("ingress", sa.String(length=36), nullable=False, index=True),
        sa.Column("egress", sa.String(length=36), nullable=False, index=True),
        sa.Column("correlation", sa.String(length=16), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=36), sa.ForeignKey("sfc_port_pair_groups.id"),
                  nullable=True, index=True),
        sa.UniqueConstraint("ingress", "egress", name="uniq_sfc_pair_ports"),
    )
    op.create_table(
        "sfc_flow_classifiers", *_standard(),
        sa.Column("ethertype", sa.String(length=8), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=True),
        *(sa.Column(f"{side}_port_range_{end}", sa.Integer(), nullable=True)
          for side in ("source", "destination") for end in ("min", "max")),
        sa.Column("source_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("destination_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("logical_source_port", sa.String(length=36), nullable=True, index=True),
        sa.Column("logical_destination_port", sa.String(length=36), nullable=True),
        sa.Column("l7_parameters", sa.JSON(), nullable=False),
    )
    op.create_table(
        "sfc_port_chains", *_standard(),
        sa.Column("chain_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("correlation", sa.String(length=16), nullable=False),
        sa.Column("symmetric", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "sfc_chain_groups",
        sa.Column("chain_id", sa.String(length=36),
                  sa.ForeignKey("sfc_port_chains.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.String(length=36), sa.ForeignKey("sfc_port_pair_groups.id"),
                  primary_key=True, unique=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "sfc_chain_classifiers",
        sa.Column("chain_id", sa.String(length=36),
                  sa.ForeignKey("sfc_port_chains.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("classifier_id", sa.String(length=36),
                  sa.ForeignKey("sfc_flow_classifiers.id"), primary_key=True, unique=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("sfc_chain_classifiers", "sfc_chain_groups", "sfc_port_chains",
                  "sfc_flow_classifiers", "sfc_port_pairs", "sfc_port_pair_groups"):
        op.drop_table(table)
