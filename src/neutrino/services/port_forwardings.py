"""Floating IP port forwardings: a floating IP's external ports sent to an internal port.

Neutron's rules (its port forwarding plugin): a floating IP either maps 1:1 to a port or
forwards ports, never both (409s both ways); the internal address must be an IPv4 address
of the internal port (its first one when not given); a router must join the port's subnet
to the floating IP's network, and every forwarding of one floating IP goes through the same
router, which the first one sets on the floating IP and the last one clears. External ranges
of one floating IP and protocol may not overlap, nor internal ranges of one port, address
and protocol (400s). An internal range is one port (N:1) or as long as the external one.

A forwarding's change is its floating IP's: it moves the floating IP's revision and journals
the floating IP, whose OVN realisation holds the forwardings' load balancers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import utcnow
from neutrino.db.engine import Database
from neutrino.db.models import FloatingIp, Port, PortForwarding
from neutrino.journal.parents import Parents, floating_ip_parents, merged
from neutrino.journal.types import ResourceType
from neutrino.services.common import (
    Waker,
    check_revision,
    new_id,
    revise_parent,
    run_and_wake,
)
from neutrino.services.context import Context
from neutrino.services.floating_ips import get_fip_row, router_for
from neutrino.services.forwarding_release import forget
from neutrino.services.listing import ListQuery, ListSpec, select_page
from neutrino.settings import Settings

FIP = ResourceType.FLOATING_IP
NOT_FILTERABLE = ("internal_ip_address", "internal_port")  # Neutron's, a 400 as its own
SINGLE_AND_RANGE = (("external_port", "external_port_range"),
                    ("internal_port", "internal_port_range"))
Range = tuple[int, int]


def pf_dict(pf: PortForwarding) -> dict[str, Any]:
    """As Neutron shows it: ranges always ("22:22"), single ports only when one port."""
    return {
        "id": pf.id,
        "internal_port_id": pf.internal_port_id,
        "internal_ip_address": pf.internal_ip_address,
        "internal_port": _single(pf.internal_port_start, pf.internal_port_end),
        "internal_port_range": f"{pf.internal_port_start}:{pf.internal_port_end}",
        "external_port": _single(pf.external_port_start, pf.external_port_end),
        "external_port_range": f"{pf.external_port_start}:{pf.external_port_end}",
        "protocol": pf.protocol,
        "description": pf.description,
    }


def fip_port_forwardings(fip: FloatingIp) -> list[dict[str, Any]]:
    """expose-port-forwarding-in-fip (with -detail's id and internal_port_id)."""
    keys = ("id", "internal_ip_address", "protocol", "internal_port", "external_port",
            "internal_port_id")
    return [{k: shown[k] for k in keys} for shown in map(pf_dict, fip.port_forwardings)]


def _single(start: int, end: int) -> int | None:
    return start if start == end else None


def parse_range(text: str) -> Range:
    first, _, last = text.partition(":")
    return int(first), int(last or first)


@dataclass(frozen=True)
class _Ports:
    external: Range | None
    internal: Range | None


def _requested_ports(body: dict[str, Any]) -> _Ports:
    """The ranges a body asks for; a single port and a range of one side never together."""
    found: list[Range | None] = []
    for single, ranged in SINGLE_AND_RANGE:
        if body.get(single) is not None and body.get(ranged) is not None:
            raise errors.BadRequest(f"Bad port_forwarding request: {single} and {ranged} "
                                    "cannot be given together")
        if body.get(single) is not None:
            found.append((body[single], body[single]))
        else:
            found.append(parse_range(body[ranged]) if body.get(ranged) is not None else None)
    return _Ports(*found)


def check_relation(external: Range, internal: Range) -> None:
    """N:N (same length) or N:1, as Neutron allows."""
    if internal[1] != internal[0] and internal[1] - internal[0] != external[1] - external[0]:
        raise errors.BadRequest("Bad port_forwarding request: Invalid ranges of internal "
                                "and/or external ports. The relation between internal and "
                                "external ports must be N-N or 1-N")


class PortForwardingService:
    """The service of one floating IP's forwardings is `under(fip_id)`."""

    listing = ListSpec(PortForwarding, {
        "id": PortForwarding.id, "internal_port_id": PortForwarding.internal_port_id,
        "protocol": PortForwarding.protocol, "description": PortForwarding.description,
    })

    def __init__(self, db: Database, settings: Settings, wakeup: Waker) -> None:
        self.db = db
        self.settings = settings
        self.wakeup = wakeup

    def under(self, fip_id: str) -> FloatingIpForwardings:
        return FloatingIpForwardings(self, fip_id)

    def write(self, txn: Callable[[Session], Any]) -> Any:
        return run_and_wake(self.db.write, self.wakeup, txn)


class FloatingIpForwardings:
    """create/get/list/update/delete of the forwardings of one floating IP."""

    def __init__(self, service: PortForwardingService, fip_id: str) -> None:
        self.service = service
        self.fip_id = fip_id

    def _fip(self, session: Session, ctx: Context, action: str) -> FloatingIp:
        fip = get_fip_row(session, ctx, self.fip_id)
        policy.enforce(ctx, action, {"project_id": fip.project_id})
        return fip

    def _row(self, session: Session, fip: FloatingIp, pf_id: str) -> PortForwarding:
        pf = session.get(PortForwarding, pf_id)
        if pf is None or pf.floatingip_id != fip.id:
            raise errors.PortForwardingNotFound(pf_id)
        return pf

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for body in bodies:
            policy.check_project(ctx, body)

        def txn(session: Session) -> list[dict[str, Any]]:
            return [pf_dict(self._create_one(session, ctx, body)) for body in bodies]

        return self.service.write(txn)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> PortForwarding:
        fip = self._fip(session, ctx, "create_floatingip_port_forwarding")
        ports = _requested_ports(body)
        for name, given in (("internal_port_id", body.get("internal_port_id")),
                            ("protocol", body.get("protocol")),
                            ("external_port", ports.external), ("internal_port", ports.internal)):
            if given is None:
                raise errors.BadRequest(f"Failed to parse request. Required attribute "
                                        f"'{name}' not specified")
        assert ports.external and ports.internal
        check_relation(ports.external, ports.internal)
        now = utcnow()
        pf = PortForwarding(id=new_id(), project_id=fip.project_id, floatingip_id=fip.id,
                            description=body.get("description") or "",
                            protocol=body["protocol"], created_at=now, updated_at=now,
                            revision_number=1)
        _set_ranges(pf, ports.external, ports.internal)
        before = floating_ip_parents(fip)
        router = _place(session, ctx, fip, pf, body["internal_port_id"],
                        body.get("internal_ip_address"))
        _check_collisions(session, pf)
        session.add(pf)
        _claim_router(session, fip, router, before)
        return pf

    def get(self, ctx: Context, pf_id: str) -> dict[str, Any]:
        with self.service.db.read() as session:
            fip = self._fip(session, ctx, "get_floatingip_port_forwarding")
            return pf_dict(self._row(session, fip, pf_id))

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        for name in NOT_FILTERABLE:
            if name in query.filters:
                raise errors.PortForwardingNotSupportFilterField(name)
        with self.service.db.read() as session:
            fip = self._fip(session, ctx, "get_floatingip_port_forwarding")
            stmt = select(PortForwarding).where(PortForwarding.floatingip_id == fip.id)
            return select_page(session, stmt, self.service.listing, pf_dict, query)

    def update(self, ctx: Context, pf_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            fip = self._fip(session, ctx, "update_floatingip_port_forwarding")
            pf = self._row(session, fip, pf_id)
            check_revision(pf, if_match)
            before = floating_ip_parents(fip)
            shown = pf_dict(pf)
            with session.no_autoflush:  # checked first; the unique constraints back it up
                router = _change(session, ctx, fip, pf, body)
            if pf_dict(pf) != shown:
                pf.updated_at = utcnow()
                pf.revision_number += 1
                _claim_router(session, fip, router, before)
            return pf_dict(pf)

        return self.service.write(txn)

    def delete(self, ctx: Context, pf_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            fip = self._fip(session, ctx, "delete_floatingip_port_forwarding")
            pf = self._row(session, fip, pf_id)
            check_revision(pf, if_match)
            forget(session, [pf])

        self.service.write(txn)


def _change(session: Session, ctx: Context, fip: FloatingIp, pf: PortForwarding,
            body: dict[str, Any]) -> str:
    """Apply an update's attributes to `pf` and check the result; returns its router."""
    ports = _requested_ports(body)
    external = ports.external or (pf.external_port_start, pf.external_port_end)
    internal = ports.internal or (pf.internal_port_start, pf.internal_port_end)
    check_relation(external, internal)
    _set_ranges(pf, external, internal)
    pf.protocol = body.get("protocol", pf.protocol)
    pf.description = body.get("description", pf.description)
    port_id = body.get("internal_port_id") or pf.internal_port_id
    moved = port_id != pf.internal_port_id
    address = body.get("internal_ip_address") or (None if moved else pf.internal_ip_address)
    router = _place(session, ctx, fip, pf, port_id, address, others_only=True)
    _check_collisions(session, pf)
    return router


def _set_ranges(pf: PortForwarding, external: Range, internal: Range) -> None:
    pf.external_port_start, pf.external_port_end = external
    pf.internal_port_start, pf.internal_port_end = internal


def _place(session: Session, ctx: Context, fip: FloatingIp, pf: PortForwarding,
           port_id: str, address: str | None, others_only: bool = False) -> str:
    """Point `pf` at the port's address; the router that reaches the floating IP."""
    port = session.get(Port, port_id)
    if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
        raise errors.PortNotFound(port_id)
    _check_port_unbound(session, port, address)
    if fip.port_id:
        raise errors.FloatingIPPortAlreadyAssociated(
            fip.floating_ip_address, fip.id, port_id, str(address), fip.floating_network_id)
    subnet_id, pf.internal_ip_address = _internal_address(port, address)
    pf.internal_port_id = port.id
    router = router_for(session, subnet_id, fip.floating_network_id)
    if router is None:
        raise errors.BadRequest(
            f"Bad port_forwarding request: External network {fip.floating_network_id} is "
            f"not reachable from subnet {subnet_id}. Cannot set Port forwarding for port "
            f"{port.id} with Floating IP {fip.id}")
    if fip.router_id and fip.router_id != router and not (
            others_only and _only_forwarding(session, fip, pf)):
        raise errors.BadRequest(
            f"Bad port_forwarding request: The Floating IP {fip.id} had been set on router "
            f"{fip.router_id}, the internal Neutron port {port.id} can not reach it")
    return router


def _only_forwarding(session: Session, fip: FloatingIp, pf: PortForwarding) -> bool:
    others = session.scalar(select(PortForwarding.id).where(
        PortForwarding.floatingip_id == fip.id, PortForwarding.id != pf.id).limit(1))
    return others is None


def _claim_router(session: Session, fip: FloatingIp, router: str, before: Parents) -> None:
    """The floating IP goes through its forwardings' router; its change is journaled."""
    if fip.router_id != router:
        fip.router_id, fip.status = router, "ACTIVE"
    session.flush()
    revise_parent(session, fip, FIP, merged(before, floating_ip_parents(fip)))


def _check_port_unbound(session: Session, port: Port, address: str | None) -> None:
    """A port with a 1:1 floating IP gets no forwardings (Neutron's PortHasBindingFloatingIP)."""
    bound = session.scalars(select(FloatingIp).where(FloatingIp.port_id == port.id)).first()
    if bound is not None:
        raise errors.PortHasBindingFloatingIP(bound.floating_ip_address, bound.id, port.id,
                                              str(address))


def _internal_address(port: Port, address: str | None) -> tuple[str, str]:
    """(subnet id, address): the given IPv4 address of the port, else its first one."""
    v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if not v4:
        raise errors.BadRequest(f"Bad port_forwarding request: Requested internal port "
                                f"{port.id} must allocate an IPv4 address at least.")
    if address is None:
        return v4[0].subnet_id, v4[0].ip_address
    match = next((a for a in v4 if _same_address(a.ip_address, address)), None)
    if match is None:
        fixed = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in v4]
        raise errors.BadRequest(
            f"Bad port_forwarding request: Requested internal IP address {address} is not "
            f"suitable for internal neutron port {port.id}, as its fixed_ips are {fixed}")
    return match.subnet_id, match.ip_address


def _same_address(have: str, given: str) -> bool:
    try:
        return ipaddress.ip_address(have) == ipaddress.ip_address(given)
    except ValueError:
        return False


def _check_collisions(session: Session, pf: PortForwarding) -> None:
    """No overlap with another forwarding of the same floating IP and protocol (outside),
    nor of the same port, address and protocol (inside)."""
    outside = session.scalars(select(PortForwarding).where(
        PortForwarding.floatingip_id == pf.floatingip_id,
        PortForwarding.protocol == pf.protocol, PortForwarding.id != pf.id))
    inside = session.scalars(select(PortForwarding).where(
        PortForwarding.internal_port_id == pf.internal_port_id,
        PortForwarding.internal_ip_address == pf.internal_ip_address,
        PortForwarding.protocol == pf.protocol, PortForwarding.id != pf.id))
    for others, side in ((outside, "external"), (inside, "internal")):
        mine = _range_of(pf, side)
        for other in others:
            theirs = _range_of(other, side)
            if max(mine[0], theirs[0]) <= min(mine[1], theirs[1]):
                raise errors.BadRequest(
                    f"Bad port_forwarding request: There is a port collision with the "
                    f"{side}_port_range. The following ranges collides: "
                    f"{theirs[0]}:{theirs[1]} and {mine[0]}:{mine[1]}")


def _range_of(pf: PortForwarding, side: str) -> Range:
    return getattr(pf, f"{side}_port_start"), getattr(pf, f"{side}_port_end")
