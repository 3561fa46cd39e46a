"""Rate limits shared by every server process through Redis.

:class:`RedisLimiter` implements :class:`~openworks.protocol.throttle.Limiter` with the
same plan and the same GCRA arithmetic as the in-process limiter; one Lua script does the
whole decision atomically, so processes behind a load balancer share one set of buckets::

    admit(account, operation, is_read)
        plan (Python) ─▶ EVALSHA script  KEYS  <prefix>{account}:<bucket>...  (one tat each)
                                                <prefix>{account}:daily       (hash day/used)
                                         ARGV  now µs ('' = Redis TIME), bucket count,
                                               daily cap, day offset µs, interval/capacity...
                        ◀─ admitted, used today, ms left today, (remain, wait µs) per bucket
        decide (Python, shared) ─▶ None or raise Throttled

Time is counted in microseconds inside the script: Lua numbers are doubles, exact up to
2**53, which nanoseconds since the epoch would exceed. Unless a clock is injected (tests),
the script reads Redis' own ``TIME``, so clocks of different hosts do not matter. Keys
expire by themselves a minute after a bucket is full again (a stale ``tat`` in the past
reads as a full bucket anyway), daily counters after two days. The
account is a hash tag (``{...}``), so all keys of one account live in one cluster slot.

If Redis cannot be reached the call is refused with ``503 ServiceUnavailable`` (fail
closed: a shared limit that cannot be counted is not silently lifted), with one warning per
outage; calls are admitted again as soon as Redis answers
(:mod:`openworks.store.redis_outage`).
"""

from __future__ import annotations

from typing import Any

import redis

from openworks.protocol.throttle import BucketState, Clock, Policy, Verdict, decide

from .redis_outage import DEFAULT_TIMEOUT, RedisOutage, redis_client

__all__ = ["DEFAULT_PREFIX", "RedisLimiter"]

DEFAULT_PREFIX = "openworks:throttle:"

_SCRIPT = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local n = tonumber(ARGV[2])
local daily = tonumber(ARGV[3])
local offset = tonumber(ARGV[4])
local day_us = 86400000000
local ok = true
local out = {0, 0, 0}
local tats = {}
for i = 1, n do
  local interval = tonumber(ARGV[3 + 2 * i])
  local capacity = tonumber(ARGV[4 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local tau = capacity * interval
  local backlog = tat - now
  local wait = backlog + interval - tau
  local remain = math.floor((tau - backlog) / interval)
  if remain < 0 then remain = 0 end
  if wait > 0 then ok = false else wait = 0 end
  tats[i] = tat + interval
  out[#out + 1] = remain
  out[#out + 1] = wait
end
local shifted = now + offset
local day = math.floor(shifted / day_us)
local used = 0
if daily > 0 then
  local stored = redis.call('HMGET', KEYS[n + 1], 'day', 'used')
  if tonumber(stored[1]) == day then used = tonumber(stored[2]) or 0 end
  if used >= daily then ok = false end
end
if ok then
  for i = 1, n do
    local ttl_ms = math.ceil((tats[i] - now) / 1000) + 60000
    redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', ttl_ms)
  end
  if daily > 0 then
    redis.call('HSET', KEYS[n + 1], 'day', string.format('%.0f', day), 'used', used + 1)
    redis.call('PEXPIRE', KEYS[n + 1], 2 * 86400000)
  end
  out[1] = 1
end
out[2] = used
out[3] = math.ceil(((day + 1) * day_us - shifted) / 1000)
return out
"""


class RedisLimiter:
    """Buckets and daily counters in Redis, shared by every process using ``prefix``."""

    blocking = True

    def __init__(
        self,
        policy: Policy,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Clock | None = None,
        client: redis.Redis | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.policy = policy
        self.prefix = prefix
        self.clock = clock
        self.client = client or redis_client(url, timeout)
        self._script = self.client.register_script(_SCRIPT)
        self.outage = RedisOutage(self.client, "the rate limiter")

    def check(self, account: str, operation: str, is_read: bool) -> Verdict:
        """The decision for one call; raises ``ServiceUnavailable`` if Redis cannot answer."""
        plan = self.policy.plan(account, operation, is_read)
        if not plan.buckets and not plan.daily:
            return Verdict(None)
        base = f"{self.prefix}{{{account}}}:"
        keys = [base + bucket.key for bucket in plan.buckets] + [base + "daily"]
        args: list[Any] = [
            "" if self.clock is None else self.clock() // 1000,
            len(plan.buckets),
            plan.daily,
            round(self.policy.day_offset_hours * 3600 * 1_000_000),
        ]
        for bucket in plan.buckets:
            args += [bucket.interval_ns // 1000, bucket.capacity]
        self.outage.check()  # while Redis is known to be down: 503 at once
        try:
            reply = [int(x) for x in self._script(keys=keys, args=args)]
        except redis.RedisError as err:
            raise self.outage.failed(err) from err
        states = [BucketState(reply[i], reply[i + 1] * 1000) for i in range(3, len(reply), 2)]
        verdict = decide(plan, operation, states, reply[1], reply[2])
        if bool(reply[0]) != verdict.admitted:  # the script and decide() must agree
            raise RuntimeError("throttle script and policy disagree")
        return verdict

    def admit(self, account: str, operation: str, is_read: bool) -> None:
        """Admit, or raise ``Throttled``; ``ServiceUnavailable`` (503) while Redis is down."""
        verdict = self.check(account, operation, is_read)
        if not verdict.admitted:
            raise verdict.error()

    def close(self) -> None:
        self.outage.close()
        self.client.close()
