"""Engines and migrations: one place that knows SQLite from PostgreSQL.

SQLite runs in WAL mode with ``synchronous=NORMAL`` and a busy timeout; write transactions
start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing on lock upgrade.
Whether a transaction writes is asked for per checkout (``conn.info["write"]``) and
forgotten when the connection goes back to the pool, so a reader never takes the write lock
because the connection's previous user wrote.
PostgreSQL is reached through psycopg 3 (``postgresql://`` URLs are rewritten to the
``postgresql+psycopg://`` driver).
"""

from __future__ import annotations

import ast
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

__all__ = [
    "MIGRATE_LOCK",
    "REGISTRATION_LOCK",
    "default_database_url",
    "exclusive",
    "is_sqlite",
    "make_engine",
    "migrate",
    "migration_heads",
    "normalize_url",
]

MIGRATIONS = Path(__file__).with_name("migrations")

# PostgreSQL advisory lock classes (the first of the two int4 keys; the second is a hash of
# the current schema, so databases in different schemas of one cluster never wait on each
# other). "ow" + a number.
MIGRATE_LOCK = 0x6F77_0001  # schema upgrades
REGISTRATION_LOCK = 0x6F77_0002  # start-up registration: server key check, root account/key


def default_database_url() -> str:
    """``$XDG_DATA_HOME/openworks/openworks.db``, else ``~/.local/share/openworks/``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'openworks' / 'openworks.db'}"


def normalize_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def _enable_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds a lock: on a new
    database file the switch needs an exclusive lock and SQLite answers "database is locked"
    at once, without its busy handler, when processes open the file at the same moment.
    The mode is stored in the file, so this waits only around the very first switch."""
    deadline = time.monotonic() + 30
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    memory = database in ("", ":memory:") or "mode=memory" in str(parsed.query)
    if not memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        from sqlalchemy.pool import StaticPool

        kwargs["poolclass"] = StaticPool
    else:
        # as many pooled connections as request threads (API_THREADS in app.py) plus the
        # worker's: connections are never closed and reopened under load, so each keeps its
        # page cache warm
        kwargs["pool_size"] = 16
        kwargs["max_overflow"] = 8
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not memory:
            _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.info.get("write", False)
        # straight to the driver: exec_driver_sql would cost a full SQLAlchemy execution
        # (context, events, result) on every transaction
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # "write" is asked for per checkout: a reader must not inherit a writer's flag
        record.info.pop("write", None)

    return engine


def make_engine(url: str, *, pool: bool = True) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if not pool:
        return create_engine(url, poolclass=NullPool)
    return create_engine(url, pool_size=16, max_overflow=8, pool_pre_ping=True)


_heads: frozenset[str] | None = None
_heads_lock = threading.Lock()


def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on, read from the migration files (without
    importing Alembic, which costs a third of a second at start-up); read once per process,
    by one thread at a time (CPython 3.11's ``ast`` can fail when threads parse at once)."""
    global _heads
    with _heads_lock:
        if _heads is None:
            _heads = _read_heads()
        return _heads


def _read_heads() -> frozenset[str]:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition(" = ")
            if sep and name in ("revision", "down_revision"):
                parsed = ast.literal_eval(value.split("#", 1)[0].strip())
                found = parsed if isinstance(parsed, tuple) else (parsed,)
                target = revisions if name == "revision" else parents
                target.update(r for r in found if r)
    return frozenset(revisions - parents)


def _revisions_of(conn: Connection) -> frozenset[str] | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)


def _current_revisions(engine: Engine) -> frozenset[str] | None:
    with engine.connect() as conn:
        return _revisions_of(conn)


def exclusive(conn: Connection, lock: int) -> None:
    """Serialise this transaction with every other one that asks for ``lock``, in any
    process on any host: on PostgreSQL a transaction-scoped advisory lock (released at
    commit or rollback, or when the connection drops); on SQLite the write transaction
    (``BEGIN IMMEDIATE``, see ``conn.info["write"]``) already admits one writer at a time."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:lock, hashtext(coalesce(current_schema(), '')))"),
            {"lock": lock},
        )


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration up to the heads (idempotent; a database already at
    the heads is left alone without loading Alembic).

    Safe from any number of processes and hosts at once: the upgrade runs in one
    transaction that first takes the migration lock (PostgreSQL: an advisory lock;
    SQLite: ``BEGIN IMMEDIATE``), then reads the revisions again. Whoever comes second
    waits, finds the database at the heads and leaves it alone. PostgreSQL's DDL is
    transactional, so a host that dies mid-upgrade leaves the database as it was."""
    heads = migration_heads()
    if _current_revisions(engine) == heads:
        return
    from alembic import command  # imported here: alembic costs start-up time elsewhere
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        connection.info["write"] = True
        with connection.begin():  # SQLite: BEGIN IMMEDIATE, one migrating process at a time
            exclusive(connection, MIGRATE_LOCK)
            if _revisions_of(connection) == heads:
                return  # another process upgraded while this one waited
            # Alembic finds the transaction open and runs every migration inside it
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
