"""File counters keyed by file type too (issue 18): ListFiles by Owner + FileTypes counts.

::

    0016: files ──trigger──▶ file_counts (project_id, owner, commit_status, n)
    0017: files ──trigger──▶ file_counts (project_id, owner, commit_status, file_type, n)
          (a FileTypes filter of one or several types: sum(n) over those types' rows)

The counter table is built again with the wider key and filled from the live rows
(``deleted_status = 'NORMAL'``); its triggers are built again to watch ``file_type`` too
(a change of type moves the row from one key to the other). Downgrade builds the 0016 shape
back the same way. The trigger shapes are those of migration 0016 (SQLite: one row per key,
updated in place; PostgreSQL: +1 / -1 delta rows, folded now and then under a try-advisory
lock). PostgreSQL locks ``files`` against writes first, so that no write falls between the
recount and the new triggers.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_KEY_0016 = ("project_id", "owner", "commit_status")
_KEY_0017 = (*_KEY_0016, "file_type")
_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "owner": sa.String(length=64),
    "commit_status": sa.Integer(),
    "file_type": sa.Integer(),
}
_LIVE = "{r}.deleted_status = 'NORMAL'"  # the counted rows ("{r}": NEW / OLD / files)
_FOLD_ONE_IN = 32  # PostgreSQL: fold a key's deltas after about one change in this many


def _drop(postgres: bool) -> None:
    """The file counter of either shape: triggers, functions, table."""
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS files_count ON files")
        op.execute("DROP TRIGGER IF EXISTS files_count_update ON files")
        op.execute("DROP FUNCTION IF EXISTS ow_count_files()")
        op.execute("DROP FUNCTION IF EXISTS ow_fold_file_counts(files)")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS files_count_{event}")
    op.drop_index("ix_file_counts_key", table_name="file_counts")
    op.drop_table("file_counts")


def _table(key: tuple[str, ...]) -> None:
    op.create_table(
        "file_counts",
        sa.Column("project_id", ID, nullable=False),
        *(sa.Column(k, _TYPES[k], nullable=False) for k in key[1:]),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_file_counts_key", "file_counts", list(key))
    keys = ", ".join(key)
    op.execute(
        f"INSERT INTO file_counts ({keys}, n) SELECT {keys}, count(*) FROM files "
        f"WHERE {_LIVE.format(r='files')} GROUP BY {keys}"
    )


def _changed(key: tuple[str, ...], distinct: str, old: str, new: str) -> str:
    return " OR ".join(f"{old}.{k} {distinct} {new}.{k}" for k in (*key, "deleted_status"))


def _sqlite_bump(key: tuple[str, ...], ref: str, delta: str) -> str:
    match = " AND ".join(f"{k} = {ref}.{k}" for k in key)
    live = _LIVE.format(r=ref)
    keys = ", ".join(key)
    refs = ", ".join(f"{ref}.{k}" for k in key)
    return (
        f"INSERT INTO file_counts ({keys}, n) SELECT {refs}, 0 WHERE {live} AND "
        f"NOT EXISTS (SELECT 1 FROM file_counts WHERE {match}); "
        f"UPDATE file_counts SET n = n {delta} 1 WHERE {live} AND {match};"
    )


def _sqlite_triggers(key: tuple[str, ...]) -> None:
    cols = ", ".join((*key, "deleted_status"))
    op.execute(
        "CREATE TRIGGER files_count_insert AFTER INSERT ON files "
        f"BEGIN {_sqlite_bump(key, 'new', '+')} END"
    )
    op.execute(
        "CREATE TRIGGER files_count_delete AFTER DELETE ON files "
        f"BEGIN {_sqlite_bump(key, 'old', '-')} END"
    )
    op.execute(
        f"CREATE TRIGGER files_count_update AFTER UPDATE OF {cols} ON files "
        f"WHEN {_changed(key, 'IS NOT', 'old', 'new')} "
        f"BEGIN {_sqlite_bump(key, 'old', '-')} {_sqlite_bump(key, 'new', '+')} END"
    )


def _pg_triggers(key: tuple[str, ...]) -> None:
    keys = ", ".join(key)
    match = " AND ".join(f"{k} = k.{k}" for k in key)
    refs = ", ".join(f"k.{k}" for k in key)
    op.execute(
        f"""
CREATE FUNCTION ow_fold_file_counts(k files) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pg_try_advisory_xact_lock(hashtextextended(
       'file_counts:' || concat_ws(':', {refs}), 0)) THEN
    WITH gone AS (DELETE FROM file_counts WHERE {match} RETURNING n)
    INSERT INTO file_counts ({keys}, n)
      SELECT {refs}, sum(n) FROM gone
      HAVING count(*) > 0 AND sum(n) <> 0;
  END IF;
END $$"""
    )
    olds = ", ".join(f"OLD.{k}" for k in key)
    news = ", ".join(f"NEW.{k}" for k in key)
    op.execute(
        f"""
CREATE FUNCTION ow_count_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND {_LIVE.format(r="OLD")} THEN
    INSERT INTO file_counts ({keys}, n) VALUES ({olds}, -1);
    IF random() * {_FOLD_ONE_IN} < 1 THEN PERFORM ow_fold_file_counts(OLD); END IF;
  END IF;
  IF TG_OP <> 'DELETE' AND {_LIVE.format(r="NEW")} THEN
    INSERT INTO file_counts ({keys}, n) VALUES ({news}, 1);
    IF random() * {_FOLD_ONE_IN} < 1 THEN PERFORM ow_fold_file_counts(NEW); END IF;
  END IF;
  RETURN NULL;
END $$"""
    )
    cols = ", ".join((*key, "deleted_status"))
    op.execute(
        "CREATE TRIGGER files_count AFTER INSERT OR DELETE ON files "
        "FOR EACH ROW EXECUTE FUNCTION ow_count_files()"
    )
    op.execute(
        f"CREATE TRIGGER files_count_update AFTER UPDATE OF {cols} ON files FOR EACH ROW "
        f"WHEN ({_changed(key, 'IS DISTINCT FROM', 'OLD', 'NEW')}) "
        "EXECUTE FUNCTION ow_count_files()"
    )


def _rebuild(key: tuple[str, ...]) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # no write between the recount and the new triggers
        op.execute("LOCK TABLE files IN SHARE ROW EXCLUSIVE MODE")
    _drop(postgres)
    _table(key)
    if postgres:
        _pg_triggers(key)
    else:
        _sqlite_triggers(key)


def upgrade() -> None:
    _rebuild(_KEY_0017)


def downgrade() -> None:
    _rebuild(_KEY_0016)
