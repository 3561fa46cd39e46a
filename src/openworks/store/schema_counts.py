"""Row counters kept by database triggers (migrations 0016, 0017), read by list_counts.py.

::

    packages       ──trigger──▶ package_counts       (project_id, status, creator_id, n)
    pipeline_runs  ──trigger──▶ pipeline_run_counts  (project_id, status, creator, n)
    files          ──trigger──▶ file_counts          (project_id, owner, commit_status,
                                                         file_type, n)
                                (only rows with deleted_status = 'NORMAL' are counted;
                                 file_type since migration 0017: FileTypes filters count)

The exact number of rows of a key is ``sum(n)`` over the counter rows of that key. SQLite
(one writer at a time) keeps one row per key and updates it in place. PostgreSQL appends a
delta row (+1 / -1) per change, so concurrent writers never wait on, or deadlock over, a
counter row; one change in ~32 folds a key's deltas into one row (under a try-advisory
lock, skipped when another transaction is folding that key). The tables have no primary
key for that reason: only the (non-unique) key index.

The SQLite FTS5 tables ``packages_fts`` / ``files_fts`` (trigram, external content over
``packages.name`` / ``files.name_key``) and PostgreSQL's pg_trgm indexes are created by
the migration only and are not described here: SQLAlchemy has no type for them, and the
repositories reach them with plain SQL (list_counts.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from .schema import ID, metadata
from .schema_pipeline import pipeline_runs

__all__ = ["file_counts", "package_counts", "pipeline_run_counts"]

package_counts = Table(
    "package_counts",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("status", Integer, nullable=False),
    Column("creator_id", String(64), nullable=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_package_counts_key", "project_id", "status", "creator_id"),
)

pipeline_run_counts = Table(
    "pipeline_run_counts",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("creator", String(64), nullable=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_pipeline_run_counts_key", "project_id", "status", "creator"),
)

file_counts = Table(
    "file_counts",
    metadata,
    Column("project_id", ID, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("commit_status", Integer, nullable=False),
    Column("file_type", Integer, nullable=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_file_counts_key", "project_id", "owner", "commit_status", "file_type"),
)

# ListPipelineRuns by Status and Creator in page order (schema_pipeline.py's table; declared
# here with the rest of migration 0016)
Index(
    "ix_pipeline_runs_status_creator",
    pipeline_runs.c.project_id,
    pipeline_runs.c.status,
    pipeline_runs.c.creator,
    pipeline_runs.c.create_time,
    pipeline_runs.c.id,
)
