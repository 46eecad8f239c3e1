"""Quotas: per-project limits, checked in the same transaction as the create they limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.engine import Database
from neutrino.db.models import (
    FloatingIp,
    Network,
    Port,
    Quota,
    QuotaLock,
    RbacPolicy,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    SfcFlowClassifier,
    SfcPortChain,
    SfcPortPair,
    SfcPortPairGroup,
    Subnet,
    SubnetPool,
)
from neutrino.services.context import Context
from neutrino.settings import Settings

MODELS = {"network": Network, "subnet": Subnet, "port": Port, "router": Router,
          "floatingip": FloatingIp, "security_group": SecurityGroup,
          "security_group_rule": SecurityGroupRule, "rbac_policy": RbacPolicy,
          "subnetpool": SubnetPool, "port_pair": SfcPortPair,
          "port_pair_group": SfcPortPairGroup, "port_chain": SfcPortChain,
          "flow_classifier": SfcFlowClassifier}
UNLIMITED = -1
# Ports Neutron makes for the network itself and charges to nobody: the metadata localport.
UNCHARGED_PORT_OWNERS = ("network:distributed",)


_QUOTAS = Quota.__table__
# Built once: every create reads its project's limits.
_PROJECT_LIMITS = select(_QUOTAS.c.resource, _QUOTAS.c.limit).where(
    _QUOTAS.c.project_id == bindparam("project"))


def limits(session: Session, settings: Settings, project_id: str) -> dict[str, int]:
    found = dict(session.execute(_PROJECT_LIMITS, {"project": project_id}).all())
    return {name: found.get(name, default) for name, default in settings.quotas.items()}


def usage(session: Session, project_id: str) -> dict[str, int]:
    return {name: _used(session, name, project_id) for name in MODELS}


def _used(session: Session, resource: str, project_id: str) -> int:
    model = MODELS[resource]
    stmt = select(func.count()).select_from(model).where(model.project_id == project_id)
    if resource == "port":
        stmt = stmt.where(Port.device_owner.not_in(UNCHARGED_PORT_OWNERS))
    return session.scalar(stmt) or 0


def check(session: Session, settings: Settings, project_id: str, resource: str,
          adding: int = 1) -> None:
    """Refuse a create that would take `project_id` past its `resource` limit.

    Resources Neutron creates for itself (gateway and floating IP ports) belong to no
    project and count against nothing.
    """
    if not project_id:
        return
    limit = limits(session, settings, project_id)[resource]
    if limit == UNLIMITED:
        return
    _lock_project(session, project_id)
    used = _used(session, resource, project_id)
    if used + adding > limit:
        raise errors.OverQuota([resource])


class Tally:
    """`check` for one request that creates several resources of a kind: each project's
    limit and usage are read once, and the request's own creates are counted in memory
    (`counted=False`: one that does not count towards usage, an uncharged port owner)."""

    def __init__(self, session: Session, settings: Settings, resource: str) -> None:
        self.session, self.settings, self.resource = session, settings, resource
        self._left: dict[str, int | None] = {}  # project -> creates still allowed

    def check(self, project_id: str, counted: bool = True) -> None:
        if not project_id:
            return
        if project_id not in self._left:
            limit = limits(self.session, self.settings, project_id)[self.resource]
            if limit == UNLIMITED:
                self._left[project_id] = None
            else:
                _lock_project(self.session, project_id)
                self._left[project_id] = limit - _used(self.session, self.resource, project_id)
        left = self._left[project_id]
        if left is None:
            return
        if left < 1:
            raise errors.OverQuota([self.resource])
        if counted:
            self._left[project_id] = left - 1


def _lock_project(session: Session, project_id: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite writers are serialised already
    if session.get(QuotaLock, project_id) is None:
        try:
            with session.begin_nested():
                session.add(QuotaLock(project_id=project_id))
        except IntegrityError:
            pass  # another transaction created it: lock that one
    session.get(QuotaLock, project_id, with_for_update=True, populate_existing=True)


class QuotaService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def list(self, ctx: Context) -> list[dict[str, Any]]:
        """Projects with limits of their own (admin), or the caller's project."""
        with self.db.read() as session:
            projects = sorted(set(session.scalars(select(Quota.project_id))))
            if not ctx.is_admin:
                projects = [p for p in projects if p == ctx.project_id]
            return [{**limits(session, self.settings, p), "project_id": p, "tenant_id": p}
                    for p in projects]

    def get(self, ctx: Context, project_id: str) -> dict[str, int]:
        policy.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.db.read() as session:
            return limits(session, self.settings, project_id)

    def defaults(self, ctx: Context, project_id: str) -> dict[str, int]:
        policy.enforce(ctx, "get_quota", {"project_id": project_id})
        return dict(self.settings.quotas)

    def details(self, ctx: Context, project_id: str) -> dict[str, dict[str, int]]:
        policy.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.db.read() as session:
            limit, used = limits(session, self.settings, project_id), usage(session, project_id)
        return {name: {"limit": limit[name], "used": used[name], "reserved": 0}
                for name in limit}

    def update(self, ctx: Context, project_id: str, body: dict[str, Any],
               force: bool = False) -> dict[str, int]:
        """New limits; one below what the project already uses is refused unless `force`
        (Neutron's quota-check-limit, checking by default as quota-check-limit-default)."""
        policy.enforce(ctx, "update_quota", {"project_id": project_id})
        values = _validated(body, self.settings)

        def txn(session: Session) -> dict[str, int]:
            if not force:
                _check_not_below_usage(session, project_id, values)
            for resource, limit in values.items():
                row = session.get(Quota, (project_id, resource))
                if row is None:
                    session.add(Quota(project_id=project_id, resource=resource, limit=limit))
                else:
                    row.limit = limit
            session.flush()
            return limits(session, self.settings, project_id)

        return self.db.write(txn)

    def reset(self, ctx: Context, project_id: str) -> None:
        policy.enforce(ctx, "delete_quota", {"project_id": project_id})
        with self.db.session() as session:
            session.execute(delete(Quota).where(Quota.project_id == project_id))


def _check_not_below_usage(session: Session, project_id: str, values: dict[str, int]) -> None:
    used = usage(session, project_id)
    for resource, limit in values.items():
        if limit != UNLIMITED and used[resource] > limit:
            raise QuotaBelowUsage(limit, resource, used[resource])


class QuotaBelowUsage(errors.BadRequest):
    """Neutron answers this with webob's HTTPBadRequest."""

    def __init__(self, limit: int, resource: str, used: int) -> None:
        super().__init__(f"Quota limit {limit} for {resource} must be greater than or equal "
                         f"to already used {used}")

    @property
    def type(self) -> str:
        return "HTTPBadRequest"


def _validated(body: dict[str, Any], settings: Settings) -> dict[str, int]:
    values = {}
    for resource, limit in body.items():
        if resource not in settings.quotas:
            raise errors.BadRequest(f"Unrecognized attribute(s) '{resource}'")
        if isinstance(limit, bool) or not isinstance(limit, int | str) or \
                not str(limit).lstrip("-").isdigit() or int(limit) < UNLIMITED:
            raise errors.InvalidInput(f"'{limit}' is not a valid quota limit for {resource}")
        values[resource] = int(limit)
    return values
