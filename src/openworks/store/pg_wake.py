"""Wake-ups across processes on PostgreSQL: LISTEN for packages made ready anywhere.

::

    any process: INSERT / UPDATE packages ──trigger (migration 0018)──▶ at COMMIT:
        NOTIFY openworks_ready, '<schema>'
    ReadyListener thread, one connection of its own (autocommit):
        connect ─▶ LISTEN openworks_ready ─▶ wake() once (what became ready unheard)
            ─▶ notifications for its schema ─▶ wake()          (others: ignored)
        connection lost ─▶ wait RETRY_SECONDS ─▶ connect again

The worker still polls at its idle interval, so a listener that cannot connect slows
wake-ups down to that interval and loses nothing. The pooled connections never LISTEN
(store/pg_pool.py reads anything on an idle pooled socket as the server hanging up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

from .pg_pool import driver_params

__all__ = ["CHANNEL", "ReadyListener"]

log = logging.getLogger("openworks.worker")

CHANNEL = "openworks_ready"  # the channel of migration 0018's trigger
RETRY_SECONDS = 2.0  # after a lost or refused connection
_TURN_SECONDS = 0.5  # the longest the thread waits before it looks at stop()


class ReadyListener:
    """Calls ``wake`` whenever a package of this engine's schema is made ready (module
    docstring); ``start`` and ``stop`` from the worker's owner."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self._params = driver_params(engine)
        self._wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in force (tests, metrics)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="openworks-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as err:
                log.warning("not listening for ready packages (retrying): %s", err)
            finally:
                self.listening.clear()
            self._stop.wait(RETRY_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(autocommit=True, **self._params) as conn:
            row = conn.execute("SELECT current_schema()").fetchone()
            schema = row[0] if row else None
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._wake()  # packages made ready before LISTEN took effect
            while not self._stop.is_set():
                for note in conn.notifies(timeout=_TURN_SECONDS):
                    if note.payload == schema:
                        self._wake()
