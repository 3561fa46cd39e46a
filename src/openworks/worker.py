"""The package executor: claims READY packages from the database queue and runs them.

One loop per worker thread::

    ┌─▶ run_next ─┬─ ran one, and another was ready ─▶ run_next again
    │             ├─ ran the only ready one ─┐
    │             └─ none was ready ─────────┤
    │                                        ▼
    └────────── woken (notify) or idle timeout

The claim says whether another package was ready beside the one it took, so the loop does not
claim again just to find none (on SQLite an empty claim still takes the write lock). A package
made ready while one runs notifies the worker, which then runs again at once.

The queue is the ``packages`` table itself (Status 0, not held), so a package created by
any process is found; ``notify`` shortens the wait for packages created in this process,
and on PostgreSQL a listener (store/pg_wake.py) wakes the loop for packages made ready by
any process, so that a worker beside other API processes starts at once too. Claim,
execution and the final status are one transaction: after a crash or restart an
unfinished package is simply still READY and runs then, exactly once.

On SQLite the worker thread is the file's urgent writer (``store/write_queue.py``): its
claims wait for the current writer only, not behind the API writers of its process, since a
client is polling for every package it runs.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from openworks.core.context import Core
from openworks.core.packages import run_next
from openworks.delivery import CheckLoop
from openworks.store.write_queue import urgent_writer

if TYPE_CHECKING:
    from openworks.store.pg_wake import ReadyListener

__all__ = ["Worker"]

log = logging.getLogger("openworks.worker")


class Worker:
    def __init__(self, core: Core, idle_seconds: float = 0.5) -> None:
        self.core = core
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Checks, gate deadlines and extension webhooks run beside the package loop.
        self.checks = CheckLoop(core)
        self.listener: ReadyListener | None = None
        engine = getattr(core.store, "engine", None)
        if isinstance(engine, Engine) and engine.dialect.name == "postgresql":
            from openworks.store.pg_wake import ReadyListener  # psycopg: PostgreSQL only

            self.listener = ReadyListener(engine, self._wake.set)

    def notify(self, _package_id: int | None = None) -> None:
        self._wake.set()
        self.checks.notify()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="openworks-worker", daemon=True)
        self._thread.start()
        self.checks.start()
        if self.listener is not None:
            self.listener.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self.listener is not None:
            self.listener.stop(timeout)
        self.checks.stop(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def drain(self) -> int:
        """Run packages while the last claim saw another one ready (module docstring); how
        many ran."""
        count = 0
        while not self._stop.is_set():
            try:
                ran = run_next(self.core)
                if ran is None:
                    break
                log.debug("executed package %d", ran[0])
            except Exception:
                log.exception("package execution failed")
                self._stop.wait(0.5)
                ran = None
            count += 1
            if ran is not None and not ran[1]:
                break  # it was the only ready one: wait for a notification
        return count

    def _loop(self) -> None:
        urgent_writer()  # on SQLite: next in line for the write lock (store/write_queue.py)
        while not self._stop.is_set():
            self.drain()
            self._wake.wait(self.idle_seconds)
            self._wake.clear()
