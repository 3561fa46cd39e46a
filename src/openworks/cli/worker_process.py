"""``serve`` on PostgreSQL: the package worker as a process of its own beside the API.

::

    openworks serve ─┬─ API process(es): uvicorn, no worker thread inside
                     └─ WorkerProcess: python -m openworks worker --parent-pid <serve>
                          (the settings of serve, through the environment)
                          exits on its own ─▶ logged, started again after RESTART_SECONDS
                          serve ends ─▶ SIGTERM, then SIGKILL after the grace period
                          serve killed ─▶ the worker sees its parent change and exits

Why a process: an execution is about seventeen PostgreSQL round trips, and a worker thread
inside a busy API process takes the GIL back after each one only when the event loop lets
it go (up to the 5 ms switch interval). Measured (docs/performance.md, scenario 12): 13
lifecycles/s with a worker thread in each of two API processes, 42/s with this process.
The API processes learn nothing from it: packages made ready in any process wake it through
PostgreSQL (store/pg_wake.py). SQLite keeps its worker thread: there the worker is the
urgent writer of the process that makes the packages (store/write_queue.py).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

__all__ = ["RESTART_SECONDS", "WorkerProcess"]

log = logging.getLogger("openworks.worker")

RESTART_SECONDS = 1.0


class WorkerProcess:
    """One ``openworks worker`` child, kept running until :meth:`stop`."""

    def __init__(self, database_url: str, env: dict[str, str], log_level: str) -> None:
        self._args = [sys.executable, "-m", "openworks", "worker", "--parent-pid",
                      str(os.getpid()), "--database-url", database_url,
                      "--log-level", log_level]  # fmt: skip
        self._env = env
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None
        self.starts = 0  # how many times a worker process was started

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="openworks-worker-watch")
        self._watcher.daemon = True
        self._watcher.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            # its own session: a Ctrl-C in serve's terminal reaches serve, which stops it
            self._process = subprocess.Popen(self._args, env=self._env, start_new_session=True)
            self.starts += 1

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error(
                "the package worker process exited (code %s); starting it again in %.0f s",
                code,
                RESTART_SECONDS,
            )
            if not self._stopping.wait(RESTART_SECONDS):
                self._spawn()

    def stop(self, grace: float = 10.0) -> None:
        """Stop the worker (SIGTERM: it finishes the package it runs), then reap it."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._watcher is not None:
            self._watcher.join(grace)
