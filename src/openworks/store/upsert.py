"""INSERT … ON CONFLICT DO NOTHING on either backend: the first writer of a key wins.

::

    insert_missing(conn, table, values)   one row; a row with any of the same unique keys
                                          (inserted before, or by a concurrent transaction
                                          that commits first) makes it a no-op

Used where two requests may create the same thing at once and both should succeed: start-up
registration (identity.py), content-addressed blobs (repo_blobs.py), the folders and
workflows a file's path creates (repo_folders.py). PostgreSQL waits for a concurrent
inserter of the same key to commit, then does nothing; SQLite has one writer anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

__all__ = ["insert_missing"]


def insert_missing(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same unique key exists; whether it did."""
    # dialect modules imported here: each backend loads only its own (start-up time)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt: Any = postgresql.insert(table).values(values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).values(values).on_conflict_do_nothing()
    return bool(conn.execute(stmt).rowcount == 1)
