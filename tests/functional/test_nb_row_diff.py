"""neutrino's NB IDL applies a "modify" at the cost of its diff (`ovn/row_diff.py`) and tells
`notify` exactly what python-ovs's own IDL tells it: the same rows, the same new values, the
same old values, for every shape of column a change can touch (sets of references, maps,
scalars, optional scalars set, changed and cleared)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from ovn_tools import nbctl
from ovs import poller as ovs_poller
from ovsdbapp.backend.ovs_idl import connection, idlutils

from neutrino.ovn.client import _WatchedIdl
from neutrino.ovn.local import LocalOvn

TIMEOUT = 10.0
TABLES = ("Logical_Switch", "Logical_Switch_Port", "Port_Group")


def _plain(datum: Any) -> Any:
    """A Datum as comparable Python: sets and maps sorted, references as their uuids."""
    value = datum.to_python(lambda ref, _base=None: str(ref))
    if isinstance(value, dict):
        return sorted((str(k), str(v)) for k, v in value.items())
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return value


def _recording(base: type) -> type:
    class Recording(base):  # type: ignore[misc, valid-type]
        def notify(self, event: str, row: Any, updates: Any = None) -> None:
            if row._table.name not in TABLES:
                return
            new = {name: _plain(datum) for name, datum in (row._data or {}).items()}
            old = ({name: _plain(datum) for name, datum in updates._data.items()}
                   if updates is not None and updates._data else None)
            self.seen.append((event, row._table.name, str(row.uuid), new, old))

    return Recording


def _connected(remote: str, base: type) -> Any:
    helper = idlutils.get_schema_helper(remote, "OVN_Northbound")
    for table in TABLES:
        helper.register_table(table)
    idl = _recording(base)(remote, helper)
    idl.seen = []
    _run_until(idl, lambda: idl.has_ever_connected())
    return idl


def _run_until(idl: Any, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not done():
        assert time.monotonic() < deadline, "the IDL did not get there in time"
        idl.run()
        poller = ovs_poller.Poller()
        idl.wait(poller)
        poller.timer_wait(50)
        poller.block()


def _caught_up(idl: Any, marker: str) -> None:
    """Run until the IDL has seen the switch that marks the end of a step."""
    _run_until(idl, lambda: any(r.name == marker
                                for r in idl.tables["Logical_Switch"].rows.values()))


def test_notifications_match_python_ovs_for_every_kind_of_change(local_ovn: LocalOvn):
    ours = _connected(local_ovn.nb, _WatchedIdl)
    theirs = _connected(local_ovn.nb, connection.OvsdbIdl)
    tag = uuid.uuid4().hex[:8]
    ls, pg = f"rd-{tag}", f"rd_{tag}"
    ports = [f"rd-{tag}-{i}" for i in range(4)]
    steps = [
        ["ls-add", ls, *[a for p in ports for a in ("--", "lsp-add", ls, p)]],
        ["pg-add", pg, ports[0], ports[1]],
        ["pg-set-ports", pg, *ports[:3]],  # a member added
        ["pg-set-ports", pg, ports[0], ports[2]],  # one removed
        ["set", "Port_Group", pg, "external_ids:a=1", "external_ids:b=2"],
        ["set", "Port_Group", pg, "external_ids:a=3"],  # a map value changed
        ["remove", "Port_Group", pg, "external_ids", "b"],  # a map key removed
        ["set", "Logical_Switch_Port", ports[0], "tag_request=7"],  # an optional scalar set
        ["set", "Logical_Switch_Port", ports[0], "tag_request=8"],  # ... changed
        ["clear", "Logical_Switch_Port", ports[0], "tag_request"],  # ... cleared
        ["lsp-set-type", ports[1], "localnet"],  # a scalar
        ["lsp-set-addresses", ports[1], "unknown", "router"],  # a set of strings
        ["lsp-del", ports[2]],  # a reference set loses a row through its deletion
        ["pg-del", pg],
        ["ls-del", ls],
    ]
    try:
        for number, step in enumerate(steps):
            marker = f"rd-{tag}-step{number}"
            nbctl(local_ovn, *step, "--", "ls-add", marker)
            for idl in (ours, theirs):
                _caught_up(idl, marker)
            nbctl(local_ovn, "ls-del", marker)
        for idl in (ours, theirs):
            _caught_up_gone(idl, f"rd-{tag}-step{len(steps) - 1}")
        updates = [s for s in theirs.seen if s[0] == "update" and s[4]]
        assert len(updates) >= 10  # the steps above did reach the old values
        assert ours.seen == theirs.seen
    finally:
        ours.close()
        theirs.close()


def _caught_up_gone(idl: Any, marker: str) -> None:
    _run_until(idl, lambda: all(r.name != marker
                                for r in idl.tables["Logical_Switch"].rows.values()))
