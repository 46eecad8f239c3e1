"""Routers: gateways, interfaces and extra routes (Neutron's L3 API)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from neutrino import errors, policy, scheduling
from neutrino.db.engine import Database
from neutrino.db.models import FloatingIp, IpAllocation, Port, Router, Subnet
from neutrino.ipam import arithmetic as ipam
from neutrino.journal.parents import port_parents, router_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import extra_routes, quotas
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    Waker,
    apply_simple_updates,
    bump_revision,
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
from neutrino.services.networks import get_network_row
from neutrino.services.ports import (
    create_port,
    delete_port,
    get_port_row,
    internal_port_body,
)
from neutrino.services.qos import policies as qos_policies
from neutrino.services.rbac_types import ACCESS_SHARED, targets
from neutrino.services.sfc.resteer import resteer_for_port
from neutrino.services.subnets import get_subnet_row
from neutrino.services.zones import checked_hints
from neutrino.settings import Settings

INTERFACE = "network:router_interface"
GATEWAY = "network:router_gateway"
ROUTER = ResourceType.ROUTER
ChassisSource = scheduling.ChassisSource
GATEWAY_SCHEDULING_LOCK = 0x6E67617465  # advisory lock key, shared by all nodes


def router_dict(router: Router) -> dict[str, Any]:
    return {
        **standard_fields(router),
        "admin_state_up": router.admin_state_up,
        "status": router.status,
        "external_gateway_info": _gateway_info(router),
        "routes": list(router.routes or []),
        # ML2/OVN: a router's zones are its hints; its gateway is only scheduled inside them.
        "availability_zone_hints": list(router.availability_zone_hints or []),
        "availability_zones": list(router.availability_zone_hints or []),
    }


def _gateway_info(router: Router) -> dict[str, Any] | None:
    port = router.gw_port
    if port is None:
        return None
    return {"network_id": port.network_id, "enable_snat": router.enable_snat,
            "external_fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                                   for a in port.fixed_ips],
            # qos-gateway-ip: the router's gateway policy is its gateway port's
            "qos_policy_id": port.qos_policy_id}


def _set_gateway_qos(session: Session, ctx: Context, port: Port,
                     info: dict[str, Any]) -> bool:
    """A new gateway policy (qos-gateway-ip) reaches the gateway port's QoS rows."""
    if "qos_policy_id" not in info:
        return False
    wanted = qos_policies.checked_policy_id(session, ctx, info["qos_policy_id"])
    if wanted == port.qos_policy_id:
        return False
    port.qos_policy_id = wanted
    qos_policies.journal_ports(session, [port])
    return True


def get_router_row(session: Session, ctx: Context, router_id: str) -> Router:
    return get_owned(session, ctx, Router, router_id, errors.RouterNotFound)


def interface_ports(session: Session, router_id: str) -> list[Port]:
    return list(session.scalars(select(Port).where(
        Port.device_id == router_id, Port.device_owner == INTERFACE).order_by(Port.created_at)))


class RouterService(ResourceService):
    model = Router
    listing = ListSpec(Router, {**standard_columns(Router), "status": Router.status,
                                "admin_state_up": Router.admin_state_up})

    def __init__(self, db: Database, settings: Settings, wakeup: Waker,
                 chassis: ChassisSource) -> None:
        super().__init__(db, settings, wakeup)
        self.chassis = chassis
        self._rng = random.Random()

    def to_dict(self, row: Router) -> dict[str, Any]:
        return router_dict(row)

    # -- CRUD -----------------------------------------------------------------------------

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> Router:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_router", {"project_id": project}, _gateway_attrs(body))
        quotas.check(session, self.settings, project, "router")
        router = Router(id=new_id(), name=body["name"], description=body["description"],
                        admin_state_up=body["admin_state_up"], routes=[],
                        availability_zone_hints=checked_hints(
                            self.chassis, body.get("availability_zone_hints")))
        stamp_new(router, project)
        set_tags(router, ROUTER, body.get("tags") or [])
        session.add(router)
        session.flush()
        if body.get("external_gateway_info"):
            self._set_gateway(session, ctx, router, body["external_gateway_info"])
        record_entry(session, ROUTER, router.id, Operation.CREATE,
                     router_parents(router))
        return router

    def get(self, ctx: Context, router_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return router_dict(get_router_row(session, ctx, router_id))

    def update(self, ctx: Context, router_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            router = get_router_row(session, ctx, router_id)
            policy.enforce(ctx, "update_router", {"project_id": router.project_id},
                           _gateway_attrs(body))
            check_revision(router, if_match)
            changed = apply_simple_updates(router, body, {
                "name": "name", "description": "description",
                "admin_state_up": "admin_state_up"})
            if "external_gateway_info" in body:
                changed |= self._change_gateway(session, ctx, router,
                                                body["external_gateway_info"])
            if "routes" in body:
                changed |= _set_routes(session, router,
                                      extra_routes.unique_routes(body["routes"]))
            if changed:
                bump_revision(session, router, ROUTER, router_parents(router))
            return router_dict(router)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def add_extraroutes(self, ctx: Context, router_id: str,
                        routes: list[dict[str, str]]) -> dict[str, Any]:
        """extraroute-atomic: the routes joined to the router's (one already there is kept
        once, as Neutron merges exact duplicates)."""
        return self._edit_routes(ctx, router_id, "add_extraroutes",
                                 lambda old: extra_routes.merged(old, routes))

    def remove_extraroutes(self, ctx: Context, router_id: str,
                           routes: list[dict[str, str]]) -> dict[str, Any]:
        """extraroute-atomic: the routes taken away; one the router lacks is no error."""
        return self._edit_routes(ctx, router_id, "remove_extraroutes",
                                 lambda old: extra_routes.without(old, routes))

    def _edit_routes(self, ctx: Context, router_id: str, action: str,
                     edit: Callable[[list[dict[str, str]]], list[dict[str, str]]]
                     ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            router = get_router_row(session, ctx, router_id)
            policy.enforce(ctx, action, {"project_id": router.project_id})
            if _set_routes(session, router, edit(list(router.routes or []))):
                bump_revision(session, router, ROUTER, router_parents(router))
            return router_dict(router)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, router_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            router = get_router_row(session, ctx, router_id)
            policy.enforce(ctx, "delete_router", {"project_id": router.project_id})
            check_revision(router, if_match)
            if interface_ports(session, router.id):
                raise errors.RouterInUse(router.id)
            self._clear_gateway(session, router)
            session.delete(router)
            record_entry(session, ROUTER, router.id, Operation.DELETE)

        run_and_wake(self.db.write, self.wakeup, txn)

    # -- gateway --------------------------------------------------------------------------
    def _change_gateway(self, session: Session, ctx: Context, router: Router,
                        info: dict[str, Any] | None) -> bool:
        current = router.gw_port
        if not info:
            if current is None:
                return False
            self._clear_gateway(session, router)
            return True
        if current is not None and current.network_id == info.get("network_id") and \
                not info.get("external_fixed_ips"):
            snat = info.get("enable_snat", True)
            changed = snat != router.enable_snat
            router.enable_snat = snat
            return _set_gateway_qos(session, ctx, current, info) or changed
        if current is not None:
            self._clear_gateway(session, router)
        self._set_gateway(session, ctx, router, info)
        return True

    def _set_gateway(self, session: Session, ctx: Context, router: Router,
                     info: dict[str, Any]) -> None:
        if not info.get("network_id"):
            raise errors.BadRouterRequest(router.id, "external_gateway_info needs network_id")
        net = get_network_row(session, ctx, info["network_id"])
        if not net.router_external:
            raise errors.BadRouterRequest(
                router.id, f"Network {net.id} is not an external network")
        body = internal_port_body(net.id, GATEWAY, router.id,
                                  info.get("external_fixed_ips") or None, "")
        # the caller must see the policy (the port is then made as an admin)
        body["qos_policy_id"] = qos_policies.checked_policy_id(
            session, ctx, info.get("qos_policy_id"))
        admin = Context(project_id=ctx.project_id, is_admin=True)
        port = create_port(session, admin, body, self.settings)
        router.gw_port_id = port.id
        router.enable_snat = info.get("enable_snat", True)
        session.flush()
        session.refresh(router, ["gw_port"])
        self._schedule(session, router)

    def _clear_gateway(self, session: Session, router: Router) -> None:
        port = router.gw_port
        if port is None:
            return
        in_use = session.scalar(select(FloatingIp.id).where(FloatingIp.router_id == router.id))
        if in_use:
            raise errors.RouterExternalGatewayInUseByFloatingIp(router.id, port.network_id)
        router.gw_port_id = None
        router.gateway_chassis = None
        router.gateway_ha_chassis = []
        router.status = "ACTIVE"
        session.flush()
        delete_port(session, port)
        session.flush()
        session.expire(router, ["gw_port"])

    def _schedule(self, session: Session, router: Router) -> None:
        """Bind the gateway to a chassis now (with the others by priority, for an HA group);
        maintenance retries when none exists."""
        router.gateway_ha_chassis = choose_ha_chassis(
            session, self.chassis, self.settings, self._rng, router.availability_zone_hints)
        router.gateway_chassis = (router.gateway_ha_chassis or [None])[0]
        router.status = "ACTIVE" if router.gateway_chassis else "ERROR"

    # -- interfaces -----------------------------------------------------------------------
    def add_interface(self, ctx: Context, router_id: str,
                      body: dict[str, Any]) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            router = get_router_row(session, ctx, router_id)
            policy.enforce(ctx, "add_router_interface", {"project_id": router.project_id})
            subnet_id, port_id = _interface_target(body, removal=False)
            if port_id:
                port = self._attach_port(session, ctx, router, port_id)
                subnets = list(dict.fromkeys(a.subnet_id for a in port.fixed_ips))
                new_port = True
            else:
                port, new_port = self._attach_subnet(session, ctx, router, subnet_id)
                subnets = [subnet_id]
            _journal_router(session, router, bump=new_port)
            resteer_for_port(session, port)
            return _interface_info(router, port, subnets, subnets[-1])  # Neutron: the last

        return run_and_wake(self.db.write, self.wakeup, txn)

    def _attach_subnet(self, session: Session, ctx: Context, router: Router,
                       subnet_id: str) -> tuple[Port, bool]:
        """The interface port now holding the subnet's gateway, and whether it is new."""
        subnet = get_subnet_row(session, ctx, subnet_id)
        if not subnet.gateway_ip:
            raise errors.BadRouterRequest(
                router.id, "Subnet for router interface must have a gateway IP")
        if subnet.project_id != ctx.project_id and not ctx.is_admin and ctx.project_id not in \
                targets(subnet.network.rbac_entries, ACCESS_SHARED):
            # Visible through a shared network, but Neutron attaches only the caller's own
            # subnets, or those of networks shared with its project by name (not with `*`).
            raise errors.BadRouterRequest(
                router.id, f"Cannot add interface to router because subnet {subnet_id} is not "
                "owned by project making the request")
        _check_address_mode(router, subnet)
        self._check_new_subnets(session, router, [subnet])
        if subnet.ip_version == 6:
            shared = next((p for p in interface_ports(session, router.id)
                           if p.network_id == subnet.network_id and _has_ipv6(p)), None)
            if shared is not None:  # Neutron: an IPv6 subnet joins the network's IPv6 port
                return _add_address(session, shared, subnet), False
        body = internal_port_body(subnet.network_id, INTERFACE, router.id,
                                  [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
                                  router.project_id)
        return create_port(session, Context(router.project_id, is_admin=True), body,
                           self.settings), True

    def _attach_port(self, session: Session, ctx: Context, router: Router,
                     port_id: str) -> Port:
        port = get_port_row(session, ctx, port_id)
        if port.device_owner or port.device_id:
            raise errors.PortInUse(port.id, port.device_id or port.device_owner)
        if not port.fixed_ips:
            raise errors.BadRouterRequest(router.id,
                                          "Router port must have at least one fixed IP")
        subnets = [session.get(Subnet, a.subnet_id) for a in port.fixed_ips]
        for subnet in subnets:
            _check_address_mode(router, subnet)
        self._check_new_subnets(session, router, subnets)
        if len([s for s in subnets if s.ip_version == 4]) > 1:
            raise errors.BadRouterRequest(router.id,
                                          "Cannot have multiple IPv4 subnets on router port")
        port.device_owner, port.device_id = INTERFACE, router.id
        port.security_group_bindings.clear()
        session.flush()
        bump_revision(session, port, ResourceType.PORT, port_parents(port))
        return port

    @staticmethod
    def _check_new_subnets(session: Session, router: Router, subnets: list[Subnet]) -> None:
        attached = [session.get(Subnet, a.subnet_id)
                    for p in interface_ports(session, router.id) for a in p.fixed_ips]
        for subnet in subnets:
            for other in attached:
                if other.id == subnet.id:
                    raise errors.BadRouterRequest(
                        router.id, f"Router already has a port on subnet {subnet.id}")
                if ipam.cidrs_overlap(other.cidr, subnet.cidr):
                    raise errors.BadRouterRequest(
                        router.id, f"Cidr {subnet.cidr} of subnet {subnet.id} overlaps with "
                        f"cidr {other.cidr} of subnet {other.id}")

    def remove_interface(self, ctx: Context, router_id: str,
                         body: dict[str, Any]) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            router = get_router_row(session, ctx, router_id)
            policy.enforce(ctx, "remove_router_interface", {"project_id": router.project_id})
            subnet_id, port_id = _interface_target(body, removal=True)
            if port_id:
                port = _interface_by_port(session, router, port_id, subnet_id)
                removed = [a.subnet_id for a in port.fixed_ips]
            else:
                port = _interface_by_subnet(session, ctx, router, subnet_id)
                removed = [subnet_id]
            for subnet in removed:
                _check_not_in_use(session, router, session.get(Subnet, subnet))
            info = _interface_info(router, port, removed, removed[0])
            whole = port_id or len({a.subnet_id for a in port.fixed_ips}) == 1
            if whole:
                delete_port(session, port)
            else:
                _remove_address(session, port, subnet_id)
                resteer_for_port(session, port)
            session.flush()
            _journal_router(session, router, bump=bool(whole))
            return info

        return run_and_wake(self.db.write, self.wakeup, txn)

    # -- scheduling -----------------------------------------------------------------------
    def list_gateways(self) -> list[dict[str, Any]]:
        """Each router with a gateway and its chassis: four columns (/healthz asks on every
        call; the Router objects brought their gateway ports with all of theirs along)."""
        with self.db.read() as session:
            rows = session.execute(_GATEWAYS)
            return [{"router_id": r.id, "name": r.name, "chassis": r.gateway_chassis,
                     "status": r.status} for r in rows]


_GATEWAYS = select(Router.id, Router.name, Router.gateway_chassis, Router.status).where(
    Router.gw_port_id.is_not(None))


def choose_chassis(session: Session, source: ChassisSource, settings: Settings,
                   rng: random.Random, az_hints: Sequence[str] = (),
                   exclude: str | None = None) -> str | None:
    try:
        names = scheduling.candidates(source(), az_hints)
    except errors.BackendUnavailable:
        return None
    lock_gateway_scheduling(session)
    return scheduling.choose(settings.gateway_scheduler,
                             [n for n in names if n != exclude], gateway_load(session), rng)


def choose_ha_chassis(session: Session, source: ChassisSource, settings: Settings,
                      rng: random.Random, az_hints: Sequence[str] = ()) -> list[str]:
    """A new gateway's chassis by priority: the scheduler's choice first, then the other
    candidates, least loaded first (an HA_Chassis_Group of up to five)."""
    try:
        names = scheduling.candidates(source(), az_hints)
    except errors.BackendUnavailable:
        return []
    lock_gateway_scheduling(session)
    load = gateway_load(session)
    first = scheduling.choose(settings.gateway_scheduler, names, load, rng)
    return scheduling.by_priority((), first, names, load)


def gateway_load(session: Session) -> dict[str, int]:
    """chassis → the gateways it hosts (or, for an HA group, is first in)."""
    rows = session.execute(select(Router.gateway_chassis, func.count()).where(
        Router.gateway_chassis.is_not(None)).group_by(Router.gateway_chassis)).all()
    return {str(name): int(count) for name, count in rows}


def lock_gateway_scheduling(session: Session) -> None:
    """Choose one gateway at a time, until the transaction ends, so that each choice counts
    the ones before it: on PostgreSQL concurrent requests would otherwise read the same load
    and all pick the same least-loaded chassis. SQLite writers are serialised already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": GATEWAY_SCHEDULING_LOCK})


def _gateway_attrs(body: dict[str, Any]) -> dict[str, Any]:
    """Each gateway key the request gives, whatever its value: Neutron's sub-attribute rules
    (enable_snat, external_fixed_ips: admin only) apply to a key as soon as it is present."""
    info = body.get("external_gateway_info") or {}
    return {f"external_gateway_info:{key}": True for key in info}


def _interface_target(body: dict[str, Any], removal: bool) -> tuple[str | None, str | None]:
    """Neutron's rules: one of the two keys; both only to remove (they must then agree)."""
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if not (subnet_id or port_id):
        raise errors.BadRouterRequest("", "Either subnet_id or port_id must be specified")
    if subnet_id and port_id and not removal:
        raise errors.BadRouterRequest("", "Cannot specify both subnet-id and port-id")
    return subnet_id, port_id


def _journal_router(session: Session, router: Router, bump: bool) -> None:
    """A router port joined or left: Neutron moves the router's revision. A subnet joining
    or leaving an existing port moves only the port's, but the router's rows (routes back,
    SNAT) follow its subnets, so its state is journaled all the same."""
    if bump:
        bump_revision(session, router, ROUTER, router_parents(router))
    else:
        record_entry(session, ROUTER, router.id, Operation.UPDATE, router_parents(router))


def _has_ipv6(port: Port) -> bool:
    return any(":" in a.ip_address for a in port.fixed_ips)


def _check_address_mode(router: Router, subnet: Subnet) -> None:
    """An IPv6 subnet whose addresses come from an external router's advertisements (an
    address mode without an RA mode) has no place on a Neutron router."""
    if subnet.ip_version == 6 and subnet.ipv6_ra_mode is None and subnet.ipv6_address_mode:
        raise errors.BadRouterRequest(
            router.id, f"IPv6 subnet {subnet.id} configured to receive RAs from an external "
            "router cannot be added to Neutron Router.")


def _interface_info(router: Router, port: Port, subnets: list[str],
                    subnet_id: str) -> dict[str, Any]:
    """Neutron's answer: the port's project, `subnet_id` the last subnet added or the first
    removed (kept for clients older than several subnets per port)."""
    return {"id": router.id, "tenant_id": port.project_id, "project_id": port.project_id,
            "port_id": port.id, "network_id": port.network_id, "subnet_id": subnet_id,
            "subnet_ids": subnets}


def _interface_by_port(session: Session, router: Router, port_id: str,
                       subnet_id: str | None) -> Port:
    port = next((p for p in interface_ports(session, router.id) if p.id == port_id), None)
    if port is None:
        raise errors.RouterInterfaceNotFound(router.id, port_id)
    if subnet_id and subnet_id not in {a.subnet_id for a in port.fixed_ips}:
        raise errors.SubnetMismatchForPort(port_id, subnet_id)
    return port


def _interface_by_subnet(session: Session, ctx: Context, router: Router,
                         subnet_id: str) -> Port:
    get_subnet_row(session, ctx, subnet_id)
    for port in interface_ports(session, router.id):
        if any(a.subnet_id == subnet_id for a in port.fixed_ips):
            return port
    raise errors.RouterInterfaceNotFoundForSubnet(router.id, subnet_id)


def _check_not_in_use(session: Session, router: Router, subnet: Subnet) -> None:
    """Floating IPs reached through the subnet and routes whose next hop is on it keep it."""
    _check_floating_ips(session, router, [subnet.id])
    if any(ipam.address_in_subnet(r["nexthop"], subnet.cidr) for r in router.routes or []):
        raise errors.RouterInterfaceInUseByRoute(router.id, subnet.id)


def _check_floating_ips(session: Session, router: Router, subnet_ids: list[str]) -> None:
    for subnet_id in subnet_ids:
        subnet = session.get(Subnet, subnet_id)
        fixed = session.scalars(select(FloatingIp.fixed_ip_address).where(
            FloatingIp.router_id == router.id))
        if subnet and any(ip and ipam.address_in_subnet(ip, subnet.cidr) for ip in fixed):
            raise errors.RouterInterfaceInUseByFloatingIP(router.id, subnet_id)


def _add_address(session: Session, port: Port, subnet: Subnet) -> Port:
    position = len(port.fixed_ips)
    port.fixed_ips.append(IpAllocation(subnet_id=subnet.id, ip_address=subnet.gateway_ip,
                                       network_id=port.network_id, position=position))
    session.flush()
    bump_revision(session, port, ResourceType.PORT, port_parents(port))
    return port


def _remove_address(session: Session, port: Port, subnet_id: str) -> None:
    parents = port_parents(port)
    port.fixed_ips[:] = [a for a in port.fixed_ips if a.subnet_id != subnet_id]
    session.flush()
    bump_revision(session, port, ResourceType.PORT, parents)


def _set_routes(session: Session, router: Router, routes: list[dict[str, str]]) -> bool:
    ports = interface_ports(session, router.id) + ([router.gw_port] if router.gw_port else [])
    allocations = [a for p in ports for a in p.fixed_ips]
    subnets = [(a.ip_address, session.get(Subnet, a.subnet_id).cidr) for a in allocations]
    return extra_routes.set_routes(router, routes, subnets)
