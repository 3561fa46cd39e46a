"""Wiping a database back to a fresh install, for test control (``/_openworks/reset``).

::

    reset(engine, account, root key, seed)        one write transaction
      ├─ every table, children first: all rows go, except
      │     accounts / users / access_keys   the root account, its root user, the root key
      │     alembic_version, nonces          schema version; replay protection stays
      ├─ ID sequences restart at  start(table) + seed * SEED_STRIDE
      └─ control_state = defaults (mode instant, no forced failures) with the seed

The tables are reflected from the database, so tables added by later migrations are wiped
too without this module knowing them. Numbered IDs (ProjectId, FileId, NodeId,
DeploymentId, BusinessId, …) are therefore the same after the same calls from the same
seed; timestamps, RequestIds and UUID-style IDs (FolderId, MessageId) are not.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, MetaData, Table, delete, text

from .schema_test_control import control_state

__all__ = ["ID_STARTS", "MAX_SEED", "SEED_STRIDE", "reset_database"]

# The first ID each sequence hands out is start + 1 (as in migrations 0001 and 0002).
ID_STARTS = {
    "projects": 10_000,
    "files": 500_000_000,
    "packages": 3_000_000,
    "node_ids": 700_000_000_000,
    "businesses": 80_000,
}
SEED_STRIDE = 1_000
MAX_SEED = 1_000_000
_KEEP = frozenset({"alembic_version", "nonces"})
_FTS_SHADOWS = ("_data", "_idx", "_docsize", "_config", "_content")


def _text_indexes(conn: Connection) -> frozenset[str]:
    """SQLite's FTS5 tables (migration 0016) and their shadow tables: the triggers of the
    tables they index keep them, and deleting their rows directly corrupts the index."""
    if conn.dialect.name != "sqlite":
        return frozenset()
    virtual = conn.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")
    ).scalars()
    return frozenset(name + suffix for name in virtual for suffix in ("", *_FTS_SHADOWS))


def _wipe(conn: Connection, table: Table, account_id: str, root_key_id: str) -> None:
    stmt = delete(table)
    if table.name in ("accounts", "users"):  # the root user's ID is the account ID
        stmt = stmt.where(table.c.id != account_id)
    elif table.name == "access_keys":
        stmt = stmt.where(table.c.id != root_key_id)
    conn.execute(stmt)


def _restart_sequences(conn: Connection, tables: list[Table], seed: int) -> None:
    offset = seed * SEED_STRIDE
    if conn.dialect.name == "sqlite":
        has_sequences = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        ).scalar()
        if not has_sequences:
            return
        for table in tables:
            conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
            if table.name in ID_STARTS:
                conn.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
                    {"t": table.name, "s": ID_STARTS[table.name] + offset},
                )
        return
    for table in tables:
        if "id" not in table.c:
            continue
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar()
        if sequence:
            start = ID_STARTS.get(table.name, 0) + (offset if table.name in ID_STARTS else 0)
            conn.execute(
                text("SELECT setval(CAST(:s AS regclass), :v, false)"),
                {"s": sequence, "v": start + 1},
            )


def reset_database(
    engine: Engine, account_id: str, root_key_id: str, seed: int = 0, cache: MetaData | None = None
) -> None:
    """Remove all state but the root account and key; restart IDs from ``seed``.

    ``cache``: a MetaData to hold the reflected tables between calls (the schema of a
    running server does not change; reflecting costs more than the reset itself).
    """
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}")
    reflected = MetaData() if cache is None else cache
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            if not reflected.tables:
                reflected.reflect(bind=conn)
            skip = _KEEP | _text_indexes(conn)
            tables = [t for t in reversed(reflected.sorted_tables) if t.name not in skip]
            # counter tables (schema_counts.py) last: deleting the rows they count moves them
            tables.sort(key=lambda t: t.name.endswith("_counts"))
            for table in tables:
                _wipe(conn, table, account_id, root_key_id)
            _restart_sequences(conn, tables, seed)
            conn.execute(delete(control_state))
            conn.execute(control_state.insert().values(id=1, seed=seed))
