"""Replay caches shared by several processes: in the database, or in Redis.

Both implement :class:`openworks.protocol.nonces.NonceCache`; which one a server uses is
decided in ``app.build_service``::

    Redis configured ─────────────▶ RedisNonceCache     SET key NX PX window
    several processes / PostgreSQL ▶ DatabaseNonceCache  PostgreSQL: one INSERT … ON
                                                         CONFLICT into ``nonces``, no
                                                         row back means "seen" (nonce_pg)
                                                         SQLite file: the hash table in
                                                         ``<database>-nonces`` (nonce_file)
    one process on SQLite ─────────▶ MemoryNonceCache    (protocol layer)

On SQLite the ``nonces`` table is used only by an in-memory database (one process anyway):
an insert there would take the database's single write lock for every signed request.

While Redis cannot be reached, :class:`RedisNonceCache` answers every check with
``503 ServiceUnavailable`` instead of letting a call through unchecked
(:mod:`openworks.store.redis_outage`).
"""

from __future__ import annotations

import hashlib
import itertools

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .nonce_file import FileNonceCache, nonce_path
from .nonce_pg import PostgresNonces
from .schema_scale import nonces

__all__ = ["DatabaseNonceCache", "RedisNonceCache", "nonce_digest"]


def nonce_digest(key: str, nonce: str) -> str:
    data = key.encode("utf-8", "surrogatepass") + b"\x00" + nonce.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_INSERT = insert(nonces)  # built once: the values travel as execution parameters


def _sqlite_file(engine: Engine) -> str | None:
    """The database file of an SQLite engine; None for PostgreSQL and in-memory SQLite."""
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if "mode=memory" in str(url.query):
        return None
    from pathlib import Path

    return str(Path(database.removeprefix("file:")).expanduser().absolute())


class DatabaseNonceCache:
    """Nonces shared by every process of the database; correct across any number of them:
    in the ``nonces`` table (PostgreSQL: store/nonce_pg.py, one round trip a check), or in
    the nonce file of an SQLite database."""

    def __init__(self, engine: Engine, window_seconds: int = 1800, sweep_every: int = 1000):
        self.engine = engine
        self.window_ms = window_seconds * 1000
        self._calls = itertools.count(1)
        self._sweep_every = sweep_every
        database = _sqlite_file(engine)
        self.file = (
            FileNonceCache(nonce_path(database), window_seconds) if database is not None else None
        )
        self.postgres = (
            PostgresNonces(engine, self.window_ms, sweep_every)
            if engine.dialect.name == "postgresql"
            else None
        )

    def check_and_add(self, key: str, nonce: str, now: float) -> bool:
        if self.file is not None:
            return self.file.check_and_add(key, nonce, now)
        if self.postgres is not None:
            return self.postgres.check_and_add(nonce_digest(key, nonce), int(now * 1000))
        return self._in_table(nonce_digest(key, nonce), int(now * 1000))

    def _in_table(self, digest: str, now_ms: int) -> bool:
        """The ``nonces`` table through SQLAlchemy: an in-memory SQLite database."""
        expires = now_ms + self.window_ms
        with self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    conn.execute(_INSERT, {"digest": digest, "expires_at": expires})
                    if next(self._calls) % self._sweep_every == 0:
                        conn.execute(delete(nonces).where(nonces.c.expires_at < now_ms))
                return True
            except IntegrityError:
                pass
            # seen before: usable again only if that sighting has expired
            with conn.begin():
                row = conn.execute(
                    select(nonces.c.expires_at).where(nonces.c.digest == digest).with_for_update()
                ).first()
                if row is not None and row.expires_at > now_ms:
                    return False
                conn.execute(
                    update(nonces).where(nonces.c.digest == digest).values(expires_at=expires)
                )
                return True

    def close(self) -> None:
        """Close the PostgreSQL connections of the replay check (the engine is the caller's)."""
        if self.postgres is not None:
            self.postgres.close()


class RedisNonceCache:
    """Nonces in Redis with a TTL; atomic via ``SET NX``.

    Fails closed: while Redis is unreachable :meth:`check_and_add` raises the
    ``ServiceUnavailable`` error (503) rather than admit a call it cannot check.
    """

    def __init__(
        self, client: object, prefix: str = "openworks:nonce:", window_seconds: int = 1800
    ):
        self.client = client
        self.prefix = prefix
        self.window_ms = window_seconds * 1000
        from .redis_outage import RedisOutage  # imports redis: only when Redis is used

        self.outage = RedisOutage(client, "the replay cache")
        self._errors = self.outage.errors

    @classmethod
    def from_url(cls, url: str, timeout: float = 0.5) -> RedisNonceCache:
        """A cache on its own client: short connect/socket timeouts (seconds), no retries."""
        from .redis_outage import redis_client

        return cls(redis_client(url, timeout))

    def check_and_add(self, key: str, nonce: str, now: float) -> bool:
        self.outage.check()
        name = self.prefix + nonce_digest(key, nonce)
        try:
            result = self.client.set(name, b"1", nx=True, px=self.window_ms)  # type: ignore[attr-defined]
        except self._errors as err:
            raise self.outage.failed(err) from err
        return bool(result)

    def close(self) -> None:
        self.outage.close()
        self.client.close()  # type: ignore[attr-defined]
