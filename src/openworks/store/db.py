"""Engines and migrations: one place that knows SQLite from PostgreSQL.

SQLite runs in WAL mode with ``synchronous=NORMAL`` and a busy timeout; write transactions
start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing on lock upgrade, and
before it take their turn in the file's :class:`~openworks.store.write_queue.WriteQueue`
(a lock file ``<database>-writers``), so that writers of several threads and processes are
woken the moment the lock is free instead of sleeping in SQLite's busy handler.
Whether a transaction writes is asked for per checkout (``conn.info["write"]``) and
forgotten when the connection goes back to the pool, so a reader never takes the write lock
because the connection's previous user wrote.
PostgreSQL is reached through psycopg 3 (``postgresql://`` URLs are rewritten to the
``postgresql+psycopg://`` driver), giving up on a connection attempt after
:data:`CONNECT_TIMEOUT` seconds unless the URL sets ``connect_timeout``; its pool's
liveness check and its read transactions without BEGIN/COMMIT are store/pg_pool.py's.

A database URL that cannot be used is a :class:`openworks.errors.ConfigError` with one line
saying what is wrong, the URL without its password and what to do, raised by
:func:`make_engine` (not a URL, not SQLite or PostgreSQL, a driver missing, a directory that
cannot be made) and by :func:`migrate` (the first connection fails, or the schema is newer
than this openworks): every command prints it as ``openworks: <line>`` and exits 2.
"""

from __future__ import annotations

import ast
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from openworks.errors import ConfigError

from . import pg_pool, schema
from .pg_pool import CONNECT_TIMEOUT
from .write_queue import WriteQueue, WriteTurn

__all__ = [
    "CONNECT_TIMEOUT",
    "MIGRATE_LOCK",
    "REGISTRATION_LOCK",
    "default_database_url",
    "exclusive",
    "is_sqlite",
    "make_engine",
    "migrate",
    "migration_heads",
    "normalize_url",
    "shown_url",
]

MIGRATIONS = Path(__file__).with_name("migrations")

# PostgreSQL advisory lock classes (the first of the two int4 keys; the second is a hash of
# the current schema, so databases in different schemas of one cluster never wait on each
# other). "ow" + a number.
MIGRATE_LOCK = 0x6F77_0001  # schema upgrades
REGISTRATION_LOCK = 0x6F77_0002  # start-up registration: server key check, root account/key

_SET_IT = "set it with --database-url or OPENWORKS_DATABASE_URL"
_FORMS = "sqlite:///PATH/openworks.db or postgresql://USER:PASSWORD@HOST:5432/DATABASE"
# "://user:" up to the first "@" (where SQLAlchemy ends a password), and any further
# "...@" before the path (an unescaped "@" in the password)
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@]*):[^@]*@(?:[^@/?#]*@)*")


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


# -- URLs that cannot be used: one line each ---------------------------------------------


def _unusable(message: str) -> Exception:
    """A :class:`openworks.errors.ConfigError` (what ``serve`` and the CLI print as one line)."""

    return ConfigError(message)


def shown_url(url: str | URL) -> str:
    """The URL without its password, fit to print: text as the user wrote it, with
    everything between ``://user:`` and the last ``@`` of the host part removed; an
    engine's URL rendered, ``postgresql+psycopg`` shown as the ``postgresql`` a user
    writes."""
    if isinstance(url, str):
        return _PASSWORD_IN_TEXT.sub(r"\1@", url)
    if url.drivername == "postgresql+psycopg":
        url = url.set(drivername="postgresql")
    # URL.set(password=None) keeps the password: None means "unchanged" there
    return url._replace(password=None).render_as_string(hide_password=False)


def _parsed(url: str) -> URL:
    """The URL parsed, if it names SQLite or PostgreSQL; else a one-line ConfigError."""
    try:
        parsed = make_url(normalize_url(url))
    except (ArgumentError, ValueError):
        raise _unusable(
            f"{shown_url(url)!r} is not a database URL: write {_FORMS}, and {_SET_IT}."
        ) from None
    if parsed.host and "@" in parsed.host:
        raise _unusable(
            f"the database URL {shown_url(url)} has more than one '@' before its path: write "
            f"an '@' in the user name or password as %40, and {_SET_IT}."
        )
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise _unusable(
            f"the database URL {shown_url(url)} names {parsed.get_backend_name()}, but "
            f"openworks stores its data in SQLite or PostgreSQL only: use {_FORMS}, and "
            f"{_SET_IT}."
        )
    return parsed


def _first_line(err: BaseException, password: str | None) -> str:
    """The driver's own one-line reason, without the password."""
    cause = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
    text = str(cause).strip()
    line = text.splitlines()[0].strip() if text else type(cause).__name__
    line = line.removeprefix("connection failed: ")
    if password:
        line = line.replace(password, "***")
    return line[:300]


def _advice(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return (
            "check that the path names an SQLite database file (or none yet) in a directory "
            f"this user may write, or choose another path; {_SET_IT}"
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return (
        f"check that PostgreSQL is running at {where} and accepts connections, and that the "
        f"user, password and database in the URL exist; {_SET_IT}"
    )


def _cannot_open(url: URL, err: BaseException) -> Exception:
    reason = _first_line(err, url.password if isinstance(url.password, str) else None)
    return _unusable(f"cannot open the database {shown_url(url)}: {reason}; {_advice(url)}.")


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


class _QueuedConnection(sqlite3.Connection):
    """An sqlite3 connection whose write transactions wait for their turn in a
    :class:`WriteQueue` (``queue`` is set on the subclass made per engine) and give it up
    when they end, however they end."""

    queue: WriteQueue

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turn: WriteTurn = self.queue.turn()

    def begin_write(self) -> None:
        self.turn.acquire()
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.turn.release()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.turn.release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.turn.release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.turn.close()


def _queued_factory(database: str) -> type[_QueuedConnection]:
    """The connection class of one database file: its writers share one queue."""
    path = Path(database.removeprefix("file:")).expanduser().absolute()
    queue = WriteQueue(f"{path}-writers")
    return type("QueuedConnection", (_QueuedConnection,), {"queue": queue})


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    memory = database in ("", ":memory:") or "mode=memory" in str(parsed.query)
    if not memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
    if not memory:
        connect_args["factory"] = _queued_factory(database)
    kwargs: dict[str, Any] = {"connect_args": connect_args}
    if memory:
        from sqlalchemy.pool import StaticPool

        kwargs["poolclass"] = StaticPool
    else:
        # 16 pooled connections (+8 overflow): more than can be busy at once (the request
        # threads, API_THREADS in server/fastpaths.py, the event loop's inline reads, the
        # worker), so connections are never closed and reopened under load and each keeps
        # its page cache warm
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
        driver = connection.connection.driver_connection
        # straight to the driver: exec_driver_sql would cost a full SQLAlchemy execution
        # (context, events, result) on every transaction
        if not connection.info.get("write", False):
            driver.execute("BEGIN")
        elif memory:
            driver.execute("BEGIN IMMEDIATE")
        else:
            driver.begin_write()  # its turn in the queue, then BEGIN IMMEDIATE

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # "write" is asked for per checkout: a reader must not inherit a writer's flag
        record.info.pop("write", None)

    return engine


def make_engine(url: str, *, pool: bool = True) -> Engine:
    """An engine for ``url`` (no connection yet: :func:`migrate` makes the first). A URL
    that cannot be used raises :class:`openworks.errors.ConfigError` with one line."""
    parsed = _parsed(url)
    url = normalize_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        schema.add_postgresql_predicates()  # the partial indexes' PostgreSQL option
        kwargs: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        if not pool:
            engine = create_engine(url, poolclass=NullPool, **kwargs)
        else:
            # no pool_pre_ping: pg_pool pings only a connection idle for seconds or one
            # the server has written to (a round trip saved on every checkout)
            engine = create_engine(url, pool_size=16, max_overflow=8, **kwargs)
        pg_pool.install(engine)
        return engine
    except ImportError as err:
        raise _unusable(
            f"the database URL {shown_url(url)} needs the Python module {err.name or err}, "
            f"which is not installed: use {_FORMS} (psycopg 3 comes with openworks), and "
            f"{_SET_IT}."
        ) from err
    except OSError as err:  # the SQLite file's directory cannot be made
        raise _cannot_open(parsed, err) from err


_heads: frozenset[str] | None = None
_known: frozenset[str] = frozenset()
_heads_lock = threading.Lock()


def migration_heads() -> frozenset[str]:
    """The revisions no other migration builds on, read from the migration files (without
    importing Alembic, which costs a third of a second at start-up); read once per process,
    by one thread at a time (CPython 3.11's ``ast`` can fail when threads parse at once)."""
    global _heads, _known
    with _heads_lock:
        if _heads is None:
            _known, _heads = _read_revisions()
        return _heads


def _read_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision of the migration files, and the heads among them."""
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
    return frozenset(revisions), frozenset(revisions - parents)


def _revisions_of(conn: Connection) -> frozenset[str] | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(row[0] for row in rows)


def _current_revisions(engine: Engine) -> frozenset[str] | None:
    """The database's revisions; the first contact with the database, so a URL that
    cannot be used (refused, unknown host, no such database, not an SQLite file) raises
    a one-line ConfigError, as does a schema newer than this openworks."""
    try:
        with engine.connect() as conn:
            current = _revisions_of(conn)
    except (DBAPIError, OSError) as err:
        raise _cannot_open(engine.url, err) from err
    migration_heads()  # reads the known revisions too
    unknown = sorted((current or frozenset()) - _known)
    if unknown:
        raise _unusable(
            f"the database {shown_url(engine.url)} has schema revision {', '.join(unknown)}, "
            "which this openworks does not know: a newer openworks migrated it. Upgrade "
            f"openworks, or use another database; {_SET_IT}."
        )
    return current


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
    transactional, so a host that dies mid-upgrade leaves the database as it was.

    A database that cannot be reached or opened, or whose schema is newer than this
    openworks, raises :class:`openworks.errors.ConfigError` with one line."""
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
