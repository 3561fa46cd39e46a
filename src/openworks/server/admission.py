"""Admission: whether a call may run now. Two steps of the pipeline (server/pipeline.py)::

    take_slot  the bound on requests in flight (``--max-inflight``), taken once the body
               has arrived and given back when the answer is computed: Throttling.System
    admit      the caller's rate limits, right after authentication: Throttling.User/.Api

The limiter is chosen once, from the settings::

    Settings.throttle ──load_policy──▶ Policy ──(inactive)──▶ None: no limiter at all
                                          ├── redis_url set ──▶ RedisLimiter (shared;
                                          │                     503 while Redis is down)
                                          └── otherwise     ──▶ MemoryLimiter (this process)

The limits themselves (policies, windows, the gate) are sans-I/O, in
:mod:`openworks.protocol.throttle`; this module only wires them into a server.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from openworks.api import VERSIONS, table
from openworks.config import ConfigError, Settings
from openworks.protocol.throttle import InflightGate, Limiter, MemoryLimiter, overloaded
from openworks.protocol.throttle_config import ThrottleConfigError, load_policy

__all__ = ["admit", "build_limiter", "take_slot"]


def build_limiter(settings: Settings) -> Limiter | None:
    """The limiter the settings ask for; ``None`` when throttling is off.

    Raises :class:`~openworks.config.ConfigError` for an unusable ``--throttle`` value.
    """
    try:
        # an operation limit applies to its action name in every version that has it
        known = {name for version in VERSIONS for name in table(version)}
        policy = load_policy(settings.throttle, known_operations=known)
    except ThrottleConfigError as err:
        raise ConfigError(str(err)) from err
    if settings.max_inflight < 0:
        raise ConfigError("--max-inflight must be 0 (no bound) or a positive number")
    if not settings.redis_timeout > 0:
        raise ConfigError("OPENWORKS_REDIS_TIMEOUT must be a positive number of seconds")
    if not policy.active:
        return None
    if settings.redis_url:
        from openworks.store.redis_throttle import RedisLimiter

        return RedisLimiter(policy, settings.redis_url, timeout=settings.redis_timeout)
    return MemoryLimiter(policy)


def take_slot(gate: InflightGate) -> None:
    """Take one in-flight slot or raise ``Throttling.System``; the caller leaves the gate."""
    if not gate.try_enter():
        raise overloaded(gate.limit)


async def admit(limiter: Limiter, account: str, operation: str, is_read: bool) -> None:
    """Admit one call or raise ``Throttled``; network-backed limiters run off the loop.
    An admitted call counts toward the daily cap even when it fails further down, as
    DataWorks counts it."""
    if limiter.blocking:
        await run_in_threadpool(limiter.admit, account, operation, is_read)
    else:
        limiter.admit(account, operation, is_read)
