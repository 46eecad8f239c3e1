"""What every resource service does the same way: bulk create in one transaction, and list
a project's own rows (paged in SQL, as its `listing` declares)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from neutrino import policy
from neutrino.db.engine import Database
from neutrino.services.common import Waker, run_and_wake
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery, ListSpec, select_page
from neutrino.settings import Settings


class ResourceService:
    model: ClassVar[type]
    listing: ClassVar[ListSpec]

    def __init__(self, db: Database, settings: Settings, wakeup: Waker) -> None:
        self.db = db
        self.settings = settings
        self.wakeup = wakeup

    def to_dict(self, row: Any) -> dict[str, Any]:
        raise NotImplementedError

    def view(self, ctx: Context, row: Any) -> dict[str, Any]:
        """The row as `ctx` sees it (`to_dict`, unless an attribute depends on who asks)."""
        return self.to_dict(row)

    def scope(self, ctx: Context) -> ColumnElement[bool]:
        """The rows a caller who is not an admin may see: its project's own."""
        return self.model.project_id == ctx.project_id

    def listing_for(self, ctx: Context) -> ListSpec:
        """The listing as `ctx` filters and sorts it (`listing`, unless an attribute depends
        on who asks)."""
        return self.listing

    def _create_one(self, session: Session, ctx: Context, body: dict[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, ctx: Context, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One or several resources in one transaction: a bulk create is all or nothing."""
        for body in bodies:
            policy.check_project(ctx, body)

        def txn(session: Session) -> list[dict[str, Any]]:
            return [self.view(ctx, self._create_one(session, ctx, body)) for body in bodies]

        return run_and_wake(self.db.write, self.wakeup, txn)

    def list(self, ctx: Context, query: ListQuery) -> list[dict[str, Any]]:
        """The rows the caller may see (all rows for an admin)."""
        with self.db.read() as session:
            stmt = select(self.model)
            if not ctx.is_admin:
                stmt = stmt.where(self.scope(ctx))
            return select_page(session, stmt, self.listing_for(ctx),
                               lambda row: self.view(ctx, row), query)
