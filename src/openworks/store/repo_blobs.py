"""Repository methods for blob grants: which workspace may name which resource bytes.

Mixed into :class:`openworks.store.repo.SqlTx`; every method uses ``self.conn``.
:func:`insert_missing` is shared with the database blob store (store/blobs.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from .schema_blobs import blob_grants

__all__ = ["BlobGrantsRepo", "insert_missing"]


def insert_missing(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: the first writer of a key wins, others change
    nothing (blobs and grants are immutable facts, so a twin insert is the same fact)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        conn.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())


class BlobGrantsRepo:
    conn: Connection

    def blob_granted(self, project_id: int, digest: str) -> bool:
        row = self.conn.execute(
            select(blob_grants.c.size).where(
                blob_grants.c.project_id == project_id, blob_grants.c.digest == digest
            )
        ).first()
        return row is not None

    def grant_blob(self, project_id: int, digest: str, size: int, now: int) -> None:
        values = {"project_id": project_id, "digest": digest, "size": size, "create_time": now}
        insert_missing(self.conn, blob_grants, values)
