"""The listening sockets of ``openworks serve``, bound before anything is announced.

    listen_sockets(host, port, N)
      N == 1, or not Linux ──────────► [one socket]            (as always)
      N > 1 on Linux ── plain bind ──► free? ── N * SO_REUSEPORT ──► [socket 0 … N-1]
                        (probe, closed)        (same host:port)

One process (``--workers 1``) listens on one socket, as it always did. Several processes
each get a socket of their own on the same address (``SO_REUSEPORT``): Linux spreads new
connections over the sockets by a hash of the client's address and port, where one shared
socket lets the first process to wake accept a whole burst (cli/processes.py).

Every failure is a :class:`ListenError` whose message is the one line ``serve`` prints
before exiting 2. The probe, a bind without ``SO_REUSEPORT``, fails when anything listens
on the port: without it a second ``serve`` of the same user would join the port silently.
No uvicorn here: the CLI imports this module whatever the command.
"""

from __future__ import annotations

import errno
import socket
import sys

__all__ = ["BACKLOG", "ListenError", "address", "bind", "listen", "listen_sockets", "spreads"]

BACKLOG = 2048


class ListenError(Exception):
    """The address cannot be listened on; the message is the one line to print."""


_LISTEN_REASONS = {
    errno.EADDRINUSE: "address already in use",
    errno.EADDRNOTAVAIL: "no such address on this machine",
    errno.EACCES: "permission denied",
}


def address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def spreads() -> bool:
    """Whether several sockets on one port share its connections here (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, *, reuse_port: bool, backlog: int | None) -> socket.socket:
    """A TCP socket bound to ``host:port``, listening unless ``backlog`` is None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), port))
        if backlog is not None:
            sock.listen(backlog)
    except OSError as err:
        sock.close()
        if isinstance(err, socket.gaierror):
            reason = f"unknown host ({err.strerror})"
        else:
            reason = _LISTEN_REASONS.get(err.errno or 0) or (err.strerror or str(err)).lower()
        raise ListenError(f"cannot listen on {address(host, port)}: {reason}") from None
    sock.set_inheritable(True)  # handed to the API processes
    return sock


def listen(host: str, port: int) -> socket.socket:
    """The one listening socket, bound here so that a failure is one line before any
    announcement (uvicorn's own bind would log "running on" first, then an error)."""
    return bind(host, port, reuse_port=False, backlog=BACKLOG)


def listen_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """One socket per API process on ``host:port`` where the kernel spreads connections
    over them; else (or for one process) the one shared socket. Raises ListenError."""
    if count == 1 or not spreads():
        return [listen(host, port)]
    # A plain bind fails if anything listens there, even with SO_REUSEPORT (another serve).
    bind(host, port, reuse_port=False, backlog=None).close()
    sockets = [bind(host, port, reuse_port=True, backlog=BACKLOG)]
    port = sockets[0].getsockname()[1]  # the same port for all, even when asked for 0
    try:
        while len(sockets) < count:
            sockets.append(bind(host, port, reuse_port=True, backlog=BACKLOG))
    except ListenError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
