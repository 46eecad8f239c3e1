"""The journal's entries of one state are indexed in order, for the claim's window

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 09:00:00.000000

A claim reads the oldest due pending entries a window at a time (journal/claim.py). The
index on (state, next_attempt_at) gave every pending entry, to be sorted for the oldest; an
index on (state, seq) gives them in order, and the claim stops reading at its window's end.
It serves what the old one served besides (the processing entries to renew or reclaim, the
completed ones to purge): nothing looked pending entries up by their due time alone.
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_journal_state_seq", "journal", ["state", "seq"])
    op.drop_index("ix_journal_state_next", table_name="journal")


def downgrade() -> None:
    op.create_index("ix_journal_state_next", "journal", ["state", "next_attempt_at"])
    op.drop_index("ix_journal_state_seq", table_name="journal")
