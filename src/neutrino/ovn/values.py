"""Column values of IDL rows, read from their committed form in one conversion.

python-ovs's `Row.__getattr__` merges a running transaction's changes into every read of a
set or map column by converting it three times (to Python, back to a Datum, to Python
again), even when the row has no changes at all. The IDL thread reads a few columns of each
changed row (the change log) and of each row a plan compares, for every port created: those
reads were a fifth of the thread's own work. A committed row that no transaction changed is
read here from its Datum directly, with the same result; any other row (inserted, changed
or deleted by the running transaction, or not an IDL row at all) is read by python-ovs.
"""

from __future__ import annotations

from typing import Any


def column(row: Any, name: str) -> Any:
    """`getattr(row, name)`, as python-ovs would answer it, for less."""
    committed = getattr(row, "_data", None)
    if committed is None or row._changes != {} or row._mutations or name not in committed:
        return getattr(row, name)  # also: not a column, or not among an update's old values
    return to_python(committed[name], row)  # a column at its default is made on demand


def has(row: Any, name: str) -> bool:
    """`hasattr(row, name)`: for an update's old values, whether the update changed `name`."""
    committed = getattr(row, "_data", None)
    if committed is None or row._changes != {} or row._mutations:
        return hasattr(row, name)
    return name in committed


def present(updates: Any) -> frozenset[str]:
    """The columns an update changed, from its old values (or a plain object's attributes)."""
    committed = getattr(updates, "_data", None)
    return frozenset(committed.keys() if committed is not None else vars(updates))


def to_python(datum: Any, row: Any) -> Any:
    """A committed Datum of `row` as `Datum.to_python` makes it (references as rows)."""
    kind = datum.type
    key, value = kind.key, kind.value
    if key.ref_table is not None or (value is not None and value.ref_table is not None):
        return datum.to_python(row._uuid_to_row)
    atoms = datum.values
    if value is not None:
        return {k.value: v.value for k, v in atoms.items()}
    if kind.n_min == 1 and kind.n_max == 1:
        if len(atoms) != 1:
            return datum.to_python(row._uuid_to_row)  # python-ovs's default, whatever it is
        return next(iter(atoms)).value
    return sorted({k.value for k in atoms})
