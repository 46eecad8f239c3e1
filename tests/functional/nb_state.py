"""Reading what neutrino put in OVN NB, and waiting for the journal to settle (test helpers)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from neutrino.bootstrap import Neutrino
from neutrino.db.models import JournalEntry
from neutrino.journal.types import State


def wait_journal_idle(app: Neutrino, timeout: float = 20.0) -> None:
    """Until no entry is pending or processing; fails the test on timeout or failed entries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.db.read() as session:
            counts = dict(session.execute(
                select(JournalEntry.state, func.count()).group_by(JournalEntry.state)).all())
        if not counts.get(State.PENDING.value) and not counts.get(State.PROCESSING.value):
            assert not counts.get(State.FAILED.value), f"failed journal entries: {counts}"
            return
        app.wakeup.set()
        time.sleep(0.05)
    raise AssertionError(f"journal still busy after {timeout}s: {counts}")


def rows(app: Neutrino, table: str, **where: Any) -> list[dict[str, Any]]:
    """Rows of `table` whose columns equal `where` (an `external_ids` dict matches a subset)."""
    found = []
    for row in app.nb.read_rows(table):
        if all(_matches(row.get(k), v) for k, v in where.items()):
            found.append(row)
    return found


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return all(value.get(k) == v for k, v in wanted.items())
    return value == wanted


def one(app: Neutrino, table: str, **where: Any) -> dict[str, Any]:
    found = rows(app, table, **where)
    assert len(found) == 1, f"expected one {table} row with {where}, found {found}"
    return found[0]
