"""What ovsdb-server can store: a pure check run on desired rows before any transaction.

ovsdb-server refuses a string holding a NUL byte by dropping the whole connection (a JSON
protocol error, not a transaction error), and a lone UTF-16 surrogate cannot be encoded at
all. Either would make every retry of the batch fail the same way, so such a value must be
found before it is sent, and blamed on the resource that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from neutrino.ovn.rows import DesiredState
from neutrino.text import problem as text_problem


def value_problem(value: Any) -> str | None:
    """The first unstorable string inside a column value (scalar, set or map), or None."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Mapping):
        return _first(value_problem(v) for item in value.items() for v in item)
    if isinstance(value, list | tuple | set | frozenset):
        return _first(value_problem(v) for v in value)
    return None


# `repr` writes a NUL as `\x00` and a lone surrogate as `\udXXX` (neither is printable), and
# the row values translation builds are plain strings, numbers, lists, tuples, sets and dicts,
# whose repr shows every string they hold: a state whose repr shows neither escape holds no
# unstorable string. One repr, in C, instead of a Python walk over every value (a third of
# a batch's CPU in the journal worker); a suspect state (a backslash in a name will do) is
# checked value by value.
_SUSPECT = re.compile(r"\\x00|\\ud[89a-f]")


def state_problem(state: DesiredState) -> str | None:
    """The first unstorable value of a resource's desired rows, named by row and column."""
    if _SUSPECT.search(repr([(row.key.value, row.columns) for row in state.rows])) is None:
        return None
    for row in state.rows:
        key_problem = text_problem(row.key.value)
        if key_problem:
            return f"{row.key}: the key {key_problem}"
        for column, value in row.columns.items():
            problem = value_problem(value)
            if problem:
                return f"{row.key}: column {column} {problem}"
    return None


def _first(problems: Iterable[str | None]) -> str | None:
    return next((p for p in problems if p), None)
