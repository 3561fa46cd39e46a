"""Repository methods for blob grants: which workspace may name which resource bytes.

Mixed into :class:`openworks.store.repo.SqlTx`; every method uses ``self.conn``.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema_blobs import blob_grants
from .upsert import insert_missing

__all__ = ["BlobGrantsRepo"]


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
