"""Networks: their rules, and the journal entries that carry them to OVN."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, and_, bindparam, exists, select
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.util import identity_key

from neutrino import errors, policy, scheduling
from neutrino.db.engine import Database
from neutrino.db.models import Network, Port, RbacPolicy, Segment, Subnet
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import dns, quotas, segments
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    Waker,
    apply_simple_updates,
    bump_revision,
    check_revision,
    column_attributes,
    get_row,
    new_id,
    outside_session,
    run_and_wake,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, member_of, select_page, standard_columns
from neutrino.services.qos import policies as qos_policies
from neutrino.services.rbac_types import (
    ACCESS_EXTERNAL,
    ACCESS_SHARED,
    EVERYONE,
    NETWORK,
    granted_to,
    grants,
    has_gateways,
    new_policy,
    set_everyone,
)
from neutrino.services.zones import checked_hints
from neutrino.settings import Settings

# The smallest MTU an IP version works on (RFC 791, RFC 8200): a network may have a smaller
# one (Neutron only asks for a non-negative MTU), but then no subnet of that version.
MIN_MTU_BY_VERSION = {4: 68, 6: 1280}
UPDATABLE = {
    "name": "name",
    "description": "description",
    "admin_state_up": "admin_state_up",
    "port_security_enabled": "port_security_enabled",
    "mtu": "mtu",
    "dns_domain": "dns_domain",
}
PROVIDER_ATTRS = segments.PROVIDER_ATTRS


def network_dict(net: Network, ctx: Context) -> dict[str, Any]:
    seg = net.segment
    return {
        **standard_fields(net),
        "admin_state_up": net.admin_state_up,
        "status": net.status,
        "subnets": [s.id for s in net.subnets],
        "shared": network_access(ctx, net).shared,
        "router:external": net.router_external,
        "mtu": net.mtu,
        "port_security_enabled": net.port_security_enabled,
        "provider:network_type": seg.network_type,
        "provider:physical_network": seg.physical_network,
        "provider:segmentation_id": seg.segmentation_id,
        # ML2/OVN: a network's zones are its hints (OVN has no DHCP agents to place).
        "availability_zone_hints": list(net.availability_zone_hints or []),
        "availability_zones": list(net.availability_zone_hints or []),
        **address_scopes(net),
        "l2_adjacency": True,
        "dns_domain": net.dns_domain,
        "qos_policy_id": net.qos_policy_id,
    }


def address_scopes(net: Network) -> dict[str, str | None]:
    """`ipv4_address_scope` / `ipv6_address_scope`: the scope of the pool the network's
    subnets of that version come from (Neutron's rule: one pool per version and network)."""
    scopes: dict[str, str | None] = {"ipv4_address_scope": None, "ipv6_address_scope": None}
    for subnet in net.subnets:
        if subnet.subnetpool is not None:
            scopes[f"ipv{subnet.ip_version}_address_scope"] = subnet.subnetpool.address_scope_id
    return scopes


def check_mtu_fits(mtu: int | None, ip_version: int, network_id: str) -> None:
    """A subnet of `ip_version` needs its network's MTU to be at least that version's
    minimum: Neutron's 409 on subnet create and on network MTU update."""
    minimum = MIN_MTU_BY_VERSION[ip_version]
    if mtu is not None and mtu < minimum:
        raise errors.Conflict(
            f"The MTU {mtu} of network {network_id} is below {minimum}, the minimum MTU of "
            f"IPv{ip_version}: it cannot have IPv{ip_version} subnets.")


# What callers of get_network_row mostly read (its subnets, its RBAC entries for access) is
# loaded with it, in the network's own query: a network has few of each, and a second query
# for the subnets (selectin) made the load cost 1.7 times as much CPU (1.4 against 0.8 ms,
# of a port create's 5).
# Its tags and segment, its subnets' tags and pools only if read. The statement is built
# once (`get_row`): `session.get` built it, and its cache key, on every call.
NETWORK_ROW_LOADS = (
    lazyload(Network.tags), lazyload(Network.segment), joinedload(Network.rbac_entries),
    joinedload(Network.subnets).options(lazyload(Subnet.tags), lazyload(Subnet.subnetpool)),
)
_NETWORK_ROW = select(Network).options(*NETWORK_ROW_LOADS).where(
    Network.id == bindparam("network"))


def get_network_row(session: Session, ctx: Context, network_id: str) -> Network:
    net = get_row(session, Network, network_id, _NETWORK_ROW, "network")
    if net is None or not visible(ctx, net):
        raise errors.NetworkNotFound(network_id)
    # Held until the transaction ends: the session keeps rows only while they are referenced,
    # and a bulk create of ports on one network would load it (and its subnets, segment,
    # RBAC entries and tags) again for every port.
    session.info.setdefault("neutrino.networks", {})[net.id] = net
    return net


_NET_COLUMNS, _SUBNET_COLUMNS, _RBAC_COLUMNS = (
    column_attributes(Network), column_attributes(Subnet), column_attributes(RbacPolicy))
_NETWORKS, _SUBNETS, _RBAC = Network.__table__, Subnet.__table__, RbacPolicy.__table__
# `_NETWORK_ROW`'s query (the same join, order and rows) on the tables: the ORM's processing
# of its rows into a network, its subnets and RBAC entries cost about as much as the query.
_NETWORK_FACTS = (
    select(*(c for _, c in _NET_COLUMNS + _SUBNET_COLUMNS + _RBAC_COLUMNS))
    .select_from(_NETWORKS.outerjoin(_SUBNETS, _NETWORKS.c.id == _SUBNETS.c.network_id)
                 .outerjoin(_RBAC, and_(_RBAC.c.object_id == _NETWORKS.c.id,
                                        _RBAC.c.object_type == NETWORK.name)))
    .where(_NETWORKS.c.id == bindparam("network"))
    .order_by(_SUBNETS.c.created_at, _RBAC.c.id)
)


def network_for_new_ports(session: Session, ctx: Context, network_id: str) -> Network:
    """`get_network_row` for a port create's checks (policy, IPAM, MAC, DNS): the same
    query, its rows made into a network with its subnets and RBAC entries outside the
    session (`outside_session`, as a new port's rows are made). Only those are loaded: it is
    never held for the transaction (`port_network` would load the session's own: a create
    that binds its port takes `get_network_row`), and nothing else may be read of it. A
    network the session holds already is the session's."""
    if identity_key(Network, network_id) in session.identity_map:
        return get_network_row(session, ctx, network_id)
    rows = session.connection().execute(_NETWORK_FACTS, {"network": network_id}).all()
    if not rows:
        raise errors.NetworkNotFound(network_id)
    first = len(_NET_COLUMNS)
    subnets: dict[str, Subnet] = {}
    rbac: dict[str, RbacPolicy] = {}
    for row in rows:
        _gather(subnets, Subnet, _SUBNET_COLUMNS, row, first)
        _gather(rbac, RbacPolicy, _RBAC_COLUMNS, row, first + len(_SUBNET_COLUMNS))
    net = _outside(Network, _NET_COLUMNS, rows[0], 0)
    net.__dict__.update(subnets=list(subnets.values()), rbac_entries=list(rbac.values()))
    if not visible(ctx, net):
        raise errors.NetworkNotFound(network_id)
    return net


def _gather(found: dict[str, Any], model: type, columns: list[tuple[str, Any]],
            row: Any, start: int) -> None:
    """The object whose columns start at `start` in `row` (none: the outer join found
    none), once by its id, in the rows' order (the ORM's joined loader keeps it too)."""
    key = row[start + _ID_AT[model]]
    if key is not None and key not in found:
        found[key] = _outside(model, columns, row, start)


def _outside(model: type, columns: list[tuple[str, Any]], row: Any, start: int) -> Any:
    return outside_session(model, zip((key for key, _ in columns),
                                      row[start:start + len(columns)], strict=True))


_ID_AT = {model: [key for key, _ in columns].index("id") for model, columns in (
    (Subnet, _SUBNET_COLUMNS), (RbacPolicy, _RBAC_COLUMNS))}


@dataclass(frozen=True)
class NetworkAccess:
    """What the caller's project may do with a network, by ownership and RBAC policies."""

    owner: bool  # an admin, or the network's own project
    shared: bool  # shared with the project (to it or to all): it may put ports on it
    external: bool  # external to the project: router gateways and floating IPs from it

    @property
    def visible(self) -> bool:
        return self.owner or self.shared or self.external


def network_access(ctx: Context, net: Network) -> NetworkAccess:
    """The one answer to "may this caller see / use this network", and to its `shared`:
    true when an access_as_shared policy targets the caller's project or every project."""
    return NetworkAccess(owner=ctx.is_admin or net.project_id == ctx.project_id,
                         shared=grants(net.rbac_entries, ACCESS_SHARED, ctx.project_id),
                         external=grants(net.rbac_entries, ACCESS_EXTERNAL, ctx.project_id))


def visible(ctx: Context, net: Network) -> bool:
    return network_access(ctx, net).visible


def visible_networks(ctx: Context) -> ColumnElement[bool]:
    """`visible` as SQL (for a caller who is not an admin): a project's own networks and
    those shared or external to it."""
    return (Network.project_id == ctx.project_id) | granted_to(
        Network.id, NETWORK.name, (ACCESS_SHARED, ACCESS_EXTERNAL), ctx.project_id)


def shared_networks(ctx: Context) -> ColumnElement[bool]:
    """`network_access(...).shared` as SQL: what `shared` filters and sorts by."""
    return network_shared(Network.id, ctx.project_id)


def network_shared(network_id: Any, project_id: str = EVERYONE) -> ColumnElement[bool]:
    """Whether the network `network_id` (a column) is shared with `project_id`, as SQL: what
    a subnet's `shared` filter reads (Neutron's subnets inherit it from their network)."""
    return granted_to(network_id, NETWORK.name, (ACCESS_SHARED,), project_id)


def _segment(column: Any) -> ScalarSelect[Any]:
    """The network's one segment's `column`, for listing by provider attributes."""
    return select(column).where(Segment.network_id == Network.id).scalar_subquery()


LISTING = ListSpec(Network, {
    **standard_columns(Network),
    "admin_state_up": Network.admin_state_up,
    "status": Network.status,
    "shared": granted_to(Network.id, NETWORK.name, (ACCESS_SHARED,), EVERYONE),  # see listing_for
    "router:external": Network.router_external,
    "mtu": Network.mtu,
    "port_security_enabled": Network.port_security_enabled,
    "qos_policy_id": Network.qos_policy_id,
    "provider:network_type": _segment(Segment.network_type),
    "provider:physical_network": _segment(Segment.physical_network),
    "provider:segmentation_id": _segment(Segment.segmentation_id),
    "dns_domain": Network.dns_domain,
}, filters={"subnets": member_of(Network.id, Subnet.network_id, Subnet.id)})


def listing_for(ctx: Context) -> ListSpec:
    """The listing for `ctx`: `shared` depends on who asks."""
    return replace(LISTING, columns={**LISTING.columns, "shared": shared_networks(ctx)})


class InvalidSharedSetting(errors.Conflict):
    def __init__(self, network: str) -> None:
        super().__init__(f"Unable to reconfigure sharing settings for network {network}. "
                         "Multiple projects are using it.")


class ExternalNetworkInUse(errors.InUse):
    def __init__(self, network_id: str) -> None:
        super().__init__(f"External network {network_id} cannot be updated to be made "
                         "non-external, since it has existing gateway ports.")


def set_shared(session: Session, net: Network, shared: bool) -> bool:
    """`shared` is an access_as_shared policy to every project, created and removed with it
    (unsharing is refused while other projects, not covered by a policy of their own, have
    ports or subnets on it). True when it changed."""
    return set_everyone(session, NETWORK, net, ACCESS_SHARED, shared,
                        lambda projects: InvalidSharedSetting(net.name))


def set_external(session: Session, net: Network, external: bool) -> bool:
    """`router:external`: becoming external adds an access_as_external policy to every
    project; becoming internal removes every external policy, and is refused while router
    gateways are on it. True when it changed."""
    if external == net.router_external:
        return False
    if external:
        net.rbac_entries.append(new_policy(NETWORK.name, net, ACCESS_EXTERNAL, EVERYONE))
    else:
        if has_gateways(session, net):
            raise ExternalNetworkInUse(net.id)
        net.rbac_entries[:] = [e for e in net.rbac_entries if e.action != ACCESS_EXTERNAL]
    net.router_external = external
    return True


class NetworkService(ResourceService):
    model = Network
    listing = LISTING

    def __init__(self, db: Database, settings: Settings, wakeup: Waker,
                 chassis: scheduling.ChassisSource = list,
                 before_delete: Callable[[Session, str], None] | None = None) -> None:
        super().__init__(db, settings, wakeup)
        self.chassis = chassis  # where hinted zones are looked up
        # what other services remove with a network (its unassociated floating IPs)
        self.before_delete = before_delete or (lambda _session, _network_id: None)

    def view(self, ctx: Context, row: Network) -> dict[str, Any]:
        return network_dict(row, ctx)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> Network:
        body = segments.single_segment(body)
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_network", {"project_id": project}, body)
        quotas.check(session, self.settings, project, "network")
        request = segments.build_segment(session, segments.segment_request(body), self.settings)
        net = Network(
            id=body.get("id") or new_id(),
            name=body["name"],
            description=body["description"],
            admin_state_up=body["admin_state_up"],
            router_external=False,
            port_security_enabled=body["port_security_enabled"],
            mtu=self._mtu(request.network_type, body.get("mtu")),
            availability_zone_hints=checked_hints(self.chassis,
                                                  body.get("availability_zone_hints")),
            dns_domain=dns.domain_value(body.get("dns_domain") or ""),
        )
        stamp_new(net, project)
        net.segment = Segment(
            id=new_id(),
            network_type=request.network_type,
            physical_network=request.physical_network,
            segmentation_id=request.segmentation_id,
            segment_key=segments.segment_key(request),
        )
        net.qos_policy_id = qos_policies.checked_policy_id(
            session, ctx, body["qos_policy_id"]) if "qos_policy_id" in body \
            else qos_policies.default_policy_id(session, project)  # qos-default
        set_tags(net, ResourceType.NETWORK, body.get("tags") or [])
        set_shared(session, net, body["shared"])
        set_external(session, net, body["router:external"])
        session.add(net)
        session.flush()
        record_entry(session, ResourceType.NETWORK, net.id, Operation.CREATE)
        return net

    def _mtu(self, network_type: str, requested: int | None) -> int:
        limit = self.settings.geneve_mtu if network_type == "geneve" else \
            self.settings.underlay_mtu
        if requested is None:
            return limit
        if requested < 0:
            raise errors.InvalidInput(f"'{requested}' should be non-negative")
        if requested > limit:
            raise errors.InvalidInput(f"Requested MTU is too big, maximum is {limit}")
        return requested

    def get(self, ctx: Context, network_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return network_dict(get_network_row(session, ctx, network_id), ctx)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(Network)
            if not ctx.is_admin:
                stmt = stmt.where(visible_networks(ctx))
            return select_page(session, stmt, listing_for(ctx),
                               lambda net: network_dict(net, ctx), query)

    def update(
        self, ctx: Context, network_id: str, body: dict[str, Any], if_match: int | None
    ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            net = get_network_row(session, ctx, network_id)
            policy.enforce(ctx, "update_network", {"project_id": net.project_id}, body)
            check_revision(net, if_match)
            self._check_provider_unchanged(net, body)
            if "mtu" in body:
                body["mtu"] = self._mtu(net.segment.network_type, body["mtu"])
                for subnet in net.subnets:
                    check_mtu_fits(body["mtu"], subnet.ip_version, net.id)
            if "dns_domain" in body:
                body["dns_domain"] = dns.domain_value(body["dns_domain"])
            changed = apply_simple_updates(net, body, UPDATABLE)
            if "shared" in body:
                changed |= set_shared(session, net, body["shared"])
            if "router:external" in body:
                changed |= set_external(session, net, body["router:external"])
            changed |= self._set_qos_policy(session, ctx, net, body)
            if changed:
                bump_revision(session, net, ResourceType.NETWORK)
            return network_dict(net, ctx)

        return run_and_wake(self.db.write, self.wakeup, txn)

    @staticmethod
    def _set_qos_policy(session: Session, ctx: Context, net: Network,
                        body: dict[str, Any]) -> bool:
        """A new policy reaches the network's ports: they are journalled with the network."""
        if "qos_policy_id" not in body:
            return False
        wanted = qos_policies.changed_policy_id(session, ctx, net.qos_policy_id,
                                                body["qos_policy_id"])
        if wanted == net.qos_policy_id:
            return False
        net.qos_policy_id = wanted
        qos_policies.journal_ports(session, qos_policies.network_ports_reached(session, net.id))
        return True

    @staticmethod
    def _check_provider_unchanged(net: Network, body: dict[str, Any]) -> None:
        current = {
            "provider:network_type": net.segment.network_type,
            "provider:physical_network": net.segment.physical_network,
            "provider:segmentation_id": net.segment.segmentation_id,
        }
        for attr in PROVIDER_ATTRS:
            if attr in body and body[attr] != current[attr]:
                raise errors.InvalidInput("Plugin does not support updating provider attributes")

    def delete(self, ctx: Context, network_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            net = get_network_row(session, ctx, network_id)
            policy.enforce(ctx, "delete_network", {"project_id": net.project_id})
            check_revision(net, if_match)
            self.before_delete(session, net.id)
            from neutrino.services import metadata  # late: it imports this module back

            metadata.remove_port(session, net)
            if session.scalar(select(exists().where(Port.network_id == net.id))):
                raise errors.NetworkInUse(net.id)
            for subnet in list(net.subnets):
                record_entry(session, ResourceType.SUBNET, subnet.id, Operation.DELETE,
                             {ResourceType.NETWORK: [net.id]})
                session.delete(subnet)
            session.flush()
            session.delete(net)
            record_entry(session, ResourceType.NETWORK, net.id, Operation.DELETE)

        run_and_wake(self.db.write, self.wakeup, txn)
