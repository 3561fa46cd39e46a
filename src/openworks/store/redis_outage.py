"""What a server does while its Redis cannot be reached: fail closed, say so once, recover.

The replay cache and the rate limiter keep state that must be shared by every process;
without it a signed call can be neither checked for replay nor counted. So while Redis is
down such calls are answered ``503 ServiceUnavailable`` (never 500, never admitted
unchecked)::

    call ─▶ guard.check() ── down ──▶ 503 at once, Redis not touched
               │ up
               ▼
            Redis command ── RedisError ──▶ guard.failed(): down, one warning,
               │ ok                         a probe thread starts ──▶ 503
               ▼                                      │ PING every probe_interval
            answer                 up again, one info line ◀── PING answered

While down, calls do not wait on Redis at all: only the first failing call pays for the
connect or socket timeout (``redis_client`` keeps both short and never retries), and the
background probe notices within ``probe_interval`` that Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from openworks.protocol.errors import ServerError, service_unavailable

__all__ = ["DEFAULT_TIMEOUT", "RedisOutage", "redis_client"]

DEFAULT_TIMEOUT = 0.5
log = logging.getLogger("openworks.redis")


def redis_client(url: str, timeout: float = DEFAULT_TIMEOUT) -> redis.Redis:
    """A client that gives up after ``timeout`` seconds to connect or to answer, no retries.

    redis-py's own default (``redis.Redis(...)``) retries ten times with backoff, which
    turns a refused connection into seconds of waiting on every call.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class RedisOutage:
    """Fail-closed state of one Redis client, shared by the threads that use it.

    ``what`` names the dependency in messages: "the replay cache", "the rate limiter".
    """

    def __init__(self, client: object, what: str, probe_interval: float = 0.5) -> None:
        self.client = client
        self.what = what
        self.probe_interval = probe_interval
        self.errors: type[Exception] = redis.RedisError  # what counts as "unreachable"
        self.refused = 0  # calls answered 503 during the current outage
        self._down = False
        self._since = 0.0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._probe: threading.Thread | None = None

    @property
    def down(self) -> bool:
        return self._down

    def error(self) -> ServerError:
        return service_unavailable(f"{self.what} (Redis) is unreachable; retry later")

    def check(self) -> None:
        """Raise the 503 at once while Redis is known to be down."""
        if self._down:
            with self._lock:
                self.refused += 1
            raise self.error()

    def failed(self, err: Exception) -> ServerError:
        """Record a failed Redis command; the 503 to raise for it."""
        with self._lock:
            self.refused += 1
            if not self._down:
                self._down = True
                self._since = time.monotonic()
                log.warning(
                    "%s: Redis unreachable (%s: %s); signed calls are answered 503 "
                    "ServiceUnavailable until it is back",
                    self.what, type(err).__name__, err,
                )  # fmt: skip
                if not self._closed.is_set():
                    self._probe = threading.Thread(
                        target=self._watch, name="openworks-redis-probe", daemon=True
                    )
                    self._probe.start()
        return self.error()

    def _watch(self) -> None:
        while not self._closed.wait(self.probe_interval):
            try:
                self.client.ping()  # type: ignore[attr-defined]
            except redis.RedisError:
                continue
            with self._lock:  # logged before the flag clears: who sees it up sees the line
                log.info(
                    "%s: Redis reachable again after %.1f s (%d calls answered 503)",
                    self.what, time.monotonic() - self._since, self.refused,
                )  # fmt: skip
                self.refused = 0
                self._down = False
            return

    def close(self) -> None:
        """Stop probing (the client itself belongs to the caller)."""
        self._closed.set()
        probe = self._probe
        if probe is not None and probe is not threading.current_thread():
            probe.join(5)
