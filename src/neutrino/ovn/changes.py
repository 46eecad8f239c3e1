"""Which resources' NB rows changed since the drift audit last looked.

The audit used to compare every resource with NB every few minutes: a cost that grew with the
cloud, not with what happened in it. Every change to NB reaches this node's IDL as a row
notification, whoever made it (the journal, another node, an operator with ovn-nbctl), so
the IDL thread records the owner of each changed row here and the audit compares only those.

What cannot be attributed row by row makes the next audit a full one: a reconnect (the copy
was rebuilt, and NB may have changed while nobody watched), more changes than `limit`, and a
node that has just taken maintenance over (it did not audit before, see `invalidate`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from neutrino.ovn import naming as n
from neutrino.ovn import values as row_values
from neutrino.ovn.ownership import TABLES, owner_of
from neutrino.ovn.translate import routers

Owner = tuple[str, str]  # (resource type, resource id)
LIMIT = 100_000  # changed resources remembered; beyond it a full audit is as cheap
_TRACKED = frozenset(TABLES) | {n.HA_CHASSIS}
# Columns OVN keeps itself and neutrino neither writes nor compares (ovn-northd sets a port's
# `up` as its VM comes and goes): an update of these alone holds no drift to look for.
_OVN_KEPT = {n.LSP: frozenset({"up"})}
_OWNER_COLUMNS = ("name", "type", "external_ids")


@dataclass(frozen=True)
class Changes:
    """What an audit must compare: `everything`, or the resources in `owners`."""

    everything: bool
    owners: frozenset[Owner] = field(default_factory=frozenset)


class ChangeLog:
    """Owners of changed NB rows, recorded by the IDL thread and taken by the audit."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._owners: set[Owner] = set()
        self._everything = True  # nothing watched before this node's first audit

    def record_row(self, table: str, event: str, row: Any, updates: Any = None) -> None:
        """One IDL notification. Runs on the IDL thread for every NB change: kept cheap."""
        if table not in _TRACKED:
            return
        if updates is not None and table in _OVN_KEPT and \
                row_values.present(updates) <= _OVN_KEPT[table]:
            return
        found = {owner for owner in (_row_owner(table, row), _old_owner(table, row, updates))
                 if owner is not None}
        if found:
            self.add(found)

    def add(self, owners: Iterable[Owner]) -> None:
        with self._lock:
            if self._everything:
                return
            self._owners.update(owners)
            if len(self._owners) > self.limit:
                self._everything, self._owners = True, set()

    def invalidate(self) -> None:
        """The next audit compares everything (reconnect, overflow, a new maintenance node)."""
        with self._lock:
            self._everything, self._owners = True, set()

    def take(self) -> Changes:
        """What changed since the last take, and start recording afresh."""
        with self._lock:
            taken = Changes(self._everything, frozenset(self._owners))
            self._everything, self._owners = False, set()
        return taken


def _row_owner(table: str, row: Any) -> Owner | None:
    return owner_of_values(table, _values(row, _OWNER_COLUMNS))


def _old_owner(table: str, row: Any, updates: Any) -> Owner | None:
    """The owner before an update that changed what names the owner (a row renamed or
    re-keyed out of a resource is that resource's change too)."""
    if updates is None:
        return None
    old = _values(updates, _OWNER_COLUMNS)
    if not old:
        return None
    current = _values(row, _OWNER_COLUMNS)
    return owner_of_values(table, {**current, **old})


def owner_of_values(table: str, values: dict[str, Any]) -> Owner | None:
    if table == n.HA_CHASSIS:  # no owner rule of its own: its key names its group
        group = (values.get("external_ids") or {}).get(n.HA_KEY, "").split(" ", 1)[0]
        router_id = n.network_id_from_switch(group)  # groups are named as their router
        return (routers.RESOURCE, router_id) if router_id else None
    return owner_of(table, values)


def _values(row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    """The columns a row (or an update's old values) has, as plain Python values."""
    return {column: row_values.column(row, column) for column in columns
            if row_values.has(row, column)}  # not in this table, or not changed by this update
