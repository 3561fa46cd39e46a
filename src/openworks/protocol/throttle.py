"""Rate limits per account and the server-wide in-flight bound, with no I/O of their own.

Every API call of an account goes through the buckets its :class:`Policy` plans for it::

    plan(account, operation, is_read)
        ├── account buckets (scope "user")    ─ over ─▶ 429 Throttling.User
        │     "all"  every operation together   (the basic edition's 5 QPS)
        │     "read" / "write"  by access class (enterprise: 50 / 20 QPS)
        ├── operation bucket (scope "api")    ─ over ─▶ 429 Throttling.Api
        │     "op:<Name>"  a per-operation override
        └── daily cap, calendar day in UTC+8  ─ over ─▶ 429 Throttling.Resource

    server-wide, before anything else: InflightGate ─ full ─▶ 429 Throttling.System

A bucket is a token bucket written in GCRA form: its whole state is one integer, the
*theoretical arrival time* ``tat`` in nanoseconds. A bucket of ``capacity`` tokens that
refills one token every ``interval`` ns admits a call at ``now`` when
``max(tat, now) + interval - now <= capacity * interval``, and then advances ``tat`` by
``interval``. Integer arithmetic makes it exact: hammered without pause from a full
bucket, it admits ``capacity + floor(T / interval)`` calls in ``T`` nanoseconds, so any
one-second window of steady load holds the configured rate to within one call.

A call is admitted only when every bucket has a token and the daily cap is not reached;
then all buckets are charged and the day's counter goes up by one. A rejected call charges
nothing. Counting happens at admission, so a call that fails later (bad parameters, a
missing workspace) still counts toward the daily cap, as DataWorks counts it.

:class:`MemoryLimiter` keeps the state in this process (a clock is injected for tests);
``openworks.store.redis_throttle.RedisLimiter`` runs the same arithmetic in a Lua script
for limits that hold across processes. Both implement :class:`Limiter`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .errors import Throttled

__all__ = [
    "DAY_NS",
    "PRESETS",
    "SYSTEM_RETRY_AFTER_MS",
    "Bucket",
    "BucketState",
    "Clock",
    "InflightGate",
    "Limiter",
    "Limits",
    "MemoryLimiter",
    "Plan",
    "Policy",
    "Quota",
    "Verdict",
    "decide",
    "gcra",
    "overloaded",
    "ratelimit_header",
]

NS = 1_000_000_000
MS = 1_000_000
DAY_NS = 86_400 * NS
SYSTEM_RETRY_AFTER_MS = 200

Clock = Callable[[], int]
"""Nanoseconds since the epoch (``time.time_ns``); a fake in tests."""

Scope = Literal["user", "api"]


@dataclass(frozen=True, slots=True)
class Limits:
    """One account's limits. ``0`` means "no limit" for every field."""

    qps: float = 0.0
    read_qps: float = 0.0
    write_qps: float = 0.0
    daily: int = 0
    operations: Mapping[str, float] = field(default_factory=dict)
    burst_seconds: float = 1.0

    @property
    def active(self) -> bool:
        rates = (self.qps, self.read_qps, self.write_qps, *self.operations.values())
        return self.daily > 0 or any(rate > 0 for rate in rates)


PRESETS: dict[str, Limits] = {
    "off": Limits(),
    "basic": Limits(qps=5, daily=100),
    "standard": Limits(read_qps=50, write_qps=20),
    "professional": Limits(read_qps=50, write_qps=20),
    "enterprise": Limits(read_qps=50, write_qps=20),
}


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    scope: Scope
    interval_ns: int
    capacity: int
    rate: float

    @classmethod
    def of(cls, key: str, scope: Scope, rate: float, burst_seconds: float) -> Bucket:
        capacity = max(1, round(rate * burst_seconds))
        # Whole microseconds, so that the Redis script (which counts in µs) agrees exactly.
        return cls(key, scope, max(1, round(NS / 1000 / rate)) * 1000, capacity, rate)


@dataclass(frozen=True, slots=True)
class Plan:
    buckets: tuple[Bucket, ...]
    daily: int


@dataclass(frozen=True)
class Policy:
    """Limits for every account, with optional per-account replacements."""

    default: Limits = field(default_factory=Limits)
    accounts: Mapping[str, Limits] = field(default_factory=dict)
    day_offset_hours: float = 8.0

    @property
    def active(self) -> bool:
        return self.default.active or any(lim.active for lim in self.accounts.values())

    def limits_for(self, account: str) -> Limits:
        return self.accounts.get(account, self.default)

    def plan(self, account: str, operation: str, is_read: bool) -> Plan:
        lim = self.limits_for(account)
        burst = lim.burst_seconds
        buckets: list[Bucket] = []
        if lim.qps > 0:
            buckets.append(Bucket.of("all", "user", lim.qps, burst))
        cls_rate = lim.read_qps if is_read else lim.write_qps
        if cls_rate > 0:
            buckets.append(Bucket.of("read" if is_read else "write", "user", cls_rate, burst))
        op_rate = lim.operations.get(operation, 0.0)
        if op_rate > 0:
            buckets.append(Bucket.of(f"op:{operation}", "api", op_rate, burst))
        return Plan(tuple(buckets), lim.daily)

    def day(self, now_ns: int) -> tuple[int, int]:
        """The day number of ``now_ns`` and milliseconds until the next day starts."""
        shifted = now_ns + int(self.day_offset_hours * 3600 * NS)
        index = shifted // DAY_NS
        return index, -(-((index + 1) * DAY_NS - shifted) // MS)


@dataclass(frozen=True, slots=True)
class BucketState:
    """A bucket seen at one instant: whole tokens left and ns until a token is free."""

    remain: int
    wait_ns: int


def gcra(tat: int | None, now: int, interval: int, capacity: int) -> tuple[BucketState, int]:
    """One bucket at ``now``: its state, and the new ``tat`` should the call be admitted."""
    start = now if tat is None or tat < now else tat
    tau = capacity * interval
    backlog = start - now
    wait = backlog + interval - tau
    remain = max(0, (tau - backlog) // interval)
    return BucketState(remain, max(0, wait)), start + interval


@dataclass(frozen=True, slots=True)
class Quota:
    """One ``x-ratelimit-*`` header: ``Limit:N,Remain:N,TimeLeft:MS``."""

    limit: int
    remain: int
    time_left_ms: int


def ratelimit_header(quota: Quota) -> str:
    return f"Limit:{quota.limit},Remain:{quota.remain},TimeLeft:{quota.time_left_ms}"


def _ms(ns: int) -> int:
    return -(-ns // MS)


@dataclass(frozen=True, slots=True)
class Verdict:
    code: str | None
    message: str = ""
    retry_after_ms: int = 0
    user: Quota | None = None
    user_api: Quota | None = None

    @property
    def admitted(self) -> bool:
        return self.code is None

    def error(self) -> Throttled:
        headers: dict[str, str] = {}
        if self.user is not None:
            headers["x-ratelimit-user"] = ratelimit_header(self.user)
        if self.user_api is not None:
            headers["x-ratelimit-user-api"] = ratelimit_header(self.user_api)
        assert self.code is not None
        return Throttled(self.code, self.message, self.retry_after_ms, headers)


ADMITTED = Verdict(None)


def _calls(rate: float) -> str:
    return f"{rate:g} call{'' if rate == 1 else 's'} per second"


def decide(
    plan: Plan,
    operation: str,
    states: Sequence[BucketState],
    daily_used: int,
    day_left_ms: int,
) -> Verdict:
    """The verdict for a call, given each planned bucket's state and the day's count.

    Precedence: daily cap, then account buckets, then operation buckets. The retry hint
    is the longest wait among the buckets that refuse, so that a call made after it
    would pass if nothing else came in between.
    """
    pairs = list(zip(plan.buckets, states, strict=True))

    def quota(bucket: Bucket, state: BucketState) -> Quota:
        return Quota(bucket.capacity, state.remain, _ms(state.wait_ns))

    user = [quota(b, s) for b, s in pairs if b.scope == "user"]
    api = [quota(b, s) for b, s in pairs if b.scope == "api"]
    day_quota = Quota(plan.daily, max(0, plan.daily - daily_used), day_left_ms)
    if plan.daily and daily_used >= plan.daily:
        user_api = api[0] if api else (user[0] if user else day_quota)
        return Verdict(
            "Throttling.Resource",
            f"The account has used its quota of {plan.daily} API calls for today; "
            "it resets when the next day starts.",
            day_left_ms,
            day_quota,
            user_api,
        )
    refused = [(b, s) for b, s in pairs if s.wait_ns > 0]
    if not refused:
        return ADMITTED
    retry = max(_ms(s.wait_ns) for _, s in refused)
    first = refused[0][0]
    worst_user = max(user, key=lambda q: q.time_left_ms, default=None)
    user_header = worst_user or api[0]
    api_header = api[0] if api else user_header
    if first.scope == "user":
        kind = "all operations" if first.key == "all" else f"{first.key} operations"
        message = f"The account exceeded its limit of {_calls(first.rate)} for {kind}."
        return Verdict("Throttling.User", message, retry, user_header, api_header)
    message = f"The operation {operation} exceeded its limit of {_calls(first.rate)}."
    return Verdict("Throttling.Api", message, retry, user_header, api_header)


class Limiter(Protocol):
    """Admits a call or raises :class:`~openworks.protocol.errors.Throttled`."""

    @property
    def blocking(self) -> bool:
        """True when :meth:`admit` does network I/O (call it off the event loop)."""
        ...

    def admit(self, account: str, operation: str, is_read: bool) -> None: ...


class MemoryLimiter:
    """Buckets and daily counters in this process; exact, thread-safe."""

    blocking = False

    def __init__(self, policy: Policy, clock: Clock = time.time_ns) -> None:
        self.policy = policy
        self.clock = clock
        self._tat: dict[tuple[str, str], int] = {}
        self._daily: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._admitted = 0

    def check(self, account: str, operation: str, is_read: bool) -> Verdict:
        plan = self.policy.plan(account, operation, is_read)
        if not plan.buckets and not plan.daily:
            return ADMITTED
        with self._lock:
            now = self.clock()
            day, day_left_ms = self.policy.day(now)
            seen = [
                gcra(self._tat.get((account, b.key)), now, b.interval_ns, b.capacity)
                for b in plan.buckets
            ]
            count_day, used = self._daily.get(account, (day, 0))
            used = used if count_day == day else 0
            verdict = decide(plan, operation, [s for s, _ in seen], used, day_left_ms)
            if verdict.admitted:
                for bucket, (_, new_tat) in zip(plan.buckets, seen, strict=True):
                    self._tat[(account, bucket.key)] = new_tat
                if plan.daily:
                    self._daily[account] = (day, used + 1)
                self._admitted += 1
                if self._admitted % 4096 == 0:
                    self._prune(now)
            return verdict

    def admit(self, account: str, operation: str, is_read: bool) -> None:
        verdict = self.check(account, operation, is_read)
        if not verdict.admitted:
            raise verdict.error()

    def _prune(self, now: int) -> None:
        # A tat in the past is a full bucket, the same as no entry at all.
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]


class InflightGate:
    """The server-wide bound on API requests being processed (``0`` = no bound)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.limit and self.in_flight >= self.limit:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def overloaded(limit: int) -> Throttled:
    """429 ``Throttling.System``: every slot is taken; answered without queueing."""
    quota = ratelimit_header(Quota(limit, 0, SYSTEM_RETRY_AFTER_MS))
    return Throttled(
        "Throttling.System",
        f"The server is busy ({limit} requests in progress); retry shortly.",
        SYSTEM_RETRY_AFTER_MS,
        {"x-ratelimit-user": quota, "x-ratelimit-user-api": quota},
    )
