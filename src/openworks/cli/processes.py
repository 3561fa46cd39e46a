"""The supervisor of ``openworks serve --workers N``: one listening socket per process.

Each API process gets a socket of its own on the same address (``SO_REUSEPORT``, bound by
cli/listening.py), so that the kernel, not a race between the processes' accept loops,
decides who serves a new connection::

    serve (supervisor, accepts nothing)
      ├─ slot 0: socket 0 (SO_REUSEPORT, host:port) ── API process 0
      ├─ slot 1: socket 1 (SO_REUSEPORT, host:port) ── API process 1
      └─ ...        Linux spreads new connections over the sockets by a hash of the
                    client address and port

With one shared socket, asyncio accepts every pending connection per wake-up, so a burst
of keep-alive clients (a benchmark, a connection pool) often lands all on one process and
the others idle for the life of those connections.

:class:`SpreadProcesses` is uvicorn's ``Multiprocess`` with one change: process *i* gets
socket *i* only. When a process dies (or hangs and is killed), Linux would go on routing a
share of new connections to its socket, where they would wait for the replacement to
start (seconds); so the supervisor wakes at once (it waits on the processes' sentinels,
not only on a timer), closes that socket, and binds a fresh one that it does not listen on:
the replacement's server listens on it once the app is loaded. The few connections queued
on the dead socket in between are reset (unless ``net.ipv4.tcp_migrate_req`` is 1, which
moves them to the other sockets). ``SIGHUP`` starts each replacement on its predecessor's
socket, ready before the old process stops; ``SIGTTIN`` binds a fresh socket for the new
process; ``SIGTTOU`` closes the socket of the process it stops.

Elsewhere than Linux, ``SO_REUSEPORT`` does not spread connections: there ``serve`` binds
one shared socket and keeps uvicorn's own supervisor.
"""

from __future__ import annotations

import logging
import os
import socket
from multiprocessing.connection import wait

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from .listening import ListenError, bind

__all__ = ["SpreadProcesses"]

log = logging.getLogger("uvicorn.error")

POLL_SECONDS = 0.5  # signals and the health pings, as in uvicorn's supervisor


class SpreadProcesses(Multiprocess):
    """uvicorn's supervisor, with slot *i* = (socket *i*, the process that accepts on it).

    ``sockets`` are the ones ``listen_sockets`` bound, one per process; ``SIGTTIN`` binds
    another on ``host`` and their port. It closes them all when it stops."""

    def __init__(self, config: Config, sockets: list[socket.socket], host: str) -> None:
        super().__init__(config, sockets)
        self.host = host
        self.slots = list(sockets)
        self.processes_num = len(self.slots)

    def _spawn(self, idx: int) -> Process:
        process = Process(self.config, [self.slots[idx]])
        process.start()
        return process

    def init_processes(self) -> None:
        for idx in range(len(self.slots)):
            self.processes.append(self._spawn(idx))

    def run(self) -> None:
        log.info(f"Started parent process [{os.getpid()}]")
        self.init_processes()
        while not self.should_exit.is_set():
            # Wake at once when a process exits, so that its socket's queue is short.
            exited = wait([p.process.sentinel for p in self.processes], timeout=POLL_SECONDS)
            for process in self.processes:
                if process.process.sentinel in exited:
                    # Reap it now: a moment after its sentinel closes it may not be a
                    # zombie yet, and the health ping of a process that looks alive
                    # would wait its whole timeout for an answer.
                    process.process.join()
            self.handle_signals()
            self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()
        for sock in self.slots:
            sock.close()
        log.info(f"Stopping parent process [{os.getpid()}]")

    def keep_subprocess_alive(self) -> None:
        # The dead first (no health ping to wait for), so that their sockets close at once.
        order = sorted(
            range(len(self.processes)), key=lambda i: self.processes[i].process.is_alive()
        )
        for idx in order:
            if self.should_exit.is_set():
                return
            process = self.processes[idx]
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or already gone
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # Failed before serving: the app or its settings are broken, and every
                # replacement would fail the same way.
                log.error(f"Child process [{process.pid}] failed to start, stopping.")
                self.should_exit.set()
                return
            log.info(f"Child process [{process.pid}] died")
            self._fresh_socket(idx)
            self.processes[idx] = self._spawn(idx)

    def _fresh_socket(self, idx: int) -> None:
        """Slot ``idx``'s socket closed and replaced by one bound, not yet listening."""
        old = self.slots[idx]
        try:
            self.slots[idx] = bind(self.host, old.getsockname()[1], reuse_port=True, backlog=None)
        except ListenError as err:  # keep the old one: its queue waits for the replacement
            log.error(f"Keeping the socket of the process that died: {err}")
            return
        old.close()

    def restart_all(self) -> None:
        """``SIGHUP``: each process replaced by one on the same socket, the new one ready
        before the old one stops."""
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(idx)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    log.error(
                        f"New child process [{new.pid}] was not ready in time; keeping "
                        f"[{old.pid}] and aborting the restart."
                    )
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def handle_ttin(self) -> None:
        log.info("Received SIGTTIN, increasing the number of processes.")
        port = self.slots[0].getsockname()[1]
        try:  # the new process listens once it serves
            self.slots.append(bind(self.host, port, reuse_port=True, backlog=None))
        except ListenError as err:
            log.error(f"No new process: {err}")
            return
        self.processes_num += 1
        self.processes.append(self._spawn(len(self.slots) - 1))

    def handle_ttou(self) -> None:
        log.info("Received SIGTTOU, decreasing the number of processes.")
        if self.processes_num <= 1:
            log.info("Already at one process, cannot decrease the number of processes.")
            return
        self.processes_num -= 1
        process, sock = self.processes.pop(), self.slots.pop()
        sock.close()  # no new connections for it once the process lets go of its copy
        process.terminate()
        process.join()
