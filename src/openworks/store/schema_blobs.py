"""Resource bytes (migration 0013): the database blob store and which workspace may use a blob.

::

    blobs        digest (SHA-256 hex) ─ size, data      the "database" blob store only: one
                                                        row per blob, immutable, never updated
    blob_grants  (project_id, digest) ─ size, time      every store: a workspace may name the
                                                        digest in CreateResourceFile

A grant is written in the transaction that creates a resource file from the bytes, or by
``openworks resources upload``; the blob itself is written before that transaction (the
directory and S3 stores are not transactional), so a failed call leaves at most an
unreferenced, ungranted blob behind.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table

from .schema import ID, metadata

__all__ = ["blob_grants", "blobs"]

blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("create_time", BigInteger, nullable=False),
)

blob_grants = Table(
    "blob_grants",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id"), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("create_time", BigInteger, nullable=False),
)
