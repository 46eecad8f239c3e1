"""List queries: filters (repeated values mean OR), tags, sorting and marker pagination.

Equality filters on a few indexed columns narrow the SQL query; every filter is then
checked on the Neutron representation, so each attribute filters the same way whatever
its storage. This costs one pass over the narrowed rows, which is fine up to tens of
thousands of rows per project.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from neutrino import errors

PUSHDOWN = ("id", "network_id", "device_id", "project_id", "name")


@dataclass(frozen=True)
class TagFilter:
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    not_all_of: tuple[str, ...] = ()
    not_any_of: tuple[str, ...] = ()

    def matches(self, tags: Sequence[str]) -> bool:
        have = set(tags)
        return (
            (not self.all_of or set(self.all_of) <= have)
            and (not self.any_of or bool(set(self.any_of) & have))
            and (not self.not_all_of or not set(self.not_all_of) <= have)
            and (not self.not_any_of or not set(self.not_any_of) & have)
        )


@dataclass(frozen=True)
class ListQuery:
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    tags: TagFilter = field(default_factory=TagFilter)
    sort: tuple[tuple[str, bool], ...] = ()  # (attribute, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False


def select_page(
    session: Session,
    stmt: Select[Any],
    model: type,
    to_dict: Callable[[Any], dict[str, Any]],
    query: ListQuery,
) -> list[dict[str, Any]]:
    filters = dict(query.filters)
    if "tenant_id" in filters:
        filters.setdefault("project_id", filters.pop("tenant_id"))
    for attr in PUSHDOWN:
        if attr in filters and hasattr(model, attr):
            stmt = stmt.where(getattr(model, attr).in_(filters[attr]))
    items = [to_dict(row) for row in session.scalars(stmt)]
    items = [d for d in items if _matches(d, filters) and query.tags.matches(d["tags"])]
    return paginate(sort_items(items, query.sort), query)


def matching(items: list[dict[str, Any]],
             filters: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The items that satisfy every filter (for collections not stored in SQL)."""
    return [item for item in items if _matches(item, filters)]


def _matches(item: Mapping[str, Any], filters: Mapping[str, tuple[Any, ...]]) -> bool:
    for attr, wanted in filters.items():
        if attr == "fixed_ips":
            if not _fixed_ips_match(item.get("fixed_ips", []), wanted):
                return False
            continue
        value = item.get(attr)
        if isinstance(value, list):
            if not any(v in value for v in wanted):
                return False
        elif value not in wanted:
            return False
    return True


def _fixed_ips_match(fixed_ips: Sequence[Mapping[str, str]], wanted: tuple[Any, ...]) -> bool:
    """`fixed_ips=ip_address=X&fixed_ips=subnet_id=Y`: one address that satisfies all keys."""
    wanted_by_key: dict[str, set[str]] = {}
    for item in wanted:
        key, _, value = str(item).partition("=")
        if key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise errors.InvalidInput(f"'{item}' is not a valid fixed_ips filter")
        wanted_by_key.setdefault(key, set()).add(value)

    def ok(ip: Mapping[str, str]) -> bool:
        for key, values in wanted_by_key.items():
            if key == "ip_address_substr":
                if not any(v in ip["ip_address"] for v in values):
                    return False
            elif ip[key] not in values:
                return False
        return True

    return any(ok(ip) for ip in fixed_ips)


def sort_items(
    items: list[dict[str, Any]], sort: tuple[tuple[str, bool], ...]
) -> list[dict[str, Any]]:
    """Stable multi-key sort; `id` breaks ties so that markers are unambiguous."""
    keys = [*sort, ("id", sort[-1][1] if sort else True)] if ("id", True) not in sort else sort
    for attr, ascending in reversed(keys):
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
