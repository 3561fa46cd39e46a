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
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

__all__ = [
    "default_database_url",
    "is_sqlite",
    "make_engine",
    "migrate",
    "migration_heads",
    "normalize_url",
]

MIGRATIONS = Path(__file__).with_name("migrations")


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
            cursor.execute("PRAGMA journal_mode=WAL")
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


def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on, read from the migration files (without
    importing Alembic, which costs a third of a second at start-up)."""
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


def _current_revisions(engine: Engine) -> frozenset[str] | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(row[0] for row in rows)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration up to the heads (idempotent; a database already at
    the heads is left alone without loading Alembic)."""
    if _current_revisions(engine) == migration_heads():
        return
    from alembic import command  # imported here: alembic costs start-up time elsewhere
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        connection.info["write"] = True
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
        connection.commit()
