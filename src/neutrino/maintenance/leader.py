"""A lease in the database that says which node runs a singleton job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.models import Leadership


def try_lead(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`; False while another holds it.

    The row is read with a row lock (PostgreSQL), so two nodes cannot both take an expired
    lease; on SQLite the one writer at a time gives the same guarantee.
    """
    now = utcnow()
    row = session.get(Leadership, name, with_for_update=True)
    if row is None:
        session.add(Leadership(name=name, holder=holder, expires_at=now + ttl))
        return True
    if row.holder != holder and row.expires_at > now:
        return False
    row.holder, row.expires_at = holder, now + ttl
    return True
