"""A list of values as one parameter: a JSON array on SQLite, an array on PostgreSQL.

A thousand values cost no thousand bound parameters to bind (a PostgreSQL statement takes
65,535 at most), and the statement is compiled once for any count of them."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, Integer, String, Text, any_, bindparam, func, select


def among(column: Any, name: str, dialect: str, *, integers: bool = False
          ) -> ColumnElement[bool]:
    """`column` is one of the values of parameter `name` (see `values`): strings, or
    `integers`."""
    if dialect == "sqlite":
        listed = each(name, dialect)
        return column.in_(select(listed.c.value).scalar_subquery())
    if dialect == "postgresql":
        return column == any_(_array(name, integers))
    return column.in_(bindparam(name, expanding=True))


def each(name: str, dialect: str, *, integers: bool = False) -> Any:
    """The values of parameter `name` (see `values`) as a table of one column, `value`: to
    ask one question of each value (a subquery that finds its rows through an index), where
    `among` leaves the planner to choose how to read the rows of all of them."""
    if dialect == "sqlite":
        return func.json_each(bindparam(name, type_=Text)).table_valued("value")
    return func.unnest(_array(name, integers)).table_valued("value").render_derived()


def values(items: list[Any], dialect: str) -> Any:
    """The parameter's value for `among` and `each`."""
    return orjson.dumps(items).decode() if dialect == "sqlite" else items


def _array(name: str, integers: bool) -> Any:
    # here: loading PostgreSQL's dialect costs a SQLite server's start 60-75 ms
    from sqlalchemy.dialects.postgresql import ARRAY

    return bindparam(name, type_=ARRAY(Integer() if integers else String()))
