"""SQL forms of how the API shows a value, so that filters and sorting can run in SQL and
still mean exactly what they mean on the API representation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class iso_seconds(FunctionElement[str]):  # noqa: N801 - used like a SQL function
    """`clock.isoformat` in SQL: a timestamp as 'YYYY-MM-DDTHH:MM:SSZ', fractions cut off."""

    type = String()
    inherit_cache = True


@compiles(iso_seconds, "sqlite")
def _iso_seconds_sqlite(element: iso_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    column = compiler.process(element.clauses, **kw)
    return f"(substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z')"


@compiles(iso_seconds, "postgresql")
def _iso_seconds_postgresql(element: iso_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


class text_position(FunctionElement[int]):  # noqa: N801 - used like a SQL function
    """Where the second text starts in the first, counting from 1 (0: not in it); case
    sensitive, unlike SQLite's LIKE, and with no wildcards to escape."""

    type = Integer()
    inherit_cache = True


@compiles(text_position, "sqlite")
def _text_position_sqlite(element: text_position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(text_position, "postgresql")
def _text_position_postgresql(element: text_position, compiler: SQLCompiler,
                              **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"
