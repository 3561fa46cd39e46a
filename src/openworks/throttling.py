"""Wiring of rate limits into a server: choose the limiter from the settings, call it.

::

    Settings.throttle ──load_policy──▶ Policy ──(inactive)──▶ None: no limiter at all
                                          ├── redis_url set ──▶ RedisLimiter (shared;
                                          │                     503 while Redis is down)
                                          └── otherwise     ──▶ MemoryLimiter (this process)

The pipeline in :mod:`openworks.app` calls :func:`admit` right after authentication and
:class:`~openworks.protocol.throttle.InflightGate` before anything else.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from openworks.api import operations
from openworks.protocol.throttle import Limiter, MemoryLimiter
from openworks.protocol.throttle_config import ThrottleConfigError, load_policy

from .config import ConfigError, Settings

__all__ = ["admit", "build_limiter"]


def build_limiter(settings: Settings) -> Limiter | None:
    """The limiter the settings ask for; ``None`` when throttling is off.

    Raises :class:`~openworks.config.ConfigError` for an unusable ``--throttle`` value.
    """
    try:
        policy = load_policy(settings.throttle, known_operations=operations().keys())
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


async def admit(limiter: Limiter, account: str, operation: str, is_read: bool) -> None:
    """Admit one call or raise ``Throttled``; network-backed limiters run off the loop."""
    if limiter.blocking:
        await run_in_threadpool(limiter.admit, account, operation, is_read)
    else:
        limiter.admit(account, operation, is_read)
