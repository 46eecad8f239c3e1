"""`lean_updates`: a large update is applied a chunk at a time and consumed as it goes, with
notifications as python-ovs would give them; string atoms are shared through a bounded pool."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from ovs.db import data, error, types

from neutrino.ovn import lean_updates
from neutrino.ovn.lean_updates import AtomPool, parse_consuming, update_rows

STRING_MAP = types.Type.from_json({"key": "string", "value": "string", "min": 0,
                                   "max": "unlimited"})
REF_MAP = types.Type.from_json({"key": "string", "value": {"type": "uuid"}, "min": 0,
                                "max": "unlimited"})
INTEGERS = types.Type.from_json({"key": "integer", "min": 0, "max": "unlimited"})


class _Idl:
    """Records what it is notified of; `applied` is what the fake parse has applied so far."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.notified: list[tuple[str, int]] = []  # (row, how many rows applied by then)

    def notify(self, event: str, row: str, updates: Any = None) -> None:
        self.notified.append((row, len(self.applied)))


def _parse_for(idl: _Idl, sizes: list[int], refuse: str | None = None) -> Any:
    """A stand-in for python-ovs's parse: applies rows, then notifies each, per call."""

    def parse(table_updates: dict[str, Any], version: Any, tables: Any) -> None:
        rows = [uuid for table in table_updates.values() for uuid in table]
        sizes.append(len(rows))
        if refuse in rows:
            raise error.Error("bad row")
        idl.applied.extend(rows)
        for uuid in rows:
            idl.notify("create", uuid)

    return parse


def _update(tables: dict[str, int]) -> dict[str, dict[str, dict[str, Any]]]:
    return {name: {f"{name}-{i}": {"initial": {}} for i in range(count)}
            for name, count in tables.items()}


def test_rows_are_applied_in_chunks_and_the_update_is_consumed():
    idl, sizes = _Idl(), []
    update = _update({"Logical_Switch_Port": 600, "Port_Group": 3})
    expected = [row for table in update.values() for row in table]
    parse_consuming(_parse_for(idl, sizes), idl, update, "update3", None)
    assert idl.applied == expected
    assert sizes == [256, 256, 88, 3]
    assert update == {}  # nothing of the JSON is held by the update any more


def test_notifications_come_after_every_row_in_the_update_s_order():
    idl, sizes = _Idl(), []
    update = _update({"Logical_Switch_Port": 600, "Port_Group": 3})
    expected = [row for table in update.values() for row in table]
    parse_consuming(_parse_for(idl, sizes), idl, update, "update3", None)
    assert [row for row, _ in idl.notified] == expected
    assert {applied for _, applied in idl.notified} == {len(expected)}
    assert "notify" not in vars(idl)  # the method is the class's again


def test_a_refused_update_notifies_nothing_and_restores_notify():
    idl, sizes = _Idl(), []
    update = _update({"Logical_Switch_Port": 600})
    with pytest.raises(error.Error):
        parse_consuming(_parse_for(idl, sizes, refuse="Logical_Switch_Port-300"), idl,
                        update, "update3", None)
    assert idl.notified == []
    assert "notify" not in vars(idl)


def test_a_table_update_that_is_not_an_object_goes_to_python_ovs_as_it_is():
    seen: list[Any] = []
    parse_consuming(lambda u, v, t: seen.append(u), _Idl(), {"ACL": "junk"}, "update3", None)
    assert seen == [{"ACL": "junk"}]


def test_update_rows_counts_row_updates_of_object_tables_only():
    assert update_rows(_update({"A": 3, "B": 2})) == 5
    assert update_rows({"A": "junk"}) == 0
    assert update_rows(["not", "an", "object"]) == 0


def _same(value: Any, *_: Any) -> Any:
    return value


def _map(type_: types.Type, pairs: dict[str, Any]) -> data.Datum:
    return data.Datum.from_json(type_, ["map", [[k, v] for k, v in pairs.items()]])


def test_equal_strings_share_one_atom_across_rows_and_columns():
    pool = AtomPool()
    first = _map(STRING_MAP, {"neutron:project_id": "p1", "neutron:device_owner": "compute"})
    second = _map(STRING_MAP, {"neutron:project_id": "p1", "other": "compute"})
    before = first.to_python(_same), second.to_python(_same)
    pool.share(first)
    pool.share(second)
    assert (first.to_python(_same), second.to_python(_same)) == before
    keys = {a.value: a for a in first.values}
    assert next(a for a in second.values if a.value == "neutron:project_id") is \
        keys["neutron:project_id"]
    values = [v for v in [*first.values.values(), *second.values.values()]
              if v.value in ("p1", "compute")]
    assert len({id(v) for v in values if v.value == "p1"}) == 1
    assert len({id(v) for v in values if v.value == "compute"}) == 1
    # a key and a value with the same text are the same atom too: atoms are only type + value
    assert next(a for a in first.values.values() if a.value == "compute") is \
        next(a for a in second.values.values() if a.value == "compute")


def test_only_string_atoms_are_pooled():
    pool = AtomPool()
    ref = ["uuid", "7c5ae1a8-5b3e-4e55-b1b4-6f5c3b1d2e11"]
    refs = data.Datum.from_json(REF_MAP, ["map", [["a", ref]]])
    pool.share(refs)
    assert len(pool) == 1  # the key "a"; the uuid stays the datum's own
    numbers = data.Datum.from_json(INTEGERS, ["set", [1, 2, 3]])
    held = dict(numbers.values)
    pool.share(numbers)
    assert numbers.values == held and len(pool) == 1


def test_the_pool_starts_again_at_its_limit_and_shared_atoms_stay_shared():
    pool = AtomPool(limit=3)
    datums = [_map(STRING_MAP, {f"k{i}": "v"}) for i in range(3)]
    for datum in datums:
        pool.share(datum)
    assert len(pool) == 2  # k0, v, k1: full; cleared for k2, then v again
    kept = [next(iter(d.values.values())) for d in datums]
    assert kept[0] is kept[1]  # shared before the pool started again
    assert [d.to_python(_same) for d in datums] == [{"k0": "v"}, {"k1": "v"}, {"k2": "v"}]


def test_share_row_leaves_columns_at_their_default_alone():
    pool = AtomPool()
    stored = {"external_ids": _map(STRING_MAP, {"a": "b"})}
    row = SimpleNamespace(_data=stored)
    pool.share_row(row, ["external_ids", "options"])
    assert set(stored) == {"external_ids"}
    assert len(pool) == 2


def test_freed_memory_is_given_back_on_glibc():
    assert lean_updates.release_freed_memory() is True  # Debian's glibc has malloc_trim
