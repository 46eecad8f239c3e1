"""Ports lose two indexes others cover; flow classifiers gain one on their destination port

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 15:00:00.000000

A port's create and delete write every index of `ports`. Two of them only repeated the first
column of a wider one: `ix_ports_network_id` that of the unique key `(network_id,
mac_address)`, `ix_ports_project_id` that of the project's page index (`(project_id, id)`
on SQLite, `(project_id, id COLLATE "C")` on PostgreSQL, 0025 and 0026). A lookup by network
or by project is served by the wider index as well, so these two only cost writes.

A port's load asks whether a flow classifier names it, as its source or its destination
(only then may a chain need steering again); the destination had no index, so every port
show, update and delete read the whole `sfc_flow_classifiers` table.
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ports_network_id", table_name="ports")
    op.drop_index("ix_ports_project_id", table_name="ports")
    op.create_index("ix_sfc_flow_classifiers_logical_destination_port",
                    "sfc_flow_classifiers", ["logical_destination_port"])


def downgrade() -> None:
    op.drop_index("ix_sfc_flow_classifiers_logical_destination_port",
                  table_name="sfc_flow_classifiers")
    op.create_index("ix_ports_project_id", "ports", ["project_id"])
    op.create_index("ix_ports_network_id", "ports", ["network_id"])
