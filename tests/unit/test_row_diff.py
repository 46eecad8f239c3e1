"""`row_diff.apply_diff`: a set's old value costs nothing until read, and is exact when read."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from ovs.db import data, types

from neutrino.ovn.row_diff import Before, apply_diff

REFS = types.Type.from_json({"key": {"type": "uuid"}, "min": 0, "max": "unlimited"})
MAP = types.Type.from_json({"key": "string", "value": "string", "min": 0, "max": "unlimited"})


def _same(value: object, *_: object) -> object:
    return value


def _row(**columns: data.Datum) -> tuple[SimpleNamespace, SimpleNamespace]:
    table = SimpleNamespace(columns={name: SimpleNamespace(type=datum.type)
                                     for name, datum in columns.items()})
    return table, SimpleNamespace(_data=dict(columns))


def _refs(values: list[uuid.UUID]) -> data.Datum:
    return data.Datum.from_python(REFS, values, lambda v: v)


def test_a_member_added_to_a_large_set_does_not_copy_it():
    members = [uuid.uuid4() for _ in range(5000)]
    table, row = _row(ports=_refs(members))
    new = uuid.uuid4()
    old = apply_diff(table, row, {"ports": ["uuid", str(new)]})["ports"]
    assert isinstance(old, Before) and old._made is None
    assert len(row._data["ports"].values) == 5001
    assert sorted(a.value for a in old.values) == sorted(members)  # made now, exact
    assert len(row._data["ports"].values) == 5001  # reading it changed nothing


def test_old_values_of_sets_and_maps_undo_exactly_what_the_diff_did():
    kept, gone = uuid.uuid4(), uuid.uuid4()
    table, row = _row(ports=_refs([kept, gone]),
                      external_ids=data.Datum.from_python(MAP, {"a": "1", "b": "2"}, _same))
    added = uuid.uuid4()
    old = apply_diff(table, row, {
        "ports": ["set", [["uuid", str(gone)], ["uuid", str(added)]]],
        # python-ovs's map diff: "a" changes value, "b" (same value) goes, "c" comes
        "external_ids": ["map", [["a", "9"], ["b", "2"], ["c", "3"]]],
    })
    assert {a.value for a in row._data["ports"].values} == {kept, added}
    assert {a.value for a in old["ports"].values} == {kept, gone}
    assert row._data["external_ids"].to_python(_same) == {"a": "9", "c": "3"}
    assert old["external_ids"].to_python(_same) == {"a": "1", "b": "2"}
    assert old["external_ids"].copy().to_python(_same) == {"a": "1", "b": "2"}


def test_a_scalar_is_replaced_and_its_old_datum_kept_as_it_was():
    name = types.Type.from_json("string")
    table, row = _row(name=data.Datum.from_python(name, "before", _same))
    before = row._data["name"]
    old = apply_diff(table, row, {"name": "after"})
    assert old["name"] is before and before.to_python(_same) == "before"
    assert row._data["name"].to_python(_same) == "after"


def test_columns_unknown_to_the_schema_are_passed_over():
    table, row = _row(ports=_refs([]))
    assert apply_diff(table, row, {"newer_column": "x"}) == {}
