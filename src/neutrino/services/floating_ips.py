"""Floating IPs: an address on an external network, mapped to a port's fixed address."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import isoformat
from neutrino.db.models import (
    FloatingIp,
    IpAllocation,
    Network,
    Port,
    PortForwarding,
    Router,
    Subnet,
)
from neutrino.journal.parents import floating_ip_parents, merged, port_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import quotas
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    bump_revision,
    check_revision,
    get_owned,
    new_id,
    run_and_wake,
    set_tags,
    stamp_new,
)
from neutrino.services.context import Context
from neutrino.services.fip_association import clear_association, unassociated_on
from neutrino.services.listing import ListSpec, standard_columns
from neutrino.services.networks import get_network_row
from neutrino.services.ports import create_port, delete_port, internal_port_body
from neutrino.services.routers import INTERFACE

FIP = ResourceType.FLOATING_IP
OWNER = "network:floatingip"


def fip_dict(fip: FloatingIp) -> dict[str, Any]:
    return {
        "id": fip.id,
        "project_id": fip.project_id,
        "tenant_id": fip.project_id,
        "description": fip.description,
        "floating_network_id": fip.floating_network_id,
        "floating_ip_address": fip.floating_ip_address,
        "port_id": fip.port_id,
        "fixed_ip_address": fip.fixed_ip_address,
        "router_id": fip.router_id,
        "status": fip.status,
        "revision_number": fip.revision_number,
        "created_at": isoformat(fip.created_at),
        "updated_at": isoformat(fip.updated_at),
        "tags": [t.tag for t in fip.tags],
        "port_details": _port_details(fip.fixed_port) if fip.port_id else None,
        "port_forwardings": [_forwarding(pf) for pf in fip.port_forwardings],
    }


def _forwarding(pf: PortForwarding) -> dict[str, Any]:
    """expose-port-forwarding-in-fip, with -detail's id and internal_port_id; a port is
    shown only when single (a range shows null), as Neutron does."""
    return {"id": pf.id, "internal_port_id": pf.internal_port_id,
            "internal_ip_address": pf.internal_ip_address, "protocol": pf.protocol,
            "internal_port": pf.internal_port_start
            if pf.internal_port_start == pf.internal_port_end else None,
            "external_port": pf.external_port_start
            if pf.external_port_start == pf.external_port_end else None}


def _port_details(port: Port | None) -> dict[str, Any] | None:
    """fip-port-details: what a floating IP's user wants to know of its port."""
    if port is None:
        return None
    return {"name": port.name, "network_id": port.network_id,
            "mac_address": port.mac_address, "admin_state_up": port.admin_state_up,
            "status": port.status, "device_id": port.device_id,
            "device_owner": port.device_owner}


def get_fip_row(session: Session, ctx: Context, fip_id: str) -> FloatingIp:
    return get_owned(session, ctx, FloatingIp, fip_id, errors.FloatingIPNotFound)


class FloatingIpService(ResourceService):
    model = FloatingIp
    listing = ListSpec(FloatingIp, {
        **standard_columns(FloatingIp),
        **{attr: getattr(FloatingIp, attr) for attr in (
            "floating_network_id", "floating_ip_address", "port_id", "fixed_ip_address",
            "router_id", "status")},
    })

    def to_dict(self, row: FloatingIp) -> dict[str, Any]:
        return fip_dict(row)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> FloatingIp:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_floatingip", {"project_id": project}, body)
        quotas.check(session, self.settings, project, "floatingip")
        net = get_network_row(session, ctx, body["floating_network_id"])
        if not net.router_external:
            raise errors.BadRequest(f"Bad floatingip request: Network {net.id} is not a valid "
                                    "external network.")
        fip = FloatingIp(id=new_id(), description=body["description"],
                         floating_network_id=net.id, status="DOWN")
        port = create_port(session, Context(ctx.project_id, is_admin=True),
                           internal_port_body(net.id, OWNER, fip.id, _wanted_address(net, body),
                                              ""), self.settings)
        fip.floating_port_id = port.id
        fip.floating_ip_address = next(a.ip_address for a in port.fixed_ips)
        stamp_new(fip, project)
        set_tags(fip, FIP, body.get("tags") or [])
        session.add(fip)
        port_id, fixed_ip = _wanted_association(fip, body)
        if port_id:
            _associate(session, ctx, fip, port_id, fixed_ip)
        session.flush()
        record_entry(session, FIP, fip.id, Operation.CREATE, floating_ip_parents(fip))
        return fip

    def list_pools(self, ctx: Context) -> list[dict[str, Any]]:
        """Where floating IPs come from: every IPv4 subnet of an external network (external
        networks are visible to every project)."""
        with self.db.read() as session:
            subnets = session.scalars(select(Subnet).join(Network).where(
                Network.router_external, Subnet.ip_version == 4).order_by(Subnet.id))
            return [pool_dict(ctx, subnet) for subnet in subnets]

    def get(self, ctx: Context, fip_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return fip_dict(get_fip_row(session, ctx, fip_id))

    def update(self, ctx: Context, fip_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            fip = get_fip_row(session, ctx, fip_id)
            policy.enforce(ctx, "update_floatingip", {"project_id": fip.project_id})
            check_revision(fip, if_match)
            before = floating_ip_parents(fip)
            state = _association(fip)
            old_description = fip.description
            fip.description = body.get("description", fip.description)
            port_id, fixed_ip = _wanted_association(fip, body)
            if port_id != fip.port_id or (fixed_ip and fixed_ip != fip.fixed_ip_address):
                _disassociate(session, fip)
                if port_id:
                    _associate(session, ctx, fip, port_id, fixed_ip)
            if _association(fip) != state or fip.description != old_description:
                bump_revision(session, fip, FIP, merged(before, floating_ip_parents(fip)))
            return fip_dict(fip)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, fip_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            fip = get_fip_row(session, ctx, fip_id)
            policy.enforce(ctx, "delete_floatingip", {"project_id": fip.project_id})
            check_revision(fip, if_match)
            _delete(session, fip)

        run_and_wake(self.db.write, self.wakeup, txn)


def pool_dict(ctx: Context, subnet: Subnet) -> dict[str, Any]:
    """floatingip-pools: an IPv4 subnet of an external network; as in Neutron, project_id
    is the caller's."""
    return {"subnet_id": subnet.id, "subnet_name": subnet.name,
            "network_id": subnet.network_id, "cidr": subnet.cidr,
            "project_id": ctx.project_id}


def delete_unassociated(session: Session, network_id: str) -> None:
    """An external network takes its unassociated floating IPs along when it is deleted
    (Neutron's delete_disassociated_floatingips); associated ones keep their ports, so the
    network stays in use."""
    for fip in unassociated_on(session, network_id):
        _delete(session, fip)


def _delete(session: Session, fip: FloatingIp) -> None:
    parents = floating_ip_parents(fip)
    _disassociate(session, fip)
    port = session.get(Port, fip.floating_port_id)
    session.delete(fip)
    session.flush()
    if port is not None:
        delete_port(session, port)
    record_entry(session, FIP, fip.id, Operation.DELETE, parents)


def _association(fip: FloatingIp) -> tuple[str | None, str | None, str | None]:
    return fip.port_id, fip.fixed_ip_address, fip.router_id


def _wanted_association(fip: FloatingIp, body: dict[str, Any]
                        ) -> tuple[str | None, str | None]:
    """(port, fixed address) an update asks for, by Neutron's rules: a fixed address needs a
    port; a body without `port_id` keeps the current port, except an empty body, which
    Neutron reads as `port_id: null` and disassociates."""
    if body.get("fixed_ip_address") and not body.get("port_id"):
        raise errors.BadRequest("Bad floatingip request: fixed_ip_address cannot be "
                                "specified without a port_id")
    if "port_id" in body or not body or fip.port_id is None:
        return body.get("port_id"), body.get("fixed_ip_address")
    return fip.port_id, fip.fixed_ip_address


def _wanted_address(net: Any, body: dict[str, Any]) -> list[dict[str, str]] | None:
    """A given address or subnet; otherwise an IPv4 address from the first IPv4 subnet."""
    wanted: dict[str, str] = {}
    if body.get("floating_ip_address"):
        wanted["ip_address"] = body["floating_ip_address"]
    if body.get("subnet_id"):
        wanted["subnet_id"] = body["subnet_id"]
    if wanted:
        return [wanted]
    v4 = next((s for s in net.subnets if s.ip_version == 4), None)
    if v4 is None:
        raise errors.BadRequest(f"Bad floatingip request: Network {net.id} has no IPv4 subnet.")
    return [{"subnet_id": v4.id}]


def _associate(session: Session, ctx: Context, fip: FloatingIp, port_id: str,
               fixed_ip: str | None) -> None:
    if session.scalar(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip.id)):
        raise errors.FipInUseByPortForwarding(fip.id)  # 1:1 or forwardings, never both
    port = _internal_port(session, ctx, fip, port_id)
    allocation = _fixed_allocation(port, fixed_ip)
    taken = session.scalar(select(FloatingIp.id).where(
        FloatingIp.port_id == port.id, FloatingIp.fixed_ip_address == allocation.ip_address,
        FloatingIp.floating_network_id == fip.floating_network_id, FloatingIp.id != fip.id))
    if taken:
        raise errors.FloatingIPPortAlreadyAssociated(
            fip.floating_ip_address, fip.id, port.id, allocation.ip_address,
            fip.floating_network_id)
    router = router_for(session, allocation.subnet_id, fip.floating_network_id)
    if router is None:
        raise errors.ExternalGatewayForFloatingIPNotFound(
            allocation.subnet_id, fip.floating_network_id, port.id)
    fip.port_id, fip.fixed_ip_address, fip.router_id = port.id, allocation.ip_address, router
    fip.status = "ACTIVE"
    session.flush()
    session.refresh(fip, ["fixed_port"])
    # its switch port names the floating IP
    record_entry(session, ResourceType.PORT, port.id, Operation.UPDATE, port_parents(port))


def _internal_port(session: Session, ctx: Context, fip: FloatingIp, port_id: str) -> Port:
    """The port to associate. Another project's port: 404 when the caller cannot see it,
    else (the caller owns its network) Neutron's 400; an admin may cross projects."""
    port = session.get(Port, port_id)
    if port is None:
        raise errors.PortNotFound(port_id)
    if ctx.is_admin or port.project_id == fip.project_id:
        return port
    net = session.get(Network, port.network_id)
    if port.project_id != ctx.project_id and net.project_id != ctx.project_id:
        raise errors.PortNotFound(port_id)
    raise errors.BadRequest(f"Bad floatingip request: Cannot process floating IP association "
                            f"with Port {port_id}, since that port is owned by a different "
                            "project")


def _disassociate(session: Session, fip: FloatingIp) -> None:
    if fip.port_id:
        port = session.get(Port, fip.port_id)
        if port is not None:
            record_entry(session, ResourceType.PORT, port.id, Operation.UPDATE,
                         port_parents(port))
    clear_association(fip)


def _fixed_allocation(port: Port, fixed_ip: str | None) -> IpAllocation:
    v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if fixed_ip is not None:
        match = next((a for a in v4 if a.ip_address == fixed_ip), None)
        if match is None:
            raise errors.BadRequest(f"Bad floatingip request: Port {port.id} does not have "
                                    f"fixed ip {fixed_ip}.")
        return match
    if not v4:
        raise errors.BadRequest(f"Bad floatingip request: Port {port.id} does not have any "
                                "IPv4 address.")
    if len(v4) > 1:
        raise errors.BadRequest(f"Port {port.id} has multiple fixed IPv4 addresses. Must "
                                "provide a specific IPv4 address when assigning a floating IP.")
    return v4[0]


def router_for(session: Session, subnet_id: str, external_network_id: str) -> str | None:
    """A router with an interface on the subnet and its gateway on the external network."""
    candidates = session.scalars(
        select(Router).join(Port, Port.device_id == Router.id)
        .join(IpAllocation, IpAllocation.port_id == Port.id)
        .where(Port.device_owner == INTERFACE, IpAllocation.subnet_id == subnet_id))
    for router in candidates:
        if router.gw_port is not None and router.gw_port.network_id == external_network_id:
            return router.id
    return None
