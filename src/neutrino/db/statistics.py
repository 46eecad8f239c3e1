"""The planner's statistics kept up with tables that grow fast (PostgreSQL).

Autovacuum analyses a table once a tenth of it changed, but it looks at a database about
once a minute: a backlog grown from nothing to 70,000 journal entries within that minute
was planned from no statistics at all, and the journal's claim then stalled (see
`journal.blocking`). The maintenance leader looks every few seconds (`statistics_every`)
for tables that changed more rows since their last analysis than they held at it, and
analyses those: a few times as a table grows tenfold, and, once grown, about as rarely as
autovacuum. Each analysis reads a sample of a bounded size, whatever the table's.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from neutrino.db.engine import Database

LOG = logging.getLogger(__name__)
LEAST_CHANGES = 1000  # a small table's plans do not suffer from its statistics' age

_STALE = text(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() "
    "AND s.n_mod_since_analyze >= greatest(:least, c.reltuples) ORDER BY s.relname")


def refresh(db: Database) -> list[str]:
    """Analyse the tables whose statistics a tenfold growth outdated; returns their names
    (none on SQLite, whose planner needs none here)."""
    if db.engine.dialect.name != "postgresql":
        return []
    quote = db.engine.dialect.identifier_preparer.quote
    with db.session() as session:
        stale = list(session.scalars(_STALE, {"least": LEAST_CHANGES}))
        for name in stale:
            session.execute(text(f"ANALYZE {quote(name)}"))
    if stale:
        LOG.info("analysed %s: changed more rows than they held", ", ".join(stale))
    return stale
