"""Applying a monitor update's diff to an IDL row at the cost of the diff, not of the row.

python-ovs applies an `update2`/`update3` "modify" by copying every changed column whole, to
hand the old values to `notify`, and then compares the new value with the old. For a set
that lists every port (the drop Port_Group, a security group's Port_Group) that is two
passes over 100,000 references for each port added: about 4 ms of the NB IDL thread at
100k ports, per set, per update (bench/README.md, "Session 11"). Here a set or map column
is changed in place as python-ovs does, and its old value is kept as what the diff
changed: it is made whole only if someone reads it.

Readers of the old values (`notify`'s `updates`) must read them during the notification,
as neutrino's do: a later update changes the value they are made from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ovs.db import data, error

if TYPE_CHECKING:
    from neutrino.ovn.lean_updates import AtomPool

__all__ = ["Before", "apply_diff"]


class Before(data.Datum):
    """A set or map column's value before an update: its value after the update, with the
    update's changes undone when first read."""

    __slots__ = ("_after", "_removed_or_changed", "_added", "_made")

    def __init__(self, after: data.Datum, removed_or_changed: dict[Any, Any],
                 added: list[Any]) -> None:
        # data.Datum's own __init__ would assign `values`, which is computed here
        self.type = after.type
        self._after = after
        self._removed_or_changed = removed_or_changed  # key -> its value before
        self._added = added  # keys the update added
        self._made: dict[Any, Any] | None = None

    @property  # type: ignore[override]
    def values(self) -> dict[Any, Any]:
        if self._made is None:
            made = dict(self._after.values)
            for key in self._added:
                made.pop(key, None)
            made.update(self._removed_or_changed)
            self._made = made
        return self._made


def apply_diff(table: Any, row: Any, row_diff: dict[str, Any],
               pool: AtomPool | None = None) -> dict[str, data.Datum]:
    """Change `row` (an IDL row) as `row_diff` (a "modify" of update2/update3) says, as
    python-ovs's own `Idl.__apply_diff` does; returns the changed columns' old values.
    The atoms the diff brings in are `pool`'s, if one is given."""
    old_row: dict[str, data.Datum] = {}
    for column_name, diff_json in row_diff.items():
        column = table.columns.get(column_name)
        if column is None:  # a column newer than our schema: python-ovs skips it too
            continue
        try:
            diff = data.Datum.from_json(column.type, diff_json)
        except error.Error:
            continue
        if pool is not None:
            pool.share(diff)
        current = row._data[column_name]
        if column.type.n_max > 1 or not current.values:
            # python-ovs's rule (`Datum.diff`): a key in the diff with the same value is
            # removed, any other is set; undone from what it replaces, in O(diff)
            values = current.values
            before: dict[Any, Any] = {}
            added: list[Any] = []
            for key in diff.values:
                if key in values:
                    before[key] = values[key]
                else:
                    added.append(key)
            current.diff(diff)  # in place
            # stored even so: a column still at its default is made on each read of the
            # row's `_data` (python-ovs's ColumnDefaultDict), not kept
            row._data[column_name] = current
            old_row[column_name] = Before(current, before, added)
        else:
            # a single value is replaced, not changed: the old Datum stays as it was
            old_row[column_name] = current
            row._data[column_name] = diff
    return old_row
