"""Core statements compiled once and run on the driver's cursor: the journal's hot path.

Through SQLAlchemy a prebuilt statement still cost some 100 µs a run on this machine (its
cache key hashed, its expanding parameters rendered, an execution context and a result
built), where SQLite runs it in under 10: most of a journal apply's database time. A
`Prepared` statement is compiled by SQLAlchemy once per dialect and per count of values of
each expanding parameter (`IN (...)` of one, two... ids), with SQLAlchemy's own bind and
result processors, and then runs on the DBAPI cursor of the caller's connection, in the
caller's transaction:
- the SQL, the parameters' conversions (a datetime as SQLite stores it, JSON) and the
  result's (booleans, JSON, datetimes) are SQLAlchemy's, so the values are those
  `Connection.execute` gives;
- the engine's `before_cursor_execute` listeners still hear of each statement (the
  statement counts of `db.engine.statements_run`);
- a driver error is raised as SQLAlchemy's (`DBAPIError.instance`), as `execute` raises it.
Rows are named tuples of the statement's column keys (`row.id`, `row._asdict()`).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

_Shape = tuple[str, tuple[tuple[str, int], ...]]


class _Compiled:
    """One dialect's and one count of expanding values' SQL, its parameters' order and
    conversions, and its result's row type and conversions."""

    __slots__ = ("sql", "order", "positional", "binds", "fixed", "row", "results")

    def __init__(self, statement: Any, connection: Connection,
                 expanding: Mapping[str, int]) -> None:
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect)
        binds = {rendered: bind for bind, rendered in compiled.bind_names.items()}
        if any(bind.literal_execute for bind in binds.values()):
            # its value would be written into the SQL compiled here, once for all runs
            raise ValueError("a Prepared statement takes no literal_execute parameter")
        # placeholder values, only the count of expanding ones matters: the SQL for this
        # many of each
        placeholders: dict[str, Any] = {name: None for name, bind in binds.items()
                                        if bind.required}
        placeholders.update((name, [None] * count) for name, count in expanding.items())
        state = compiled.construct_expanded_state(placeholders)
        self.sql = state.statement
        self.positional = state.positiontup is not None
        names = list(state.positiontup if self.positional else state.parameters)
        # each driver parameter: (its name, the statement's parameter it comes from, the
        # index of an expanded value or None), and its conversion (the type's, as
        # SQLAlchemy binds it: a datetime as SQLite stores it, JSON)
        source = {expanded: (name, i) for name, expandeds in state.parameter_expansion.items()
                  for i, expanded in enumerate(expandeds)}
        self.order = [(name, *source.get(name, (name, None))) for name in names]
        self.binds = [binds[param].type.dialect_impl(dialect).bind_processor(dialect)
                      for _name, param, _index in self.order]
        # values the statement holds itself (a literal, a comparison with a constant)
        self.fixed = {name: state.parameters[name] for name in names
                      if name not in source and not binds[name].required}
        columns = getattr(statement, "selected_columns", None)
        if columns is None or not statement.is_select:
            self.row = None
            self.results: list[Any] = []
            return
        keys = list(columns.keys())
        self.row = collections.namedtuple("Row", keys)  # type: ignore[misc]
        self.results = [c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        converted = []
        for (_name, param, index), bind in zip(self.order, self.binds, strict=True):
            if index is not None:
                value = values[param][index]
            elif param in self.fixed:
                value = self.fixed[param]
            else:
                value = values[param]
            converted.append(bind(value) if bind is not None else value)
        if self.positional:
            return tuple(converted)
        return {name: value for (name, _p, _i), value in zip(self.order, converted,
                                                            strict=True)}


class Prepared:
    """A Core statement (select or DML) run on the driver's cursor of a connection; see the
    module. `expanding`: the names of its expanding parameters (lists of values)."""

    def __init__(self, statement: Executable, expanding: Sequence[str] = ()) -> None:
        self.statement = statement
        self.expanding = tuple(expanding)
        self._compiled: dict[_Shape, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, connection: Connection, values: Mapping[str, Any]) -> _Compiled:
        shape = (connection.dialect.name,
                 tuple((name, len(values[name])) for name in self.expanding))
        found = self._compiled.get(shape)
        if found is None:
            with self._lock:
                found = self._compiled.get(shape)
                if found is None:
                    found = self._compiled[shape] = _Compiled(
                        self.statement, connection, dict(shape[1]))
        return found

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """The rows, converted as SQLAlchemy converts them (a select)."""
        compiled = self._for(connection, values)
        cursor = self._run(connection, compiled, values)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        row, results = compiled.row, compiled.results
        assert row is not None, "rows() of a statement that selects nothing"
        if not any(results):
            return [row._make(r) for r in fetched]
        return [row._make([v if p is None else p(v) for p, v in zip(results, r, strict=True)])
                for r in fetched]

    def run(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; returns the rows it changed."""
        cursor = self._run(connection, self._for(connection, values), values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    @staticmethod
    def _run(connection: Connection, compiled: _Compiled, values: Mapping[str, Any]) -> Any:
        parameters = compiled.parameters(values)
        cursor = connection.connection.cursor()
        dispatch = connection.dispatch.before_cursor_execute
        if dispatch:  # the statement counts (statements_run), the tests' probes
            dispatch(connection, cursor, compiled.sql, parameters, None, False)
        dbapi = connection.dialect.loaded_dbapi
        try:
            cursor.execute(compiled.sql, parameters)
        except dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(compiled.sql, parameters, exc, dbapi.Error,
                                      dialect=connection.dialect) from exc
        return cursor
