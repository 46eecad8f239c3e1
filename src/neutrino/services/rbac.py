"""RBAC policies (`/v2.0/rbac-policies`): an object's owner shares it with other projects.

As in Neutron: the owner of the object (or an admin) creates policies on it; only an admin
grants to every project (`*`, a policy rule); a policy is seen and managed by the project
that created it (the target sees the object, not the policy); only `target_tenant` changes;
a policy whose loss would strand a project's use of the object (ports on a network, routers
with a gateway on it, ports in a security group, subnets from a subnet pool, pools in an
address scope, networks, ports and gateways under a QoS policy) cannot go (409
RbacPolicyInUse).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import RbacPolicy
from neutrino.services import quotas
from neutrino.services.base import ResourceService
from neutrino.services.common import run_and_wake
from neutrino.services.context import Context
from neutrino.services.listing import ListSpec
from neutrino.services.rbac_types import (
    TYPES,
    DuplicateRbacPolicy,
    RbacPolicyInUse,
    RbacPolicyNotFound,
    RbacType,
    losing_access,
    new_policy,
)


def policy_dict(row: RbacPolicy) -> dict[str, Any]:
    return {
        "id": row.id,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "action": row.action,
        "target_tenant": row.target_project,
    }


LISTING = ListSpec(RbacPolicy, {
    "id": RbacPolicy.id,
    "project_id": RbacPolicy.project_id,
    "tenant_id": RbacPolicy.project_id,
    "object_type": RbacPolicy.object_type,
    "object_id": RbacPolicy.object_id,
    "action": RbacPolicy.action,
    "target_tenant": RbacPolicy.target_project,
})


def object_type(name: str) -> RbacType:
    rtype = TYPES.get(name.strip().lower())
    if rtype is None:
        raise errors.InvalidInput(f"'{name}' is not a valid RBAC object type")
    return rtype


def _owned_object(session: Session, ctx: Context, rtype: RbacType, object_id: str) -> Any:
    """The object a policy is about, which only its owner (or an admin) shares. Neutron
    answers both failures as bad input (400)."""
    obj = session.get(rtype.model, object_id)
    if obj is None:
        raise errors.InvalidInput(rtype.not_found(object_id).message)
    if not ctx.is_admin and obj.project_id != ctx.project_id:
        raise errors.InvalidInput("Only admins can manipulate policies on objects they do "
                                  "not own")
    return obj


def _check_unique(session: Session, row: RbacPolicy, target: str) -> None:
    found = session.scalar(select(RbacPolicy.id).where(
        RbacPolicy.object_type == row.object_type, RbacPolicy.object_id == row.object_id,
        RbacPolicy.action == row.action, RbacPolicy.target_project == target))
    if found is not None and found != row.id:
        raise DuplicateRbacPolicy()


def check_losing_access(session: Session, rtype: RbacType, obj: Any, row: RbacPolicy,
                        new_target: str | None) -> None:
    """Refuse to take `row`'s grant away (or move it to `new_target`) from a project that
    uses the object through it."""
    before = list(obj.rbac_entries)
    after = [e for e in before if e.id != row.id]
    if new_target is not None and not rtype.strict_in_use:
        after.append(new_policy(rtype.name, obj, row.action, new_target))
    lost = losing_access(session, rtype, obj, row.action, before, after)
    if lost:
        raise RbacPolicyInUse(obj.id, rtype.in_use(obj, row.action, lost))


class RbacService(ResourceService):
    model = RbacPolicy
    listing = LISTING

    def to_dict(self, row: RbacPolicy) -> dict[str, Any]:
        return policy_dict(row)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> RbacPolicy:
        project = body.get("project_id") or ctx.project_id
        target = body["target_tenant"]
        rtype = object_type(body["object_type"])
        policy.enforce(ctx, "create_rbac_policy", {"project_id": project,
                                                   "target_tenant": target},
                       {"target_tenant": target})
        rtype.check_action(body["action"])
        quotas.check(session, self.settings, project, "rbac_policy")
        obj = _owned_object(session, ctx, rtype, body["object_id"])
        rtype.check_target(session, obj, body["action"], target)
        row = new_policy(rtype.name, obj, body["action"], target, project)
        _check_unique(session, row, target)
        obj.rbac_entries.append(row)
        session.flush()
        rtype.changed(session, obj)
        return row

    def _row(self, session: Session, ctx: Context, policy_id: str) -> RbacPolicy:
        row = session.get(RbacPolicy, policy_id)
        if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
            raise RbacPolicyNotFound(policy_id)
        return row

    def _object(self, session: Session, ctx: Context, row: RbacPolicy) -> tuple[RbacType, Any]:
        rtype = TYPES[row.object_type]
        obj = session.get(rtype.model, row.object_id)
        if not ctx.is_admin and obj.project_id != ctx.project_id:
            raise RbacPolicyInUse(obj.id, "Only admins can manipulate policies on objects "
                                          "they do not own")
        return rtype, obj

    def get(self, ctx: Context, policy_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return policy_dict(self._row(session, ctx, policy_id))

    def update(self, ctx: Context, policy_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            row = self._row(session, ctx, policy_id)
            policy.enforce(ctx, "update_rbac_policy", {"project_id": row.project_id,
                                                       **body}, body)
            target = body.get("target_tenant", row.target_project)
            if target == row.target_project:
                return policy_dict(row)
            rtype, obj = self._object(session, ctx, row)
            _check_unique(session, row, target)
            check_losing_access(session, rtype, obj, row, target)
            row.target_project = target
            session.flush()
            rtype.changed(session, obj)
            return policy_dict(row)

        return run_and_wake(self.db.write, self.wakeup, txn)

    def delete(self, ctx: Context, policy_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            row = self._row(session, ctx, policy_id)
            policy.enforce(ctx, "delete_rbac_policy", {"project_id": row.project_id})
            rtype, obj = self._object(session, ctx, row)
            check_losing_access(session, rtype, obj, row, None)
            obj.rbac_entries.remove(row)
            session.flush()
            rtype.changed(session, obj)

        run_and_wake(self.db.write, self.wakeup, txn)
