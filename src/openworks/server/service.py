"""What one server process holds (:class:`Service`) and how it is built.

::

    Settings ──build_service──▶ database migrated, secrets sealed, root key registered
                                ├── Core (SqlStore; test control only with --control)
                                │   + Worker (told of new packages)
                                ├── KeyCache     AccessKey lookups, kept ``ttl`` seconds
                                ├── NonceCache   memory, database or Redis (make_nonce_cache)
                                ├── Limiter      rate limits, or None (server/admission.py)
                                └── Security     STS credentials and the audit trail
                                                 (its audit writer: close() at shutdown)

The pipeline, the console and test control all take a :class:`Service`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from openworks.config import Settings
from openworks.core.context import Core
from openworks.core.model import Principal
from openworks.metrics import exposure
from openworks.protocol import Credential, MemoryNonceCache, NonceCache
from openworks.protocol.throttle import Limiter
from openworks.security import Security
from openworks.store import make_engine, migrate, open_core
from openworks.store.identity import (
    ensure_account,
    ensure_key,
    lookup_key,
    seal_plaintext_secrets,
)
from openworks.store.secrets import SecretBox, load_server_key
from openworks.worker import Worker

from .admission import build_limiter
from .downloads import install_blobs

__all__ = ["KeyCache", "Service", "build_service", "make_nonce_cache"]


class KeyCache:
    """AccessKey lookups, remembered for ``ttl`` seconds (a disabled key stops within it).

    Bounded in bytes, not only entries: at most ``max_bytes`` of key ids and secrets
    (misses included), the oldest entries evicted first. Key ids reach it only after
    :func:`~openworks.protocol.signing.identify` checked their shape (≤ 128 characters).
    """

    _OVERHEAD = 256  # bytes of tuple, Credential and dict slot per entry, roughly

    def __init__(
        self, engine: Engine, box: SecretBox, ttl: float = 2.0, max_bytes: int = 4 << 20
    ) -> None:
        self.engine = engine
        self.box = box
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._cache: dict[str, tuple[float, Credential | None, int]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """Estimated bytes held (key ids, secrets and per-entry overhead)."""
        return self._bytes

    def __call__(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = lookup_key(self.engine, self.box, access_key_id)
        credential = None
        if record is not None:
            principal = Principal(record.account_id, record.user_id, record.user_name)
            credential = Credential(record.access_key_id, record.secret, record.active, principal)
        size = (
            self._OVERHEAD + 2 * len(access_key_id) + (len(credential.secret) if credential else 0)
        )
        with self._lock:
            old = self._cache.pop(access_key_id, None)
            if old is not None:
                self._bytes -= old[2]
            while self._cache and self._bytes + size > self.max_bytes:
                _oldest, evicted = self._pop_oldest()
                self._bytes -= evicted[2]
            self._cache[access_key_id] = (now + self.ttl, credential, size)
            self._bytes += size
        return credential

    def _pop_oldest(self) -> tuple[str, tuple[float, Credential | None, int]]:
        oldest = next(iter(self._cache))
        return oldest, self._cache.pop(oldest)

    def clear(self) -> None:
        """Forget every remembered lookup (test control's reset removes keys)."""
        with self._lock:
            self._cache.clear()
            self._bytes = 0


@dataclass
class Service:
    """Everything one server process holds."""

    settings: Settings
    engine: Engine
    core: Core
    worker: Worker
    keys: KeyCache
    nonces: NonceCache
    root_key_id: str
    dev_key: bool
    limiter: Limiter | None = None  # per-account rate limits; None = throttling off
    security: Security | None = None  # STS credentials and the audit trail

    def close(self) -> None:
        """At shutdown, after the last call: the audit rows still queued are written and
        the audit writer's thread ends (openworks.store.audit_writer)."""
        if self.security is not None:
            self.security.close()


def make_nonce_cache(settings: Settings, engine: Engine) -> NonceCache:
    """The replay cache this process shares with its siblings (see Settings.nonce_store)."""
    store = settings.resolved_nonce_store()
    if store == "redis":
        from openworks.store.nonces import RedisNonceCache

        return RedisNonceCache.from_url(settings.redis_url or "", settings.redis_timeout)
    if store == "database":
        from openworks.store.nonces import DatabaseNonceCache

        return DatabaseNonceCache(engine)
    return MemoryNonceCache()


def build_service(settings: Settings) -> Service:
    """Open the database, apply migrations, register the root key, prepare the worker."""
    key_id, secret, dev = settings.root_key()
    exposure(settings)  # an unusable --metrics / token: ConfigError before anything opens
    limiter = build_limiter(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    box = SecretBox(load_server_key(settings.database_url))  # secrets sealed at rest
    seal_plaintext_secrets(engine, box)
    ensure_account(engine, settings.account_id)
    ensure_key(engine, box, settings.account_id, key_id, secret)
    core = open_core(engine, box, test_control=settings.control)  # test control: a gate
    install_blobs(settings, engine, core, load_server_key(settings.database_url))
    worker = Worker(core)
    core.on_package = worker.notify
    return Service(
        settings,
        engine,
        core,
        worker,
        KeyCache(engine, box),
        make_nonce_cache(settings, engine),
        key_id,
        dev,
        limiter=limiter,
        security=Security(engine, box),
    )
