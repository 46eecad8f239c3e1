"""port bindings stored at bind time

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:50:00.000000

Until now a port's vif_type and vif_details were computed when it was read (`ovs` and
{"port_filter": true} whenever it had a host) and the stored columns kept their defaults.
Bindings are now decided when the host is set and stored; a port bound before this keeps the
answer it was giving until its binding next changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ports = sa.table(
    "ports",
    sa.column("binding_host_id", sa.String),
    sa.column("binding_vif_type", sa.String),
    sa.column("binding_vif_details", sa.JSON),
)


def upgrade() -> None:
    op.execute(
        ports.update()
        .where(ports.c.binding_host_id != "", ports.c.binding_vif_type == "unbound")
        .values(binding_vif_type="ovs", binding_vif_details={"port_filter": True})
    )


def downgrade() -> None:
    pass  # the columns were there before and the old code ignores them
