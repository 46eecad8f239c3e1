"""Reading what neutrino put in OVN NB, and waiting for the journal to settle (test helpers)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from ovn_tools import nbctl
from sqlalchemy import func, select
from waiting import wait_for

from neutrino.bootstrap import Neutrino
from neutrino.db.models import JournalEntry
from neutrino.journal.types import State
from neutrino.ovn.local import LocalOvn


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


def caught_up(app: Neutrino, ovn: LocalOvn, timeout: float = 10.0) -> None:
    """Until the app's copy of NB holds every change committed before this call (by ovn-nbctl,
    say). The copy lags the server by however long its connection takes to deliver updates,
    and it gets them in commit order: a marker written now is seen only after all of those."""
    marker = uuid.uuid4().hex
    nbctl(ovn, "set", "NB_Global", ".", f'external_ids:"neutrino-test-marker"="{marker}"')

    def seen() -> bool:
        found = app.nb.read_rows("NB_Global")
        return bool(found) and found[0]["external_ids"].get("neutrino-test-marker") == marker

    wait_for(seen, timeout, "the app's NB copy to catch up")
