"""The replay check on PostgreSQL: one statement, one round trip, no wait for the disk.

Each check is a single ``INSERT … ON CONFLICT`` on a connection of this module's own
small pool (``autocommit``, ``synchronous_commit = off``), prepared once per
connection::

    check_and_add ─▶ an idle connection (or a new one) ─▶ INSERT (digest, expires_at)
        ON CONFLICT (digest) DO UPDATE SET expires_at … WHERE the old sighting expired
        RETURNING 1 ─▶ a row: first use (or expired: usable again) → True
                    └▶ no row: seen within the window → False
    every sweep_every-th call ─▶ DELETE the expired rows (same connection)
    a connection lost ─▶ closed, replaced, the statement run once more

Atomic across processes and hosts: two inserts of one digest serialise on its unique
index; the loser waits for the winner's commit and then updates only an expired row.

Why ``synchronous_commit = off`` is safe: the commit returns before its WAL record is on
disk, so a crash of the PostgreSQL server (not of openworks) can forget the nonces of the
last ~0.6 s (three ``wal_writer_delay``). A call that wrote anything commits after its
nonce did, and PostgreSQL flushes WAL in order, so whenever a write survived the crash
its nonce did too: what can be forgotten is the nonce of a read, or of a write that left
no trace, and a replay of either repeats a read (within the signature's 15 minutes).

Why a pool of its own: the session setting would otherwise reach the engine's write
transactions, and ``SET LOCAL`` needs a transaction (two round trips more). The pool
holds as many connections as checks ever ran at once (the API threads); they are closed
when the engine is disposed or the cache collected.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from .pg_pool import driver_params, quiet
from .schema_scale import nonces

__all__ = ["PostgresNonces"]

_T = nonces.name
_CHECK = (
    f"INSERT INTO {_T} (digest, expires_at) VALUES (%s, %s) "
    f"ON CONFLICT (digest) DO UPDATE SET expires_at = EXCLUDED.expires_at "
    f"WHERE {_T}.expires_at <= %s RETURNING 1"
)
_SWEEP = f"DELETE FROM {_T} WHERE expires_at < %s"


def _close_all(idle: list[psycopg.Connection[Any]]) -> None:
    while idle:
        idle.pop().close()


class PostgresNonces:
    """The ``nonces`` table of a PostgreSQL engine, reached as the module docstring says."""

    def __init__(self, engine: Engine, window_ms: int, sweep_every: int) -> None:
        self._params: dict[str, Any] = driver_params(engine)
        self.window_ms = window_ms
        self._sweep_every = sweep_every
        self._calls = itertools.count(1)
        self._idle: list[psycopg.Connection[Any]] = []
        self._closed = False
        idle = self._idle  # the hooks hold the list, not the cache
        weakref.finalize(self, _close_all, idle)
        event.listen(engine, "engine_disposed", lambda _engine: _close_all(idle))

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(autocommit=True, **self._params)
        conn.execute("SET synchronous_commit = off")
        return conn

    def _take(self) -> psycopg.Connection[Any]:
        while True:
            try:
                conn = self._idle.pop()  # atomic under the GIL: no lock needed
            except IndexError:
                return self._connect()
            if not conn.closed and quiet(conn):
                return conn
            conn.close()  # the server hung up (or wrote something unasked): replace it

    def _give(self, conn: psycopg.Connection[Any]) -> None:
        if self._closed or conn.closed or conn.broken:
            conn.close()
        else:
            self._idle.append(conn)

    def _run(self, conn: psycopg.Connection[Any], digest: str, now_ms: int) -> bool:
        expires = now_ms + self.window_ms
        cursor = conn.execute(_CHECK, (digest, expires, now_ms), prepare=True)
        fresh = cursor.fetchone() is not None
        if next(self._calls) % self._sweep_every == 0:
            conn.execute(_SWEEP, (now_ms,), prepare=False)
        return fresh

    def check_and_add(self, digest: str, now_ms: int) -> bool:
        """True for a digest not seen within the window (now recorded), False otherwise."""
        conn = self._take()
        try:
            try:
                return self._run(conn, digest, now_ms)
            except psycopg.OperationalError:
                if not (conn.closed or conn.broken):
                    raise
            # the connection is gone (the server restarted, the session was ended): once
            # more on a new one
            conn.close()
            conn = self._connect()
            return self._run(conn, digest, now_ms)
        finally:
            self._give(conn)

    def close(self) -> None:
        """Close the idle connections; those in use close when they come back."""
        self._closed = True
        _close_all(self._idle)
