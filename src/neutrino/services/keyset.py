"""Keyset pagination in SQL: an ORDER BY over sort keys ending in `id`, and the condition
"strictly after this row" that continues it from a marker row's sort values.

NULL sorts first when ascending and last when descending, on every database (SQLite puts
NULL first and PostgreSQL last by default), as the API always did. Both the ORDER BY and
the condition spell that out, so a page never skips or repeats a row with a NULL key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, String, and_, bindparam, collate, false, or_
from sqlalchemy.sql.elements import UnaryExpression


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any]
    ascending: bool = True
    nullable: bool = True  # False skips the NULL branches, so an index can serve the order

    def reversed(self) -> SortKey:
        return replace(self, ascending=not self.ascending)


def sort_key(expr: Any, ascending: bool, dialect: str) -> SortKey:
    """A key on `expr`, comparing text by code point everywhere (as Python and SQLite's
    BINARY do); PostgreSQL would otherwise use the database's locale collation."""
    column = getattr(expr, "expression", expr)
    nullable = bool(getattr(column, "nullable", True))
    if dialect == "postgresql" and isinstance(column.type, String):
        column = collate(column, "C")
    return SortKey(column, ascending, nullable)


def order_by(keys: Sequence[SortKey]) -> list[UnaryExpression[Any]]:
    clauses = []
    for key in keys:
        clause = key.expr.asc() if key.ascending else key.expr.desc()
        if key.nullable:
            clause = clause.nulls_first() if key.ascending else clause.nulls_last()
        clauses.append(clause)
    return clauses


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that come strictly after a row whose sort values are `values`:
    (k1 beyond v1) OR (k1 = v1 AND k2 beyond v2) OR ... — the row-value comparison
    (k1, ..., id) > (v1, ..., id), for mixed directions and NULLs."""
    branches = []
    equal_so_far: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        branches.append(and_(*equal_so_far, _beyond(key, value)))
        equal_so_far.append(_same(key, value))
    return or_(false(), *branches)


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    if value is None:  # NULL is first ascending (all non-NULLs follow), last descending
        return key.expr.is_not(None) if key.ascending else false()
    if key.ascending:
        return key.expr > _bound(key, value)  # a NULL key is before `value`: never true
    beyond = key.expr < _bound(key, value)
    return or_(beyond, key.expr.is_(None)) if key.nullable else beyond


def _same(key: SortKey, value: Any) -> ColumnElement[bool]:
    return key.expr.is_(None) if value is None else key.expr == _bound(key, value)


def _bound(key: SortKey, value: Any) -> BindParameter[Any]:
    """`value` as a parameter of the key's type (SQLAlchemy refuses `column > True`)."""
    return bindparam(None, value, type_=key.expr.type)

