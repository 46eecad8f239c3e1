"""L2 gateway connection → the network's `vtep` switch ports in NB, and the rows of each
device's VTEP database (hardware_vtep): pure values in, pure values out.

A connection makes its network reachable through every device of its gateway: in NB one
switch port of type `vtep` per device (ovn-controller-vtep binds it to the physical switch's
chassis), in each device's VTEP database a Logical_Switch for the network and, on each
named physical port, a VLAN binding of the segmentation id to that switch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.networks import switch_key

RESOURCE = "l2_gateway_connection"
GATEWAY_RESOURCE = "l2_gateway"
DEVICE_OWNER = "network:l2gateway"


@dataclass(frozen=True, order=True)
class VtepBinding:
    """`vlan` on physical port `port` of physical switch `switch` carries the network."""

    switch: str
    port: str
    vlan: int


@dataclass(frozen=True)
class ConnectionFacts:
    id: str
    network_id: str
    revision: int
    project_id: str
    bindings: tuple[VtepBinding, ...]
    # device → the MACs its VTEP database learnt on the network's VTEP logical switch
    learned: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def switches(self) -> tuple[str, ...]:
        return tuple(sorted({b.switch for b in self.bindings}))

    def learned_on(self, switch: str) -> tuple[str, ...]:
        return dict(self.learned).get(switch, ())


def connection_bindings(devices: Sequence[Mapping[str, Any]],
                        segmentation_id: int | None) -> tuple[VtepBinding, ...]:
    """Every VLAN the connection binds: an interface's own segmentation ids, or the
    connection's where the interface names none."""
    found = []
    for device in devices:
        for interface in device["interfaces"]:
            vlans = interface.get("segmentation_id") or (
                [segmentation_id] if segmentation_id is not None else [])
            found += [VtepBinding(device["device_name"], interface["name"], int(vlan))
                      for vlan in vlans]
    return tuple(sorted(set(found)))


# -- NB --------------------------------------------------------------------------------------
def build_connection(facts: ConnectionFacts) -> DesiredState:
    rows = tuple(_vtep_port(facts, switch) for switch in facts.switches)
    return DesiredState(RESOURCE, facts.id, rows, tuple(r.key for r in rows),
                        owned_tagged=_tagged(facts.id))


def build_connection_absent(connection_id: str) -> DesiredState:
    return DesiredState(RESOURCE, connection_id, (), (), owned_tagged=_tagged(connection_id))


def build_gateway(gateway_id: str) -> DesiredState:
    """A gateway has no NB rows of its own: its connections carry everything."""
    return DesiredState(GATEWAY_RESOURCE, gateway_id, (), ())


def _tagged(connection_id: str) -> tuple[tuple[str, str, str], ...]:
    return ((n.LSP, n.L2GW_CONNECTION_ID, connection_id),)


def _vtep_port(facts: ConnectionFacts, switch: str) -> DesiredRow:
    key = RowKey(n.LSP, "name", n.l2gw_port_name(facts.id, switch))
    columns = {
        "type": "vtep",
        "addresses": vtep_addresses(facts.learned_on(switch)),
        "port_security": [],
        "options": {"vtep-physical-switch": switch,
                    "vtep-logical-switch": n.vtep_switch_name(facts.network_id)},
        "enabled": True,
        "external_ids": {
            n.L2GW_CONNECTION_ID: facts.id,
            n.L2GW_DEVICE: switch,
            n.NETWORK_NAME: n.switch_name(facts.network_id),
            n.DEVICE_OWNER: DEVICE_OWNER,
            n.PROJECT_ID: facts.project_id,
            n.REVISION: str(facts.revision),
        },
    }
    return DesiredRow(key, columns, parent=ParentLink(switch_key(facts.network_id), "ports"))


def vtep_addresses(learned: Iterable[str]) -> list[str]:
    """A `vtep` switch port's addresses: `unknown` (OVN floods what it does not know to the
    VTEP) and each MAC the VTEP learnt behind it, which ovn-northd copies to the SB
    Port_Binding's `mac` and forwards to the port directly (ovn-controller-vtep of OVN 23.03
    does not import them itself)."""
    return ["unknown", *sorted(set(learned))]


_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True)
class LearnedMacs:
    """The MACs taken from one VTEP database's Ucast_Macs_Local, per logical switch."""

    macs: Mapping[str, tuple[str, ...]]
    over_cap: tuple[str, ...] = ()  # logical switches that had more than the cap


def learned_macs(rows: Iterable[tuple[str, str]], wanted: Iterable[str],
                 cap: int) -> LearnedMacs:
    """From (logical switch name, MAC) rows: the unicast MACs of the `wanted` logical
    switches, normalised, at most `cap` per switch (the lowest, so the choice is stable while
    a switch is flooded with more). Malformed and group MACs are left out."""
    names = set(wanted)
    found: dict[str, set[str]] = {}
    for switch, mac in rows:
        mac = mac.strip().lower()
        if switch in names and _MAC.match(mac) and not int(mac[:2], 16) & 1:
            found.setdefault(switch, set()).add(mac)
    over = tuple(sorted(s for s, macs in found.items() if len(macs) > cap))
    return LearnedMacs({s: tuple(sorted(macs)[:cap]) for s, macs in sorted(found.items())},
                       over)


# -- VTEP databases --------------------------------------------------------------------------
Slot = tuple[str, int]  # (physical port, vlan)


@dataclass(frozen=True)
class VtepDesired:
    """What neutrino wants in one physical switch's VTEP database."""

    switch: str
    logical_switches: frozenset[str] = frozenset()
    bindings: Mapping[Slot, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VtepActual:
    """What that database holds: our logical switches, every VLAN binding of the switch's
    ports (the logical switch's name, or None for one that is not ours) and its ports."""

    owned_switches: frozenset[str]
    bindings: Mapping[Slot, str | None]
    ports: frozenset[str]


@dataclass(frozen=True)
class VtepPlan:
    switch: str
    add_switches: tuple[str, ...] = ()
    remove_switches: tuple[str, ...] = ()
    bind: tuple[tuple[str, int, str], ...] = ()
    unbind: tuple[Slot, ...] = ()
    problems: tuple[str, ...] = ()  # what cannot be written (a missing port, a foreign VLAN)

    @property
    def is_noop(self) -> bool:
        return not (self.add_switches or self.remove_switches or self.bind or self.unbind)

    def describe(self) -> list[str]:
        return ([f"add Logical_Switch {name}" for name in self.add_switches]
                + [f"remove Logical_Switch {name}" for name in self.remove_switches]
                + [f"bind {port} vlan {vlan} to {ls}" for port, vlan, ls in self.bind]
                + [f"unbind {port} vlan {vlan}" for port, vlan in self.unbind])


def build_vtep_desired(connections: Iterable[ConnectionFacts],
                       switches: Iterable[str]) -> dict[str, VtepDesired]:
    """Every configured switch's wanted rows, from every connection (a switch no connection
    names wants nothing, so what neutrino wrote there is removed)."""
    names: dict[str, set[str]] = {s: set() for s in switches}
    bindings: dict[str, dict[Slot, str]] = {s: {} for s in names}
    for facts in connections:
        ls = n.vtep_switch_name(facts.network_id)
        for b in facts.bindings:
            if b.switch in names:
                names[b.switch].add(ls)
                bindings[b.switch][(b.port, b.vlan)] = ls
    return {s: VtepDesired(s, frozenset(names[s]), bindings[s]) for s in names}


def plan_vtep(desired: VtepDesired, actual: VtepActual) -> VtepPlan:
    """The changes that make one VTEP database hold `desired`, touching only our rows."""
    bind, problems = [], []
    for (port, vlan), ls in sorted(desired.bindings.items()):
        if port not in actual.ports:
            problems.append(f"{desired.switch}: no physical port {port}")
            continue
        current = actual.bindings.get((port, vlan), "")
        if current is None:
            problems.append(f"{desired.switch}: {port} vlan {vlan} is bound to a logical "
                            "switch neutrino does not own")
        elif current != ls:
            bind.append((port, vlan, ls))
    unbind = tuple(slot for slot, ls in sorted(actual.bindings.items(), key=_slot_order)
                   if ls is not None and ls in actual.owned_switches
                   and slot not in desired.bindings)
    return VtepPlan(
        desired.switch,
        add_switches=tuple(sorted(desired.logical_switches - actual.owned_switches)),
        remove_switches=tuple(sorted(actual.owned_switches - desired.logical_switches)),
        bind=tuple(bind), unbind=unbind, problems=tuple(problems))


def _slot_order(item: tuple[Slot, str | None]) -> Slot:
    return item[0]
