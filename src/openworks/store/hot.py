"""Hot statements: compiled once per dialect and run on the raw DBAPI connection.

A SQLAlchemy Core execution costs about 60-100 µs of Python around a statement that SQLite
answers in a few: execution context, events, result proxy, row processors. The statements
on every request's and every package's path skip that machinery::

    select() / insert() / update() / delete()
        ──compile once per (dialect, columns given)──▶ SQL text + parameter names
          + the values of its literal binds (``status == "NORMAL"``, ``LIMIT 1``)
    Connection ──.connection.driver_connection──▶ sqlite3 / psycopg connection
        ──execute(SQL, parameters)──▶ plain tuples, rowcount, RETURNING row

The statement runs inside the caller's SQLAlchemy transaction (same DBAPI connection). A
driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.IntegrityError`` …), with
a lost connection invalidated, so callers handle both paths alike. Only statements whose
columns need no type processing belong here: integers, text and booleans (the caller
converts what it reads). A statement with an expanding ``IN`` is refused at its first
compile: keep it on ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, Delete, Insert, Select, Update
from sqlalchemy.exc import DBAPIError

__all__ = ["HotRead", "HotWrite", "driver_rows"]


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...] | None  # positional parameter order (sqlite3); None: named
    fixed: dict[str, Any]  # values of the statement's own literal binds
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None  # the values in ``names`` order


def _picker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of ``names`` from a mapping, in order, as a tuple (one C call)."""
    if not names:
        return lambda _params: ()
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    return itemgetter(*names)


def _compile(stmt: Any, conn: Connection, keys: Sequence[str] | None) -> _Compiled:
    compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError(f"not a hot statement (expanding IN): {compiled.string}")
    fixed = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Compiled(compiled.string, names, fixed, None if names is None else _picker(names))


def _args(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    merged = {**compiled.fixed, **params} if compiled.fixed else params
    if compiled.pick is None:
        return dict(merged)
    return compiled.pick(merged)


def _execute(conn: Connection, compiled: _Compiled, args: Any, many: bool = False) -> Any:
    return _on_driver(conn, compiled.sql, args, many)


def _on_driver(conn: Connection, sql: str, args: Any, many: bool = False) -> Any:
    driver: Any = conn.connection.driver_connection
    try:
        if many:
            cursor = driver.cursor()
            cursor.executemany(sql, args)
            return cursor
        return driver.execute(sql, args)
    except conn.dialect.loaded_dbapi.Error as err:
        dialect = conn.dialect
        lost = dialect.is_disconnect(err, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate(err)
        raise DBAPIError.instance(
            sql, args, err, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
        ) from err


def driver_rows(conn: Connection, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (the driver's own placeholders) run on the driver connection in
    the caller's transaction, driver errors raised as SQLAlchemy raises them."""
    cursor = _on_driver(conn, sql, args)
    try:
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


class HotRead:
    """One ``select()`` with bind parameters, run without SQLAlchemy's execution layer."""

    def __init__(self, stmt: Select[*tuple[Any, ...]]) -> None:
        self.stmt = stmt
        self.columns = tuple(str(c.key) for c in stmt.selected_columns)
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The result rows as tuples, in the order of :attr:`columns`."""
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compiled[conn.dialect.name] = _compile(self.stmt, conn, None)
        cursor = _execute(conn, compiled, _args(compiled, params))
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()  # a list in sqlite3 and psycopg
            return rows
        finally:
            cursor.close()

    def dicts(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The result rows keyed by column label."""
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self.rows(conn, params)]


class HotWrite:
    """One ``insert()``, ``update()`` or ``delete()`` run without SQLAlchemy's execution
    layer. As with ``Connection.execute``, the parameters named after columns are the
    inserted values or the SET clause (compiled once per set of names), the others feed the
    statement's own bind parameters (its WHERE)."""

    def __init__(self, stmt: Insert | Update | Delete) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _for(self, conn: Connection, params: Mapping[str, Any]) -> _Compiled:
        key = (conn.dialect.name, frozenset(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self.stmt, conn, list(params))
        return compiled

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute once; the number of rows it changed."""
        compiled = self._for(conn, params)
        cursor = _execute(conn, compiled, _args(compiled, params))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def returning(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute once; the first row of its RETURNING clause."""
        compiled = self._for(conn, params)
        cursor = _execute(conn, compiled, _args(compiled, params))
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (all rows name the same columns)."""
        if not rows:
            return
        compiled = self._for(conn, rows[0])
        cursor = _execute(conn, compiled, [_args(compiled, r) for r in rows], many=True)
        cursor.close()
