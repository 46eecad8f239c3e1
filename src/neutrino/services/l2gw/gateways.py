"""L2 gateways: named sets of devices (physical switches) and their interfaces. Admin only,
as networking-l2gw's policy; a gateway may name devices no VTEP database holds yet (the check
comes when a connection is made)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from neutrino import policy
from neutrino.db.models import L2gwConnection, L2gwGateway
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    bump_revision,
    check_revision,
    new_id,
    run_and_wake,
    stamp_new,
)
from neutrino.services.context import Context
from neutrino.services.l2gw import errors as l2gw_errors
from neutrino.services.listing import ListQuery, ListSpec

GATEWAY = ResourceType.L2_GATEWAY
LISTING = ListSpec(L2gwGateway, {"id": L2gwGateway.id, "name": L2gwGateway.name,
                                 "project_id": L2gwGateway.project_id,
                                 "tenant_id": L2gwGateway.project_id})


def gateway_dict(gateway: L2gwGateway) -> dict[str, Any]:
    return {"id": gateway.id, "name": gateway.name, "project_id": gateway.project_id,
            "tenant_id": gateway.project_id, "devices": [dict(d) for d in gateway.devices]}


def get_gateway_row(session: Session, gateway_id: str) -> L2gwGateway:
    gateway = session.get(L2gwGateway, gateway_id)
    if gateway is None:
        raise l2gw_errors.L2GatewayNotFound(gateway_id)
    return gateway


def has_connections(session: Session, gateway_id: str) -> bool:
    return bool(session.scalar(select(exists().where(L2gwConnection.gateway_id == gateway_id))))


def _with_ids(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": new_id(), **device} for device in devices]


def _same_devices(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    def shape(devices: list[dict[str, Any]]) -> list[Any]:
        return [{k: v for k, v in d.items() if k != "id"} for d in devices]
    return shape(old) == shape(new)


class L2GatewayService(ResourceService):
    model = L2gwGateway
    listing = LISTING

    def to_dict(self, row: L2gwGateway) -> dict[str, Any]:
        return gateway_dict(row)

    def scope(self, ctx: Context) -> ColumnElement[bool]:
        return L2gwGateway.project_id == ctx.project_id

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        policy.enforce(ctx, "create_l2_gateway", {})
        return super().create(ctx, bodies)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> L2gwGateway:
        gateway = L2gwGateway(id=new_id(), name=body["name"], description="",
                              devices=_with_ids(body["devices"]))
        stamp_new(gateway, body.get("project_id") or ctx.project_id)
        session.add(gateway)
        session.flush()
        record_entry(session, GATEWAY, gateway.id, Operation.CREATE, {})
        return gateway

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        policy.enforce(ctx, "get_l2_gateway", {})
        return super().list(ctx, query)

    def get(self, ctx: Context, gateway_id: str) -> dict[str, Any]:
        policy.enforce(ctx, "get_l2_gateway", {})
        with self.db.read() as session:
            return gateway_dict(get_gateway_row(session, gateway_id))

    def update(self, ctx: Context, gateway_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        policy.enforce(ctx, "update_l2_gateway", {})

        def txn(session: Session) -> dict[str, Any]:
            gateway = get_gateway_row(session, gateway_id)
            check_revision(gateway, if_match)
            changed = "name" in body and body["name"] != gateway.name
            if "devices" in body and not _same_devices(gateway.devices, body["devices"]):
                if has_connections(session, gateway.id):
                    raise l2gw_errors.L2GatewayInUse(gateway.id)  # its VLANs are in use
                gateway.devices = _with_ids(body["devices"])
                changed = True
            if changed:
                gateway.name = body.get("name", gateway.name)
                bump_revision(session, gateway, GATEWAY, {})
            return gateway_dict(gateway)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, gateway_id: str, if_match: int | None) -> None:
        policy.enforce(ctx, "delete_l2_gateway", {})

        def txn(session: Session) -> None:
            gateway = get_gateway_row(session, gateway_id)
            check_revision(gateway, if_match)
            if has_connections(session, gateway.id):
                raise l2gw_errors.L2GatewayInUse(gateway.id)
            session.delete(gateway)
            record_entry(session, GATEWAY, gateway.id, Operation.DELETE, {})

        run_and_wake(self.db.write, self.wakeup, txn)
