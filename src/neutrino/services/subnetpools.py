"""Subnet pools: prefixes that subnets are allocated from, optionally in an address scope.

A pool has no OVN rows of its own; the subnets made from it are journaled as every subnet
is. Who may see or use a pool (allocate subnets from it) is decided in one place,
`pool_visible` / `visible_pools`: an admin, its own project, or a project an
access_as_shared RBAC policy grants it to (`rbac-subnetpool`). Its `shared` is such a
grant to the caller's project or to every project; `shared` on create is the policy to
every project (it cannot change by update, as in Neutron).

Concurrency: every change that reads a pool's free space and writes against it (allocating
a subnet, removing prefixes, deleting the pool) first locks the pool row (PostgreSQL
`SELECT ... FOR UPDATE`; SQLite runs one writer at a time), so two allocations from one
pool never see the same free space. Pools joining a scope lock the scope row likewise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.clock import utcnow
from neutrino.db.models import AddressScope, SubnetPool
from neutrino.db.models import Subnet as SubnetRow
from neutrino.ipam import prefixes as px
from neutrino.services import quotas
from neutrino.services.address_scopes import get_scope_row
from neutrino.services.base import ResourceService
from neutrino.services.common import (
    apply_simple_updates,
    check_revision,
    new_id,
    set_tags,
    stamp_new,
    standard_fields,
)
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, select_page, standard_columns
from neutrino.services.rbac_types import (
    ACCESS_SHARED,
    EVERYONE,
    SUBNETPOOL,
    granted_to,
    grants,
    set_everyone,
)
from neutrino.services.subnet_allocation import (
    NetworkAddressScopeAffinityError,
    allocated_prefixes,
)

UPDATABLE = {"name": "name", "description": "description", "default_quota": "default_quota",
             "is_default": "is_default"}


class SubnetPoolDeleteError(errors.BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Unable to delete subnet pool: {reason}.")


class IllegalSubnetPoolPrefixUpdate(errors.BadRequest):
    def __init__(self, msg: str) -> None:
        super().__init__(f"Illegal update to prefixes: {msg}.")


class IllegalSubnetPoolUpdate(errors.BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Illegal subnetpool update : {reason}.")


class AddressScopePrefixConflict(errors.Conflict):
    def __init__(self) -> None:
        super().__init__("Failed to associate address scope: subnetpools within an address "
                         "scope must have unique prefixes.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(errors.BadRequest):
    def __init__(self, pool_id: str, scope_id: str, version: int) -> None:
        super().__init__(f"Illegal subnetpool association: subnetpool {pool_id} cannot "
                         f"associate with address scope {scope_id} because subnetpool "
                         f"ip_version is not {version}.")


def pool_dict(pool: SubnetPool, ctx: Context) -> dict[str, Any]:
    return {
        **standard_fields(pool),
        "prefixes": list(pool.prefixes),
        "ip_version": pool.ip_version,
        "default_prefixlen": pool.default_prefixlen,
        "min_prefixlen": pool.min_prefixlen,
        "max_prefixlen": pool.max_prefixlen,
        "default_quota": pool.default_quota,
        "shared": shared_with(ctx, pool),
        "is_default": pool.is_default,
        "address_scope_id": pool.address_scope_id,
    }


def shared_with(ctx: Context, pool: SubnetPool) -> bool:
    return grants(pool.rbac_entries, ACCESS_SHARED, ctx.project_id)


def pool_visible(ctx: Context, pool: SubnetPool) -> bool:
    """May the caller see, and allocate subnets from, `pool`?"""
    return ctx.is_admin or pool.project_id == ctx.project_id or shared_with(ctx, pool)


def shared_pools(project_id: str) -> ColumnElement[bool]:
    """`shared_with` as SQL: what `shared` filters and sorts by."""
    return granted_to(SubnetPool.id, SUBNETPOOL.name, (ACCESS_SHARED,), project_id)


def visible_pools(ctx: Context) -> ColumnElement[bool]:
    """`pool_visible` as SQL (for callers that are not admin)."""
    return (SubnetPool.project_id == ctx.project_id) | shared_pools(ctx.project_id)


def get_pool_row(session: Session, ctx: Context, pool_id: str,
                 for_update: bool = False) -> SubnetPool:
    pool = session.get(SubnetPool, pool_id, with_for_update=for_update or None,
                       populate_existing=for_update)
    if pool is None or not pool_visible(ctx, pool):
        raise errors.SubnetPoolNotFound(pool_id)
    return pool


def default_pool_id(session: Session, ctx: Context, version: int) -> str | None:
    """The default pool of an IP version, if the caller may use it."""
    pool = session.scalar(select(SubnetPool).where(SubnetPool.is_default,
                                                   SubnetPool.ip_version == version))
    return pool.id if pool is not None and pool_visible(ctx, pool) else None


def _check_rescoping(session: Session, pool: SubnetPool) -> None:
    """A pool changing scope must not leave a network with subnets of its IP version in two
    scopes: every such subnet on the networks it serves must come from the pool itself."""
    served = select(SubnetRow.network_id).where(SubnetRow.subnetpool_id == pool.id)
    if session.scalar(select(exists().where(
            SubnetRow.network_id.in_(served), SubnetRow.ip_version == pool.ip_version,
            SubnetRow.subnetpool_id.is_distinct_from(pool.id)))):
        raise NetworkAddressScopeAffinityError()


LISTING = ListSpec(SubnetPool, {
    **standard_columns(SubnetPool),
    "ip_version": SubnetPool.ip_version,
    "default_prefixlen": SubnetPool.default_prefixlen,
    "min_prefixlen": SubnetPool.min_prefixlen,
    "max_prefixlen": SubnetPool.max_prefixlen,
    "default_quota": SubnetPool.default_quota,
    "shared": shared_pools(EVERYONE),  # see listing_for
    "is_default": SubnetPool.is_default,
    "address_scope_id": SubnetPool.address_scope_id,
})


def listing_for(ctx: Context) -> ListSpec:
    """The listing for `ctx`: `shared` depends on who asks."""
    return replace(LISTING, columns={**LISTING.columns, "shared": shared_pools(ctx.project_id)})


class SubnetPoolService(ResourceService):
    model = SubnetPool
    listing = LISTING

    def view(self, ctx: Context, row: SubnetPool) -> dict[str, Any]:
        return pool_dict(row, ctx)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> SubnetPool:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_subnetpool", {"project_id": project}, body)
        quotas.check(session, self.settings, project, "subnetpool")
        version, nets = px.parse_prefixes(body["prefixes"])
        low, high, default = px.prefix_bounds(version, body.get("min_prefixlen"),
                                              body.get("max_prefixlen"),
                                              body.get("default_prefixlen"))
        pool = SubnetPool(id=new_id(), name=body["name"], description=body["description"],
                          ip_version=version, prefixes=px.as_text(px.merge(nets)),
                          min_prefixlen=low, max_prefixlen=high, default_prefixlen=default,
                          default_quota=body.get("default_quota"),
                          is_default=body["is_default"], address_scope_id=None)
        stamp_new(pool, project)
        if pool.is_default:
            self._check_no_other_default(session, pool)
        self._join_scope(session, ctx, pool, body.get("address_scope_id"))
        set_everyone(session, SUBNETPOOL, pool, ACCESS_SHARED, body["shared"])
        set_tags(pool, "subnetpool", body.get("tags") or [])
        session.add(pool)
        session.flush()
        return pool

    @staticmethod
    def _check_no_other_default(session: Session, pool: SubnetPool) -> None:
        if session.scalar(select(exists().where(
                SubnetPool.is_default, SubnetPool.ip_version == pool.ip_version,
                SubnetPool.id != pool.id))):
            raise errors.InvalidInput("A default subnetpool for this IP family has already "
                                      "been set. Only one default may exist per IP family")

    @staticmethod
    def _join_scope(session: Session, ctx: Context, pool: SubnetPool,
                    scope_id: str | None) -> None:
        """Put `pool` in scope `scope_id` (or none), refusing prefixes another pool of the
        scope holds. The scope row is locked, so two pools cannot join with overlaps."""
        if scope_id is None:
            pool.address_scope_id = None
            return
        # the scope is found before the pool names it: an unknown id is a 404, never a
        # foreign key failure when the lookup flushes the pool
        scope = get_scope_row(session, ctx, scope_id, for_update=True)
        pool.address_scope_id = scope_id
        if scope.ip_version != pool.ip_version:
            raise IllegalSubnetPoolIpVersionAssociationToAddressScope(
                pool.id, scope_id, scope.ip_version)
        mine = [px.parse_prefix(p) for p in pool.prefixes]
        others = session.scalars(select(SubnetPool).where(
            SubnetPool.address_scope_id == scope_id, SubnetPool.id != pool.id))
        for other in others:
            if px.overlaps(mine, [px.parse_prefix(p) for p in other.prefixes]):
                raise AddressScopePrefixConflict()

    def get(self, ctx: Context, pool_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return pool_dict(get_pool_row(session, ctx, pool_id), ctx)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(SubnetPool)
            if not ctx.is_admin:
                stmt = stmt.where(visible_pools(ctx))
            return select_page(session, stmt, listing_for(ctx),
                               lambda pool: pool_dict(pool, ctx), query)

    def update(self, ctx: Context, pool_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pool = get_pool_row(session, ctx, pool_id, for_update=True)
            policy.enforce(ctx, "update_subnetpool", {"project_id": pool.project_id}, body)
            check_revision(pool, if_match)
            self._apply_update(session, ctx, pool, body)
            return pool_dict(pool, ctx)

        return self.db.write(txn)

    def _apply_update(self, session: Session, ctx: Context, pool: SubnetPool,
                      body: dict[str, Any]) -> None:
        before = pool_dict(pool, ctx)
        self._check_scope_owner(session, ctx, pool)
        if "prefixes" in body:
            pool.prefixes = self._grown(pool, body["prefixes"])
        low, high, default = px.prefix_bounds(
            pool.ip_version, body.get("min_prefixlen", pool.min_prefixlen),
            body.get("max_prefixlen", pool.max_prefixlen),
            body.get("default_prefixlen", pool.default_prefixlen))
        pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen = low, high, default
        if body.get("is_default") and not pool.is_default:
            self._check_no_other_default(session, pool)  # before the row changes (flush)
        apply_simple_updates(pool, body, UPDATABLE)
        if "address_scope_id" in body or "prefixes" in body:
            scope_before = pool.address_scope_id
            self._join_scope(session, ctx, pool, body.get("address_scope_id",
                                                          pool.address_scope_id))
            if pool.address_scope_id != scope_before:
                _check_rescoping(session, pool)
        if pool_dict(pool, ctx) != before:
            pool.revision_number += 1
            pool.updated_at = utcnow()

    @staticmethod
    def _check_scope_owner(session: Session, ctx: Context, pool: SubnetPool) -> None:
        """Neutron: a pool in a (shared) scope of another project is frozen for its owner."""
        scope = session.get(AddressScope, pool.address_scope_id) \
            if pool.address_scope_id else None
        if scope is not None and not (ctx.is_admin or scope.project_id == ctx.project_id):
            raise IllegalSubnetPoolUpdate(
                f"subnetpool {pool.id} cannot be updated when associated with shared address "
                f"scope {scope.id}")

    @staticmethod
    def _grown(pool: SubnetPool, wanted: list[Any]) -> list[str]:
        version, nets = px.parse_prefixes(wanted)
        old = [px.parse_prefix(p) for p in pool.prefixes]
        if version != pool.ip_version or not px.covers(nets, old):
            raise IllegalSubnetPoolPrefixUpdate("Existing prefixes must be a subset of the "
                                                "new prefixes")
        return px.as_text(px.merge(nets))

    def delete(self, ctx: Context, pool_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            pool = get_pool_row(session, ctx, pool_id, for_update=True)
            policy.enforce(ctx, "delete_subnetpool", {"project_id": pool.project_id})
            check_revision(pool, if_match)
            if session.scalar(select(exists().where(SubnetRow.subnetpool_id == pool.id))):
                raise SubnetPoolDeleteError("Subnet pool has existing allocations")
            session.delete(pool)

        self.db.write(txn)

    # -- subnetpool-prefix-ops ----------------------------------------------------------------
    def add_prefixes(self, ctx: Context, pool_id: str, wanted: list[Any]) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pool = get_pool_row(session, ctx, pool_id, for_update=True)
            policy.enforce(ctx, "add_prefixes", {"project_id": pool.project_id})
            if wanted:
                self._apply_update(session, ctx, pool,
                                   {"prefixes": [*pool.prefixes, *wanted]})
            return {"prefixes": list(pool.prefixes)}

        return self.db.write(txn)

    def remove_prefixes(self, ctx: Context, pool_id: str, unwanted: list[Any]
                        ) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            pool = get_pool_row(session, ctx, pool_id, for_update=True)
            policy.enforce(ctx, "remove_prefixes", {"project_id": pool.project_id})
            if not unwanted:
                return {"prefixes": list(pool.prefixes)}
            removed = [px.parse_prefix(p) for p in unwanted]
            current = [px.parse_prefix(p) for p in pool.prefixes]
            if not px.overlaps(current, removed):
                return {"prefixes": list(pool.prefixes)}
            if px.overlaps(allocated_prefixes(session, pool.id), removed):
                raise IllegalSubnetPoolPrefixUpdate("One or more the prefixes to be removed "
                                                    "is in use by a subnet.")
            pool.prefixes = px.as_text(px.subtract(current, removed))
            pool.revision_number += 1
            pool.updated_at = utcnow()
            return {"prefixes": list(pool.prefixes)}

        return self.db.write(txn)

