"""indexes a page of ports needs at any size: (project_id, id), (device_id, project_id, id)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 00:40:00.000000

A project's page of ports (`project_id = ? ORDER BY id LIMIT n`, keyset after a marker)
reads n index entries with (project_id, id); with the project_id index alone, the database
sorted every port of the project for each page. A `device_id` filter by a project's caller
reads only the matching entries of (device_id, project_id, id), already in page order; it
replaces the device_id index (its prefix serves what that one did).
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.create_index("ix_ports_project_id_id", ["project_id", "id"], unique=False)
        batch_op.create_index("ix_ports_device_id_project_id_id",
                              ["device_id", "project_id", "id"], unique=False)
        batch_op.drop_index("ix_ports_device_id")


def downgrade() -> None:
    with op.batch_alter_table("ports", schema=None) as batch_op:
        batch_op.create_index("ix_ports_device_id", ["device_id"], unique=False)
        batch_op.drop_index("ix_ports_device_id_project_id_id")
        batch_op.drop_index("ix_ports_project_id_id")
