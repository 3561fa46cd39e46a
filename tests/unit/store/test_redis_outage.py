"""A Redis outage: the replay cache fails closed (503), warns once, recovers by itself."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from openworks.protocol.errors import ServerError
from openworks.store.nonces import RedisNonceCache
from openworks.store.redis_outage import RedisOutage, redis_client


class FlakyRedis:
    """Just enough of a client: SET NX and PING, failing while ``up`` is clear."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.up.set()
        self.keys: set[str] = set()
        self.commands = 0

    def _answer(self) -> None:
        self.commands += 1
        if not self.up.is_set():
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    def set(self, name: str, _value: bytes, nx: bool, px: int) -> bool | None:
        assert nx and px > 0
        self._answer()
        if name in self.keys:
            return None
        self.keys.add(name)
        return True

    def ping(self) -> bool:
        self._answer()
        return True

    def close(self) -> None:
        pass


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_outage_fails_closed_warns_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="openworks.redis")
    client = FlakyRedis()
    cache = RedisNonceCache(client, window_seconds=60)
    cache.outage.probe_interval = 0.02
    try:
        assert cache.check_and_add("key", "n1", 0.0)
        assert not cache.check_and_add("key", "n1", 0.0)  # a replay, while Redis is up
        client.up.clear()
        for i in range(20):
            with pytest.raises(ServerError) as info:
                cache.check_and_add("key", f"down{i}", 0.0)
            assert (info.value.status, info.value.code) == (503, "ServiceUnavailable")
            assert "the replay cache (Redis) is unreachable" in info.value.message
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "the replay cache: Redis unreachable" in warnings[0].message
        # while down, calls are refused without waiting on Redis: only probes reach it
        before = client.commands
        with pytest.raises(ServerError):
            cache.check_and_add("key", "fast", 0.0)
        assert client.commands - before <= 1
        client.up.set()
        wait_until(lambda: not cache.outage.down)
        assert cache.check_and_add("key", "n2", 0.0)
        assert not cache.check_and_add("key", "n1", 0.0)  # replays are still refused
        assert any("reachable again" in r.message for r in caplog.records)
        # a second outage warns again, once
        client.up.clear()
        for _ in range(3):
            with pytest.raises(ServerError):
                cache.check_and_add("key", "n3", 0.0)
        assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 2
    finally:
        cache.close()
    assert cache.outage._probe is None or not cache.outage._probe.is_alive()


def test_unexpected_redis_errors_are_503_too() -> None:
    class Broken(FlakyRedis):
        def set(self, name: str, _value: bytes, nx: bool, px: int) -> bool | None:
            raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")

    cache = RedisNonceCache(Broken())
    try:
        with pytest.raises(ServerError) as info:
            cache.check_and_add("key", "n", 0.0)
        assert info.value.status == 503
    finally:
        cache.close()


def test_redis_client_gives_up_quickly() -> None:
    """A refused connection costs milliseconds: no retries, no backoff."""
    client = redis_client("redis://127.0.0.1:1/0", timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        assert time.monotonic() - started < 0.5
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 0.5
    finally:
        client.close()


def test_nonce_cache_from_url_fails_closed_quickly() -> None:
    cache = RedisNonceCache.from_url("redis://127.0.0.1:1/0", timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(ServerError) as info:
            cache.check_and_add("key", "n", 0.0)
        assert info.value.status == 503 and time.monotonic() - started < 0.5
    finally:
        cache.close()


def test_close_stops_the_probe() -> None:
    client = FlakyRedis()
    client.up.clear()
    outage = RedisOutage(client, "the replay cache", probe_interval=0.01)
    outage.failed(redis.ConnectionError("refused"))
    assert outage.down
    outage.close()
    assert outage._probe is not None and not outage._probe.is_alive()
    assert outage.down  # closed while down: stays down
