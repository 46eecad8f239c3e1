"""List queries: filters (repeated values mean OR), tags, sorting and marker pagination.

Each service declares, as data, how its API attributes map onto SQL (`ListSpec`). Filters
on mapped attributes and tag filters become WHERE clauses; the sort keys, then `id`, become
the ORDER BY; the marker becomes a keyset condition and `limit` the LIMIT. A page therefore
reads about `limit` rows, whatever the size of the table.

Filters on attributes without a SQL form are checked on the API representation of each
row, over keyset-ordered chunks, until the page is full. Only a sort key without a SQL form
(a list-valued attribute, say) makes the listing read and sort every matching row in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Result, Select, and_, exists, false, not_, or_
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Tag
from neutrino.services.keyset import SortKey, after, order_by, sort_key
from neutrino.services.sql_forms import iso_seconds

# Rows read per query while filters without a SQL form reject some of them.
SCAN_CHUNK = 200
Filter = Callable[[tuple[Any, ...]], ColumnElement[bool]]
ToDict = Callable[[Any], dict[str, Any]]
ToDicts = Callable[[list[Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class TagFilter:
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    not_all_of: tuple[str, ...] = ()
    not_any_of: tuple[str, ...] = ()

    def conditions(self, resource_id: Any) -> list[ColumnElement[bool]]:
        """The filter in SQL, on the shared `tags` table keyed by `resource_id`."""
        def has(tags: Sequence[str]) -> ColumnElement[bool]:
            return exists().where(Tag.resource_id == resource_id, Tag.tag.in_(tags))

        def has_all(tags: Sequence[str]) -> ColumnElement[bool]:
            return and_(*(has([tag]) for tag in dict.fromkeys(tags)))

        conditions = [has_all(self.all_of)] if self.all_of else []
        if self.any_of:
            conditions.append(has(self.any_of))
        if self.not_all_of:
            conditions.append(not_(has_all(self.not_all_of)))
        if self.not_any_of:
            conditions.append(not_(has(self.not_any_of)))
        return conditions


@dataclass(frozen=True)
class ListQuery:
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    tags: TagFilter = field(default_factory=TagFilter)
    sort: tuple[tuple[str, bool], ...] = ()  # (attribute, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False


@dataclass(frozen=True)
class ListSpec:
    """How one resource's API attributes map onto SQL.

    `columns`: attribute -> a SQL expression whose value is the attribute's value; these
    attributes filter by equality and sort in SQL. `filters`: attribute -> a SQL condition
    for the wanted values, for attributes that filter otherwise (lists of child rows).
    """

    model: Any
    columns: Mapping[str, Any]
    filters: Mapping[str, Filter] = field(default_factory=dict)

    def pushdown(self, filters: Mapping[str, tuple[Any, ...]]
                 ) -> tuple[list[ColumnElement[bool]], dict[str, tuple[Any, ...]]]:
        """The filters SQL can apply, and those left to check on the API representation."""
        where, rest = [], {}
        for attr, wanted in filters.items():
            if attr in self.filters:
                where.append(self.filters[attr](wanted))
            elif attr in self.columns:
                where.append(equal_to_any(self.columns[attr], wanted))
            else:
                rest[attr] = wanted
        return where, rest

    def sort_keys(self, sort: Sequence[tuple[str, bool]], dialect: str) -> list[SortKey] | None:
        """The ORDER BY keys, `id` last, or None when an attribute has no SQL form."""
        keys = []
        for attr, ascending in with_id(sort):
            if attr not in self.columns:
                return None
            keys.append(sort_key(self.columns[attr], ascending, dialect))
        return keys


def standard_columns(model: Any) -> dict[str, Any]:
    """The standard attributes every resource has (`name` where the model has one)."""
    columns = {
        "id": model.id,
        "project_id": model.project_id,
        "tenant_id": model.project_id,
        "description": model.description,
        "revision_number": model.revision_number,
        "created_at": iso_seconds(model.created_at),
        "updated_at": iso_seconds(model.updated_at),
    }
    if hasattr(model, "name"):
        columns["name"] = model.name
    return columns


def member_of(parent_id: Any, child_parent: Any, child_value: Any) -> Filter:
    """A list attribute made of child rows' values: any wanted value is among them."""
    def condition(wanted: tuple[Any, ...]) -> ColumnElement[bool]:
        return exists().where(child_parent == parent_id, child_value.in_(wanted))

    return condition


def equal_to_any(expr: Any, wanted: tuple[Any, ...]) -> ColumnElement[bool]:
    values = [v for v in wanted if v is not None]
    clauses = [expr.in_(values)] if values else []
    if len(values) < len(wanted):  # SQL's IN never matches NULL
        clauses.append(expr.is_(None))
    return or_(false(), *clauses)


def with_id(sort: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The sort keys up to `id`, which is unique: an `id` in the direction of the last key
    is added when absent, so that every row has one place and a marker one meaning."""
    keys = []
    for attr, ascending in sort:
        keys.append((attr, ascending))
        if attr == "id":
            return keys
    return [*keys, ("id", sort[-1][1] if sort else True)]


def select_page(session: Session, stmt: Select[Any], spec: ListSpec, to_dict: ToDict | None,
                query: ListQuery, to_dicts: ToDicts | None = None) -> list[dict[str, Any]]:
    """One page of `stmt` (a select of `spec.model`, already scoped to what the caller may
    see), in the API representation.

    With `to_dicts`, `stmt` selects only the model's `id` (a column, not the entity: it runs
    as Core): the page's ids are turned into their API representations all at once (so a
    page's related rows load in a few queries, however long the page), in the order given.
    """
    convert = to_dicts or (lambda rows: [to_dict(row) for row in rows])  # type: ignore[misc]
    filters = dict(query.filters)
    if "tenant_id" in filters:
        filters.setdefault("project_id", filters.pop("tenant_id"))
    where, rest = spec.pushdown(filters)
    stmt = stmt.where(*where, *query.tags.conditions(spec.model.id))
    keys = spec.sort_keys(query.sort, session.get_bind().dialect.name)
    if keys is None:
        items = [d for d in convert(list(session.scalars(stmt))) if matches(d, rest)]
        return paginate(sort_items(items, query.sort), query)
    return _Keyset(session, stmt, spec.model.id, convert, rest, to_dicts is not None
                   ).page(keys, query)


@dataclass(frozen=True)
class _Keyset:
    """Keyset pagination of one filtered statement."""

    session: Session
    stmt: Select[Any]
    id_column: Any
    convert: ToDicts  # rows' first column -> API representations
    rest: Mapping[str, tuple[Any, ...]]  # filters checked on the API representation
    batched: bool = False  # convert a chunk of rows at once rather than row by row

    def page(self, keys: list[SortKey], query: ListQuery) -> list[dict[str, Any]]:
        if query.page_reverse:  # the rows before the marker, nearest first, then turned back
            keys = [key.reversed() for key in keys]
        start = None if query.marker is None else self._marker_values(keys, query.marker)
        items = self._scan(keys, start, query.limit)
        return items[::-1] if query.page_reverse else items

    def _select(self, keys: list[SortKey]) -> Select[Any]:
        return self.stmt.add_columns(*(key.expr for key in keys))

    def _marker_values(self, keys: list[SortKey], marker: str) -> tuple[Any, ...]:
        """The marker row's sort values; a marker the listing would not show is unknown."""
        row = self.session.execute(self._select(keys).where(self.id_column == marker)).first()
        if row is None or (self.rest and not matches(self.convert([row[0]])[0], self.rest)):
            raise errors.NotFound(f"Marker {marker} could not be found.")
        return tuple(row[1:])

    def _scan(self, keys: list[SortKey], start: tuple[Any, ...] | None,
              limit: int | None) -> list[dict[str, Any]]:
        """Rows after `start` in key order until `limit` of them pass the rest filters."""
        chunk = limit if limit is None or not self.rest else max(limit, SCAN_CHUNK)
        ordered = self._select(keys).order_by(*order_by(keys))
        page: list[dict[str, Any]] = []
        while True:
            stmt = ordered if start is None else ordered.where(after(keys, start))
            rows = self._run(stmt if chunk is None else stmt.limit(chunk)).all()
            for item in self._items(rows):
                if not self.rest or matches(item, self.rest):
                    page.append(item)
                    if len(page) == limit:
                        return page
            if chunk is None or len(rows) < chunk:
                return page
            start = tuple(rows[-1][1:])

    def _run(self, stmt: Select[Any]) -> Result[Any]:
        """A batched listing's statement selects columns (ids, sort keys): run as Core on
        the session's connection, its rows are the same without the ORM's loading of each
        (0.3 ms for 1,000 ports' ids)."""
        if self.batched:
            return self.session.connection().execute(stmt)
        return self.session.execute(stmt)

    def _items(self, rows: list[Any]) -> Iterable[dict[str, Any]]:
        if self.batched:  # a list: no generator resumed for each item
            return self.convert([row[0] for row in rows])
        # one at a time: a page filled early converts no more rows than it needs
        return (self.convert([row[0]])[0] for row in rows)


# -- filters and sorting on the API representation -----------------------------------------


def matching(items: list[dict[str, Any]],
             filters: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The items that satisfy every filter (for collections not stored in SQL)."""
    return [item for item in items if matches(item, filters)]


def matches(item: Mapping[str, Any], filters: Mapping[str, tuple[Any, ...]]) -> bool:
    for attr, wanted in filters.items():
        value = item.get(attr)
        if isinstance(value, list):
            if not any(v in value for v in wanted):
                return False
        elif value not in wanted:
            return False
    return True


def sort_items(
    items: list[dict[str, Any]], sort: tuple[tuple[str, bool], ...]
) -> list[dict[str, Any]]:
    """Stable multi-key sort, in the same order as the SQL path; `id` breaks ties."""
    for attr, ascending in reversed(with_id(sort)):
        items = sorted(items, key=lambda d, a=attr: _sort_key(d.get(a)), reverse=not ascending)
    return items


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, list | dict):
        return (1, str(value))
    return (1, value)


def paginate(items: list[dict[str, Any]], query: ListQuery) -> list[dict[str, Any]]:
    if query.marker is not None:
        ids = [d["id"] for d in items]
        if query.marker not in ids:
            raise errors.NotFound(f"Marker {query.marker} could not be found.")
        at = ids.index(query.marker)
        if query.page_reverse:
            items = items[:at]
            return items[-query.limit:] if query.limit else items
        items = items[at + 1:]
    elif query.page_reverse and query.limit:
        return items[-query.limit:]
    return items[: query.limit] if query.limit else items
