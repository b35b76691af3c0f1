"""The few statements every confirmation runs, on SQLite's driver directly.

SQLAlchemy writes them (from the models, compiled once per dialect) and converts their
values (each column type's own bind and result processors); on SQLite they then run on
the DBAPI cursor of the same connection and transaction. Measured on this machine, an
INSERT through ``Connection.execute`` costs about 80 µs of CPU (cached compilation,
execution context, parameter and result objects), on the cursor about 5 µs; the
confirmation's five statements were most of its cost. On PostgreSQL a statement is a
network round trip: there they run through ``Connection.execute`` as every other one,
which also keeps SQLAlchemy's handling of a lost connection (``Database.run``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any] | None
Statement = Insert | Update | Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the order of the ? in sql
    binds: tuple[Processor, ...]
    given: Mapping[str, Any]  # values the statement itself carries (e.g. status='done')
    columns: tuple[str, ...]  # a SELECT's result columns, by name
    results: tuple[Processor, ...]


class DriverStatement:
    """A Core statement run on the driver's cursor on SQLite, through Core elsewhere.

    ``keys``: the columns an INSERT or UPDATE is given (they decide its SQL, as they do
    for ``Connection.execute``). Values go in and come out as Core would convert them.
    """

    def __init__(self, statement: Statement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plan: _Plan | None = None

    def _sqlite_plan(self, dialect: Dialect) -> _Plan:
        if self._plan is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=self.keys)
            names = tuple(compiled.positiontup or ())
            binds = compiled.binds
            columns: tuple[str, ...] = ()
            results: tuple[Processor, ...] = ()
            if isinstance(self.statement, Select):
                selected = list(self.statement.selected_columns)
                columns = tuple(str(c.key) for c in selected)
                assert len(set(columns)) == len(columns), "result columns need unique names"
                results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                                for c in selected)
            self._plan = _Plan(
                compiled.string, names,
                tuple(binds[n].type.dialect_impl(dialect).bind_processor(dialect)
                      for n in names),
                {n: binds[n].effective_value for n in names if not binds[n].required},
                columns, results)
        return self._plan

    @staticmethod
    def _values(plan: _Plan, params: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, process in zip(plan.names, plan.binds, strict=True):
            value = params[name] if name in params else plan.given[name]
            out.append(value if process is None or value is None else process(value))
        return tuple(out)

    def run(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Execute with one set of values; the rows it changed or inserted."""
        if connection.dialect.name != "sqlite":
            result = connection.execute(self.statement, dict(params),
                                        execution_options={"preserve_rowcount": True})
            return int(result.rowcount)
        plan = self._sqlite_plan(connection.dialect)
        with closing(_cursor(connection)) as cursor:
            cursor.execute(plan.sql, self._values(plan, params))
            return int(cursor.rowcount)

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per set of values (executemany)."""
        if not rows:
            return
        if connection.dialect.name != "sqlite":
            connection.execute(self.statement, [dict(r) for r in rows])
            return
        plan = self._sqlite_plan(connection.dialect)
        with closing(_cursor(connection)) as cursor:
            cursor.executemany(plan.sql, [self._values(plan, r) for r in rows])

    def first(self, connection: Connection, params: Mapping[str, Any]
              ) -> dict[str, Any] | None:
        """A SELECT's first row by column name, or None."""
        if connection.dialect.name != "sqlite":
            row = connection.execute(self.statement, dict(params)).first()
            return None if row is None else dict(row._mapping)
        plan = self._sqlite_plan(connection.dialect)
        with closing(_cursor(connection)) as cursor:
            cursor.execute(plan.sql, self._values(plan, params))
            found = cursor.fetchone()
        if found is None:
            return None
        return {name: value if process is None or value is None else process(value)
                for name, process, value in zip(plan.columns, plan.results, found,
                                                strict=True)}


def _cursor(connection: Connection) -> Any:
    """A cursor of the driver connection under ``connection``: same transaction."""
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None, "a connection in use has its driver connection"
    return dbapi.cursor()
