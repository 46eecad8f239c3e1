"""Trunks: Neutron's trunk plugin rules, realised as ML2/OVN does (subports' switch ports
name the parent and a VLAN tag; nothing of the trunk's own is written to OVN)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import utcnow
from neutrino.db.models import Network, Port, Trunk, TrunkSubport
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    check_revision,
    get_owned,
    new_id,
    run_and_wake,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec, standard_columns
from neutrino.services.ports import get_port_row
from neutrino.services.trunks import errors as trunk_errors
from neutrino.services.trunks.requests import SubportRequest, parse_subports
from neutrino.services.trunks.subports import ACTIVE, attach, can_be_trunked, detach

TAG_TYPE = "trunk"  # no OVN rows of its own: tags are not journaled
VLAN = "vlan"
VLAN_MIN, VLAN_MAX = 1, 4094


def subport_dict(sub: TrunkSubport) -> dict[str, Any]:
    return {"port_id": sub.port_id, "segmentation_type": sub.segmentation_type,
            "segmentation_id": sub.segmentation_id}


def trunk_dict(trunk: Trunk) -> dict[str, Any]:
    return {**standard_fields(trunk), "port_id": trunk.port_id,
            "admin_state_up": trunk.admin_state_up, "status": trunk.status,
            "sub_ports": [subport_dict(s) for s in trunk.sub_ports]}


def get_trunk_row(session: Session, ctx: Context, trunk_id: str) -> Trunk:
    return get_owned(session, ctx, Trunk, trunk_id, trunk_errors.TrunkNotFound)


class TrunkService(ResourceService):
    model = Trunk
    listing = ListSpec(Trunk, {**standard_columns(Trunk), "port_id": Trunk.port_id,
                               "admin_state_up": Trunk.admin_state_up,
                               "status": Trunk.status})

    def to_dict(self, row: Trunk) -> dict[str, Any]:
        return trunk_dict(row)

    # -- create -------------------------------------------------------------------------
    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> Trunk:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_trunk", {"project_id": project})
        requests = parse_subports(body.get("sub_ports") or [])
        parent = get_port_row(session, ctx, body["port_id"])
        _check_parent(session, parent)
        # Neutron's trunk driver for OVN makes a trunk ACTIVE as soon as it is created
        trunk = Trunk(id=new_id(), name=body["name"], description=body["description"],
                      admin_state_up=body["admin_state_up"], port_id=parent.id,
                      status=ACTIVE)
        stamp_new(trunk, project)
        set_tags(trunk, TAG_TYPE, body.get("tags") or [])
        session.add(trunk)
        session.flush()
        self._add(session, ctx, trunk, parent, requests)
        return trunk

    # -- read ---------------------------------------------------------------------------
    def get(self, ctx: Context, trunk_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "get_trunk", {"project_id": trunk.project_id})
            return trunk_dict(trunk)

    def get_subports(self, ctx: Context, trunk_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "get_subports", {"project_id": trunk.project_id})
            return {"sub_ports": [subport_dict(s) for s in trunk.sub_ports]}

    # -- update -------------------------------------------------------------------------
    def update(self, ctx: Context, trunk_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "update_trunk", {"project_id": trunk.project_id})
            check_revision(trunk, if_match)
            if apply_simple_updates(trunk, body, {"name": "name", "description": "description",
                                                  "admin_state_up": "admin_state_up"}):
                _revise(trunk)
            return trunk_dict(trunk)

        return run_and_wake(self.db.write, self.wakeup, txn)

    # -- subports -----------------------------------------------------------------------
    def add_subports(self, ctx: Context, trunk_id: str, body: dict[str, Any]
                     ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "add_subports", {"project_id": trunk.project_id})
            requests = parse_subports(_sub_ports_of(body))
            _check_manageable(trunk)
            self._add(session, ctx, trunk, session.get(Port, trunk.port_id), requests)
            trunk.status = ACTIVE
            _revise(trunk)
            return trunk_dict(trunk)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def remove_subports(self, ctx: Context, trunk_id: str, body: dict[str, Any]
                        ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "remove_subports", {"project_id": trunk.project_id})
            requests = parse_subports(_sub_ports_of(body), removal=True)
            _check_manageable(trunk)
            current = {s.port_id: s for s in trunk.sub_ports}
            for request in requests:
                if request.port_id not in current:
                    raise trunk_errors.SubPortNotFound(trunk.id, request.port_id)
            for request in requests:
                detach(session, trunk, current[request.port_id])
            trunk.status = ACTIVE
            _revise(trunk)
            return trunk_dict(trunk)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def _add(self, session: Session, ctx: Context, trunk: Trunk, parent: Port,
             requests: list[SubportRequest]) -> None:
        parent_mtu = _mtu(session, parent)
        for request in requests:
            port = _subport_port(session, ctx, trunk, parent, request, parent_mtu)
            seg_type, seg_id = _segmentation(session, port, request)
            taken = session.scalar(select(TrunkSubport.port_id).where(
                TrunkSubport.trunk_id == trunk.id, TrunkSubport.segmentation_type == seg_type,
                TrunkSubport.segmentation_id == seg_id))
            if taken:
                raise trunk_errors.DuplicateSubPort(seg_type, seg_id, trunk.id)
            trunk.sub_ports.append(TrunkSubport(port_id=port.id, segmentation_type=seg_type,
                                                segmentation_id=seg_id))
            session.flush()
            attach(session, trunk, parent, port)

    # -- delete -------------------------------------------------------------------------
    def delete(self, ctx: Context, trunk_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            trunk = get_trunk_row(session, ctx, trunk_id)
            policy.enforce(ctx, "delete_trunk", {"project_id": trunk.project_id})
            check_revision(trunk, if_match)
            _check_manageable(trunk)
            parent = session.get(Port, trunk.port_id)
            if parent is not None and not can_be_trunked(parent):
                raise trunk_errors.TrunkInUse(trunk.id)
            for sub in list(trunk.sub_ports):
                detach(session, trunk, sub)
            session.delete(trunk)

        run_and_wake(self.db.write, self.wakeup, txn)


def _revise(trunk: Trunk) -> None:
    trunk.revision_number += 1
    trunk.updated_at = utcnow()


def _sub_ports_of(body: dict[str, Any]) -> Any:
    if set(body) != {"sub_ports"}:
        raise errors.BadRequest("Invalid input: the body must be {\"sub_ports\": [...]}")
    return body["sub_ports"]


def _check_manageable(trunk: Trunk) -> None:
    if not trunk.admin_state_up:
        raise trunk_errors.TrunkDisabled(trunk.id)


def _check_parent(session: Session, port: Port) -> None:
    """Neutron's TrunkPortValidator for a parent."""
    if _subport_of(session, port.id):
        raise trunk_errors.TrunkPortInUse(port.id)
    if _parent_of(session, port.id) or not can_be_trunked(port):
        raise trunk_errors.ParentPortInUse(port.id)


def _subport_of(session: Session, port_id: str) -> str | None:
    """The trunk the port is a subport of, asked of the database (earlier items of the same
    bulk request included: relationships loaded before them would not know)."""
    return session.scalar(select(TrunkSubport.trunk_id).where(TrunkSubport.port_id == port_id))


def _parent_of(session: Session, port_id: str) -> str | None:
    return session.scalar(select(Trunk.id).where(Trunk.port_id == port_id))


def _subport_port(session: Session, ctx: Context, trunk: Trunk, parent: Port,
                  request: SubportRequest, parent_mtu: int | None) -> Port:
    """Neutron's checks of a subport, in its order."""
    if request.port_id == parent.id:
        raise trunk_errors.ParentPortInUse(request.port_id)
    port = get_port_row(session, ctx, request.port_id)
    mtu = _mtu(session, port)
    if parent_mtu and mtu and mtu > parent_mtu:
        raise trunk_errors.SubPortMtuGreaterThanTrunkPortMtu(port.id, mtu, trunk.port_id,
                                                             parent_mtu)
    if _subport_of(session, port.id):
        raise trunk_errors.TrunkPortInUse(port.id)
    if _parent_of(session, port.id):
        raise trunk_errors.ParentPortInUse(port.id)
    if port.device_id:
        raise trunk_errors.PortInUse(port.network_id, port.id, port.device_id)
    return port


def _segmentation(session: Session, port: Port, request: SubportRequest) -> tuple[str, int]:
    """The segmentation asked for; `inherit` takes the subport network's (a VLAN network's
    VLAN). ML2/OVN's driver knows only VLANs, 1-4094."""
    seg_type, seg_id = request.segmentation_type, request.segmentation_id
    if seg_type == "inherit":
        segment = session.get(Network, port.network_id).segment
        seg_type, seg_id = segment.network_type, segment.segmentation_id
    if seg_type is None or seg_id is None:
        raise errors.InvalidInput(
            f"Invalid subport details '{request.as_text()}': missing segmentation "
            "information. Must specify both segmentation_id and segmentation_type")
    if seg_type != VLAN:
        raise errors.InvalidInput(f"Unknown segmentation_type '{seg_type}'")
    if not VLAN_MIN <= seg_id <= VLAN_MAX:
        raise errors.InvalidInput(f"Segmentation ID '{seg_id}' is not in range")
    return seg_type, seg_id


def _mtu(session: Session, port: Port) -> int | None:
    net = session.get(Network, port.network_id)
    return net.mtu if net is not None else None
