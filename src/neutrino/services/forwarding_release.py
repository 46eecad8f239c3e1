"""Letting go of port forwardings: by request, or because their port or address went.

A leaf the port service uses without importing the port forwarding service (which imports
floating IPs, which import ports).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino.db.models import FloatingIp, PortForwarding
from neutrino.journal.parents import floating_ip_parents, merged
from neutrino.journal.types import ResourceType
from neutrino.services.common import revise_parent


def forget(session: Session, forwardings: list[PortForwarding]) -> None:
    """Delete forwardings; a floating IP left without any lets go of its router."""
    fips = {pf.floatingip_id: session.get(FloatingIp, pf.floatingip_id) for pf in forwardings}
    befores = {fid: floating_ip_parents(fip) for fid, fip in fips.items() if fip is not None}
    for pf in forwardings:
        session.delete(pf)
    session.flush()
    for fid, fip in fips.items():
        if fip is None:
            continue
        if not _has_forwardings(session, fid) and fip.port_id is None:
            fip.router_id, fip.status = None, "DOWN"
        revise_parent(session, fip, ResourceType.FLOATING_IP,
                      merged(befores[fid], floating_ip_parents(fip)))


# Built once: every port deletion and address change asks.
_FORWARDINGS_OF_PORT = select(PortForwarding).where(
    PortForwarding.internal_port_id == bindparam("port"))


def forget_port(session: Session, port_id: str, kept: set[str] | None = None) -> None:
    """A port's forwardings whose address it no longer has (every one when it goes), as
    Neutron deletes them on a port's update or deletion."""
    rows = session.scalars(_FORWARDINGS_OF_PORT, {"port": port_id}).all()
    gone = [pf for pf in rows if kept is None or pf.internal_ip_address not in kept]
    if gone:
        forget(session, gone)


def _has_forwardings(session: Session, fip_id: str) -> bool:
    return session.scalar(select(PortForwarding.id).where(
        PortForwarding.floatingip_id == fip_id).limit(1)) is not None
