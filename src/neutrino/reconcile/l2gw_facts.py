"""L2 gateway connections as translation facts: each (device, interface, VLAN) it binds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import L2gwConnection, L2gwGateway
from neutrino.ovn.translate.l2gw import ConnectionFacts, connection_bindings


def load_connections(session: Session, ids: Sequence[str]) -> Mapping[str, ConnectionFacts]:
    rows = session.scalars(select(L2gwConnection).where(L2gwConnection.id.in_(ids)))
    return _facts(session, list(rows))


def load_all_connections(session: Session) -> list[ConnectionFacts]:
    return list(_facts(session, list(session.scalars(select(L2gwConnection)))).values())


def _facts(session: Session, rows: list[L2gwConnection]) -> dict[str, ConnectionFacts]:
    gateway_ids = {row.gateway_id for row in rows}
    gateways = {g.id: g for g in session.scalars(
        select(L2gwGateway).where(L2gwGateway.id.in_(gateway_ids)))}
    return {row.id: ConnectionFacts(
        row.id, row.network_id, row.revision_number, row.project_id,
        connection_bindings(gateways[row.gateway_id].devices, row.segmentation_id))
        for row in rows}
