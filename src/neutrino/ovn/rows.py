"""Values that describe Northbound rows: what we want, what is there, and how to get there.

Column values use one canonical Python shape on both sides: a scalar or None for an optional
scalar column, a sorted list for a set, a dict for a map. The OVSDB transport converts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neutrino.ovn.naming import REVISION


@dataclass(frozen=True, order=True)
class RowKey:
    """How a row is found: `column == value`, or `column[map_key] == value` for a map."""

    table: str
    column: str
    value: str
    map_key: str | None = None

    def __str__(self) -> str:
        col = f"{self.column}:{self.map_key}" if self.map_key else self.column
        return f"{self.table}({col}={self.value})"


@dataclass(frozen=True)
class ParentLink:
    """A non-root row lives in a set column of its parent (e.g. Logical_Switch.ports)."""

    key: RowKey
    column: str


@dataclass(frozen=True)
class Membership:
    """`child` is listed in `parent.column`, a weak set such as Port_Group.ports."""

    parent: RowKey
    column: str
    child: RowKey


@dataclass(frozen=True)
class DesiredRow:
    key: RowKey
    columns: Mapping[str, Any]
    refs: Mapping[str, RowKey | None] = field(default_factory=dict)
    parent: ParentLink | None = None

    @property
    def revision(self) -> int | None:
        return revision_of(self.columns)


@dataclass(frozen=True)
class ActualRow:
    uuid: str
    columns: Mapping[str, Any]
    refs: Mapping[str, str | None] = field(default_factory=dict)
    parent_column: str | None = None
    parent_uuid: str | None = None
    member_of: frozenset[tuple[RowKey, str]] = frozenset()  # our sets this row is listed in

    @property
    def revision(self) -> int | None:
        return revision_of(self.columns)


@dataclass(frozen=True)
class DesiredState:
    """Everything one resource should have in NB; `owned` also lists rows to remove if unwanted."""

    resource_type: str
    resource_id: str
    rows: tuple[DesiredRow, ...]
    owned: tuple[RowKey, ...]
    members: tuple[Membership, ...] = ()
    # rows whose memberships this resource manages (others' sets are left alone)
    member_rows: tuple[RowKey, ...] = ()
    # (parent, column): children there that carry our identity keys are owned too, so that
    # those no longer wanted (a removed route, a SNAT for a detached subnet) are deleted
    owned_children: tuple[tuple[RowKey, str], ...] = ()
    # (table, external_ids key, value): every row of the table carrying that key and value is
    # owned too, wherever it lives (a chain's policies, in whichever router)
    owned_tagged: tuple[tuple[str, str, str], ...] = ()
    # (table, ((external_ids key, value), ...)): every row of the table carrying all those
    # keys and values is owned too (a router's gateway port, whatever its port id)
    owned_matching: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def lookup_keys(self) -> set[RowKey]:
        keys = set(self.owned) | set(self.member_rows)
        for member in self.members:
            keys.update((member.parent, member.child))
        for row in self.rows:
            keys.add(row.key)
            keys.update(ref for ref in row.refs.values() if ref is not None)
            if row.parent:
                keys.add(row.parent.key)
        return keys


@dataclass(frozen=True)
class Insert:
    row: DesiredRow


@dataclass(frozen=True)
class Update:
    key: RowKey
    uuid: str
    columns: Mapping[str, Any]
    refs: Mapping[str, RowKey | None]


@dataclass(frozen=True)
class Delete:
    key: RowKey
    uuid: str
    parent_column: str | None = None
    parent_uuid: str | None = None
    member_of: frozenset[tuple[RowKey, str]] = frozenset()  # our sets this row is listed in


@dataclass(frozen=True)
class AddMember:
    member: Membership


@dataclass(frozen=True)
class RemoveMember:
    member: Membership


Op = Insert | Update | Delete | AddMember | RemoveMember


@dataclass(frozen=True)
class Plan:
    """The changes that make NB hold one resource's desired rows."""

    resource_type: str
    resource_id: str
    ops: tuple[Op, ...]
    stale: tuple[RowKey, ...] = ()  # rows OVN holds at a newer revision: left alone

    @property
    def is_noop(self) -> bool:
        return not self.ops


def revision_of(columns: Mapping[str, Any]) -> int | None:
    raw = (columns.get("external_ids") or {}).get(REVISION)
    try:
        return int(str(raw), 10) if raw is not None else None
    except ValueError:
        return None  # a corrupted revision is simply unknown: the row gets rewritten
