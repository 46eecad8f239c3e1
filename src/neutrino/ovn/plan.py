"""Pure comparison of desired and actual Northbound rows into a plan of changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neutrino.ovn.rows import (
    ActualRow,
    AddMember,
    Delete,
    DesiredRow,
    DesiredState,
    Insert,
    Membership,
    Op,
    Plan,
    RemoveMember,
    RowKey,
    Update,
)


def plan_changes(desired: DesiredState, actual: Mapping[RowKey, ActualRow]) -> Plan:
    """What to insert, update and delete so that NB holds `desired`.

    Rows OVN holds at a newer revision than the database are left alone and reported as
    stale: a worker holding an older snapshot must never revert a newer write.
    """
    ops: list[Op] = []
    stale: list[RowKey] = []
    for row in desired.rows:
        current = actual.get(row.key)
        if current is None:
            ops.append(Insert(row))
        elif _moved(row, current, actual):
            # another parent (a gateway port between the gateway router and the distributed
            # router): the row is made anew there, the old one goes with its old place
            ops += [Insert(row), Delete(row.key, current.uuid, current.parent_column,
                                        current.parent_uuid, current.member_of)]
        elif _is_newer(current, row):
            stale.append(row.key)
        elif update := _plan_update(row, current, actual):
            ops.append(update)
    wanted = {row.key for row in desired.rows}
    for key in desired.owned:
        current = actual.get(key)
        if key not in wanted and current is not None:
            ops.append(Delete(key, current.uuid, current.parent_column, current.parent_uuid))
    ops.extend(_plan_members(desired, actual, frozenset(stale)))
    return Plan(desired.resource_type, desired.resource_id, tuple(ops), tuple(stale))


def _plan_members(
    desired: DesiredState, actual: Mapping[RowKey, ActualRow], stale: frozenset[RowKey]
) -> list[Op]:
    """Join the sets a resource should be in; leave those of ours it should not be in.

    A row OVN holds at a newer revision keeps its memberships too: they were written with it.
    """
    ops: list[Op] = []
    for member in desired.members:
        if member.child in stale:
            continue
        child = actual.get(member.child)
        if child is None or (member.parent, member.column) not in child.member_of:
            ops.append(AddMember(member))
    for key in desired.member_rows:
        if key in stale:
            continue
        child = actual.get(key)
        wanted = {(m.parent, m.column) for m in desired.members if m.child == key}
        for parent, column in sorted(child.member_of - wanted) if child else ():
            ops.append(RemoveMember(Membership(parent, column, key)))
    return ops


def _plan_update(
    row: DesiredRow, current: ActualRow, actual: Mapping[RowKey, ActualRow]
) -> Op | None:
    columns = {
        name: value
        for name, value in row.columns.items()
        if not _same(current.columns.get(name), value)
    }
    refs = {
        name: target
        for name, target in row.refs.items()
        if _ref_differs(current.refs.get(name), target, actual)
    }
    if not columns and not refs:
        return None
    return Update(row.key, current.uuid, columns, refs)


def _ref_differs(current: str | None, target: RowKey | None,
                 actual: Mapping[RowKey, ActualRow]) -> bool:
    """A reference to a row NB lacks is a change too: that row is inserted by this or an
    earlier plan of the batch, and the reference must then be set to it."""
    if target is not None and target not in actual:
        return True
    return current != _uuid_of(target, actual)


def _uuid_of(key: RowKey | None, actual: Mapping[RowKey, ActualRow]) -> str | None:
    if key is None or key not in actual:
        return None
    return actual[key].uuid


def _moved(row: DesiredRow, current: ActualRow, actual: Mapping[RowKey, ActualRow]) -> bool:
    if row.parent is None or current.parent_column is None:
        return False
    return current.parent_uuid != _uuid_of(row.parent.key, actual)


def _is_newer(current: ActualRow, row: DesiredRow) -> bool:
    have, want = current.revision, row.revision
    return have is not None and want is not None and have > want


def _same(current: Any, wanted: Any) -> bool:
    """Equal values are equal in canonical form too: only others need converting."""
    return current == wanted or canonical(current) == canonical(wanted)


def canonical(value: Any) -> Any:
    """One comparable form: OVSDB sets are unordered, and an empty optional is None."""
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((canonical(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    return value
