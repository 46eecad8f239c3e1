"""router → a distributed Logical_Router, and its external gateway in one of two layouts.

`gateway-router` mode (the default, DESIGN 5): the gateway router (`neutron-gw-<id>`) is
bound to one chassis and joined to the distributed router (`neutron-<id>`) by a transit
switch carrying a /30 (the distributed end takes the second address, the gateway end the
first). The distributed router sends everything else to the gateway router; the gateway
router routes tenant subnets back over the transit link, owns the external port, SNATs
tenant subnets and holds floating IPs.

`distributed-gateway-port` mode (ML2/OVN's layout): the external port `lrp-<gateway port id>`
sits on the distributed router itself, scheduled by an HA_Chassis_Group `neutron-<router id>`
holding the gateway chassis by priority (ovn-northd makes it a `cr-lrp-*` chassisredirect
port, bound where the highest-priority live chassis is); the default route, SNAT and floating
IPs are the distributed router's. No gateway router and no transit switch.

Either mode owns the other's rows too, so that a repair after a change of mode moves each
router to the new layout and leaves nothing of the old one.
"""

from __future__ import annotations

import hashlib
import ipaddress

from neutrino.ovn import naming as n
from neutrino.ovn.rows import DesiredRow, DesiredState, ParentLink, RowKey
from neutrino.ovn.translate.inputs import GatewayFacts, RouterFacts, TranslateConfig

RESOURCE = "router"
DEFAULT_ROUTE = "0.0.0.0/0"
# ML2/OVN sets dynamic_neigh_routers=true because its routers share an external network
# with hundreds of others. A distributed router here has one router neighbour, its own
# gateway router behind the transit switch, so static resolution is cheaper and exact.
DR_OPTIONS = {"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "false",
              "mac_binding_age_threshold": "300"}
# With a distributed gateway port the router does share the external network: ML2/OVN's.
DGP_OPTIONS = {**DR_OPTIONS, "dynamic_neigh_routers": "true"}


def router_key(router_id: str) -> RowKey:
    return RowKey(n.LR, "name", n.router_name(router_id))


def gateway_router_key(router_id: str) -> RowKey:
    return RowKey(n.LR, "name", n.gateway_router_name(router_id))


def transit_switch_key(router_id: str) -> RowKey:
    return RowKey(n.LS, "name", n.transit_switch_name(router_id))


def ha_group_key(router_id: str) -> RowKey:
    return RowKey(n.HA_GROUP, "name", n.ha_group_name(router_id))


def ha_chassis_key(router_id: str, chassis: str) -> RowKey:
    return RowKey(n.HA_CHASSIS, "external_ids", n.ha_chassis_key(router_id, chassis),
                  map_key=n.HA_KEY)


def nat_parent(router_id: str, config: TranslateConfig) -> RowKey:
    """The router that holds a router's NAT rows (and its floating IPs' balancers)."""
    return router_key(router_id) if config.distributed_gateway \
        else gateway_router_key(router_id)


def gateway_port_match(router_id: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A distributed gateway port of the router, whatever its port id: what a router whose
    gateway went away (or moved to a gateway router) still owns."""
    return n.LRP, ((n.ROUTER_NAME, n.router_name(router_id)),
                   (n.GATEWAY_ROLE, n.GATEWAY_PORT_ROLE))


def transit_addresses(config: TranslateConfig) -> tuple[str, str, int]:
    """(gateway-router end, distributed-router end, prefix length) of the transit link."""
    net = ipaddress.ip_network(config.transit_cidr)
    return str(net.network_address + 1), str(net.network_address + 2), net.prefixlen


def build_router(facts: RouterFacts, config: TranslateConfig) -> DesiredState:
    dgp = config.distributed_gateway
    rows = [_distributed_router(facts, DGP_OPTIONS if dgp else DR_OPTIONS)]
    # both layouts' rows: those of the mode not in use are removed
    owned = [router_key(facts.id), gateway_router_key(facts.id), transit_switch_key(facts.id),
             _transit_port_key(facts.id, "dr"), ha_group_key(facts.id)]
    children = [(router_key(facts.id), "static_routes"), (router_key(facts.id), "nat"),
                (ha_group_key(facts.id), "ha_chassis")]
    if facts.gateway is not None and dgp:
        rows += _distributed_gateway(facts, facts.gateway)
    elif facts.gateway is not None:
        rows += _gateway(facts, facts.gateway, config)
        children += [(gateway_router_key(facts.id), col) for col in ("ports", "static_routes",
                                                                     "nat")]
    rows += _extra_routes(facts, dgp)
    unique = {row.key: row for row in reversed(rows)}  # an extra route may repeat a default
    return DesiredState(RESOURCE, facts.id, tuple(r for r in rows if unique[r.key] is r),
                        tuple(owned), owned_children=tuple(children),
                        owned_matching=(gateway_port_match(facts.id),))


def build_router_absent(router_id: str) -> DesiredState:
    """Deleting the routers and the transit switch takes their ports, routes and NAT along;
    a distributed gateway port goes with its router, its HA_Chassis_Group on its own."""
    owned = (router_key(router_id), gateway_router_key(router_id),
             transit_switch_key(router_id), ha_group_key(router_id))
    return DesiredState(RESOURCE, router_id, (), owned,
                        owned_matching=(gateway_port_match(router_id),))


def _distributed_router(facts: RouterFacts, options: dict[str, str]) -> DesiredRow:
    external_ids = {n.ROUTER_NAME: facts.name, n.REVISION: str(facts.revision),
                    n.AZ_HINTS: ",".join(facts.az_hints)}
    columns = {"enabled": facts.admin_state_up, "external_ids": external_ids,
               "options": dict(options)}
    return DesiredRow(router_key(facts.id), columns)


def _route(router_id: str, parent: RowKey, prefix: str, nexthop: str,
           extra: dict[str, str]) -> DesiredRow:
    identity = f"{router_id} {parent.value} {prefix} {nexthop}"
    external_ids = {n.ROUTE_KEY: identity, n.IS_STATIC_ROUTE: "true", **extra}
    columns = {"ip_prefix": prefix, "nexthop": nexthop, "external_ids": external_ids}
    key = RowKey(n.ROUTE, "external_ids", identity, map_key=n.ROUTE_KEY)
    return DesiredRow(key, columns, parent=ParentLink(parent, "static_routes"))


def _extra_routes(facts: RouterFacts, dgp: bool) -> list[DesiredRow]:
    """A next hop on the external network is reachable from the gateway router only (with a
    distributed gateway port, every route is the distributed router's)."""
    external = [ipaddress.ip_network(f"{ip}/{plen}", strict=False)
                for ip, plen in (facts.gateway.addresses if facts.gateway else ())]
    rows = []
    for dest, hop in facts.routes:
        outside = any(ipaddress.ip_address(hop) in net for net in external)
        parent = gateway_router_key(facts.id) if outside and not dgp else router_key(facts.id)
        rows.append(_route(facts.id, parent, dest, hop, {}))
    return rows


def _gateway(facts: RouterFacts, gw: GatewayFacts, config: TranslateConfig) -> list[DesiredRow]:
    gw_end, dr_end, prefixlen = transit_addresses(config)
    rows = [
        _gateway_router(facts, gw),
        _transit_switch(facts),
        *_transit_link(facts.id, "dr", router_key(facts.id), f"{dr_end}/{prefixlen}"),
        *_transit_link(facts.id, "gw", gateway_router_key(facts.id), f"{gw_end}/{prefixlen}"),
        _external_port(facts, gw, gateway_router_key(facts.id)),
        _route(facts.id, router_key(facts.id), DEFAULT_ROUTE, gw_end,
               {n.IS_EXT_GW: "true"}),
    ]
    gateway = gateway_router_key(facts.id)
    if gw.nexthop:
        extra = {n.IS_EXT_GW: "true", n.ROUTE_SUBNET_ID: gw.nexthop_subnet_id}
        rows.append(_route(facts.id, gateway, DEFAULT_ROUTE, gw.nexthop, extra))
    rows += [_route(facts.id, gateway, cidr, dr_end, {n.ROUTE_SUBNET_ID: subnet_id})
             for subnet_id, cidr in facts.tenant_subnets]
    if gw.enable_snat:
        rows += _snat_rows(facts, gw, gateway)
    return rows


def _distributed_gateway(facts: RouterFacts, gw: GatewayFacts) -> list[DesiredRow]:
    """ML2/OVN's rows: the gateway port on the distributed router with its HA group, the
    default route to the external subnet's gateway, SNAT on the distributed router."""
    router = router_key(facts.id)
    rows = [_ha_group(facts), *_ha_chassis(facts.id, gw.ha_chassis or
                                           ((gw.chassis,) if gw.chassis else ())),
            _external_port(facts, gw, router)]
    if gw.nexthop:
        extra = {n.IS_EXT_GW: "true", n.ROUTE_SUBNET_ID: gw.nexthop_subnet_id}
        rows.append(_route(facts.id, router, DEFAULT_ROUTE, gw.nexthop, extra))
    if gw.enable_snat:
        rows += _snat_rows(facts, gw, router)
    return rows


def _ha_group(facts: RouterFacts) -> DesiredRow:
    external_ids = {n.ROUTER_ID: facts.id, n.AZ_HINTS: ",".join(facts.az_hints),
                    n.GATEWAY_ROLE: n.GATEWAY_PORT_ROLE}
    return DesiredRow(ha_group_key(facts.id), {"external_ids": external_ids})


def _ha_chassis(router_id: str, chassis: tuple[str, ...]) -> list[DesiredRow]:
    """The first chassis gets the highest priority: N, N-1, ... 1 (ML2/OVN's numbers)."""
    return [DesiredRow(ha_chassis_key(router_id, name),
                       {"chassis_name": name, "priority": len(chassis) - index,
                        "external_ids": {n.HA_KEY: n.ha_chassis_key(router_id, name)}},
                       parent=ParentLink(ha_group_key(router_id), "ha_chassis"))
            for index, name in enumerate(chassis)]


def _gateway_router(facts: RouterFacts, gw: GatewayFacts) -> DesiredRow:
    options = {"chassis": gw.chassis} if gw.chassis else {}
    external_ids = {n.ROUTER_ID: facts.id, n.GATEWAY_ROLE: "gateway-router",
                    n.REVISION: str(facts.revision)}
    columns = {"enabled": facts.admin_state_up, "options": options,
               "external_ids": external_ids}
    return DesiredRow(gateway_router_key(facts.id), columns)


def _transit_switch(facts: RouterFacts) -> DesiredRow:
    external_ids = {n.ROUTER_ID: facts.id, n.GATEWAY_ROLE: "transit",
                    n.REVISION: str(facts.revision)}
    return DesiredRow(transit_switch_key(facts.id), {"external_ids": external_ids})


def _transit_port_key(router_id: str, side: str) -> RowKey:
    return RowKey(n.LRP, "name", n.transit_router_port_name(router_id, side))


def _transit_link(router_id: str, side: str, router: RowKey, network: str) -> list[DesiredRow]:
    """One end of the transit link: the router's port and its peer on the transit switch."""
    lrp_name = n.transit_router_port_name(router_id, side)
    lrp = DesiredRow(
        _transit_port_key(router_id, side),
        {"mac": transit_mac(router_id, side), "networks": [network],
         "external_ids": {n.ROUTER_ID: router_id, n.GATEWAY_ROLE: "transit",
                          n.ROUTER_NAME: router.value}},
        parent=ParentLink(router, "ports"),
    )
    lsp = DesiredRow(
        RowKey(n.LSP, "name", n.transit_switch_port_name(router_id, side)),
        {"type": "router", "addresses": ["router"], "options": {"router-port": lrp_name},
         "external_ids": {n.ROUTER_ID: router_id, n.GATEWAY_ROLE: "transit"}},
        parent=ParentLink(transit_switch_key(router_id), "ports"),
    )
    return [lrp, lsp]


def _external_port(facts: RouterFacts, gw: GatewayFacts, router: RowKey) -> DesiredRow:
    """On the gateway router, or (distributed gateway port) on the distributed router with
    its HA_Chassis_Group."""
    networks = [f"{ip}/{plen}" for ip, plen in gw.addresses]
    external_ids = {
        n.IS_EXT_GW: "True",
        n.NETWORK_NAME: n.switch_name(gw.network_id),
        n.ROUTER_NAME: router.value,
        n.SUBNET_IDS: " ".join(gw.subnet_ids),
        n.REVISION: str(facts.revision),
    }
    options = {"gateway_mtu": str(gw.tenant_mtu)} if gw.tenant_mtu else {}
    distributed = router == router_key(facts.id)
    if distributed:
        options[n.RESIDE_ON_REDIRECT] = "true"
        external_ids[n.GATEWAY_ROLE] = n.GATEWAY_PORT_ROLE
    columns = {"mac": gw.mac, "networks": networks, "external_ids": external_ids,
               "options": options}
    refs = {"ha_chassis_group": ha_group_key(facts.id) if distributed else None}
    key = RowKey(n.LRP, "name", n.router_port_name(gw.port_id))
    return DesiredRow(key, columns, refs=refs, parent=ParentLink(router, "ports"))


def _snat_rows(facts: RouterFacts, gw: GatewayFacts, router: RowKey) -> list[DesiredRow]:
    external_ip = next((ip for ip, _ in gw.addresses if ":" not in ip), None)
    if external_ip is None:
        return []
    rows = []
    for _, cidr in facts.tenant_subnets:
        identity = f"{facts.id} {cidr}"
        columns = {"type": "snat", "external_ip": external_ip, "logical_ip": cidr,
                   "external_ids": {n.SNAT_KEY: identity,
                                    n.ROUTER_NAME: n.router_name(facts.id)}}
        key = RowKey(n.NAT, "external_ids", identity, map_key=n.SNAT_KEY)
        rows.append(DesiredRow(key, columns, parent=ParentLink(router, "nat")))
    return rows


def transit_mac(router_id: str, side: str) -> str:
    """A stable MAC for a transit port: only two ports share that segment."""
    digest = hashlib.sha256(f"{router_id}/{side}".encode()).digest()
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3])
