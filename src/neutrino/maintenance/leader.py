"""A lease in the database that says which node runs a singleton job."""

from __future__ import annotations

import enum
from datetime import timedelta

from sqlalchemy.orm import Session

from neutrino.clock import utcnow
from neutrino.db.models import Leadership


class Lead(enum.IntEnum):
    """What `try_lead` found; false only while another node holds the lease."""

    ELSEWHERE = 0
    RENEWED = 1  # the holder's own lease, held since it took it
    TAKEN = 2  # new to the holder: nobody held it, or another node's lease had expired


def try_lead(session: Session, name: str, holder: str, ttl: timedelta) -> Lead:
    """Take or renew the lease `name` for `holder`.

    The row is read with a row lock (PostgreSQL), so two nodes cannot both take an expired
    lease; on SQLite the one writer at a time gives the same guarantee.
    """
    now = utcnow()
    row = session.get(Leadership, name, with_for_update=True)
    if row is None:
        session.add(Leadership(name=name, holder=holder, expires_at=now + ttl))
        return Lead.TAKEN
    if row.holder != holder and row.expires_at > now:
        return Lead.ELSEWHERE
    found = Lead.RENEWED if row.holder == holder else Lead.TAKEN
    row.holder, row.expires_at = holder, now + ttl
    return found
