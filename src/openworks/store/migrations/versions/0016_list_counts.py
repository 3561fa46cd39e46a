"""Lists that stay flat (issue 18): counters kept by triggers, text indexes, filter indexes.

::

    packages / pipeline_runs / files ──AFTER INSERT, DELETE, UPDATE OF key──▶ *_counts
    packages.name, files.name_key     ──SQLite: FTS5 trigram (external content, triggers)
                                        PostgreSQL: pg_trgm GIN index (when available)
    composite indexes for the Status + Creator (Owner + CommitStatus) pages

Counters (schema_counts.py): SQLite keeps one row per key; PostgreSQL appends +1 / -1
deltas and now and then folds a key's deltas into one row (no counter row is ever locked
by two writers, so no waits and no deadlocks). Existing rows are counted here.

pg_trgm: ``CREATE EXTENSION IF NOT EXISTS pg_trgm`` (in schema ``public`` when it exists,
so that dropping a tenant schema never drops the extension); if that fails (no privilege,
not installed) the migration goes on without the trigram indexes and keyword searches scan.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class _Counter(NamedTuple):
    table: str  # the counted table
    counts: str  # its counter table
    key: tuple[str, str, str]  # project_id first
    types: tuple[sa.types.TypeEngine[Any], sa.types.TypeEngine[Any]]  # of key[1:]
    counted: str = ""  # a condition on the row, "" for every row ("{r}" is NEW / OLD)
    watch: tuple[str, ...] = ()  # further columns whose change moves a row in or out

    def cond(self, ref: str) -> str:
        return self.counted.format(r=ref) if self.counted else ""


_COUNTERS = (
    _Counter(
        "packages",
        "package_counts",
        ("project_id", "status", "creator_id"),
        (sa.Integer(), sa.String(length=64)),
    ),
    _Counter(
        "pipeline_runs",
        "pipeline_run_counts",
        ("project_id", "status", "creator"),
        (sa.String(length=16), sa.String(length=64)),
    ),
    _Counter(
        "files",
        "file_counts",
        ("project_id", "owner", "commit_status"),
        (sa.String(length=64), sa.Integer()),
        counted="{r}.deleted_status = 'NORMAL'",
        watch=("deleted_status",),
    ),
)
_TEXT = (("packages", "name"), ("files", "name_key"))  # (table, column) searched by Keyword
_FOLD_ONE_IN = 32  # PostgreSQL: fold a key's deltas after about one change in this many


def _counter_tables() -> None:
    for c in _COUNTERS:
        _, k1, k2 = c.key
        op.create_table(
            c.counts,
            sa.Column("project_id", ID, nullable=False),
            sa.Column(k1, c.types[0], nullable=False),
            sa.Column(k2, c.types[1], nullable=False),
            sa.Column("n", sa.BigInteger(), nullable=False),
        )
        op.create_index(f"ix_{c.counts}_key", c.counts, list(c.key))
        where = f" WHERE {c.cond(c.table)}" if c.counted else ""
        keys = ", ".join(c.key)
        op.execute(
            f"INSERT INTO {c.counts} ({keys}, n) SELECT {keys}, count(*) FROM {c.table}"
            f"{where} GROUP BY {keys}"
        )


def _changed(c: _Counter, old: str, new: str, distinct: str) -> str:
    return " OR ".join(f"{old}.{k} {distinct} {new}.{k}" for k in (*c.key, *c.watch))


# -- SQLite -------------------------------------------------------------------------------


def _sqlite_bump(c: _Counter, ref: str, delta: str) -> str:
    match = " AND ".join(f"{k} = {ref}.{k}" for k in c.key)
    guard = f"{c.cond(ref)} AND " if c.counted else ""
    keys = ", ".join(c.key)
    refs = ", ".join(f"{ref}.{k}" for k in c.key)
    return (
        f"INSERT INTO {c.counts} ({keys}, n) SELECT {refs}, 0 WHERE {guard}"
        f"NOT EXISTS (SELECT 1 FROM {c.counts} WHERE {match}); "
        f"UPDATE {c.counts} SET n = n {delta} 1 WHERE {guard}{match};"
    )


def _sqlite_counters() -> None:
    for c in _COUNTERS:
        t = c.table
        cols = ", ".join((*c.key, *c.watch))
        op.execute(
            f"CREATE TRIGGER {t}_count_insert AFTER INSERT ON {t} "
            f"BEGIN {_sqlite_bump(c, 'new', '+')} END"
        )
        op.execute(
            f"CREATE TRIGGER {t}_count_delete AFTER DELETE ON {t} "
            f"BEGIN {_sqlite_bump(c, 'old', '-')} END"
        )
        op.execute(
            f"CREATE TRIGGER {t}_count_update AFTER UPDATE OF {cols} ON {t} "
            f"WHEN {_changed(c, 'old', 'new', 'IS NOT')} "
            f"BEGIN {_sqlite_bump(c, 'old', '-')} {_sqlite_bump(c, 'new', '+')} END"
        )


def _sqlite_text() -> None:
    for table, column in _TEXT:
        fts = f"{table}_fts"
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
            "content_rowid='id', tokenize='trigram', detail='full')"
        )
        add = f"INSERT INTO {fts} (rowid, {column}) VALUES (new.id, new.{column});"
        drop = (
            f"INSERT INTO {fts} ({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
        )
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {drop} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} "
            f"WHEN old.{column} IS NOT new.{column} BEGIN {drop} {add} END"
        )
        op.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")


# -- PostgreSQL ---------------------------------------------------------------------------


def _pg_counters() -> None:
    for c in _COUNTERS:
        t, keys = c.table, ", ".join(c.key)
        fold = f"ow_fold_{c.counts}"
        match = " AND ".join(f"{k} = k.{k}" for k in c.key)
        op.execute(
            f"""
CREATE FUNCTION {fold}(k {t}) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pg_try_advisory_xact_lock(hashtextextended(
       '{c.counts}:' || concat_ws(':', {", ".join(f"k.{x}" for x in c.key)}), 0)) THEN
    WITH gone AS (DELETE FROM {c.counts} WHERE {match} RETURNING n)
    INSERT INTO {c.counts} ({keys}, n)
      SELECT {", ".join(f"k.{x}" for x in c.key)}, sum(n) FROM gone
      HAVING count(*) > 0 AND sum(n) <> 0;
  END IF;
END $$"""
        )
        old_if = f" AND {c.cond('OLD')}" if c.counted else ""
        new_if = f" AND {c.cond('NEW')}" if c.counted else ""
        olds = ", ".join(f"OLD.{k}" for k in c.key)
        news = ", ".join(f"NEW.{k}" for k in c.key)
        op.execute(
            f"""
CREATE FUNCTION ow_count_{t}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT'{old_if} THEN
    INSERT INTO {c.counts} ({keys}, n) VALUES ({olds}, -1);
    IF random() * {_FOLD_ONE_IN} < 1 THEN PERFORM {fold}(OLD); END IF;
  END IF;
  IF TG_OP <> 'DELETE'{new_if} THEN
    INSERT INTO {c.counts} ({keys}, n) VALUES ({news}, 1);
    IF random() * {_FOLD_ONE_IN} < 1 THEN PERFORM {fold}(NEW); END IF;
  END IF;
  RETURN NULL;
END $$"""
        )
        cols = ", ".join((*c.key, *c.watch))
        op.execute(
            f"CREATE TRIGGER {t}_count AFTER INSERT OR DELETE ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION ow_count_{t}()"
        )
        op.execute(
            f"CREATE TRIGGER {t}_count_update AFTER UPDATE OF {cols} ON {t} FOR EACH ROW "
            f"WHEN ({_changed(c, 'OLD', 'NEW', 'IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION ow_count_{t}()"
        )


def _pg_text() -> None:
    op.execute(
        """
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
      CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    ELSE
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    END IF;
  END IF;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm is not available (%): keyword searches will scan', SQLERRM;
END $$"""
    )
    for table, column in _TEXT:
        op.execute(
            f"""
DO $$
DECLARE s text;
BEGIN
  SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF s IS NOT NULL THEN
    EXECUTE format('CREATE INDEX ix_{table}_{column}_trgm ON {table} USING gin '
                   '({column} %I.gin_trgm_ops)', s);
  END IF;
END $$"""
        )


# -- both ---------------------------------------------------------------------------------


def upgrade() -> None:
    op.create_index(
        "ix_packages_status_creator",
        "packages",
        ["project_id", "status", "creator_id", "create_time", "id", "name"],
    )
    op.create_index(
        "ix_pipeline_runs_status_creator",
        "pipeline_runs",
        ["project_id", "status", "creator", "create_time", "id"],
    )
    op.create_index(
        "ix_files_owner_status",
        "files",
        ["project_id", "owner", "commit_status", "deleted_status", "id", "name_key"],
    )
    _counter_tables()
    if op.get_bind().dialect.name == "postgresql":
        _pg_counters()
        _pg_text()
    else:
        _sqlite_counters()
        _sqlite_text()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in _TEXT:
        if postgres:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{event}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
    for c in _COUNTERS:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {c.table}_count ON {c.table}")
            op.execute(f"DROP TRIGGER IF EXISTS {c.table}_count_update ON {c.table}")
            op.execute(f"DROP FUNCTION IF EXISTS ow_count_{c.table}()")
            op.execute(f"DROP FUNCTION IF EXISTS ow_fold_{c.counts}({c.table})")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {c.table}_count_{event}")
        op.drop_index(f"ix_{c.counts}_key", table_name=c.counts)
        op.drop_table(c.counts)
    op.drop_index("ix_files_owner_status", table_name="files")
    op.drop_index("ix_pipeline_runs_status_creator", table_name="pipeline_runs")
    op.drop_index("ix_packages_status_creator", table_name="packages")
