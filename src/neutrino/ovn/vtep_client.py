"""The VTEP databases (hardware_vtep schema) of the physical switches neutrino manages.

One IDL connection per configured switch, in the shape of the NB client: a command reads
what the database holds, plans against the wanted rows (`translate.l2gw.plan_vtep`, pure)
and, when applying, writes the plan in the same OVSDB transaction. Only rows neutrino owns
are changed: Logical_Switch rows named `neutron-<network>` with neutrino's description, and
the VLAN bindings that point at them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ovs.db import idl as ovs_idl
from ovsdbapp.backend import ovs_idl as ovsdbapp_idl
from ovsdbapp.backend.ovs_idl import command

from neutrino import errors
from neutrino.ovn import naming as n
from neutrino.ovn.client import OvsdbClient
from neutrino.ovn.translate.l2gw import (
    LearnedMacs,
    VtepActual,
    VtepDesired,
    VtepPlan,
    learned_macs,
    plan_vtep,
)

LOG = logging.getLogger(__name__)
SCHEMA = "hardware_vtep"
LS = "Logical_Switch"
# rows that name a logical switch and go with it (ovn-controller-vtep's and the switch's MACs)
MAC_TABLES = ("Ucast_Macs_Local", "Ucast_Macs_Remote", "Mcast_Macs_Local", "Mcast_Macs_Remote")


class VtepUnavailable(errors.BackendUnavailable):
    """A VTEP database cannot be reached; `refs` are the journal entries that wait for it."""

    def __init__(self, message: str, refs: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.refs = tuple(refs)


class VtepClient(OvsdbClient):
    schema = SCHEMA

    def __init__(self, switch: str, remote: str, timeout: float = 30.0) -> None:
        super().__init__(remote, timeout)
        self.switch = switch

    def plan(self, desired: VtepDesired) -> VtepPlan:
        return self._run(_VtepCommand(self._backend_or_raise(), desired, apply=False))

    def apply(self, desired: VtepDesired) -> VtepPlan:
        plan = self._run(_VtepCommand(self._backend_or_raise(), desired, apply=True))
        for problem in plan.problems:
            LOG.warning("VTEP %s: %s", self.switch, problem)
        return plan

    @property
    def change_seqno(self) -> int | None:
        """Moves whenever the local copy of the database changes (None: not started)."""
        backend = self._backend
        return None if backend is None else backend.idl.change_seqno

    def learned_macs(self, logical_switches: frozenset[str], cap: int) -> LearnedMacs:
        """The MACs the switch learnt (Ucast_Macs_Local) on those logical switches, at most
        `cap` per logical switch."""
        return self._run(_LearnedMacsCommand(self._backend_or_raise(), logical_switches, cap))

    def interfaces(self) -> frozenset[str] | None:
        """The physical switch's ports, or None when the database cannot say now."""
        if not self.connected:
            return None
        for row in self.read_rows("Physical_Switch"):
            if row["name"] == self.switch:
                ports = {p["_uuid"]: p["name"] for p in self.read_rows("Physical_Port")}
                return frozenset(ports[u] for u in row["ports"] if u in ports)
        return frozenset()


class _VtepCommand(command.BaseCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, desired: VtepDesired, apply: bool) -> None:
        super().__init__(api)
        self.desired = desired
        self.do_apply = apply

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        tables = self.api.idl.tables
        ours = {r.name: r for r in tables[LS].rows.values() if _is_ours(r)}
        ports = _ports_of(tables, self.desired.switch)
        actual = VtepActual(frozenset(ours), _bindings(ports, ours), frozenset(ports))
        plan = plan_vtep(self.desired, actual)
        if self.do_apply and not plan.is_noop:
            _write(txn, tables, plan, ours, ports)
        self.result = plan


class _LearnedMacsCommand(command.ReadOnlyCommand):
    def __init__(self, api: ovsdbapp_idl.Backend, logical_switches: frozenset[str],
                 cap: int) -> None:
        super().__init__(api)
        self.logical_switches = logical_switches
        self.cap = cap

    def run_idl(self, txn: ovs_idl.Transaction) -> None:
        rows = self.api.idl.tables["Ucast_Macs_Local"].rows.values()
        self.result = learned_macs(((_switch_of(row).name, row.MAC) for row in rows
                                    if _switch_of(row) is not None),
                                   self.logical_switches, self.cap)


def _switch_of(row: Any) -> Any:
    """A MAC row's logical switch (a required reference; a list while the IDL says so)."""
    switch = row.logical_switch
    return (switch[0] if switch else None) if isinstance(switch, list) else switch


def _is_ours(row: Any) -> bool:
    return row.name.startswith(n.SWITCH_PREFIX) and row.description == n.VTEP_OWNER


def _ports_of(tables: Mapping[str, Any], switch: str) -> dict[str, Any]:
    found = next((r for r in tables["Physical_Switch"].rows.values() if r.name == switch), None)
    return {} if found is None else {port.name: port for port in found.ports}


def _bindings(ports: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[tuple[str, int], Any]:
    owned_uuids = {row.uuid: name for name, row in ours.items()}
    return {(name, vlan): owned_uuids.get(ls.uuid)
            for name, port in ports.items() for vlan, ls in port.vlan_bindings.items()}


def _write(txn: ovs_idl.Transaction, tables: Mapping[str, Any], plan: VtepPlan,
           ours: dict[str, Any], ports: Mapping[str, Any]) -> None:
    switches = dict(ours)
    for name in plan.add_switches:
        row = txn.insert(tables[LS])
        row.name, row.description = name, n.VTEP_OWNER
        switches[name] = row
    changed: dict[str, dict[int, Any]] = {}
    for port, vlan, ls in plan.bind:
        changed.setdefault(port, dict(ports[port].vlan_bindings))[vlan] = switches[ls]
    for port, vlan in plan.unbind:
        changed.setdefault(port, dict(ports[port].vlan_bindings)).pop(vlan, None)
    for port, bindings in changed.items():
        ports[port].verify("vlan_bindings")
        ports[port].vlan_bindings = bindings
    removed = {ours[name].uuid for name in plan.remove_switches}
    for table in MAC_TABLES:
        for row in list(tables[table].rows.values()):
            if getattr(_switch_of(row), "uuid", None) in removed:
                row.delete()
    for name in plan.remove_switches:
        ours[name].delete()
