"""Bucket arithmetic, verdicts, headers and the in-flight gate, with an injected clock."""

from __future__ import annotations

import re
import threading

import pytest
from alibabacloud_tea_openapi.utils import Utils

from openworks.protocol import Throttled
from openworks.protocol.throttle import (
    PRESETS,
    InflightGate,
    Limits,
    MemoryLimiter,
    Policy,
    gcra,
    overloaded,
)

MS = 1_000_000
S = 1_000_000_000
# 2026-01-01T00:00:00Z: a whole number of days since the epoch (UTC+8 day starts 8 h earlier).
T0 = 1_767_225_600 * S
HEADER = re.compile(r"^Limit:\d+,Remain:\d+,TimeLeft:\d+$")


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += round(ms * MS)


def limiter(limits: Limits, clock: FakeClock, **accounts: Limits) -> MemoryLimiter:
    return MemoryLimiter(Policy(limits, accounts), clock)


def refused(lim: MemoryLimiter, op: str = "GetFile", read: bool = True, acct: str = "a") -> str:
    with pytest.raises(Throttled) as info:
        lim.admit(acct, op, read)
    return info.value.code


def hammer(lim: MemoryLimiter, clock: FakeClock, seconds: float, step_ms: float) -> list[int]:
    """Call as often as ``step_ms`` allows; the instants (ns) of admitted calls."""
    admitted: list[int] = []
    end = clock.now + round(seconds * S)
    while clock.now < end:
        if lim.check("a", "ListFiles", True).admitted:
            admitted.append(clock.now)
        clock.advance(step_ms)
    return admitted


@pytest.mark.parametrize("rate", [1, 5, 20, 50, 7])
def test_hammering_admits_exactly_the_burst_plus_the_rate(rate: int) -> None:
    clock = FakeClock()
    lim = limiter(Limits(read_qps=rate), clock)
    admitted = hammer(lim, clock, seconds=10, step_ms=1)
    interval = round(S / 1000 / rate) * 1000  # whole microseconds
    expected = rate + (10 * S - 1 * MS) // interval
    assert len(admitted) == expected


@pytest.mark.parametrize("rate", [5, 50, 3])
def test_every_second_of_steady_load_is_within_one_call_of_the_rate(rate: int) -> None:
    clock = FakeClock()
    lim = limiter(Limits(read_qps=rate), clock)
    admitted = hammer(lim, clock, seconds=6, step_ms=0.5)
    # After the first second (the initial burst), any one-second window.
    for start_ms in range(1000, 5000, 7):
        start = T0 + start_ms * MS
        count = sum(1 for t in admitted if start <= t < start + S)
        assert rate - 1 <= count <= rate + 1, (start_ms, count)
    first = sum(1 for t in admitted if t < T0 + S)
    assert first <= 2 * rate


def test_burst_then_retry_after_is_the_time_to_the_next_token() -> None:
    clock = FakeClock()
    lim = limiter(PRESETS["basic"], clock)
    for _ in range(5):
        lim.admit("a", "GetFile", True)
    clock.advance(30)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "GetFile", True)
    err = info.value
    assert (err.status, err.code) == (429, "Throttling.User")
    assert err.retry_after_ms == 170
    assert err.headers["x-acs-retry-after"] == "170"
    clock.advance(169)
    assert refused(lim) == "Throttling.User"
    clock.advance(1)
    lim.admit("a", "GetFile", True)  # exactly at the hint: admitted


def test_refused_calls_charge_nothing() -> None:
    clock = FakeClock()
    lim = limiter(Limits(qps=2), clock)
    lim.admit("a", "GetFile", True)
    lim.admit("a", "GetFile", True)
    for _ in range(50):
        refused(lim)
    clock.advance(500)
    lim.admit("a", "GetFile", True)


def test_basic_shares_one_bucket_between_reads_and_writes() -> None:
    clock = FakeClock()
    lim = limiter(PRESETS["basic"], clock)
    for i in range(5):
        lim.admit("a", "GetFile" if i % 2 else "UpdateFile", i % 2 == 1)
    assert refused(lim, "CreateFile", read=False) == "Throttling.User"
    assert refused(lim, "ListFiles", read=True) == "Throttling.User"


def test_enterprise_reads_and_writes_have_separate_buckets() -> None:
    clock = FakeClock()
    lim = limiter(PRESETS["enterprise"], clock)
    for _ in range(50):
        lim.admit("a", "ListFiles", True)
    assert refused(lim, "GetFile") == "Throttling.User"
    for _ in range(20):
        lim.admit("a", "CreateFile", False)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "DeployFile", False)
    assert "write operations" in info.value.message
    assert info.value.retry_after_ms == 50  # 20 QPS: one token every 50 ms


def test_accounts_are_counted_separately() -> None:
    clock = FakeClock()
    lim = limiter(Limits(qps=1), clock, vip=PRESETS["off"])
    lim.admit("a", "GetFile", True)
    assert refused(lim, acct="a") == "Throttling.User"
    lim.admit("b", "GetFile", True)
    for _ in range(100):
        lim.admit("vip", "GetFile", True)


def test_per_operation_limit_is_throttling_api() -> None:
    clock = FakeClock()
    lim = limiter(Limits(read_qps=50, write_qps=20, operations={"DeployFile": 1}), clock)
    lim.admit("a", "DeployFile", False)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "DeployFile", False)
    err = info.value
    assert err.code == "Throttling.Api"
    assert "DeployFile" in err.message
    assert err.retry_after_ms == 1000
    assert err.headers["x-ratelimit-user-api"] == "Limit:1,Remain:0,TimeLeft:1000"
    lim.admit("a", "SubmitFile", False)  # other operations are not affected


def test_account_limit_takes_precedence_and_the_hint_covers_both() -> None:
    clock = FakeClock()
    lim = limiter(Limits(qps=1, operations={"GetFile": 0.5}), clock)
    lim.admit("a", "GetFile", True)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "GetFile", True)
    assert info.value.code == "Throttling.User"
    assert info.value.retry_after_ms == 2000  # the operation bucket needs 2 s
    clock.advance(1000)
    assert refused(lim) == "Throttling.Api"
    clock.advance(1000)
    lim.admit("a", "GetFile", True)


def test_daily_cap_counts_calls_until_the_day_ends_in_utc_plus_8() -> None:
    clock = FakeClock(T0 + 15 * 3600 * S)  # 23:00 in UTC+8
    lim = limiter(PRESETS["basic"], clock)
    for _ in range(100):
        lim.admit("a", "GetFile", True)
        clock.advance(1000)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "GetFile", True)
    err = info.value
    assert err.code == "Throttling.Resource"
    left = 3600 * 1000 - 100 * 1000  # midnight UTC+8 is 16:00 UTC
    assert err.retry_after_ms == left
    assert err.headers["x-ratelimit-user"] == f"Limit:100,Remain:0,TimeLeft:{left}"
    lim.admit("b", "GetFile", True)  # another account has its own count
    clock.advance(left)
    lim.admit("a", "GetFile", True)  # a new day


def test_day_offset_is_configurable() -> None:
    clock = FakeClock(T0 - 1 * S)
    lim = MemoryLimiter(Policy(Limits(daily=1), day_offset_hours=0), clock)
    lim.admit("a", "GetFile", True)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "GetFile", True)
    assert info.value.retry_after_ms == 1000


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (PRESETS["basic"], "Throttling.User"),
        (Limits(write_qps=1, operations={"CreateFile": 1}), "Throttling.User"),
        (Limits(operations={"CreateFile": 1}), "Throttling.Api"),
        (Limits(daily=1), "Throttling.Resource"),
    ],
)
def test_every_429_has_both_ratelimit_headers_in_the_old_sdk_form(
    limits: Limits, code: str
) -> None:
    lim = limiter(limits, FakeClock())
    for _ in range(5):
        lim.check("a", "CreateFile", False)
    with pytest.raises(Throttled) as info:
        lim.admit("a", "CreateFile", False)
    err = info.value
    assert err.code == code
    user, user_api = err.headers["x-ratelimit-user"], err.headers["x-ratelimit-user-api"]
    assert HEADER.match(user) and HEADER.match(user_api), (user, user_api)
    # tea-openapi 0.4.0-0.4.4 take the larger TimeLeft of the two as the retry hint.
    hint = max(Utils._get_time_left(user), Utils._get_time_left(user_api))
    assert hint == err.retry_after_ms


def test_gcra_state_reports_tokens_and_wait() -> None:
    state, tat = gcra(None, 1000, 100, 3)
    assert (state.remain, state.wait_ns, tat) == (3, 0, 1100)
    state, tat = gcra(1300, 1000, 100, 3)  # three tokens spent
    assert (state.remain, state.wait_ns) == (0, 100)
    state, _ = gcra(1250, 1000, 100, 3)
    assert (state.remain, state.wait_ns) == (0, 50)


def test_burst_seconds_sets_the_bucket_depth() -> None:
    clock = FakeClock()
    lim = limiter(Limits(qps=10, burst_seconds=0.1), clock)
    lim.admit("a", "GetFile", True)
    assert refused(lim) == "Throttling.User"  # depth 1: strict 100 ms spacing
    clock.advance(100)
    lim.admit("a", "GetFile", True)


def test_off_policy_is_inactive_and_admits_everything() -> None:
    assert not Policy(PRESETS["off"]).active
    assert Policy(PRESETS["off"], {"x": PRESETS["basic"]}).active
    lim = limiter(PRESETS["off"], FakeClock())
    for _ in range(1000):
        lim.admit("a", "CreateFile", False)


def test_concurrent_callers_never_exceed_the_bucket() -> None:
    lim = limiter(Limits(qps=25), FakeClock())
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = lim.check("a", "GetFile", True).admitted
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 25 and len(results) == 400


def test_inflight_gate_bounds_and_releases() -> None:
    gate = InflightGate(2)
    assert gate.try_enter() and gate.try_enter()
    assert not gate.try_enter()
    gate.leave()
    assert gate.try_enter()
    unbounded = InflightGate(0)
    assert all(unbounded.try_enter() for _ in range(1000))


def test_overloaded_is_throttling_system_with_all_headers() -> None:
    err = overloaded(8)
    assert (err.status, err.code) == (429, "Throttling.System")
    assert int(err.headers["x-acs-retry-after"]) > 0
    assert err.headers["x-ratelimit-user"] == f"Limit:8,Remain:0,TimeLeft:{err.retry_after_ms}"
    assert HEADER.match(err.headers["x-ratelimit-user-api"])
