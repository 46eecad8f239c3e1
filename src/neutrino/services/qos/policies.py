"""QoS policies: who sees them, the project default, and the ports a change reaches
(journalled together, in the change's own transaction).

Who may see or use a policy (name it on a port, a network or a router gateway) is decided in
one place, `policy_visible` / `visible_policies`: an admin, its own project, or a project an
access_as_shared RBAC policy grants it to (object type `qos_policy`). Its `shared` is such a
grant to the caller's project or to every project; `shared` on create or update is the
policy to every project, and unsharing one that another project still uses is refused
(RbacPolicyInUse), as Neutron does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from neutrino import policy
from neutrino.clock import utcnow
from neutrino.db.models import Network, Port, QosPolicy
from neutrino.journal.parents import port_parents
from neutrino.journal.record import record_entry
from neutrino.journal.types import Operation, ResourceType
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    check_revision,
    new_id,
    run_and_wake,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec, standard_columns
from neutrino.services.qos import errors as qos_errors
from neutrino.services.rbac_types import (
    ACCESS_SHARED,
    EVERYONE,
    QOS_POLICY,
    granted_to,
    grants,
    set_everyone,
)

NETWORK_OWNED = "network:"
ROUTER_GATEWAY = "network:router_gateway"
RULE_LISTS = ("bandwidth_limit_rules", "dscp_marking_rules")


def rule_dicts(pol: QosPolicy) -> list[dict[str, Any]]:
    from neutrino.services.qos.rules import RULE_KINDS

    return [kind.to_dict(r) for kind in RULE_KINDS.values() for r in kind.rows(pol)]


def policy_dict(pol: QosPolicy, ctx: Context) -> dict[str, Any]:
    return {**standard_fields(pol), "shared": shared_with(ctx, pol),
            "is_default": pol.is_default, "rules": rule_dicts(pol)}


def shared_with(ctx: Context, pol: QosPolicy) -> bool:
    return grants(pol.rbac_entries, ACCESS_SHARED, ctx.project_id)


def policy_visible(ctx: Context, pol: QosPolicy) -> bool:
    return ctx.is_admin or pol.project_id == ctx.project_id or shared_with(ctx, pol)


def shared_policies(project_id: str) -> ColumnElement[bool]:
    """`shared_with` as SQL: what `shared` filters by."""
    return granted_to(QosPolicy.id, QOS_POLICY.name, (ACCESS_SHARED,), project_id)


def visible_policies(ctx: Context) -> ColumnElement[bool]:
    """`policy_visible` as SQL (for callers that are not admin)."""
    return (QosPolicy.project_id == ctx.project_id) | shared_policies(ctx.project_id)


def get_policy_row(session: Session, ctx: Context, policy_id: str) -> QosPolicy:
    pol = session.get(QosPolicy, policy_id)
    if pol is None or not policy_visible(ctx, pol):
        raise qos_errors.QosPolicyNotFound(policy_id)
    return pol


def checked_policy_id(session: Session, ctx: Context, policy_id: str | None) -> str | None:
    """A `qos_policy_id` a port or network may name: None, or a policy the caller sees."""
    if policy_id is None:
        return None
    return get_policy_row(session, ctx, policy_id).id


def changed_policy_id(session: Session, ctx: Context, current: str | None,
                      wanted: str | None) -> str | None:
    """The `qos_policy_id` a port or network update names. As in Neutron, the caller must
    also see the policy it has now, or it may not take it off (403): a project cannot drop
    a policy an admin put on its port, nor replace it."""
    if current is not None:
        pol = session.get(QosPolicy, current)
        if pol is not None and not policy_visible(ctx, pol):
            raise qos_errors.PolicyRemoveAuthorizationError(current)
    return checked_policy_id(session, ctx, wanted)


def default_policy_id(session: Session, project_id: str) -> str | None:
    """The project's default policy, which a new network gets when it names none."""
    return session.scalar(select(QosPolicy.id).where(
        QosPolicy.project_id == project_id, QosPolicy.is_default.is_(True)))


def affected_ports(session: Session, policy_ids: set[str]) -> list[Port]:
    """Ports under any of these policies: their own, or their network's where they have none
    (Neutron's own `network:*` ports are not reached by a network's policy)."""
    ids = sorted(policy_ids)
    own = session.scalars(select(Port).where(Port.qos_policy_id.in_(ids)))
    inherited = session.scalars(select(Port).join(Network, Port.network_id == Network.id).where(
        Network.qos_policy_id.in_(ids), Port.qos_policy_id.is_(None),
        ~Port.device_owner.startswith(NETWORK_OWNED)))
    return sorted({p.id: p for p in [*own, *inherited]}.values(), key=lambda p: p.id)


def network_ports_reached(session: Session, network_id: str) -> list[Port]:
    """The ports of a network that its policy reaches (no policy of their own, not
    Neutron's own ports)."""
    return list(session.scalars(select(Port).where(
        Port.network_id == network_id, Port.qos_policy_id.is_(None),
        ~Port.device_owner.startswith(NETWORK_OWNED)).order_by(Port.id)))


def journal_ports(session: Session, ports: list[Port]) -> None:
    """The ports' QoS rows follow: one journal entry per port, all in this transaction, so one
    worker batch applies them together. The ports' own revisions do not move (as in Neutron,
    a policy change is not a port change)."""
    for port in ports:
        record_entry(session, ResourceType.PORT, port.id, Operation.UPDATE, port_parents(port))


def revise_policy(session: Session, pol: QosPolicy) -> None:
    """A rule changed: the policy's revision moves and every port it reaches follows."""
    bump_revision_only(pol)
    journal_ports(session, affected_ports(session, {pol.id}))


LISTING = ListSpec(QosPolicy, {**standard_columns(QosPolicy),
                               "shared": shared_policies(EVERYONE),  # see listing_for
                               "is_default": QosPolicy.is_default})


class QosPolicyService(ResourceService):
    model = QosPolicy
    listing = LISTING

    def view(self, ctx: Context, row: QosPolicy) -> dict[str, Any]:
        return policy_dict(row, ctx)

    def scope(self, ctx: Context) -> ColumnElement[bool]:
        return visible_policies(ctx)

    def listing_for(self, ctx: Context) -> ListSpec:
        """`shared` depends on who asks."""
        return replace(LISTING, columns={**LISTING.columns,
                                         "shared": shared_policies(ctx.project_id)})

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> QosPolicy:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_policy", {"project_id": project})
        if body["is_default"] and default_policy_id(session, project):
            raise qos_errors.QoSPolicyDefaultAlreadyExists(project)
        pol = QosPolicy(id=new_id(), name=body["name"], description=body["description"],
                        is_default=body["is_default"])
        stamp_new(pol, project)
        set_everyone(session, QOS_POLICY, pol, ACCESS_SHARED, body["shared"])
        set_tags(pol, "policy", body.get("tags") or [])
        session.add(pol)
        session.flush()
        return pol

    def get(self, ctx: Context, policy_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return policy_dict(get_policy_row(session, ctx, policy_id), ctx)

    def update(self, ctx: Context, policy_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pol = get_policy_row(session, ctx, policy_id)
            policy.enforce(ctx, "update_policy", {"project_id": pol.project_id})
            check_revision(pol, if_match)
            if body.get("is_default") and not pol.is_default and \
                    default_policy_id(session, pol.project_id):
                raise qos_errors.QoSPolicyDefaultAlreadyExists(pol.project_id)
            # unsharing checks every project that uses it (RbacPolicyInUse)
            changed = "shared" in body and set_everyone(session, QOS_POLICY, pol,
                                                        ACCESS_SHARED, body["shared"])
            if apply_simple_updates(pol, body, {"name": "name", "description": "description",
                                                "is_default": "is_default"}) or changed:
                bump_revision_only(pol)
            return policy_dict(pol, ctx)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, policy_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            pol = get_policy_row(session, ctx, policy_id)
            policy.enforce(ctx, "delete_policy", {"project_id": pol.project_id})
            check_revision(pol, if_match)
            _check_unused(session, pol)
            session.delete(pol)

        run_and_wake(self.db.write, self.wakeup, txn)


def _check_unused(session: Session, pol: QosPolicy) -> None:
    """In use by a network, a port, or a router's gateway (its gateway port's policy)."""
    net = session.scalar(select(Network.id).where(Network.qos_policy_id == pol.id).limit(1))
    if net:
        raise qos_errors.QosPolicyInUse(pol.id, "network", net)
    port = session.scalars(select(Port).where(Port.qos_policy_id == pol.id).limit(1)).first()
    if port is not None:
        if port.device_owner == ROUTER_GATEWAY:
            raise qos_errors.QosPolicyInUse(pol.id, "router", port.device_id)
        raise qos_errors.QosPolicyInUse(pol.id, "port", port.id)


def bump_revision_only(row: Any) -> None:
    """A policy has no OVN rows of its own: its revision moves, nothing is journalled."""
    row.revision_number += 1
    row.updated_at = utcnow()
