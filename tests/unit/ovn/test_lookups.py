"""The NB lookups follow the IDL's copy: inserts, modifies, deletes, a reload after a reconnect,
and a transaction's own changes (left out until committed)."""

from __future__ import annotations

import uuid

import pytest
from ovs.db import idl as ovs_idl

from neutrino.ovn import lookups
from neutrino.ovn import naming as n
from neutrino.ovn.rows import RowKey

SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"


@pytest.fixture()
def idl() -> ovs_idl.Idl:
    """An IDL never connected: the test feeds it the updates a server would send."""
    helper = ovs_idl.SchemaHelper(SCHEMA)
    helper.register_all()
    return ovs_idl.Idl("unix:/nonexistent/nb.sock", helper)


def _update(idl: ovs_idl.Idl, table: str, row_uuid: uuid.UUID, op: str, **columns) -> None:
    row = {k: ["map", [list(kv) for kv in sorted(v.items())]] if isinstance(v, dict) else v
           for k, v in columns.items()}
    update = {table: {str(row_uuid): {op: row} if op != "delete" else {"delete": None}}}
    idl._Idl__parse_update(update, ovs_idl.OVSDB_UPDATE2)


def _names(rows) -> list[str]:
    return [r.name for r in rows]


def test_a_map_key_index_follows_inserts_modifies_deletes_and_a_reload(idl):
    a, b, port = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _update(idl, n.DHCP, a, "insert", cidr="10.0.0.0/24",
            external_ids={n.DHCP_SUBNET_ID: "s1"})
    table = idl.tables[n.DHCP]
    index = lookups.value_index(table, "external_ids", n.DHCP_SUBNET_ID, n.DHCP_PORT_ID)
    assert [r.uuid for r in index.rows("s1")] == [a]
    # a port's own row repeats the subnet's id and is left out
    _update(idl, n.DHCP, port, "insert", cidr="10.0.0.0/24",
            external_ids={n.DHCP_SUBNET_ID: "s1", n.DHCP_PORT_ID: "p1"})
    _update(idl, n.DHCP, b, "insert", cidr="10.0.1.0/24",
            external_ids={n.DHCP_SUBNET_ID: "s2"})
    assert [r.uuid for r in index.rows("s1")] == [a]
    assert lookups.value_index(table, "external_ids", n.DHCP_SUBNET_ID, n.DHCP_PORT_ID) \
        is index  # created once, then kept
    # a modified value moves the row; a modify re-appends it, as python-ovs does in the table
    _update(idl, n.DHCP, b, "modify", external_ids={n.DHCP_SUBNET_ID: "s1"})
    assert [r.uuid for r in index.rows("s1")] == [a, b]
    assert index.rows("s2") == []
    assert [r.uuid for r in index.rows("s1")] == \
        [r.uuid for r in table.rows.values() if n.DHCP_PORT_ID not in r.external_ids]
    _update(idl, n.DHCP, a, "delete")
    assert [r.uuid for r in index.rows("s1")] == [b]
    # a reconnect that reloads the database clears the tables, then inserts every row
    idl._Idl__clear()
    assert index.rows("s1") == []
    _update(idl, n.DHCP, a, "initial", cidr="10.0.0.0/24",
            external_ids={n.DHCP_SUBNET_ID: "s1"})
    assert [r.uuid for r in index.rows("s1")] == [a]


def test_a_transactions_own_changes_stay_out_until_committed(idl):
    old = uuid.uuid4()
    _update(idl, n.LSP, old, "insert", name="old")
    table = idl.tables[n.LSP]
    index = lookups.value_index(table, "name")
    txn = ovs_idl.Transaction(idl)
    new = txn.insert(table)
    new.name = "new"
    table.rows[old].name = "renamed"
    assert index.rows("new") == [] and index.rows("renamed") == []
    assert _names(index.rows("old")) == ["renamed"]  # the row, as the transaction sees it
    table.rows[old].delete()
    assert index.rows("old") == []
    txn.abort()
    assert [r.uuid for r in index.rows("old")] == [old] and index.rows("new") == []
    # the server's answer to a committed transaction is what enters the index
    _update(idl, n.LSP, old, "modify", name="renamed")
    assert index.rows("old") == [] and [r.uuid for r in index.rows("renamed")] == [old]


def test_holds_probes_a_reference_set_without_reading_it(idl):
    switch, port, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _update(idl, n.LSP, port, "insert", name="p")
    _update(idl, n.LSP, other, "insert", name="q")
    _update(idl, n.LS, switch, "insert", name="s", ports=["set", [["uuid", str(port)]]])
    row = idl.tables[n.LS].rows[switch]
    assert lookups.holds(row, "ports", port) and not lookups.holds(row, "ports", other)
    assert lookups.size(row, "ports") == 1


def test_a_name_shared_by_several_rows_finds_the_oldest_switch_and_the_newest_router(idl):
    """As ovsdbapp's name index answered for switches (the oldest row, a modified row counting
    as re-added), and the value index for routers, now that both go through value indexes."""
    from neutrino.ovn.client import _Reader

    first, second, r1, r2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for table, a, b in ((n.LS, first, second), (n.LR, r1, r2)):
        _update(idl, table, a, "insert", name="same")
        _update(idl, table, b, "insert", name="same")
    switch, router = RowKey(n.LS, "name", "same"), RowKey(n.LR, "name", "same")
    assert _Reader(idl).find(switch).uuid == first
    assert _Reader(idl).find(router).uuid == r2
    _update(idl, n.LS, first, "modify", external_ids={"k": "v"})
    assert _Reader(idl).find(switch).uuid == second
    assert _Reader(idl).find(RowKey(n.LS, "name", "other")) is None
