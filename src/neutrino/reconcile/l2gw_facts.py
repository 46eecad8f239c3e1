"""L2 gateway connections as translation facts: each (device, interface, VLAN) it binds,
and the MACs each device learnt on the network's VTEP logical switch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import L2gwConnection, L2gwGateway, VtepLearnedMac
from neutrino.ovn import naming as n
from neutrino.ovn.translate.l2gw import ConnectionFacts, connection_bindings

VtepSwitch = tuple[str, str]  # (physical switch, VTEP logical switch)


def load_connections(session: Session, ids: Sequence[str]) -> Mapping[str, ConnectionFacts]:
    rows = session.scalars(select(L2gwConnection).where(L2gwConnection.id.in_(ids)))
    return _facts(session, list(rows))


def load_all_connections(session: Session) -> list[ConnectionFacts]:
    return list(_facts(session, list(session.scalars(select(L2gwConnection)))).values())


def _facts(session: Session, rows: list[L2gwConnection]) -> dict[str, ConnectionFacts]:
    gateway_ids = {row.gateway_id for row in rows}
    gateways = {g.id: g for g in session.scalars(
        select(L2gwGateway).where(L2gwGateway.id.in_(gateway_ids)))}
    found = {row.id: ConnectionFacts(
        row.id, row.network_id, row.revision_number, row.project_id,
        connection_bindings(gateways[row.gateway_id].devices, row.segmentation_id))
        for row in rows}
    wanted = [(switch, n.vtep_switch_name(f.network_id))
              for f in found.values() for switch in f.switches]
    learned = load_learned(session, wanted)
    return {cid: replace(f, learned=tuple(
        (s, learned[(s, n.vtep_switch_name(f.network_id))]) for s in f.switches
        if (s, n.vtep_switch_name(f.network_id)) in learned))
        for cid, f in found.items()}


def load_learned(session: Session, wanted: Iterable[VtepSwitch]) -> dict[VtepSwitch,
                                                                           tuple[str, ...]]:
    """The imported MACs of each wanted (physical switch, VTEP logical switch) that has any."""
    pairs = set(wanted)
    if not pairs:
        return {}
    found: dict[VtepSwitch, list[str]] = {}
    rows = session.execute(select(VtepLearnedMac).where(
        VtepLearnedMac.physical_switch.in_({ps for ps, _ls in pairs}),
        VtepLearnedMac.logical_switch.in_({ls for _ps, ls in pairs})))
    for (row,) in rows:
        if (row.physical_switch, row.logical_switch) in pairs:
            found.setdefault((row.physical_switch, row.logical_switch), []).append(row.mac)
    return {pair: tuple(sorted(macs)) for pair, macs in found.items()}
