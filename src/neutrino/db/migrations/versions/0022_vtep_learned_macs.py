"""MACs a VTEP switch learnt (its Ucast_Macs_Local rows), as neutrino imported them

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 21:30:00.000000

One row per (physical switch, VTEP logical switch, MAC): the MACs behind the `vtep` switch
ports that neutrino publishes in OVN (ovn-controller-vtep does not). No foreign keys: a
binding-profile port names its VTEP logical switch by name, and the rows follow the VTEP
database, not the API.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vtep_learned_macs",
        sa.Column("physical_switch", sa.String(length=255), primary_key=True),
        sa.Column("logical_switch", sa.String(length=255), primary_key=True),
        sa.Column("mac", sa.String(length=17), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("vtep_learned_macs")
