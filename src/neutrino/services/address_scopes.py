"""Address scopes: sets of subnet pools whose prefixes never overlap.

An address scope has no OVN rows of its own. Who may see or use one (put a pool in it) is
decided in one place, `visible_scopes` / `scope_visible`: an admin, its own project, or a
project an access_as_shared RBAC policy grants it to (`rbac-address-scope`). Its `shared`
is such a grant to the caller's project or to every project; sharing it by update adds
the policy to every project, and a shared scope is never unshared by update (Neutron).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import AddressScope, SubnetPool
from neutrino.services.base import ResourceService
from neutrino.services.common import apply_simple_updates, new_id
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, select_page
from neutrino.services.rbac_types import (
    ACCESS_SHARED,
    ADDRESS_SCOPE,
    EVERYONE,
    granted_to,
    grants,
    set_everyone,
)


class AddressScopeInUse(errors.InUse):
    def __init__(self, scope_id: str) -> None:
        super().__init__(f"Unable to complete operation on address scope {scope_id}. There "
                         "are one or more subnet pools in use on the address scope.")


class AddressScopeUpdateError(errors.BadRequest):
    def __init__(self, scope_id: str, reason: str) -> None:
        super().__init__(f"Unable to update address scope {scope_id} : {reason}.")


def scope_dict(scope: AddressScope, ctx: Context) -> dict[str, Any]:
    return {"id": scope.id, "name": scope.name, "project_id": scope.project_id,
            "tenant_id": scope.project_id, "shared": shared_with(ctx, scope),
            "ip_version": scope.ip_version}


def shared_with(ctx: Context, scope: AddressScope) -> bool:
    return grants(scope.rbac_entries, ACCESS_SHARED, ctx.project_id)


def scope_visible(ctx: Context, scope: AddressScope) -> bool:
    return ctx.is_admin or scope.project_id == ctx.project_id or shared_with(ctx, scope)


def shared_scopes(project_id: str) -> ColumnElement[bool]:
    """`shared_with` as SQL: what `shared` filters and sorts by."""
    return granted_to(AddressScope.id, ADDRESS_SCOPE.name, (ACCESS_SHARED,), project_id)


def visible_scopes(ctx: Context) -> ColumnElement[bool]:
    """`scope_visible` as SQL (for callers that are not admin)."""
    return (AddressScope.project_id == ctx.project_id) | shared_scopes(ctx.project_id)


def get_scope_row(session: Session, ctx: Context, scope_id: str,
                  for_update: bool = False) -> AddressScope:
    scope = session.get(AddressScope, scope_id, with_for_update=for_update or None)
    if scope is None or not scope_visible(ctx, scope):
        raise errors.AddressScopeNotFound(scope_id)
    return scope


LISTING = ListSpec(AddressScope, {
    "id": AddressScope.id,
    "name": AddressScope.name,
    "project_id": AddressScope.project_id,
    "tenant_id": AddressScope.project_id,
    "shared": shared_scopes(EVERYONE),  # see listing_for
    "ip_version": AddressScope.ip_version,
})


def listing_for(ctx: Context) -> ListSpec:
    """The listing for `ctx`: `shared` depends on who asks."""
    return replace(LISTING, columns={**LISTING.columns,
                                     "shared": shared_scopes(ctx.project_id)})


class AddressScopeService(ResourceService):
    model = AddressScope
    listing = LISTING

    def view(self, ctx: Context, row: AddressScope) -> dict[str, Any]:
        return scope_dict(row, ctx)

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]
                    ) -> AddressScope:
        project = body.get("project_id") or ctx.project_id
        policy.enforce(ctx, "create_address_scope", {"project_id": project}, body)
        scope = AddressScope(id=new_id(), project_id=project, name=body["name"],
                             ip_version=body["ip_version"])
        set_everyone(session, ADDRESS_SCOPE, scope, ACCESS_SHARED, body["shared"])
        session.add(scope)
        session.flush()
        return scope

    def get(self, ctx: Context, scope_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return scope_dict(get_scope_row(session, ctx, scope_id), ctx)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        with self.db.read() as session:
            stmt = select(AddressScope)
            if not ctx.is_admin:
                stmt = stmt.where(visible_scopes(ctx))
            return select_page(session, stmt, listing_for(ctx),
                               lambda scope: scope_dict(scope, ctx), query)

    def update(self, ctx: Context, scope_id: str, body: dict[str, Any],
               if_match: int | None) -> dict[str, Any]:
        def txn(session: Session) -> dict[str, Any]:
            scope = get_scope_row(session, ctx, scope_id)
            policy.enforce(ctx, "update_address_scope", {"project_id": scope.project_id},
                           body)
            if shared_with(ctx, scope) and body.get("shared") is False:
                raise AddressScopeUpdateError(scope_id, "Shared address scope can't be "
                                              "unshared")
            apply_simple_updates(scope, body, {"name": "name"})
            if body.get("shared"):
                set_everyone(session, ADDRESS_SCOPE, scope, ACCESS_SHARED, True)
            return scope_dict(scope, ctx)

        return self.db.write(txn)

    def delete(self, ctx: Context, scope_id: str, if_match: int | None) -> None:
        def txn(session: Session) -> None:
            scope = get_scope_row(session, ctx, scope_id, for_update=True)
            policy.enforce(ctx, "delete_address_scope", {"project_id": scope.project_id})
            if session.scalar(select(exists().where(SubnetPool.address_scope_id == scope.id))):
                raise AddressScopeInUse(scope.id)
            session.delete(scope)

        self.db.write(txn)
