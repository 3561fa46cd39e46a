"""The Redis limiter against the Redis at 127.0.0.1:6379, under a unique key prefix."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from openworks.protocol import Throttled
from openworks.protocol.errors import ServerError
from openworks.protocol.throttle import PRESETS, Limits, MemoryLimiter, Policy
from openworks.store.redis_throttle import RedisLimiter

from .protocol.test_throttle import HEADER, T0, FakeClock, S

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    client = redis.Redis.from_url(URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.skip(f"no Redis at {URL}: {err}")
    name = f"openworks-test:{uuid.uuid4().hex}:"
    yield name
    keys = list(client.scan_iter(match=name + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def make(policy: Policy, prefix: str, clock: FakeClock | None) -> RedisLimiter:
    return RedisLimiter(policy, URL, prefix=prefix, clock=clock)


@pytest.mark.parametrize("rate", [5, 50, 7])
def test_same_admissions_as_the_memory_limiter(prefix: str, rate: int) -> None:
    policy = Policy(Limits(read_qps=rate, write_qps=2, operations={"GetFile": 3}, daily=60))
    mem_clock, red_clock = FakeClock(), FakeClock()
    memory = MemoryLimiter(policy, mem_clock)
    shared = make(policy, prefix, red_clock)
    ops = [("ListFiles", True), ("GetFile", True), ("CreateFile", False)]
    for step in range(400):
        op, read = ops[step % 3]
        expected = memory.check("a", op, read)
        got = shared.check("a", op, read)
        assert (got.code, got.retry_after_ms) == (expected.code, expected.retry_after_ms), step
        assert (got.user, got.user_api) == (expected.user, expected.user_api), step
        mem_clock.advance(7)
        red_clock.advance(7)


def test_daily_cap_and_reset(prefix: str) -> None:
    clock = FakeClock(T0 + 15 * 3600 * S)  # 23:00 UTC+8
    lim = make(Policy(PRESETS["basic"]), prefix, clock)
    for _ in range(100):
        lim.admit("acct", "GetFile", True)
        clock.advance(1000)
    with pytest.raises(Throttled) as info:
        lim.admit("acct", "GetFile", True)
    assert info.value.code == "Throttling.Resource"
    assert info.value.retry_after_ms == 3600 * 1000 - 100 * 1000
    assert HEADER.match(info.value.headers["x-ratelimit-user"])
    clock.advance(info.value.retry_after_ms)
    lim.admit("acct", "GetFile", True)


def test_two_processes_share_one_bucket(prefix: str) -> None:
    policy = Policy(Limits(write_qps=10))
    clock = FakeClock()
    first, second = make(policy, prefix, clock), make(policy, prefix, clock)
    admitted = [
        (first if i % 2 else second).check("a", "CreateFile", False).admitted for i in range(30)
    ]
    assert sum(admitted) == 10
    other = make(policy, prefix + "other:", clock)
    assert other.check("a", "CreateFile", False).admitted  # another prefix, another bucket


def test_concurrent_clients_never_exceed_the_bucket(prefix: str) -> None:
    policy = Policy(Limits(qps=20))
    clock = FakeClock()
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        lim = make(policy, prefix, clock)
        for _ in range(15):
            ok = lim.check("a", "GetFile", True).admitted
            with lock:
                results.append(ok)
        lim.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 20 and len(results) == 90


def test_redis_time_without_an_injected_clock(prefix: str) -> None:
    lim = make(Policy(Limits(qps=3)), prefix, None)
    for _ in range(3):
        lim.admit("a", "GetFile", True)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "GetFile", True)
    assert 0 < info.value.retry_after_ms <= 334


def test_keys_expire_once_the_bucket_is_full_again(prefix: str) -> None:
    lim = make(Policy(Limits(qps=2)), prefix, FakeClock())
    lim.admit("a", "GetFile", True)
    client = redis.Redis.from_url(URL)
    ttl = client.pttl(prefix + "{a}:all")
    client.close()
    assert 60_000 < ttl <= 500 + 60_000


def test_unreachable_redis_fails_closed_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    lim = RedisLimiter(Policy(Limits(qps=1)), "redis://127.0.0.1:1/0", clock=FakeClock())
    try:
        for _ in range(5):
            with pytest.raises(ServerError) as info:
                lim.admit("a", "GetFile", True)
            assert (info.value.status, info.value.code) == (503, "ServiceUnavailable")
            assert "the rate limiter (Redis) is unreachable" in info.value.message
        warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
        assert lim.outage.down and lim.outage.refused == 5
    finally:
        lim.close()


def test_unlimited_calls_need_no_redis() -> None:
    lim = RedisLimiter(Policy(Limits()), "redis://127.0.0.1:1/0")
    try:
        lim.admit("a", "GetFile", True)  # no bucket, no daily cap: Redis is not asked
    finally:
        lim.close()
