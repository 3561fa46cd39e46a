"""``GET /readyz``: can this process serve calls now? (``/healthz`` only says it runs.)

::

    /readyz ─┬─ database: SELECT 1            ─┐  each in its own thread, at most one at a
             └─ Redis (when configured): PING ─┘  time, given up after ``timeout`` seconds

    all ok ──▶ 200 {"status": "ready",     "checks": {"database": "ok", "redis": "ok"}}
    else   ──▶ 503 {"status": "not ready", "checks": {"database": "ok", "redis": "unavailable"}}

A check answers ``ok``, ``unavailable`` (it failed: the reason goes to the log, never to the
client) or ``timeout``. A check stuck past its timeout is abandoned, not waited for; while
its thread still runs, the next probe reports ``timeout`` at once rather than starting
another (at most one thread per dependency, however often a balancer asks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import Engine, text

__all__ = ["READY_TIMEOUT", "Readiness"]

log = logging.getLogger("openworks.readiness")
READY_TIMEOUT = 2.0  # seconds for each check
_SELECT_1 = text("SELECT 1")


class Readiness:
    def __init__(
        self,
        engine: Engine,
        redis_url: str | None = None,
        redis_timeout: float = 0.5,
        timeout: float = READY_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        self._checks: dict[str, Callable[[], Any]] = {"database": self._database(engine)}
        if redis_url:
            from openworks.store.redis_outage import redis_client

            client = redis_client(redis_url, min(redis_timeout, timeout))
            self._checks["redis"] = client.ping
        self._running: set[str] = set()  # checks whose thread has not returned yet
        self._lock = threading.Lock()

    @staticmethod
    def _database(engine: Engine) -> Callable[[], None]:
        def select_1() -> None:
            with engine.connect() as conn:
                conn.execute(_SELECT_1)

        return select_1

    async def check(self) -> tuple[bool, dict[str, str]]:
        """Whether every dependency answered, and each one's state."""
        results: dict[str, str] = {}
        async with anyio.create_task_group() as group:
            for name in self._checks:
                group.start_soon(self._probe, name, results)
        return all(state == "ok" for state in results.values()), dict(sorted(results.items()))

    def _run(self, name: str) -> None:
        try:
            self._checks[name]()
        finally:
            with self._lock:
                self._running.discard(name)

    async def _probe(self, name: str, results: dict[str, str]) -> None:
        with self._lock:
            stuck = name in self._running
            self._running.add(name)
        if stuck:  # the last check's thread is still waiting
            results[name] = "timeout"
            return
        try:
            with anyio.fail_after(self.timeout):
                await anyio.to_thread.run_sync(self._run, name, abandon_on_cancel=True)
        except TimeoutError:
            log.warning("readiness: %s did not answer within %gs", name, self.timeout)
            results[name] = "timeout"
        except Exception as err:
            reason = (str(err).strip().splitlines() or [""])[0][:300]
            log.warning("readiness: %s unavailable: %s: %s", name, type(err).__name__, reason)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
