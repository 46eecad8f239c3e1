"""New NB rows are written without python-ovs's per-atom conversion (issue 15), and what is
sent is what python-ovs would have sent: every column of the installed NB schema, each
shape of value (scalar, set, map), compared with python-ovs's own conversion."""

from __future__ import annotations

from typing import Any

import ovs.json
import pytest
from ovs.db import data, schema

from neutrino.ovn import local
from neutrino.ovn.client import new_datum


def _atom(base: Any, i: int) -> Any:
    """The i-th value a column's base type accepts (python-ovs checks constraints)."""
    if base.enum is not None:
        choices = sorted(a.value for a in base.enum.values)
        return choices[i % len(choices)]
    name = base.type.name
    if name == "string":
        return f"v{i}"
    if name == "boolean":
        return bool(i % 2)
    low = base.min if base.min is not None else 0
    high = base.max if base.max is not None else low + 10
    if name == "integer":
        return int(min(low + i, high))
    return float(min(low + i + 0.5, high))


def _values(ctype: Any) -> list[Any]:
    """A scalar, and where the type allows, sets or maps of one and two members."""
    if ctype.value is not None:
        return [{_atom(ctype.key, i): _atom(ctype.value, i) for i in range(n)}
                for n in (1, 2)]
    found = [_atom(ctype.key, 0)]
    if ctype.n_max > 1:
        found += [[_atom(ctype.key, 0), _atom(ctype.key, 1)], (_atom(ctype.key, 1),)]
    return found


def _columns() -> list[tuple[str, str, Any]]:
    nb = schema.DbSchema.from_json(ovs.json.from_file(str(local.schema_path(local.NB))))
    return [(table.name, name, column.type) for table in nb.tables.values()
            for name, column in table.columns.items()]


def test_new_rows_send_what_python_ovs_would_for_every_column() -> None:
    compared = 0
    for table, name, ctype in _columns():
        for value in _values(ctype):
            ours = new_datum(ctype, value)
            if ours is None:  # uuids: python-ovs's way
                assert "uuid" in (ctype.key.type.name,
                                  ctype.value.type.name if ctype.value else "")
                continue
            theirs = data.Datum.from_python(ctype, value, lambda v: v)
            assert ours.to_json() == theirs.to_json(), (table, name, value)
            assert ours == theirs, (table, name, value)
            compared += 1
    assert compared > 200  # all of NB's plain columns, in every shape


@pytest.mark.parametrize("value", [["a", "b"], "a"])
def test_a_value_of_another_shape_than_its_map_column_is_left_to_python_ovs(value) -> None:
    (ctype,) = [c for table, name, c in _columns()
                if (table, name) == ("Logical_Switch_Port", "options")]
    assert new_datum(ctype, value) is None
