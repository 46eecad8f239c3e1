"""The object types RBAC policies apply to, as one table (`TYPES`), and what a grant means.

A policy grants `action` on one object to a target project, or to every project (`*`). Each
object type says, as data, which actions it has, how its rows are found and which projects
depend on a grant (the ones that would break if it went: ports on a shared network, routers
with a gateway on an external one, ports using a shared security group, subnets allocated
from a shared subnet pool, pools in a shared address scope, networks, ports and router
gateways under a shared QoS policy). Adding a type is one more
`RbacType` in `TYPES`, an `rbac_entries` relationship on its model, and its own `shared`
answered by `grants`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import (
    AddressScope,
    Network,
    Port,
    PortSecurityGroup,
    QosPolicy,
    RbacPolicy,
    Router,
    SecurityGroup,
    Subnet,
    SubnetPool,
)
from neutrino.journal.types import ResourceType
from neutrino.services.common import bump_revision, new_id
from neutrino.services.qos.errors import QosPolicyNotFound

ACCESS_SHARED = "access_as_shared"
ACCESS_EXTERNAL = "access_as_external"
EVERYONE = "*"
GATEWAY_OWNER = "network:router_gateway"


def grants(entries: Iterable[RbacPolicy], action: str, project_id: str) -> bool:
    """Whether the policies give `project_id` the `action` (to it, or to everyone)."""
    return any(e.action == action and e.target_project in (EVERYONE, project_id)
               for e in entries)


def granted_to(object_id: Any, object_type: str, actions: Iterable[str],
               project_id: str) -> ColumnElement[bool]:
    """`grants` as SQL, for listings: a policy on the object whose id is the column
    `object_id` (a row's own id, or a foreign key such as a subnet's network) gives
    `project_id` an action."""
    return exists().where(RbacPolicy.object_id == object_id,
                          RbacPolicy.object_type == object_type,
                          RbacPolicy.action.in_(tuple(actions)),
                          RbacPolicy.target_project.in_((EVERYONE, project_id)))


def targets(entries: Iterable[RbacPolicy], action: str) -> set[str]:
    return {e.target_project for e in entries if e.action == action}


def new_policy(object_type: str, obj: Any, action: str, target: str,
               project_id: str | None = None) -> RbacPolicy:
    return RbacPolicy(id=new_id(), project_id=project_id or obj.project_id,
                      object_type=object_type, object_id=obj.id, action=action,
                      target_project=target)


Dependents = Callable[[Session, Any, str], set[str]]


def _unchanged(session: Session, obj: Any) -> None:
    """An object whose representation does not follow its policies."""


def _any_target(session: Session, obj: Any, action: str, target: str) -> None:
    """Any project may be granted an action on the object (the default)."""


def _projects(obj: Any, action: str, lost: set[str]) -> str:
    """Why a policy cannot go (the RbacPolicyInUse details): who still depends on it."""
    return f"project_id={','.join(sorted(lost))}"


@dataclass(frozen=True)
class RbacType:
    name: str  # `object_type` in the API
    model: Any  # a model with id, project_id and an `rbac_entries` relationship
    actions: tuple[str, ...]
    not_found: Callable[[str], errors.NeutrinoError]
    dependents: Dependents  # projects using the object through an action
    changed: Callable[[Session, Any], None] = _unchanged  # after its policies changed
    in_use: Callable[[Any, str, set[str]], str] = _projects  # RbacPolicyInUse details
    # refuses a new grant of an action to a target (RbacPolicyInitError)
    check_target: Callable[[Session, Any, str, str], None] = _any_target
    # Neutron's checks for RBAC objects (neutron/objects/rbac_db.py), which QoS policies
    # keep: the owner's own use counts when the `*` policy goes, and a policy moved to
    # another project is checked as if it were deleted (its new target is not counted)
    strict_in_use: bool = False

    def check_action(self, action: str) -> None:
        if action not in self.actions:
            raise InvalidActionForType(action, self.name, self.actions)


def losing_access(session: Session, rtype: RbacType, obj: Any, action: str,
                  before: Iterable[RbacPolicy], after: Iterable[RbacPolicy]) -> set[str]:
    """Projects that use `obj` through `action`, had it with the `before` policies and would
    not with the `after` ones. The owner never loses access to its own object, except, for a
    `strict_in_use` type, when the `*` policy goes (Neutron then counts every user)."""
    had, keep = targets(before, action), targets(after, action)
    if EVERYONE in keep:
        return set()
    users = rtype.dependents(session, obj, action) - keep - {""}
    if not (rtype.strict_in_use and EVERYONE in had):
        users.discard(obj.project_id)
    return users if EVERYONE in had else users & had


def set_everyone(session: Session, rtype: RbacType, obj: Any, action: str, wanted: bool,
                 refuse: Callable[[set[str]], errors.NeutrinoError] | None = None) -> bool:
    """An object's `shared` (or `router:external`) flag is a policy granting `action` to
    every project: add it, or remove it unless a project still depends on it (`refuse`
    names the error, RbacPolicyInUse by default). True when it changed."""
    wildcard = [e for e in obj.rbac_entries
                if e.action == action and e.target_project == EVERYONE]
    if wanted == bool(wildcard):
        return False
    if wanted:
        rtype.check_target(session, obj, action, EVERYONE)
        obj.rbac_entries.append(new_policy(rtype.name, obj, action, EVERYONE))
        return True
    remaining = [e for e in obj.rbac_entries if e not in wildcard]
    lost = losing_access(session, rtype, obj, action, obj.rbac_entries, remaining)
    if lost:
        raise (refuse or (lambda projects: RbacPolicyInUse(
            obj.id, rtype.in_use(obj, action, projects))))(lost)
    obj.rbac_entries[:] = remaining
    return True


# -- networks -------------------------------------------------------------------------------
def _network_users(session: Session, net: Network, action: str) -> set[str]:
    """Shared: projects with ports or subnets on it. External: projects whose routers have
    their gateway on it."""
    if action == ACCESS_EXTERNAL:
        gateways = select(Port.id).where(Port.network_id == net.id,
                                         Port.device_owner == GATEWAY_OWNER)
        return set(session.scalars(select(Router.project_id).where(
            Router.gw_port_id.in_(gateways))))
    return set(session.scalars(select(Port.project_id).where(Port.network_id == net.id))) | \
        set(session.scalars(select(Subnet.project_id).where(Subnet.network_id == net.id)))


def has_gateways(session: Session, net: Network) -> bool:
    return bool(session.scalar(select(exists().where(
        Port.network_id == net.id, Port.device_owner == GATEWAY_OWNER))))


def _network_changed(session: Session, net: Network) -> None:
    """As in Neutron, an external policy makes the network external, losing the last one
    makes it internal again (unless routers still have their gateway on it), and the
    network's revision moves with its policies."""
    if any(e.action == ACCESS_EXTERNAL for e in net.rbac_entries):
        net.router_external = True
    elif not has_gateways(session, net):
        net.router_external = False
    bump_revision(session, net, ResourceType.NETWORK)


def _network_in_use(net: Network, action: str, lost: set[str]) -> str:
    if action == ACCESS_EXTERNAL:
        return "There are routers attached to this network that depend on this policy for access."
    return (f"Unable to reconfigure sharing settings for network {net.id}. Multiple projects "
            "are using it.")


def _group_users(session: Session, sg: SecurityGroup, action: str) -> set[str]:
    return set(session.scalars(select(Port.project_id).join(
        PortSecurityGroup, PortSecurityGroup.port_id == Port.id).where(
        PortSecurityGroup.security_group_id == sg.id)))


def _pool_users(session: Session, pool: SubnetPool, action: str) -> set[str]:
    """Projects with subnets allocated from the pool."""
    return set(session.scalars(select(Subnet.project_id).where(
        Subnet.subnetpool_id == pool.id)))


def _pool_target(session: Session, pool: SubnetPool, action: str, target: str) -> None:
    """As in Neutron, a pool in an address scope is shared only with projects the scope is
    shared with (a policy on the scope to them or to every project)."""
    if pool.address_scope_id is None:
        return
    if not session.scalar(select(exists().where(
            RbacPolicy.object_type == ADDRESS_SCOPE_TYPE,
            RbacPolicy.object_id == pool.address_scope_id,
            RbacPolicy.target_project.in_((EVERYONE, target))))):
        raise RbacPolicyInitError(pool.id, "target project doesn't have access to "
                                           "associated address scope")


def _scope_users(session: Session, scope: AddressScope, action: str) -> set[str]:
    """Projects owning pools in the scope."""
    return set(session.scalars(select(SubnetPool.project_id).where(
        SubnetPool.address_scope_id == scope.id)))


def _qos_users(session: Session, pol: QosPolicy, action: str) -> set[str]:
    """Projects whose networks or ports use the policy, and those whose routers have it on
    their gateway (the gateway port's policy, as neutrino keeps it)."""
    ports = select(Port.project_id).where(Port.qos_policy_id == pol.id,
                                          Port.device_owner != GATEWAY_OWNER)
    routers = select(Router.project_id).join(Port, Router.gw_port_id == Port.id).where(
        Port.qos_policy_id == pol.id)
    nets = select(Network.project_id).where(Network.qos_policy_id == pol.id)
    return {p for stmt in (ports, routers, nets) for p in session.scalars(stmt)}


ADDRESS_SCOPE_TYPE = "address_scope"
NETWORK = RbacType("network", Network, (ACCESS_SHARED, ACCESS_EXTERNAL), errors.NetworkNotFound,
                   _network_users, _network_changed, _network_in_use)
SECURITY_GROUP = RbacType("security_group", SecurityGroup, (ACCESS_SHARED,),
                          errors.SecurityGroupNotFound, _group_users)

SUBNETPOOL = RbacType("subnetpool", SubnetPool, (ACCESS_SHARED,), errors.SubnetPoolNotFound,
                      _pool_users, check_target=_pool_target)
ADDRESS_SCOPE = RbacType(ADDRESS_SCOPE_TYPE, AddressScope, (ACCESS_SHARED,),
                         errors.AddressScopeNotFound, _scope_users)

QOS_POLICY = RbacType("qos_policy", QosPolicy, (ACCESS_SHARED,), QosPolicyNotFound,
                      _qos_users, strict_in_use=True)

TYPES: dict[str, RbacType] = {t.name: t for t in (NETWORK, SECURITY_GROUP, SUBNETPOOL,
                                                  ADDRESS_SCOPE, QOS_POLICY)}


# -- errors (Neutron's rbac extension) ------------------------------------------------------
class InvalidActionForType(errors.BadRequest):
    def __init__(self, action: str, object_type: str, valid: tuple[str, ...]) -> None:
        super().__init__(f"Invalid action '{action}' for object type '{object_type}'. "
                         f"Valid actions: {valid}")


class RbacPolicyNotFound(errors.NotFound):
    def __init__(self, policy_id: str, object_type: str = "unknown") -> None:
        super().__init__(f"RBAC policy of type {object_type} with ID {policy_id} not found")


class RbacPolicyInitError(errors.InvalidInput):
    """Neutron refuses a grant in a callback, which its API answers as bad input."""

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(f"Failed to create RBAC policy on object {object_id} because "
                         f"{reason}.")

    @property
    def type(self) -> str:
        return "InvalidInput"


class RbacPolicyInUse(errors.Conflict):
    def __init__(self, object_id: str, details: str) -> None:
        super().__init__(f"RBAC policy on object {object_id} cannot be removed because other "
                         f"objects depend on it.\nDetails: {details}")


class DuplicateRbacPolicy(errors.Conflict):
    def __init__(self) -> None:
        super().__init__("An RBAC policy already exists with those values.")
