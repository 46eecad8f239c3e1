"""Query strings → `ListQuery` and `fields`, and the `*_links` of a page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from neutrino import errors
from neutrino.api.attributes import ResourceSpec
from neutrino.api.converters import to_bool
from neutrino.api.text import preview
from neutrino.services.listing import ListQuery, TagFilter

MAX_LIMIT = 2**31 - 1
MAX_LIMIT_DIGITS = 10
PAGING_KEYS = ("limit", "marker", "page_reverse", "sort_key", "sort_dir", "fields")
TAG_KEYS = {
    "tags": "all_of",
    "tags-any": "any_of",
    "not-tags": "not_all_of",
    "not-tags-any": "not_any_of",
}


@dataclass(frozen=True)
class ParsedQuery:
    query: ListQuery
    fields: tuple[str, ...]


def parse_query(spec: ResourceSpec, items: Sequence[tuple[str, str]]) -> ParsedQuery:
    filters: dict[str, list[Any]] = {}
    tags: dict[str, list[str]] = {}
    grouped: dict[str, list[str]] = {}
    for key, value in items:
        if key in PAGING_KEYS:
            grouped.setdefault(key, []).append(value)
        elif key in TAG_KEYS:
            tags.setdefault(TAG_KEYS[key], []).extend(t for t in value.split(",") if t)
        elif key in spec.attrs and spec.attrs[key].filter:
            filters.setdefault(key, []).append(_filter_value(spec, key, value))
        else:
            raise errors.BadRequest(f"{preview(key)} is invalid attribute for filtering")
    query = ListQuery(
        filters={k: tuple(v) for k, v in filters.items()},
        tags=TagFilter(**{k: tuple(v) for k, v in tags.items()}),
        sort=_sort(spec, grouped.get("sort_key", []), grouped.get("sort_dir", [])),
        limit=_limit(grouped.get("limit")),
        marker=(grouped.get("marker") or [None])[-1],
        page_reverse=_page_reverse(grouped.get("page_reverse")),
    )
    return ParsedQuery(query, tuple(grouped.get("fields", [])))


def _filter_value(spec: ResourceSpec, key: str, raw: str) -> Any:
    try:
        return spec.attrs[key].filter_value(raw)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input for {key}. Reason: {exc}.") from None


def _sort(spec: ResourceSpec, keys: list[str], dirs: list[str]) -> tuple[tuple[str, bool], ...]:
    if dirs and len(dirs) != len(keys):
        raise errors.BadRequest("The number of sort_keys and sort_dirs must be same")
    dirs = dirs or ["asc"] * len(keys)
    result = []
    for key, direction in zip(keys, dirs, strict=True):
        if key not in spec.attrs or not spec.attrs[key].sort:
            raise errors.BadRequest(f"{preview(key)} is an invalid attribute for sort_key")
        if direction not in ("asc", "desc"):
            raise errors.BadRequest(
                f"{preview(direction)} is an invalid value for sort_dir, valid values are "
                "'asc' and 'desc'"
            )
        result.append((key, direction == "asc"))
    return tuple(result)


def _limit(values: list[str] | None) -> int | None:
    if not values:
        return None
    raw = values[-1]
    if not (raw.isascii() and raw.isdigit()):
        raise errors.BadRequest(f"Limit must be an integer 0 or greater and not "
                                f"'{preview(raw)}'")
    digits = raw.lstrip("0")
    if len(digits) > MAX_LIMIT_DIGITS:  # means "all" anyway; a database refuses it past 64 bits
        return MAX_LIMIT
    return min(int(digits or "0"), MAX_LIMIT) or None


def _page_reverse(values: list[str] | None) -> bool:
    if not values:
        return False
    try:
        return to_bool(values[-1])
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input for page_reverse. Reason: {exc}.") from None


def select_fields(item: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def page_links(
    base_url: str,
    items: Sequence[tuple[str, str]],
    page: Sequence[dict[str, Any]],
    query: ListQuery,
    collection: str,
) -> dict[str, list[dict[str, str]]]:
    """Neutron's `<collection>_links`: next when the page is full, previous after a marker;
    an empty page past either end links back to that end (Neutron drops the marker)."""
    if query.limit is None:
        return {}
    kept = [(k, v) for k, v in items if k not in ("marker", "page_reverse")]
    links = []
    if page and len(page) >= query.limit:
        marker = page[0]["id"] if query.page_reverse else page[-1]["id"]
        rel = "previous" if query.page_reverse else "next"
        extra = [("page_reverse", "True")] if query.page_reverse else []
        links.append(
            {"rel": rel, "href": f"{base_url}?{urlencode(kept + [('marker', marker)] + extra)}"}
        )
    if query.marker is not None or (page and query.page_reverse):
        at = [("marker", page[-1]["id"] if query.page_reverse else page[0]["id"])] if page else []
        rel = "next" if query.page_reverse else "previous"
        extra = [] if query.page_reverse else [("page_reverse", "True")]
        links.append({"rel": rel, "href": f"{base_url}?{urlencode(kept + at + extra)}"})
    return {f"{collection}_links": links} if links else {}
