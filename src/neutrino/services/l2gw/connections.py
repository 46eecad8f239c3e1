"""L2 gateway connections: a network reachable through every device of a gateway.

Admin only. The VLAN of each interface is the interface's own segmentation ids, or the
connection's `segmentation_id` where the gateway names none (one of the two, never both).
Made only on devices a configured VTEP database holds, on interfaces that database has
(when it can be asked now), and never on a VLAN another connection binds on that interface.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.engine import Database
from neutrino.db.models import L2gwConnection, L2gwGateway
from neutrino.journal.parents import l2gw_connection_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.ovn.translate.l2gw import connection_bindings
from neutrino.services.base import ResourceService
from neutrino.services.common import Waker, new_id, run_and_wake, stamp_new
from neutrino.services.context import Context
from neutrino.services.l2gw import errors as l2gw_errors
from neutrino.services.l2gw.gateways import get_gateway_row
from neutrino.services.listing import ListQuery, ListSpec
from neutrino.services.networks import get_network_row
from neutrino.settings import Settings

CONNECTION = ResourceType.L2_GATEWAY_CONNECTION
# physical switch → its ports as its VTEP database says now (None: cannot say now)
Interfaces = Callable[[str], Collection[str] | None]
LISTING = ListSpec(L2gwConnection, {
    "id": L2gwConnection.id, "l2_gateway_id": L2gwConnection.gateway_id,
    "network_id": L2gwConnection.network_id,
    "segmentation_id": L2gwConnection.segmentation_id,
    "project_id": L2gwConnection.project_id, "tenant_id": L2gwConnection.project_id})


def connection_dict(row: L2gwConnection) -> dict[str, Any]:
    return {"id": row.id, "l2_gateway_id": row.gateway_id, "network_id": row.network_id,
            "segmentation_id": row.segmentation_id, "project_id": row.project_id,
            "tenant_id": row.project_id}


class L2GatewayConnectionService(ResourceService):
    model = L2gwConnection
    listing = LISTING

    def __init__(self, db: Database, settings: Settings, wakeup: Waker,
                 interfaces: Interfaces) -> None:
        super().__init__(db, settings, wakeup)
        self.switches = frozenset(settings.vtep_dbs)
        self.interfaces = interfaces

    def to_dict(self, row: L2gwConnection) -> dict[str, Any]:
        return connection_dict(row)

    def scope(self, ctx: Context) -> ColumnElement[bool]:
        return L2gwConnection.project_id == ctx.project_id

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        policy.enforce(ctx, "create_l2_gateway_connection", {})
        return super().create(ctx, bodies)

    def _create_one(self, session: Session, ctx: Context,
                    body: dict[str, Any]) -> L2gwConnection:
        gateway = get_gateway_row(session, body["l2_gateway_id"])
        network = get_network_row(session, ctx, body["network_id"])
        vlan = _segmentation(gateway, body.get("segmentation_id"))
        taken = session.scalar(select(L2gwConnection.id).where(
            L2gwConnection.gateway_id == gateway.id, L2gwConnection.network_id == network.id))
        if taken:
            raise l2gw_errors.L2GatewayConnectionExists(network.id, gateway.id)
        self._check_devices(gateway)
        _check_free(session, connection_bindings(gateway.devices, vlan))
        row = L2gwConnection(id=new_id(), name="", description="", gateway_id=gateway.id,
                             network_id=network.id, segmentation_id=vlan)
        stamp_new(row, body.get("project_id") or ctx.project_id)
        session.add(row)
        session.flush()
        record_entry(session, CONNECTION, row.id, Operation.CREATE,
                     l2gw_connection_parents(row))
        return row

    def _check_devices(self, gateway: L2gwGateway) -> None:
        for device in gateway.devices:
            name = device["device_name"]
            if name not in self.switches:
                raise l2gw_errors.L2GatewayDeviceNotFound(name)
            ports = self.interfaces(name)
            if ports is None:
                continue  # its database is down: the connection waits for it in the journal
            for interface in device["interfaces"]:
                if interface["name"] not in ports:
                    raise l2gw_errors.L2GatewayInterfaceNotFound(name, interface["name"])

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        policy.enforce(ctx, "get_l2_gateway_connection", {})
        return super().list(ctx, query)

    def get(self, ctx: Context, connection_id: str) -> dict[str, Any]:
        policy.enforce(ctx, "get_l2_gateway_connection", {})
        with self.db.read() as session:
            return connection_dict(_get_row(session, connection_id))

    def update(self, ctx: Context, connection_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        """networking-l2gw has no connection update: nothing in a connection is updatable
        (the attributes say so first), so an empty update answers the connection."""
        return self.get(ctx, connection_id)

    def delete(self, ctx: Context, connection_id: str, if_match: int | None) -> None:
        policy.enforce(ctx, "delete_l2_gateway_connection", {})

        def txn(session: Session) -> None:
            row = _get_row(session, connection_id)
            parents = l2gw_connection_parents(row)
            session.delete(row)
            record_entry(session, CONNECTION, row.id, Operation.DELETE, parents)

        run_and_wake(self.db.write, self.wakeup, txn)


def _get_row(session: Session, connection_id: str) -> L2gwConnection:
    row = session.get(L2gwConnection, connection_id)
    if row is None:
        raise l2gw_errors.L2GatewayConnectionNotFound(connection_id)
    return row


def _segmentation(gateway: L2gwGateway, given: int | None) -> int | None:
    named = any(i.get("segmentation_id") for d in gateway.devices for i in d["interfaces"])
    if named and given is not None:
        raise errors.InvalidInput("default segmentation_id should not be provided when "
                                  "segmentation_id is assigned during l2gateway creation")
    if not named and given is None:
        raise l2gw_errors.L2GatewaySegmentationRequired(
            "Segmentation id must be specified in create l2gateway connections")
    return given


def _check_free(session: Session, wanted: Collection[Any]) -> None:
    """No VLAN of `wanted` may already be bound on its interface by another connection."""
    rows = session.scalars(select(L2gwConnection))
    gateways = {g.id: g for g in session.scalars(select(L2gwGateway))}
    used = {(b.switch, b.port, b.vlan) for row in rows
            for b in connection_bindings(gateways[row.gateway_id].devices, row.segmentation_id)}
    for b in wanted:
        if (b.switch, b.port, b.vlan) in used:
            raise l2gw_errors.L2GatewaySegmentationIDExists(b.switch, b.port, b.vlan)
