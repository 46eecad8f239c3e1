"""`column IN (values)` with the values as one parameter: a JSON array on SQLite, an array
on PostgreSQL. A thousand values cost no thousand bound parameters to bind, and the
statement is compiled once for any count of them; PostgreSQL plans `= ANY(array)` as index
lookups where, given a thousand parameters, it chose to scan the table."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)


def among(column: Any, name: str, dialect: str, *, integers: bool = False
          ) -> ColumnElement[bool]:
    """`column` is one of the values of parameter `name` (see `values`): strings, or
    `integers`."""
    if dialect == "sqlite":
        values = select(literal_column("value")).select_from(
            func.json_each(bindparam(name, type_=Text)))
        return column.in_(values.scalar_subquery())
    if dialect == "postgresql":
        # here: loading PostgreSQL's dialect costs a SQLite server's start 60-75 ms
        from sqlalchemy.dialects.postgresql import ARRAY

        item = Integer() if integers else String()
        return column == any_(bindparam(name, type_=ARRAY(item)))
    return column.in_(bindparam(name, expanding=True))


def each(name: str, dialect: str, *, integers: bool = False) -> Any:
    """The values of parameter `name` (see `values`) as a table of one column, `value`: to
    ask one question of each value (a subquery that finds its rows through an index), where
    `among` leaves the planner to choose how to read the rows of all of them."""
    if dialect == "sqlite":
        return func.json_each(bindparam(name, type_=Text)).table_valued("value")
    from sqlalchemy.dialects.postgresql import ARRAY

    item = Integer() if integers else String()
    return func.unnest(bindparam(name, type_=ARRAY(item))).table_valued(
        "value").render_derived()


def values(items: list[Any], dialect: str) -> Any:
    """The parameter's value for `among`."""
    return orjson.dumps(items).decode() if dialect == "sqlite" else items
