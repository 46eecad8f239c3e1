"""A router's extra routes: PUT's whole list, extraroute-atomic's additions and removals,
and Neutron's checks of their next hops (pure: the caller gives the router's addresses)."""

from __future__ import annotations

from neutrino import errors
from neutrino.db.models import Router
from neutrino.ipam import arithmetic as ipam


def unique_routes(routes: list[dict[str, str]]) -> list[dict[str, str]]:
    """`routes` as given to PUT: each route once (Neutron's hostroutes validator)."""
    checked = [ipam.validate_host_route(route) for route in routes]
    for i, route in enumerate(checked):
        if route in checked[:i]:
            raise errors.InvalidInput(f"Duplicate hostroute '{routes[i]}'")
    return checked


def merged(old: list[dict[str, str]], added: list[dict[str, str]]) -> list[dict[str, str]]:
    result = list(old)
    for route in (ipam.validate_host_route(r) for r in added):
        if route not in result:
            result.append(route)
    return result


def without(old: list[dict[str, str]], removed: list[dict[str, str]]) -> list[dict[str, str]]:
    gone = [ipam.validate_host_route(r) for r in removed]
    return [route for route in old if route not in gone]


def set_routes(router: Router, routes: list[dict[str, str]],
               addresses: list[tuple[str, str]]) -> bool:
    """Store the routes after checking their next hops against the router's (address, cidr)
    pairs; True when the set changed (a new order of the same routes is no change, as in
    Neutron)."""
    check_nexthops(routes, addresses)
    current = list(router.routes or [])
    if sorted(map(_route_key, routes)) == sorted(map(_route_key, current)):
        return False
    router.routes = routes
    return True


def _route_key(route: dict[str, str]) -> tuple[str, str]:
    return route["destination"], route["nexthop"]


def check_nexthops(routes: list[dict[str, str]], addresses: list[tuple[str, str]]) -> None:
    """Each next hop on one of the router's subnets, and not one of the router's own
    addresses (Neutron's InvalidRoutes)."""
    cidrs = [cidr for _, cidr in addresses]
    own = {ip for ip, _ in addresses}
    for route in routes:
        hop = route["nexthop"]
        if not any(ipam.address_in_subnet(hop, cidr) for cidr in cidrs):
            raise errors.InvalidRoutes(routes, "the nexthop is not connected with router")
        if hop in own:
            raise errors.InvalidRoutes(routes, "the nexthop is used by router")
