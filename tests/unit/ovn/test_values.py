"""Column values read from committed IDL rows are what python-ovs answers, for every kind of
column; rows a transaction touches, and plain objects, are read by python-ovs itself."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from ovs.db import idl as ovs_idl

from neutrino.ovn import naming as n
from neutrino.ovn import values

SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"


class _Recording(ovs_idl.Idl):
    notices: list[tuple[str, object, object]]

    def notify(self, event, row, updates=None):
        self.notices.append((event, row, updates))


@pytest.fixture()
def idl() -> ovs_idl.Idl:
    """An IDL never connected: the test feeds it the updates a server would send."""
    helper = ovs_idl.SchemaHelper(SCHEMA)
    helper.register_all()
    db_idl = _Recording("unix:/nonexistent/nb.sock", helper)
    db_idl.notices = []
    return db_idl


def _update(idl: ovs_idl.Idl, table: str, row_uuid: uuid.UUID, op: str, **columns) -> None:
    update = {table: {str(row_uuid): {op: columns} if op != "delete" else {"delete": None}}}
    idl._Idl__parse_update(update, ovs_idl.OVSDB_UPDATE2)


def _map(items: dict[str, str]) -> list:
    return ["map", [[k, v] for k, v in sorted(items.items())]]


def _uuids(*ids: uuid.UUID) -> list:
    return ["set", [["uuid", str(i)] for i in ids]]


def _same_as_python_ovs(row) -> None:
    for name in row._table.columns:
        assert values.column(row, name) == getattr(row, name), name
        assert values.has(row, name)
    assert not values.has(row, "no_such_column")
    with pytest.raises(AttributeError):
        values.column(row, "no_such_column")


@pytest.fixture()
def rows(idl):
    """A switch with two ports, one in a port group; a router port with a gateway group."""
    ls, p1, p2, pg = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    lrp, group, chassis = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _update(idl, n.LSP, p1, "insert", name="p1", type="", up=True,
            addresses=["set", ["fa:16:3e:00:00:01 10.0.0.1", "unknown"]],
            port_security="fa:16:3e:00:00:01 10.0.0.1",
            external_ids=_map({n.NETWORK_NAME: "neutron-x", n.REVISION: "3"}),
            options=_map({"requested-chassis": "c1"}), tag_request=7)
    _update(idl, n.LSP, p2, "insert", name="p2")  # everything else at its default
    _update(idl, n.LS, ls, "insert", name="neutron-x", ports=_uuids(p1, p2),
            other_config=_map({"subnet": "10.0.0.0/24"}))
    _update(idl, n.PG, pg, "insert", name="pg", ports=_uuids(p1))
    _update(idl, n.HA_CHASSIS, chassis, "insert", chassis_name="c1", priority=2)
    _update(idl, n.HA_GROUP, group, "insert", name="g", ha_chassis=_uuids(chassis))
    _update(idl, n.LRP, lrp, "insert", name="lrp-1", mac="fa:16:3e:00:00:09",
            networks=["set", ["10.0.0.1/24", "fd00::1/64"]], ha_chassis_group=["uuid", str(group)],
            gateway_chassis=["set", []])
    return {"ls": ls, "p1": p1, "p2": p2, "pg": pg, "lrp": lrp, "group": group}


def test_every_column_of_committed_rows_reads_as_python_ovs_reads_it(idl, rows):
    for table in (n.LSP, n.LS, n.PG, n.HA_CHASSIS, n.HA_GROUP, n.LRP):
        for row in idl.tables[table].rows.values():
            _same_as_python_ovs(row)
    p1 = idl.tables[n.LSP].rows[rows["p1"]]
    assert values.column(p1, "up") == [True] and values.column(p1, "tag_request") == [7]
    assert values.column(p1, "external_ids") == {n.NETWORK_NAME: "neutron-x", n.REVISION: "3"}
    assert values.column(idl.tables[n.LSP].rows[rows["p2"]], "addresses") == []
    switch = idl.tables[n.LS].rows[rows["ls"]]
    assert {r.uuid for r in values.column(switch, "ports")} == {rows["p1"], rows["p2"]}


def test_an_updates_old_values_hold_only_the_changed_columns(idl, rows):
    idl.notices.clear()
    _update(idl, n.LSP, rows["p1"], "modify", up=False,
            external_ids=_map({n.REVISION: "4"}))
    ((event, row, old),) = idl.notices
    assert event == "update"
    assert values.column(old, "up") == old.up == [True]
    assert values.column(old, "external_ids") == old.external_ids
    assert values.has(old, "up") and not values.has(old, "name")
    with pytest.raises(AttributeError):
        values.column(old, "name")
    _same_as_python_ovs(row)
    assert values.column(row, "external_ids")[n.REVISION] == "4"


def test_rows_a_transaction_touches_are_read_with_its_changes(idl, rows):
    txn = ovs_idl.Transaction(idl)
    p1 = idl.tables[n.LSP].rows[rows["p1"]]
    p1.addresses = ["fa:16:3e:00:00:02"]
    switch = idl.tables[n.LS].rows[rows["ls"]]
    switch.delvalue("ports", rows["p2"])
    new = txn.insert(idl.tables[n.LSP])
    new.name = "p3"
    assert values.column(p1, "addresses") == ["fa:16:3e:00:00:02"]
    assert [r.uuid for r in values.column(switch, "ports")] == [rows["p1"]]
    assert values.column(new, "name") == "p3" and values.has(new, "name")
    assert not values.has(new, "addresses")  # python-ovs: an inserted row's unset column
    txn.abort()
    assert values.column(p1, "addresses") == ["fa:16:3e:00:00:01 10.0.0.1", "unknown"]


def test_plain_objects_are_read_by_attribute():
    row = SimpleNamespace(name="x", external_ids={"a": "b"})
    assert values.column(row, "name") == "x" and values.has(row, "external_ids")
    assert not values.has(row, "type")
    with pytest.raises(AttributeError):
        values.column(row, "type")
