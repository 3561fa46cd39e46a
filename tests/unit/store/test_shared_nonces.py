"""Replay caches shared across processes: database and Redis."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from openworks.store import make_engine, migrate
from openworks.store.nonces import DatabaseNonceCache, RedisNonceCache
from tests.dbutil import fresh_database_url, postgres_base


@pytest.fixture
def database_cache(tmp_path: Path) -> Iterator[DatabaseNonceCache]:
    url = fresh_database_url("nonce") if postgres_base() else f"sqlite:///{tmp_path}/n.db"
    engine = make_engine(url)
    migrate(engine)
    yield DatabaseNonceCache(engine, window_seconds=60, sweep_every=3)
    engine.dispose()


@pytest.fixture
def redis_cache() -> Iterator[RedisNonceCache]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    prefix = f"openworks-test:{uuid.uuid4().hex}:"
    yield RedisNonceCache(client, prefix=prefix, window_seconds=60)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def test_database_cache_rejects_second_use(database_cache: DatabaseNonceCache) -> None:
    assert database_cache.check_and_add("key", "n1", 1000.0)
    assert not database_cache.check_and_add("key", "n1", 1001.0)
    assert database_cache.check_and_add("other-key", "n1", 1001.0)
    # after the window the nonce may be used again
    assert database_cache.check_and_add("key", "n1", 1061.0)
    assert not database_cache.check_and_add("key", "n1", 1062.0)


def test_database_cache_is_atomic_under_races(database_cache: DatabaseNonceCache) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        ok = database_cache.check_and_add("key", "race", 2000.0)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_redis_cache(redis_cache: RedisNonceCache) -> None:
    assert redis_cache.check_and_add("key", "n1", 0.0)
    assert not redis_cache.check_and_add("key", "n1", 0.0)
    assert redis_cache.check_and_add("key", "n2", 0.0)
