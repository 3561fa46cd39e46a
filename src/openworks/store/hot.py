"""Hot reads: statements compiled once per dialect and run on the raw DBAPI connection.

A SQLAlchemy Core execution costs about 100 µs of Python around a primary-key read that
SQLite answers in a few: execution context, events, result proxy, row processors. The few
reads on every request's path (the workspace, the caller's roles, the package and its
items) skip that machinery::

    select(...) ──compile once per dialect──▶ SQL text + parameter names
    Connection ──.connection.driver_connection──▶ sqlite3 / psycopg connection
        ──execute(SQL, parameters)──▶ plain tuples ──▶ dict rows (column labels)

The statement runs inside the caller's SQLAlchemy transaction (same DBAPI connection).
Only statements whose columns need no result processing belong here: integers, text and
booleans that the caller converts itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select

__all__ = ["HotRead"]


class HotRead:
    """One ``select()`` with bind parameters, run without SQLAlchemy's execution layer."""

    def __init__(self, stmt: Select[*tuple[Any, ...]]) -> None:
        self.stmt = stmt
        self.columns = tuple(str(c.key) for c in stmt.selected_columns)
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def _compile(self, conn: Connection) -> tuple[str, tuple[str, ...] | None]:
        dialect = conn.dialect
        compiled = self.stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        entry = (compiled.string, names)
        self._compiled[dialect.name] = entry
        return entry

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The result rows as tuples, in the order of :attr:`columns`."""
        entry = self._compiled.get(conn.dialect.name) or self._compile(conn)
        sql, names = entry
        args: Any = tuple(params[n] for n in names) if names is not None else dict(params)
        cursor = conn.connection.driver_connection.execute(sql, args)  # type: ignore[union-attr]
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()  # a list in sqlite3 and psycopg
            return rows
        finally:
            cursor.close()

    def dicts(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The result rows keyed by column label."""
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self.rows(conn, params)]
