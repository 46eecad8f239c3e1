"""neutrino's NB IDL reads a large update (a connect's first copy of NB) a chunk of rows at a
time, with one atom per repeated string (`ovn/lean_updates.py`), and ends up with exactly
what python-ovs's own IDL holds and was told."""

from __future__ import annotations

from typing import Any

import pytest
from ovn_tools import nbctl, wait_sb_synced
from ovs.db import idl as ovs_idl
from ovsdbapp.backend.ovs_idl import connection
from test_nb_row_diff import _caught_up, _connected, _plain

from neutrino.ovn import lean_updates
from neutrino.ovn.client import _WatchedIdl
from neutrino.ovn.local import LocalOvn

PORTS = lean_updates.LARGE_UPDATE_ROWS + 100


def _contents(idl: Any) -> dict[str, dict[str, Any]]:
    return {name: {str(uuid): {col: _plain(datum) for col, datum in row._data.items()}
                   for uuid, row in table.rows.items()}
            for name, table in idl.tables.items()}


def _external_id_atoms(idl: Any, switch: str, key: str) -> tuple[set[int], set[int]]:
    """The distinct atom objects that hold `key`, and those that hold its values, in the
    switch's ports' external_ids (other tests' ports, of other projects, are left out)."""
    ls = next(r for r in idl.tables["Logical_Switch"].rows.values() if r.name == switch)
    pairs = [(name, value) for port in ls.ports
             for name, value in port._data["external_ids"].values.items() if name.value == key]
    return {id(name) for name, _ in pairs}, {id(value) for _, value in pairs}


@pytest.fixture
def large_nb(local_ovn: LocalOvn):
    ls, pg = "lean-ls", "lean_pg"
    ports = [f"lean-{i}" for i in range(PORTS)]
    args = ["ls-add", ls]
    for i, port in enumerate(ports):
        high, low = divmod(i, 256)
        args += ["--", "lsp-add", ls, port, "--", "set", "Logical_Switch_Port", port,
                 'external_ids:"neutron:project_id"=p1', f'external_ids:"neutron:device_id"=d{i}',
                 f'addresses="fa:16:3e:00:{high:02x}:{low:02x} 10.0.{high}.{low}"']
    nbctl(local_ovn, *args, "--", "pg-add", pg, *ports)
    wait_sb_synced(local_ovn)  # northd has written the ports' `up`: NB holds still
    yield ls, pg, ports
    nbctl(local_ovn, "pg-del", pg, "--", "ls-del", ls)


def test_a_large_first_copy_is_read_in_chunks_and_equals_python_ovs_s(
        local_ovn: LocalOvn, large_nb: tuple[str, str, list[str]],
        monkeypatch: pytest.MonkeyPatch):
    ls, _, ports = large_nb
    calls: dict[str, list[int]] = {"ours": [], "theirs": []}
    parse = ovs_idl.Idl._Idl__do_parse_update

    def counted(self: Any, table_updates: Any, version: Any, tables: Any) -> None:
        who = "ours" if isinstance(self, _WatchedIdl) else "theirs"
        calls[who].append(lean_updates.update_rows(table_updates))
        parse(self, table_updates, version, tables)

    monkeypatch.setattr(ovs_idl.Idl, "_Idl__do_parse_update", counted)
    trims: list[bool] = []
    monkeypatch.setattr(lean_updates, "release_freed_memory", lambda: trims.append(True))
    ours = _connected(local_ovn.nb, _WatchedIdl)
    assert len(trims) == 1  # once the first copy was in
    theirs = _connected(local_ovn.nb, connection.OvsdbIdl)
    try:
        # python-ovs read the first copy in one call; ours a chunk of rows at a time
        assert max(calls["theirs"]) > PORTS
        assert max(calls["ours"]) == lean_updates.CHUNK_ROWS
        assert _contents(ours) == _contents(theirs)
        assert ours.seen == theirs.seen and len(ours.seen) > PORTS
        # one atom for the key every port has, and one for the value every port shares
        keys, values = _external_id_atoms(ours, ls, "neutron:project_id")
        assert (len(keys), len(values)) == (1, 1)
        keys, values = _external_id_atoms(theirs, ls, "neutron:project_id")
        assert (len(keys), len(values)) == (PORTS, PORTS)

        # a later change brings the pool's atoms in too, and tells the same as python-ovs
        ours.seen.clear()
        theirs.seen.clear()
        nbctl(local_ovn, "set", "Logical_Switch_Port", ports[0],
              'external_ids:"neutron:project_id"=p2', "external_ids:extra=p1",
              "--", "ls-add", "lean-marker")
        for idl in (ours, theirs):
            _caught_up(idl, "lean-marker")
        assert ours.seen == theirs.seen and ours.seen
        assert _contents(ours) == _contents(theirs)
        _, p1 = _external_id_atoms(ours, ls, "neutron:project_id")  # p1, and ports[0]'s p2
        _, extra = _external_id_atoms(ours, ls, "extra")
        assert len(p1) == 2 and extra <= p1  # `extra` holds the pooled p1

        # a large change (every port) is read in chunks too, but frees nothing to trim
        ours.seen.clear()
        theirs.seen.clear()
        del calls["ours"][:]
        changes = [a for p in ports for a in ("--", "set", "Logical_Switch_Port", p,
                                               'external_ids:"neutron:revision_number"=2')]
        nbctl(local_ovn, *changes[1:], "--", "ls-add", "lean-marker-2")
        for idl in (ours, theirs):
            _caught_up(idl, "lean-marker-2")
        assert max(calls["ours"]) == lean_updates.CHUNK_ROWS
        assert ours.seen == theirs.seen and len(ours.seen) > PORTS
        assert len(trims) == 1
    finally:
        ours.close()
        theirs.close()
        nbctl(local_ovn, "--if-exists", "ls-del", "lean-marker", "--", "--if-exists",
              "ls-del", "lean-marker-2")


@pytest.mark.parametrize("step", ["_Idl__do_parse_update", "_Idl__row_update",
                                  "_Idl__apply_diff"])
def test_the_replaced_steps_are_still_python_ovs_s(step: str):
    """The overrides take python-ovs's private steps by their mangled names: if python-ovs
    renames one, ours would silently stop being used."""
    assert callable(getattr(ovs_idl.Idl, step, None))
    assert getattr(_WatchedIdl, step) is not getattr(ovs_idl.Idl, step)
