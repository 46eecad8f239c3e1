"""Keeping an IDL's copy of a large database small: what a monitor update leaves behind.

The journal's NB IDL holds all of NB. At 100,000 ports that was 1.76 GB (bench/README.md,
"Session 13"), and most of it was not the rows themselves:

- **The update's JSON, whole, until its last row was made.** python-ovs parses a monitor
  reply into one object and builds the rows from it; the reply stays alive until every row is
  built, so the process peaks at rows plus JSON. Python keeps most of that peak afterwards
  (freed objects scattered among live ones). `parse_consuming` takes a large update apart
  row by row as it builds them, so a row's JSON is freed while later rows are still to come
  and its memory is used again for them.
- **The same strings, once an atom each.** Every port's `external_ids` repeats the same keys
  and mostly the same values (its project, network, owner, revision): python-ovs makes a new
  `Atom` and keeps a new string for each. `AtomPool` hands out one atom per string value.
- **Freed memory the C allocator keeps.** Objects larger than 512 bytes (a row's JSON
  object, a map's dict) come from malloc, which keeps freed pages mapped. Once the copy of
  the database is in, `release_freed_memory` gives them back (glibc's `malloc_trim`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Any

from ovs.db import data
from ovs.db import types as ovs_types

__all__ = ["AtomPool", "LARGE_UPDATE_ROWS", "parse_consuming", "release_freed_memory"]

# An update with more rows than this is taken apart as it is read (a connect's first copy,
# a reload, a large bulk's echo); below it, read whole as python-ovs does.
LARGE_UPDATE_ROWS = 1000
CHUNK_ROWS = 256  # rows handed to python-ovs at a time
POOL_LIMIT = 65536  # distinct strings kept before the pool starts again

Parse = Callable[[dict[str, Any], Any, Any], None]


def update_rows(table_updates: Any) -> int:
    """How many row updates a `<table-updates>` object holds (0 if it is not one)."""
    if not isinstance(table_updates, dict):
        return 0
    return sum(len(rows) for rows in table_updates.values() if isinstance(rows, dict))


def parse_consuming(parse: Parse, idl: Any, table_updates: dict[str, Any],
                    version: Any, tables: Any) -> None:
    """Apply `table_updates` with python-ovs's `parse` a chunk of rows at a time, removing
    each chunk from `table_updates` first, so that its JSON dies once its rows are made.

    What `idl.notify` is told, and when, is as if `parse` had read the update whole: every
    row is applied before the first notification, which come in the update's order. An
    update `parse` refuses part-way notifies nothing, as python-ovs's own does not.
    """
    held: list[tuple[Any, ...]] = []
    idl.notify = lambda *notice: held.append(notice)  # the instance's, over the method
    try:
        for name in list(table_updates):
            rows = table_updates[name]
            if not isinstance(rows, dict):
                parse({name: rows}, version, tables)  # python-ovs says what is wrong
                continue
            keys = list(rows)
            for first in range(0, len(keys), CHUNK_ROWS):
                parse({name: {key: rows.pop(key) for key in keys[first:first + CHUNK_ROWS]}},
                      version, tables)
            del table_updates[name]
    finally:
        del idl.notify
    for notice in held:
        idl.notify(*notice)


class AtomPool:
    """One `Atom` for each string value, shared by every row and column that holds it.

    Atoms are never changed once made (python-ovs replaces them), so sharing one is safe.
    Only strings are pooled: the values that repeat (external_ids keys and most of their
    values, option names). The pool forgets everything once it holds `limit` strings, so
    strings that stopped repeating (ports long deleted) do not stay; the atoms already
    shared stay shared.
    """

    def __init__(self, limit: int = POOL_LIMIT) -> None:
        self.limit = limit
        self._atoms: dict[str, data.Atom] = {}

    def __len__(self) -> int:
        return len(self._atoms)

    def atom(self, atom: data.Atom | None) -> data.Atom | None:
        if atom is None or atom.type is not ovs_types.StringType:
            return atom
        pooled = self._atoms.get(atom.value)
        if pooled is None:
            if len(self._atoms) >= self.limit:
                self._atoms.clear()
            pooled = self._atoms[atom.value] = atom
        return pooled

    def share(self, datum: data.Datum) -> None:
        """Make `datum` hold pooled atoms (in place)."""
        values = datum.values
        if not values:
            return
        kinds = datum.type
        if kinds.key.type is not ovs_types.StringType and (
                kinds.value is None or kinds.value.type is not ovs_types.StringType):
            return
        atom = self.atom
        datum.values = {atom(key): atom(value) for key, value in values.items()}

    def share_row(self, row: Any, columns: Any) -> None:
        """Make the row's `columns` (names) hold pooled atoms."""
        stored = row._data
        for name in columns:
            datum = stored.get(name)  # not `[]`: a column at its default is not stored
            if datum is not None:
                self.share(datum)


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


_TRIM = _malloc_trim()


def release_freed_memory() -> bool:
    """Give the C allocator's freed pages back to the system; False where it cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
