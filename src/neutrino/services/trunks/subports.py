"""What a port becomes as a subport, and what it stops being; and how subports follow their
parent's binding and status.

As ML2/OVN's trunk driver and Neutron's trunk plugin do: a subport's `device_owner` is
`trunk:subport`, its `device_id` the trunk, its binding host (and so its VIF) the parent's,
its status the parent's. Each change moves the subport's revision and journals it: its
switch port gains or loses `parent_name`/`tag_request`, after the parent's switch port.
Imported by the port service, so it imports no service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from neutrino import binding
from neutrino.db.models import Port, Trunk, TrunkSubport
from neutrino.journal.parents import merged, port_parents
from neutrino.journal.types import ResourceType
from neutrino.services.common import bump_revision
from neutrino.services.trunks import errors as trunk_errors

SUBPORT_OWNER = "trunk:subport"
# what ML2/OVN's trunk driver binds (SUPPORTED_INTERFACES): a port bound this way can be
# trunked and untrunked while bound
TRUNKABLE_VIF_TYPES = ("ovs", "vhostuser")
ACTIVE, DOWN = "ACTIVE", "DOWN"


def can_be_trunked(port: Port) -> bool:
    """Neutron's `can_be_trunked_or_untrunked` with ML2/OVN's driver: an unbound port
    always; a bound one when its VIF is one the driver handles."""
    return not port.binding_host_id or port.binding_vif_type in TRUNKABLE_VIF_TYPES


def attach(session: Session, trunk: Trunk, parent: Port, port: Port) -> None:
    port.device_owner, port.device_id = SUBPORT_OWNER, trunk.id
    _follow(port, parent)
    bump_revision(session, port, ResourceType.PORT,
                  merged(port_parents(port), {ResourceType.PORT: [parent.id]}))


def detach(session: Session, trunk: Trunk, sub: TrunkSubport) -> None:
    port = session.get(Port, sub.port_id)
    trunk.sub_ports.remove(sub)
    session.flush()
    if port is None:
        return
    port.device_owner, port.device_id, port.status = "", "", DOWN
    port.binding_host_id = ""
    port.binding_vif_type, port.binding_vif_details = binding.UNBOUND, {}
    session.expire(port, ["subport"])
    bump_revision(session, port, ResourceType.PORT,
                  merged(port_parents(port), {ResourceType.PORT: [trunk.port_id]}))


def _follow(port: Port, parent: Port) -> bool:
    """The parent's host, VIF and status on the subport; True when anything changed."""
    wanted = (parent.binding_host_id, parent.binding_vif_type,
              dict(parent.binding_vif_details), parent.status)
    if (port.binding_host_id, port.binding_vif_type, dict(port.binding_vif_details),
            port.status) == wanted:
        return False
    (port.binding_host_id, port.binding_vif_type, port.binding_vif_details,
     port.status) = wanted
    return True


def follow_parent(session: Session, parent: Port) -> None:
    """The parent's binding changed: its subports follow it (a new revision each), and its
    trunk goes DOWN when the parent is unbound (Neutron's trunk plugin)."""
    trunk = parent.trunk
    if trunk is None:
        return
    for sub in trunk.sub_ports:
        port = session.get(Port, sub.port_id)
        if port is not None and _follow(port, parent):
            bump_revision(session, port, ResourceType.PORT, port_parents(port))
    if parent.binding_vif_type == binding.UNBOUND:
        trunk.status = DOWN


def follow_parent_status(session: Session, parent_id: str, status: str) -> None:
    """OVN reported the parent up or down: its subports show the same status, and a parent
    going ACTIVE makes its trunk ACTIVE (ML2/OVN's trunk driver). Not a revisioned change."""
    trunk = session.query(Trunk).filter(Trunk.port_id == parent_id).one_or_none()
    if trunk is None:
        return
    ids = [sub.port_id for sub in trunk.sub_ports]
    if ids:
        session.execute(update(Port).where(Port.id.in_(ids)).values(status=status))
    if status == ACTIVE:
        trunk.status = ACTIVE


def check_deletable(port: Port) -> None:
    """Neutron's trunk rule: neither a subport nor a trunk's parent may be deleted."""
    if port.subport is not None:
        raise trunk_errors.PortInUseAsSubPort(port.id, port.subport.trunk_id)
    if port.trunk is not None:
        raise trunk_errors.PortInUseAsTrunkParent(port.id, port.trunk.id)


def trunk_details(port: Port) -> dict[str, Any] | None:
    """`trunk_details` (trunk-details) on a trunk's parent port; None on other ports."""
    trunk = port.trunk
    if trunk is None:
        return None
    return build_trunk_details(trunk.id, [
        (s.segmentation_id, s.segmentation_type, s.port_id,
         s.port.mac_address if s.port else None) for s in trunk.sub_ports])


def build_trunk_details(trunk_id: str,
                        sub_ports: Iterable[tuple[int, str, str, str | None]]) -> dict[str, Any]:
    """From (segmentation_id, segmentation_type, port_id, MAC or None) of each subport."""
    return {"trunk_id": trunk_id, "sub_ports": [
        {"segmentation_id": segmentation_id, "segmentation_type": segmentation_type,
         "port_id": port_id, "mac_address": mac}
        for segmentation_id, segmentation_type, port_id, mac in sub_ports]}
