"""Row lookups the NB IDL keeps current, so that planning a resource costs what its rows cost.

A plan finds its rows by a column (a port's `name`, a router's) or by one key of
`external_ids` (a subnet's DHCP_Options by `subnet_id`, a router's routes by tag). Building a
map of the whole table for that in every run made planning one port cost as much as NB is
large. A `ValueIndex` is registered in python-ovs's own index slot of the table
(`table.rows.indexes`): the IDL calls its `add` and `remove` on every row it inserts, deletes
or modifies (a modify is a remove then an add) and `clear` when it reloads the database after
a reconnect, so after one scan at first use the index follows NB by itself. It costs less to
keep than python-ovs's own indexes (which convert the row's column and re-sort on every
change), so the clients create none of those and find every row through these.

The index holds the *committed* rows, keyed by their committed values (`row._data`), like a
map built at the start of a run: a transaction's own changes (`setattr`, inserted rows) are not
indexed; python-ovs's remove/add around a transaction's deletes keep it whole.

`VISITS` counts the rows a reader examines (found through an index, or walked), so tests can
hold a plan's cost to its own rows.
"""

from __future__ import annotations

from typing import Any

from ovs.db import data, types

_ABSENT = object()  # a row the index does not hold (no value, or shadowed)
INDEX_PREFIX = "neutrino:"  # never a column name, so never an ovsdbapp index's name


class Visits:
    """How many rows readers examined, all runs together (readers run on the IDL's thread)."""

    count = 0

    def add(self, rows: int) -> None:
        self.count += rows


VISITS = Visits()


class ValueIndex:
    """Rows of one table by the value of a column, or of one key of a map column.

    Rows whose map also holds `shadow` are left out (a port's DHCP_Options row repeats its
    subnet's `subnet_id` but is not the subnet's row). Rows of a value come in the table's
    order (python-ovs re-appends a modified row at the end of `table.rows`; so does this).
    """

    # Row.__setattr__ re-indexes a row written in a transaction for the indexes listing the
    # column written; none listed: a transaction's uncommitted values stay out.
    columns: list[Any] = []

    def __init__(self, rows: Any, column: str, map_key: str | None = None,
                 shadow: str | None = None) -> None:
        self.column = column
        self._map_key = data.Atom(types.StringType, map_key) if map_key else None
        self._shadow = data.Atom(types.StringType, shadow) if shadow else None
        self._rows: dict[Any, dict[Any, Any]] = {}  # value → {uuid: row}
        self._value_of: dict[Any, Any] = {}  # uuid → value
        for row in rows.values():
            self.add(row)

    def _value(self, row: Any) -> Any:
        committed = row._data
        if committed is None:  # inserted by a transaction not yet committed
            return _ABSENT
        datum = committed[self.column]
        if self._map_key is None:
            return datum.as_scalar()
        values = datum.values
        if self._shadow is not None and self._shadow in values:
            return _ABSENT
        atom = values.get(self._map_key)
        return _ABSENT if atom is None else atom.value

    def add(self, row: Any) -> None:
        self.remove(row)
        value = self._value(row)
        if value is _ABSENT:
            return
        self._value_of[row.uuid] = value
        self._rows.setdefault(value, {})[row.uuid] = row

    def remove(self, row: Any) -> None:
        value = self._value_of.pop(row.uuid, _ABSENT)
        if value is _ABSENT:
            return
        found = self._rows[value]
        found.pop(row.uuid, None)
        if not found:
            del self._rows[value]

    def clear(self) -> None:
        self._rows.clear()
        self._value_of.clear()

    def rows(self, value: Any) -> list[Any]:
        """The rows holding `value`, in the table's order."""
        found = self._rows.get(value)
        if not found:
            return []
        VISITS.add(len(found))
        return list(found.values())


def value_index(table: Any, column: str, map_key: str | None = None,
                shadow: str | None = None) -> ValueIndex:
    """The index of `table` (an IDL table) by `column` (or its `map_key`), created (one scan)
    at first use and kept current by the IDL from then on."""
    name = f"{INDEX_PREFIX}{column}:{map_key or ''}:{shadow or ''}"
    indexes = table.rows.indexes
    index = indexes.get(name)
    if index is None:
        index = indexes[name] = ValueIndex(table.rows, column, map_key, shadow)
    return index


def holds(parent: Any, column: str, child_uuid: Any) -> bool:
    """Whether the committed reference set `column` of `parent` lists `child_uuid` (one hash
    probe, instead of turning the whole set into rows)."""
    committed = parent._data
    if committed is None:
        return False
    return data.Atom(types.UuidType, child_uuid) in committed[column].values


def size(parent: Any, column: str) -> int:
    """How many references the committed set `column` of `parent` holds."""
    committed = parent._data
    return 0 if committed is None else len(committed[column].values)
