"""Ports: addresses, MACs, bindings and port security, journaled for OVN."""

from __future__ import annotations

import ipaddress
import logging
import random
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import replace
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, delete, exists, inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from neutrino import binding, errors, policy, port_events, scheduling
from neutrino.db.engine import Database
from neutrino.db.models import (
    FloatingIp,
    IpAllocation,
    Network,
    Port,
    PortForwarding,
    PortSecurityGroup,
    Router,
    SfcFlowClassifier,
    SfcPortPair,
    Tag,
    Trunk,
    TrunkSubport,
)
from neutrino.ipam import arithmetic as ipam
from neutrino.journal.parents import ROUTER_INTERFACE, ROUTER_OWNERS, merged, port_parents
from neutrino.journal.record import record_entries, record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services import dhcp_opts, dns, quotas, vtep_ports
from neutrino.services import ipam as port_ipam
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    Waker,
    apply_simple_updates,
    bump_revision_now,
    check_revision,
    column_attributes,
    get_row,
    new_id,
    outside_session,
    run_and_wake,
    set_tags,
    stamp_new,
)
from neutrino.services.context import Context
from neutrino.services.fip_association import disassociate_port
from neutrino.services.forwarding_release import forget_port
from neutrino.services.listing import ListQuery, ListSpec, member_of, select_page, standard_columns
from neutrino.services.networks import get_network_row, network_access, network_for_new_ports
from neutrino.services.port_dicts import port_dict
from neutrino.services.port_listing import port_answers
from neutrino.services.qos import policies as qos_policies
from neutrino.services.security_groups import ensure_default_id, get_sg_row
from neutrino.services.sfc.resteer import resteer_for_port
from neutrino.services.sql_forms import text_position
from neutrino.services.trunks import subports as trunk_subports
from neutrino.settings import Settings

LOG = logging.getLogger(__name__)
MAC_ATTEMPTS = 16
# MACs drawn beyond one a port, for a request's single probe: a random MAC is taken on a
# network of 10,000 ports one time in 1,700, and the one-at-a-time attempts follow anyway.
MAC_SPARES = 2
_PORTS = Port.__table__
# Built once: building a statement costs more than running it.
_STATUSES = select(_PORTS.c.id, _PORTS.c.status).where(
    _PORTS.c.id.in_(bindparam("ports", expanding=True)))
UPDATABLE = {
    "name": "name",
    "description": "description",
    "admin_state_up": "admin_state_up",
    "device_id": "device_id",
    "device_owner": "device_owner",
    "binding:host_id": "binding_host_id",
    "binding:profile": "binding_profile",
    "binding:vnic_type": "binding_vnic_type",
    "port_security_enabled": "port_security_enabled",
    "allowed_address_pairs": "allowed_address_pairs",
    "extra_dhcp_opts": "extra_dhcp_opts",
    "numa_affinity_policy": "numa_affinity_policy",
    "qos_policy_id": "qos_policy_id",
}


# Ports Neutron manages through another API (routers, floating IPs), not through /ports.
MANAGED_OWNERS = (*ROUTER_OWNERS, "network:floatingip")
_rng = random.SystemRandom()


def internal_port_body(network_id: str, device_owner: str, device_id: str,
                       fixed_ips: list[dict[str, str]] | None, project_id: str) -> dict[str, Any]:
    """The body of a port Neutron creates for itself (router and floating IP ports)."""
    return {
        "network_id": network_id, "name": "", "description": "", "admin_state_up": True,
        "device_id": device_id, "device_owner": device_owner, "binding:host_id": "",
        "binding:profile": {}, "binding:vnic_type": "normal", "extra_dhcp_opts": [],
        "fixed_ips": fixed_ips, "project_id": project_id, "security_groups": [],
    }


Maker = Callable[..., Any]


def _orm_object(model: type, **values: Any) -> Any:
    return model(**values)


def _unattached_object(model: type, **values: Any) -> Any:
    """A row object for `insert_new_ports`: its view and journal parents read the values."""
    return outside_session(model, values.items())


class CreateBatch:
    """What the ports of one create request share, read once for all of them: networks
    (get_network_row holds them), the projects' default groups and quota, the groups the
    caller was shown to see, and the MACs and addresses chosen so far (a bulk create inserts
    its rows at the end, so the database cannot tell it what it took)."""

    def __init__(self, session: Session, settings: Settings, size: int,
                 unattached: bool = False, binds: bool = False) -> None:
        self.size = size
        # how its rows are made: ORM objects for the session (`create_port`), or objects
        # that never enter it, for the request's multi-row INSERTs (`insert_new_ports`)
        self.make = _unattached_object if unattached else _orm_object
        # and their networks: the session's, or objects outside it for the checks alone;
        # a port bound at its create (`binds`) is bound with the session's network
        self.network = (network_for_new_ports if unattached and not binds
                        else get_network_row)
        self.networks: dict[str, Network] = {}  # checked visible to the caller
        self.quota = quotas.Tally(session, settings, "port")
        self.defaults: dict[str, str] = {}  # project -> its default group
        self.visible: set[str] = set()  # groups the caller is known to see
        self.macs: dict[str, set[str]] = {}  # network -> MACs chosen
        self.free_macs: dict[str, list[str]] = {}  # network -> MACs probed free
        self.addresses = port_ipam.Reservations(size)


def create_port(session: Session, ctx: Context, body: dict[str, Any], settings: Settings,
                charged: bool = True) -> Port:
    """One port, its addresses and its journal entry, in the caller's transaction
    (`charged=False`: a port Neutron makes for itself, outside the project's quota)."""
    port = new_port(session, ctx, body, settings, CreateBatch(session, settings, 1), charged)
    tags = list(port.tags)
    session.add(port)
    session.flush()
    _known_as_new(port, tags)
    journal_new_port(session, port)
    return port


def journal_new_port(session: Session, port: Port) -> None:
    record_entry(session, ResourceType.PORT, port.id, Operation.CREATE, port_parents(port))
    dns.journal_network(session, port.network_id, None, dns.published(port))


def _new_entries(port: Port) -> list[tuple[ResourceType, str, Operation, Any]]:
    """`journal_new_port`'s entries, for `record_entries`."""
    entries: list[tuple[ResourceType, str, Operation, Any]] = [
        (ResourceType.PORT, port.id, Operation.CREATE, port_parents(port))]
    if dns.published(port) is not None:  # dns.journal_network from nothing published
        entries.append((ResourceType.NETWORK, port.network_id, Operation.UPDATE, None))
    return entries


def new_port(session: Session, ctx: Context, body: dict[str, Any], settings: Settings,
             batch: CreateBatch, charged: bool = True) -> Port:
    """A port checked and given its MAC, addresses, groups and tags, not yet in the session:
    `create_port` adds it, a bulk create inserts all of its ports' rows at once."""
    net = batch.networks.get(body["network_id"])
    if net is None:
        net = batch.networks[body["network_id"]] = batch.network(
            session, ctx, body["network_id"])
    project = body.get("project_id", ctx.project_id)
    target = {"project_id": project, "network:project_id": net.project_id,
              "network:shared": network_access(ctx, net).shared}
    policy.enforce(ctx, "create_port", target, _guarded_attributes(body))
    check_router_device(session, ctx, body["device_owner"], body["device_id"], project)
    if charged:
        batch.quota.check(project, body["device_owner"] not in quotas.UNCHARGED_PORT_OWNERS)
    security = body.get("port_security_enabled")
    security = net.port_security_enabled if security is None else security
    pairs = _address_pairs(body.get("allowed_address_pairs") or [], security)
    port = batch.make(
        Port,
        id=new_id(),
        network_id=net.id,
        name=body["name"],
        description=body["description"],
        mac_address=_choose_mac(session, net, body.get("mac_address"), settings.mac_prefix,
                                batch),
        admin_state_up=body["admin_state_up"],
        device_id=body["device_id"],
        device_owner=body["device_owner"],
        binding_host_id=body["binding:host_id"],
        binding_profile=body["binding:profile"],
        binding_vnic_type=body["binding:vnic_type"],
        port_security_enabled=security,
        allowed_address_pairs=pairs,
        extra_dhcp_opts=dhcp_opts.options_for_create(body.get("extra_dhcp_opts")),
        device_profile=body.get("device_profile"),
        numa_affinity_policy=body.get("numa_affinity_policy"),
        qos_policy_id=qos_policies.checked_policy_id(session, ctx, body.get("qos_policy_id")),
        fixed_ips=[],
        security_group_bindings=[],
    )
    stamp_new(port, project)
    groups, visible = _initial_groups(session, ctx, port, body, batch)
    _bind_groups(session, ctx, port, groups, visible | batch.visible, batch.make)
    batch.visible.update(groups)
    set_tags(port, ResourceType.PORT, body.get("tags") or [])
    requested = body.get("fixed_ips")
    vtep = vtep_ports.is_vtep_profile(port.binding_profile)
    if vtep:
        vtep_ports.check_no_fixed_ips(requested)
    reservations = batch.addresses
    chosen = (
        [] if vtep
        else port_ipam.allocate_default(net, session, port.mac_address, port.device_owner,
                                        reservations)
        if requested is None
        else port_ipam.with_auto_addresses(net, port.mac_address, port.device_owner,
                                           port_ipam.allocate_requested(
                                               net, session, port.mac_address, requested,
                                               port.device_owner, batch=reservations))
    )
    reservations.note(chosen)
    _set_allocations(port, chosen, batch.make)
    dns.set_port_names(port, net, ctx, body, settings.dns_domain)
    return port


def insert_new_ports(session: Session, ports: list[Port]) -> None:
    """The rows of ports made by `new_port` (never added to the session): one multi-row
    INSERT a table for the whole request, instead of the ORM's unit of work a port. The
    objects get the columns' defaults, as a flush would give them: their view reads them."""
    session.flush()  # what the checks added (a project's new default group)
    connection = session.connection()  # flushed: the session's execute would only add cost
    for model, objects in (
        (Port, ports),
        (IpAllocation, [a for p in ports for a in p.fixed_ips]),
        (PortSecurityGroup, [b for p in ports for b in p.security_group_bindings]),
        (Tag, [t for p in ports for t in p.tags]),
    ):
        if objects:
            connection.execute(_INSERTS[model], _rows(model, objects))


_INSERTS = {model: model.__table__.insert() for model in (Port, IpAllocation,
                                                          PortSecurityGroup, Tag)}
# attribute -> column of each model, read once
_COLUMNS = {model: column_attributes(model) for model in _INSERTS}


def _rows(model: type, objects: list[Any]) -> list[dict[str, Any]]:
    columns = _COLUMNS[model]
    rows = []
    for obj in objects:
        given = obj.__dict__
        row = {}
        for key, column in columns:
            if key in given:
                value = given[key]
            else:
                value = _default(column)
                setattr(obj, key, value)
            row[column.key] = value
        rows.append(row)
    return rows


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None)


def _known_as_new(port: Port, tags: list[Tag]) -> None:
    """A port made in this transaction is nobody's trunk or subport and has no inactive
    binding, and its tags are the ones just written: its journal parents and its view need
    no query for them (after the flush they would be loaded one query each)."""
    state = inspect(port)
    for key, value in (("tags", tags), ("inactive_bindings", []), ("trunk", None),
                       ("subport", None)):
        if key in state.unloaded:
            set_committed_value(port, key, value)


# A port's network as updates and deletes read it: its RBAC entries (who may use it) joined
# in; its subnets, segment and tags only if read (an update of the name reads none of them).
PORT_NETWORK_LOADS = (lazyload(Network.tags), lazyload(Network.segment),
                      lazyload(Network.subnets), joinedload(Network.rbac_entries))
_PORT_NETWORK = select(Network).options(*PORT_NETWORK_LOADS).where(
    Network.id == bindparam("network"))


def port_network(session: Session, network_id: str) -> Network | None:
    """The port's network, held for the transaction (as get_network_row holds it): the
    session keeps rows only while referenced, and each read of it would load it again."""
    held = session.info.setdefault("neutrino.networks", {})
    net = held.get(network_id)
    if net is None:
        net = get_row(session, Network, network_id, _PORT_NETWORK, "network")
        if net is not None:
            held[network_id] = net
    return net


def port_target(session: Session, ctx: Context, port: Port) -> Mapping[str, Any]:
    """The policy's target: the port's project, and its network's project and sharing,
    read only if a rule asks (a member's update of a name or delete asks for neither)."""
    return _PortTarget(session, ctx, port)


class _PortTarget(Mapping[str, Any]):
    _KEYS = ("project_id", "network:project_id", "network:shared")

    def __init__(self, session: Session, ctx: Context, port: Port) -> None:
        self._session, self._ctx, self._port = session, ctx, port
        self._network: tuple[str, bool] | None = None

    def __getitem__(self, key: str) -> Any:
        if key == "project_id":
            return self._port.project_id
        if key not in self._KEYS:
            raise KeyError(key)
        if self._network is None:
            net = port_network(self._session, self._port.network_id)
            self._network = (net.project_id if net else "",
                             bool(net and network_access(self._ctx, net).shared))
        return self._network[0] if key == "network:project_id" else self._network[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


def _guarded_attributes(body: dict[str, Any]) -> dict[str, Any]:
    """The attributes the request gives, as the policy names them (only what a rule may
    guard); `True` stands for "given" where giving any value at all is what is guarded."""
    guarded = {k: body[k] for k in ("mac_address", "binding:host_id", "binding:profile",
                                    "allowed_address_pairs", "fixed_ips") if k in body}
    if body.get("port_security_enabled") is not None:  # False disables spoofing protection
        guarded["port_security_enabled"] = True
    owner = body.get("device_owner") or ""
    if owner.startswith("network:"):
        guarded["device_owner"] = owner
    if any("ip_address" in ip for ip in body.get("fixed_ips") or []):
        guarded["fixed_ips:ip_address"] = True
    return guarded


class PortBound(errors.InUse):
    def __init__(self, port: Port, new_mac: str | None) -> None:
        super().__init__(f"Unable to complete operation on port {port.id}, port is already "
                         f"bound, port type: {port.binding_vif_type}, old_mac "
                         f"{port.mac_address}, new_mac {new_mac}.")


class DeviceIDNotOwnedByTenant(errors.Conflict):
    def __init__(self, device_id: str) -> None:
        super().__init__(f"The following device_id {device_id} is not owned by your project "
                         "or matches another project router.")


def check_router_device(session: Session, ctx: Context, owner: str, device_id: str,
                        project_id: str) -> None:
    """A router interface port names its router by device_id, and neutrino makes it that
    router's port in OVN: only an admin may name another project's router (Neutron's 409)."""
    if owner != ROUTER_INTERFACE or not device_id or ctx.is_admin:
        return
    router = session.get(Router, device_id)
    if router is not None and router.project_id != project_id:
        raise DeviceIDNotOwnedByTenant(device_id)


def delete_port(session: Session, port: Port, by_statement: bool = False,
                related: Related | None = None) -> None:
    """`by_statement`: the port's rows go in two DELETEs (its tags, keyed by its id with no
    foreign key; then the port, whose addresses and bindings the database's ON DELETE
    CASCADE takes) instead of the unit of work's delete of each loaded child, 30 % of an API
    delete's CPU in a profile. Only for a port nothing changed later in the transaction
    refers to: the unit of work would order such a change before the port's delete.
    `related`: what the port's load said (`load_port`) in this transaction, which nothing
    changed since: what it says is not there is not looked for again."""
    trunk_subports.check_deletable(port)
    parents, names = port_parents(port), dns.published(port)
    if related is None or related.forwardings:
        forget_port(session, port.id)
    resteer_unless_unnamed(session, port, related)
    if by_statement:  # and its entry by statement (`record_entries`), not at the flush
        session.flush()  # what the transaction changed before (a floating IP let go) first
        connection = session.connection()  # flushed: the session's execute only adds cost
        # a port without tags has none to delete; on SQLite no other writer can have added
        # one since its load (PostgreSQL's READ COMMITTED could: its DELETE stays)
        tagless = (related is not None and not related.tags
                   and connection.dialect.name == "sqlite")
        if not tagless:
            connection.execute(_DELETE_TAGS, {"port": port.id})
        connection.execute(_DELETE_PORT, {"port": port.id})
        session.expunge(port)  # its children with it (cascade): nothing flushes them again
        record_entries(session, [(ResourceType.PORT, port.id, Operation.DELETE, parents)])
    else:
        session.delete(port)
        record_entry(session, ResourceType.PORT, port.id, Operation.DELETE, parents)
    dns.journal_network(session, port.network_id, names, None)


def resteer_unless_unnamed(session: Session, port: Port, related: Related | None) -> None:
    """`resteer_for_port`, but not for a port its load found named by no port pair or flow
    classifier (nor a router interface: any port of its network counts for those)."""
    if related is None or related.chains or port.device_owner == ROUTER_INTERFACE:
        resteer_for_port(session, port)


# On the tables, not the models: the ORM's bulk DELETE (with nothing to synchronize in the
# session) cost a third of `delete_port`'s CPU.
_TAGS = Tag.__table__
_DELETE_TAGS = delete(_TAGS).where(_TAGS.c.resource_id == bindparam("port"))
_DELETE_PORT = delete(_PORTS).where(_PORTS.c.id == bindparam("port"))


def _initial_groups(session: Session, ctx: Context, port: Port, body: dict[str, Any],
                    batch: CreateBatch) -> tuple[list[str], frozenset[str]]:
    """Given groups, or the project's default for a filtered, non-network-owned port; and
    which of them the caller is known to see (its own project's default group: no need to
    load the group to check)."""
    requested = body.get("security_groups")
    if requested is not None:
        return requested, frozenset()
    if not port.port_security_enabled or port.device_owner.startswith("network:"):
        return [], frozenset()
    default = batch.defaults.get(port.project_id)
    if default is None:
        default = batch.defaults[port.project_id] = ensure_default_id(session, port.project_id)
    own = ctx.is_admin or port.project_id == ctx.project_id
    return [default], frozenset([default] if own else [])


def _choose_mac(session: Session, net: Network, requested: str | None, prefix: str,
                batch: CreateBatch | None = None) -> str:
    mine = set() if batch is None else batch.macs.setdefault(net.id, set())
    if requested is not None:
        mac = ipam.validate_mac(requested)
        if mac in mine or _mac_taken(session, net.id, mac):
            raise errors.MacAddressInUse(mac, net.id)
    else:
        mac = _free_mac(session, net, prefix, batch, mine)
    mine.add(mac)
    return mac


def _free_mac(session: Session, net: Network, prefix: str, batch: CreateBatch | None,
              mine: set[str]) -> str:
    if batch is not None:  # probed once for every port of the request, popped from the end
        free = batch.free_macs.get(net.id)
        if free is None:
            drawn = list(dict.fromkeys(ipam.generate_mac(prefix, _rng)
                                       for _ in range(batch.size + MAC_SPARES)))
            taken = port_ipam.taken(session, _PORTS.c.mac_address, _PORTS.c.network_id,
                                    net.id, drawn)
            free = batch.free_macs[net.id] = [m for m in reversed(drawn) if m not in taken]
        while free:
            mac = free.pop()
            if mac not in mine:
                return mac
    for _ in range(MAC_ATTEMPTS):
        mac = ipam.generate_mac(prefix, _rng)
        if mac not in mine and not _mac_taken(session, net.id, mac):
            return mac
    # A crowded prefix: only when every MAC under it is taken is there none to give.
    used = set(session.scalars(select(Port.mac_address).where(Port.network_id == net.id)))
    free_macs = ipam.free_macs(prefix, used | mine, MAC_ATTEMPTS, _rng)
    if not free_macs:
        raise errors.MacAddressGenerationFailure(net.id)
    return _rng.choice(free_macs)


# A port with what its view and journal parents read, in one statement on the tables: its
# columns, its addresses and groups joined in (a query each cost three times the row; the
# join's rows are addresses x groups, which quotas keep small), and EXISTS columns, each an
# index's lookup, saying whether it has a trunk, a place as a subport, tags, and what else
# may name it (SFC port pairs and flow classifiers, floating IPs, forwardings: an update's
# and a delete's business). What is there is then read as before (its tags by one query by
# its id: the selectin loader's query cost 0.57 ms of CPU, this one 0.16 ms; its trunk and
# subport by their loaders); what is not is not looked for. The rows are made into the
# session's objects here (`_attached`): the ORM's load of the same joins, its row
# processing set up anew at every execution, cost 0.3-0.4 ms of a 1.1 ms port update.
_PORT_TAGS = select(Tag).where(Tag.resource_id == bindparam("port")).order_by(Tag.tag)


def _naming_port(*columns: Any) -> ColumnElement[bool]:
    """EXISTS a row of `columns`' table (aliased: the port's statement reads no table of
    theirs but through it) with one of them naming the port; one EXISTS a column, so that
    each is an index's lookup (a flow classifier's destination has had its index since
    0028)."""
    table = columns[0].table
    alias = table.alias(f"port_{table.name}")
    return or_(*(exists().where(alias.c[column.key] == _PORTS.c.id) for column in columns))


_SFC_PAIRS, _SFC_CLASSIFIERS = SfcPortPair.__table__, SfcFlowClassifier.__table__
_RELATED = {
    "trunk": _naming_port(Trunk.__table__.c.port_id),
    "subport": _naming_port(TrunkSubport.__table__.c.port_id),
    "tags": _naming_port(Tag.__table__.c.resource_id),
    # a port pair or flow classifier names it: only then may a chain (`resteer_for_port`)
    "chains": or_(_naming_port(_SFC_PAIRS.c.ingress, _SFC_PAIRS.c.egress),
                  _naming_port(_SFC_CLASSIFIERS.c.logical_source_port,
                               _SFC_CLASSIFIERS.c.logical_destination_port)),
    "floating_ips": _naming_port(FloatingIp.__table__.c.port_id),
    "forwardings": _naming_port(PortForwarding.__table__.c.internal_port_id),
}


class Related(NamedTuple):
    """What the port's load said besides the port: whether it has a trunk, is a subport,
    has tags, may be named by an SFC chain, has floating IPs, has port forwardings."""
    trunk: bool
    subport: bool
    tags: bool
    chains: bool
    floating_ips: bool
    forwardings: bool


_GROUPS = PortSecurityGroup.__table__.alias("port_security_groups_1")
_ADDRESSES = IpAllocation.__table__.alias("ip_allocations_1")
_PORT_KEYS = [key for key, _ in column_attributes(Port)]
# built once: building a statement costs more than running it
_PORT_ROW = (
    select(*(column for _, column in column_attributes(Port)),
           *(column.label(f"has_{name}") for name, column in _RELATED.items()),
           *(_GROUPS.c[column.key] for _, column in column_attributes(PortSecurityGroup)),
           *(_ADDRESSES.c[column.key] for _, column in column_attributes(IpAllocation)))
    .select_from(_PORTS.outerjoin(_GROUPS, _GROUPS.c.port_id == _PORTS.c.id)
                 .outerjoin(_ADDRESSES, _ADDRESSES.c.port_id == _PORTS.c.id))
    .where(_PORTS.c.id == bindparam("port"))
    .order_by(_GROUPS.c.position, _ADDRESSES.c.position))
_PROJECT_AT, _FLAGS_AT = _PORT_KEYS.index("project_id"), len(_PORT_KEYS)


class _Part(NamedTuple):
    """A child model's columns in `_PORT_ROW`'s rows: [start, end), its primary key's."""
    model: type
    keys: list[str]
    start: int
    end: int
    identity: tuple[int, ...]


def _parts() -> tuple[_Part, ...]:
    parts, start = [], _FLAGS_AT + len(_RELATED)
    for model in (PortSecurityGroup, IpAllocation):
        attributes = column_attributes(model)
        keys = [key for key, _ in attributes]
        identity = tuple(start + [column for _, column in attributes].index(column)
                         for column in model.__mapper__.primary_key)  # type: ignore[attr-defined]
        parts.append(_Part(model, keys, start, start + len(keys), identity))
        start += len(keys)
    return tuple(parts)


_GROUP_PART, _ADDRESS_PART = _parts()


def get_port_row(session: Session, ctx: Context, port_id: str, tags: bool = True) -> Port:
    """The port, if the caller may see it; `tags=False`: without its tags (a port about to
    be deleted: no view is made of it, and its tags go by statement)."""
    return load_port(session, ctx, port_id, tags)[0]


def load_port(session: Session, ctx: Context, port_id: str,
              tags: bool = True) -> tuple[Port, Related | None]:
    """`get_port_row`, and what its statement said of the port's related rows (None: the
    session held the port already, and nothing was read)."""
    related = None
    if identity_key(Port, port_id) in session.identity_map:
        port = session.get(Port, port_id)
        if port is None or not (ctx.is_admin or port.project_id == ctx.project_id):
            raise errors.PortNotFound(port_id)
    else:
        rows = session.connection().execute(_PORT_ROW, {"port": port_id}).all()
        # the caller's visibility first: another project's port is not made into objects
        if not rows or not (ctx.is_admin or rows[0][_PROJECT_AT] == ctx.project_id):
            raise errors.PortNotFound(port_id)
        port, related = _attached(session, rows)
        # as the ORM's joined loads did: loaded with the port (a query each only when there)
        if related.trunk:
            port.trunk  # noqa: B018
        if related.subport:
            port.subport  # noqa: B018
    if tags and "tags" in inspect(port).unloaded:
        set_committed_value(port, "tags", list(session.scalars(_PORT_TAGS, {"port": port_id})))
    return port, related


def _attached(session: Session, rows: list[Any]) -> tuple[Port, Related]:
    """The port of `_PORT_ROW`'s rows, with its addresses and groups, as the session's
    persistent objects, as the ORM's load makes them: their columns loaded, the collections
    in the relationships' order, a row the session holds already (an address, a group
    binding) being the session's; its trunk, subport and tags known absent or left to
    their loaders, and its inactive bindings to theirs."""
    first = rows[0]
    related = Related(*map(bool, first[_FLAGS_AT:_GROUP_PART.start]))
    port = outside_session(Port, zip(_PORT_KEYS, first[:_FLAGS_AT], strict=True))
    groups: dict[Any, Any] = {}
    addresses: dict[Any, Any] = {}
    made = []
    for row in rows:  # addresses x groups, ordered by the groups' then the addresses' place
        for found, part in ((groups, _GROUP_PART), (addresses, _ADDRESS_PART)):
            if row[part.start] is None:
                continue  # none (the outer join's NULLs)
            key = identity_key(part.model, tuple(row[i] for i in part.identity))
            if key not in found:
                held = session.identity_map.get(key)
                if held is None:
                    held = outside_session(part.model, zip(
                        part.keys, row[part.start:part.end], strict=True))
                    made.append(held)
                found[key] = held
    set_committed_value(port, "security_group_bindings", list(groups.values()))
    set_committed_value(port, "fixed_ips", list(addresses.values()))
    for name in ("trunk", "subport", "tags"):
        if not getattr(related, name):
            set_committed_value(port, name, [] if name == "tags" else None)
    for obj in (*made, port):  # loaded: what they hold is their committed state
        make_transient_to_detached(obj)
    session.add(port)  # persistent, and by its cascade the addresses and bindings made
    return port, related


FIXED_IP_FILTER_KEYS = ("ip_address", "subnet_id", "ip_address_substr")


def fixed_ips_filter(wanted: tuple[Any, ...]) -> ColumnElement[bool]:
    """`fixed_ips=ip_address=X&fixed_ips=subnet_id=Y`: one address satisfies every key
    (repeated keys mean OR); `ip_address_substr` matches part of the address."""
    by_key: dict[str, list[str]] = {}
    for item in wanted:
        key, _, value = str(item).partition("=")
        if key not in FIXED_IP_FILTER_KEYS:
            raise errors.InvalidInput(f"'{item}' is not a valid fixed_ips filter")
        by_key.setdefault(key, []).append(value)
    conditions = [IpAllocation.port_id == Port.id]
    if "ip_address" in by_key:
        conditions.append(IpAllocation.ip_address.in_(by_key["ip_address"]))
    if "subnet_id" in by_key:
        conditions.append(IpAllocation.subnet_id.in_(by_key["subnet_id"]))
    if "ip_address_substr" in by_key:
        conditions.append(or_(*(text_position(IpAllocation.ip_address, part) > 0
                                for part in by_key["ip_address_substr"])))
    return exists().where(*conditions)


LISTING = ListSpec(Port, {
    **standard_columns(Port),
    "network_id": Port.network_id,
    "mac_address": Port.mac_address,
    "admin_state_up": Port.admin_state_up,
    "status": Port.status,
    "device_id": Port.device_id,
    "device_owner": Port.device_owner,
    "port_security_enabled": Port.port_security_enabled,
    "binding:host_id": Port.binding_host_id,
    "binding:vnic_type": Port.binding_vnic_type,
    "binding:vif_type": Port.binding_vif_type,
    "device_profile": Port.device_profile,
    "numa_affinity_policy": Port.numa_affinity_policy,
    "dns_name": Port.dns_name,
    "dns_domain": Port.dns_domain,
    "qos_policy_id": Port.qos_policy_id,
}, filters={
    "fixed_ips": fixed_ips_filter,
    "security_groups": member_of(Port.id, PortSecurityGroup.port_id,
                                 PortSecurityGroup.security_group_id),
})


class PortService(ResourceService):
    model = Port
    listing = LISTING

    def __init__(self, db: Database, settings: Settings, wakeup: Waker,
                 chassis: scheduling.ChassisSource,
                 notify: Callable[[port_events.PortEvent | None], None] | None = None) -> None:
        super().__init__(db, settings, wakeup)
        self.chassis = chassis
        self.notify = notify or _tell_nobody  # Nova's notifier: it queues, never waits

    def to_dict(self, row: Port) -> dict[str, Any]:
        return port_dict(row, self.settings.dns_domain)

    # -- create -------------------------------------------------------------------------
    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One or several ports in one transaction (a bulk create is all or nothing): each
        port checked in turn as before, from what the request read once (`CreateBatch`),
        and their rows inserted together, then their journal entries."""
        for body in bodies:
            policy.check_project(ctx, body)

        def txn(session: Session) -> list[dict[str, Any]]:
            batch = CreateBatch(session, self.settings, len(bodies), unattached=True,
                                binds=any(body["binding:host_id"] for body in bodies))
            ports = []
            for body in bodies:
                port = new_port(session, ctx, body, self.settings, batch)
                if port.binding_host_id:
                    self._bind(session, port)
                ports.append(port)
            insert_new_ports(session, ports)
            record_entries(session, [entry for port in ports for entry in _new_entries(port)])
            return [self.view(ctx, port) for port in ports]

        return run_and_wake(self.db.write, self.wakeup, txn)

    # -- read ---------------------------------------------------------------------------
    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        """A page through the ports' ids, then the page's ports in a few queries
        (`port_listing`), however many ports there are."""
        with self.db.read() as session:
            stmt = select(Port.id)
            if not ctx.is_admin:
                stmt = stmt.where(self.scope(ctx))
            domain = self.settings.dns_domain
            return select_page(session, stmt, self.listing_for(ctx), None, query, to_dicts=(
                lambda ids: port_answers(session, ids, domain)))

    def get(self, ctx: Context, port_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return port_dict(get_port_row(session, ctx, port_id), self.settings.dns_domain)

    # -- update -------------------------------------------------------------------------
    def update(
        self, ctx: Context, port_id: str, body: dict[str, Any], if_match: int | None
    ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            port, related = load_port(session, ctx, port_id)
            policy.enforce(ctx, "update_port", port_target(session, ctx, port),
                           _guarded_attributes(body))
            if "device_owner" in body or body.get("device_id", port.device_id) != port.device_id:
                check_router_device(session, ctx, body.get("device_owner", port.device_owner),
                                    body.get("device_id", port.device_id), port.project_id)
            check_revision(port, if_match)
            old_parents, old_ips = port_parents(port), _ip_pairs(port)
            old_names = dns.published(port)
            changed = self._update_port(session, ctx, port, body)
            if changed:
                bump_revision_now(session, port, ResourceType.PORT,
                                  merged(old_parents, port_parents(port)))
                resteer_unless_unnamed(session, port, related)
                trunk_subports.follow_parent(session, port)
            dns.journal_network(session, port.network_id, old_names, dns.published(port))
            event = port_events.changed_event(_facts(port), old_ips, _ip_pairs(port))
            return port_dict(port, self.settings.dns_domain), event

        result, event = run_and_wake(self.db.write, self.wakeup, txn)
        self.notify(event)
        return result

    def _update_port(self, session: Session, ctx: Context, port: Port,
                     body: dict[str, Any]) -> bool:
        security = body.get("port_security_enabled", port.port_security_enabled)
        pairs = body.get("allowed_address_pairs", port.allowed_address_pairs)
        body = dict(body)
        body["allowed_address_pairs"] = _address_pairs(pairs, security)
        if "qos_policy_id" in body:
            body["qos_policy_id"] = qos_policies.changed_policy_id(
                session, ctx, port.qos_policy_id, body["qos_policy_id"])
        if "extra_dhcp_opts" in body:
            body["extra_dhcp_opts"] = dhcp_opts.options_for_update(
                port.extra_dhcp_opts, body["extra_dhcp_opts"])
        changed = False
        if vtep_ports.is_vtep_profile(body.get("binding:profile", port.binding_profile)):
            vtep_ports.check_no_fixed_ips(body.pop("fixed_ips", None))
            changed |= _release_addresses(session, port)  # a port that becomes a VTEP's
        if "mac_address" in body and body["mac_address"] != port.mac_address:
            changed |= self._change_mac(session, port, body["mac_address"])
        before = _binding_inputs(port)
        changed |= apply_simple_updates(port, body, UPDATABLE)
        if _binding_inputs(port) != before or port.binding_vif_type == binding.FAILED:
            changed |= self._bind(session, port)
        groups = body.get("security_groups")
        if groups is not None and groups != [b.security_group_id
                                             for b in port.security_group_bindings]:
            _bind_groups(session, ctx, port, groups)
            changed = True
        elif "port_security_enabled" in body:
            _bind_groups(session, ctx, port, [b.security_group_id
                                               for b in port.security_group_bindings])
        if "fixed_ips" in body:
            changed |= self._change_fixed_ips(session, port, body["fixed_ips"])
        if "dns_name" in body or "dns_domain" in body:  # else set_port_names changes nothing
            changed |= dns.set_port_names(port, port_network(session, port.network_id), ctx,
                                          body, self.settings.dns_domain)
        return changed

    def binding_for(self, session: Session, port: Port, host: str, vnic_type: str,
                    profile: dict[str, Any]) -> binding.Binding:
        """How `port` binds on `host` with this vnic type and profile (nothing is stored)."""
        request = replace(_bind_request(session, port), host=host, vnic_type=vnic_type,
                          profile=dict(profile))
        return binding.bind(request, self._known_chassis(), self.settings.vhost_sock_dir)

    def _bind(self, session: Session, port: Port) -> bool:
        """Bind the port to its host now and keep the result; True when the binding changed.
        A failed binding is retried by the port's next update, as ML2 does."""
        result = binding.bind(_bind_request(session, port), self._known_chassis(),
                              self.settings.vhost_sock_dir)
        details = dict(result.vif_details)
        if (port.binding_vif_type, port.binding_vif_details) == (result.vif_type, details):
            return False
        port.binding_vif_type, port.binding_vif_details = result.vif_type, details
        return True

    def _known_chassis(self) -> list[scheduling.Chassis] | None:
        try:
            return self.chassis()
        except errors.BackendUnavailable:
            return None  # SB cannot say which hosts are chassis: the binding fails

    def _change_mac(self, session: Session, port: Port, mac: str | None) -> bool:
        """A new MAC, or a fresh one for `null` (port-mac-address-regenerate); only while
        the port is not bound to a host, as Neutron."""
        if port.binding_vif_type not in (binding.UNBOUND, binding.FAILED):
            raise PortBound(port, mac)
        if mac is None:
            net = port_network(session, port.network_id)
            port.mac_address = _choose_mac(session, net, None, self.settings.mac_prefix)
            return True
        mac = ipam.validate_mac(mac)
        if mac != port.mac_address and _mac_taken(session, port.network_id, mac):
            raise errors.MacAddressInUse(mac, port.network_id)
        port.mac_address = mac
        return True

    @staticmethod
    def _change_fixed_ips(session: Session, port: Port, requested: list[dict[str, Any]]) -> bool:
        net = port_network(session, port.network_id)
        before = [(a.subnet_id, a.ip_address) for a in port.fixed_ips]
        chosen = port_ipam.allocate_requested(net, session, port.mac_address, requested,
                                              port.device_owner, keep=port.fixed_ips)
        if [(s.id, a) for s, a in chosen] == before:
            return False
        port.fixed_ips.clear()
        session.flush()
        _set_allocations(port, chosen)
        forget_port(session, port.id, {a for _, a in chosen})  # forwardings to dropped addresses
        return True

    def set_statuses(self, reports: list[tuple[str, bool]]) -> None:
        """OVN's reports (port id, up), in order: one read for all of them, and a write
        (`set_status`) only for those that change a port's status."""
        if not reports:
            return
        with self.db.read() as session:
            rows = session.execute(_STATUSES, {"ports": sorted({p for p, _ in reports})})
            current = {port_id: status for port_id, status in rows}
        for port_id, up in reports:
            status = "ACTIVE" if up else "DOWN"
            if current.get(port_id, status) == status:
                continue  # unchanged, or no such port (any more)
            try:
                self.set_status(port_id, up)
            except errors.NeutrinoError as exc:
                LOG.warning("could not record status of port %s: %s", port_id, exc)
            current[port_id] = status

    def set_status(self, port_id: str, up: bool) -> bool:
        """OVN reports whether the port is up; status is not a revisioned change."""
        status = "ACTIVE" if up else "DOWN"
        with self.db.read() as session:
            # Most reports change nothing (a new port is DOWN, and so northd reports it):
            # those need no write transaction, which would queue behind the API's writers.
            current = session.scalar(select(Port.status).where(Port.id == port_id))
        if current is None or current == status:
            return False
        with self.db.session() as session:
            # The few columns Nova's rules need, not the port with its relationships: this
            # runs for every port OVN reports up or down.
            before = session.execute(select(
                Port.status, Port.device_owner, Port.device_id, Port.binding_host_id)
                .where(Port.id == port_id)).first()
            if before is not None and before.device_owner == trunk_subports.SUBPORT_OWNER:
                return False  # a subport's status is its parent's (follow_parent_status)
            facts = None if before is None else port_events.PortFacts(
                port_id, before.device_owner, before.device_id,
                bound=bool(before.binding_host_id))
            old = before.status if before is not None else None
            result = session.execute(
                update(Port).where(Port.id == port_id, Port.status != status)
                .values(status=status)
            )
            changed = bool(result.rowcount)
            if changed:
                trunk_subports.follow_parent_status(session, port_id, status)
        if changed and facts is not None:
            self.notify(port_events.status_event(facts, old, status))
        return changed

    # -- delete -------------------------------------------------------------------------
    def delete(self, ctx: Context, port_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            port, related = load_port(session, ctx, port_id, tags=False)
            policy.enforce(ctx, "delete_port", port_target(session, ctx, port))
            check_revision(port, if_match)
            if port.device_owner in MANAGED_OWNERS:
                raise errors.ServicePortInUse(port.id, f"has device owner {port.device_owner}")
            facts = _facts(port)
            if related is None or related.floating_ips:
                disassociate_port(session, ctx, port.id)
            delete_port(session, port, by_statement=True, related=related)
            return facts

        facts = run_and_wake(self.db.write, self.wakeup, txn)
        self.notify(port_events.deleted_event(facts))


def _tell_nobody(event: port_events.PortEvent | None) -> None:
    """No Nova is configured."""


def _facts(port: Port) -> port_events.PortFacts:
    return port_events.PortFacts(port.id, port.device_owner, port.device_id,
                                 bound=bool(port.binding_host_id))


def _ip_pairs(port: Port) -> list[tuple[str, str]]:
    return [(a.subnet_id, a.ip_address) for a in port.fixed_ips]


def _binding_inputs(port: Port) -> tuple[Any, ...]:
    """What a binding depends on: a change to any of them asks for a new one, as in ML2."""
    return (port.binding_host_id, port.binding_vnic_type, dict(port.binding_profile))


def _bind_request(session: Session, port: Port) -> binding.BindRequest:
    segment = port_network(session, port.network_id).segment
    return binding.BindRequest(
        port_id=port.id, host=port.binding_host_id, vnic_type=port.binding_vnic_type,
        profile=dict(port.binding_profile), network_type=segment.network_type,
        physical_network=segment.physical_network)


def _bind_groups(session: Session, ctx: Context, port: Port, groups: list[str],
                 known_visible: Set[str] = frozenset(), new: Maker | None = None) -> None:
    """Point the port at `groups` (visible to the caller); filtering needs port security.
    `new`: how a new port's rows are made (they are written with it, not flushed here)."""
    if groups and not port.port_security_enabled:
        raise errors.PortSecurityAndIPRequiredForSecurityGroups()
    for sg_id in groups:
        if sg_id not in known_visible:
            get_sg_row(session, ctx, sg_id)
    make = new or _orm_object
    port.security_group_bindings[:] = [
        make(PortSecurityGroup, port_id=port.id, security_group_id=sg_id, position=i)
        for i, sg_id in enumerate(dict.fromkeys(groups))
    ]
    if new is None:
        session.flush()


def _release_addresses(session: Session, port: Port) -> bool:
    if not port.fixed_ips:
        return False
    port.fixed_ips.clear()
    session.flush()
    return True


def _set_allocations(port: Port, chosen: list[tuple[Any, str]],
                     make: Maker | None = None) -> None:
    for position, (subnet, address) in enumerate(chosen):
        port.fixed_ips.append((make or _orm_object)(
            IpAllocation,
            subnet_id=subnet.id, ip_address=address, port_id=port.id,
            network_id=port.network_id, position=position,
        ))


def _mac_taken(session: Session, network_id: str, mac: str) -> bool:
    return bool(session.scalar(select(exists().where(
        Port.network_id == network_id, Port.mac_address == mac))))


def _address_pairs(pairs: list[dict[str, Any]], port_security: bool) -> list[dict[str, str]]:
    if pairs and not port_security:
        raise errors.AddressPairAndPortSecurityRequired()
    result: list[dict[str, str]] = []
    for pair in pairs:
        ip = _pair_address(pair.get("ip_address"))
        entry = {"ip_address": ip}
        if pair.get("mac_address"):
            entry["mac_address"] = ipam.validate_mac(pair["mac_address"])
        if entry in result:
            raise errors.InvalidInput("Duplicate address pair found in request")
        result.append(entry)
    return result


def _pair_address(value: Any) -> str:
    try:
        if isinstance(value, str) and "/" in value:
            return str(ipaddress.ip_network(value, strict=False))
        return str(ipaddress.ip_address(value))
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"'{value}' is not a valid IP address or CIDR") from None
