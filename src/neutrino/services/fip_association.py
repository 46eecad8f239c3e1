"""What a floating IP's association owes to its fixed port, shared by the port and floating
IP services (a leaf: the port service uses it without importing floating IPs)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import FloatingIp
from neutrino.journal.parents import floating_ip_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.common import bump_revision
from neutrino.services.context import Context


def clear_association(fip: FloatingIp) -> None:
    fip.port_id = fip.fixed_ip_address = fip.router_id = None
    fip.status = "DOWN"


# Built once: every port deletion asks.
_FIPS_OF_PORT = select(FloatingIp).where(FloatingIp.port_id == bindparam("port"))


def disassociate_port(session: Session, ctx: Context, port_id: str) -> None:
    """Before a port goes, its floating IPs let go of it (Neutron's disassociate_floatingips):
    no port, fixed address or router, and their NAT rows leave OVN. A project may not
    detach another project's floating IP this way (409 FipAssociated, as in Neutron)."""
    fips = session.scalars(_FIPS_OF_PORT, {"port": port_id}).all()
    if not ctx.is_admin and any(f.project_id != ctx.project_id for f in fips):
        raise errors.FipAssociated(port_id)
    for fip in fips:
        parents = floating_ip_parents(fip)
        clear_association(fip)
        bump_revision(session, fip, ResourceType.FLOATING_IP, parents)
    session.flush()


def _unused(fip: FloatingIp) -> bool:
    return fip.port_id is None and fip.router_id is None


def unassociated_on(session: Session, network_id: str) -> list[FloatingIp]:
    """The floating IPs of an external network that serve nothing (deleted with it)."""
    fips = session.scalars(select(FloatingIp).where(
        FloatingIp.floating_network_id == network_id)).all()
    return [fip for fip in fips if _unused(fip)]


def record_deleted(session: Session, fip: FloatingIp) -> None:
    record_entry(session, ResourceType.FLOATING_IP, fip.id, Operation.DELETE,
                 floating_ip_parents(fip))
