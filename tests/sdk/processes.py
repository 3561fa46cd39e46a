"""Which process of ``serve --workers N`` holds which connection, read from Linux ``/proc``.

    serve (pid P) ─┬─ child A ── listening socket(s) on PORT ── accepted connections
                   └─ child B ── ...

:func:`api_processes` finds P's children that hold a listening socket on the port;
:func:`open_connections` opens keep-alive connections in one burst (the way wrk and the
benchmarks do), asks ``/healthz`` on each so that each is accepted, and :func:`owners`
tells, for each, the pid that accepted it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["api_processes", "ask_health", "listeners", "open_connections", "owners"]

_LISTEN = "0A"
_LOOPBACK = "0100007F"


def _tcp_table() -> list[list[str]]:
    return [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]


def _socket_inodes(pid: int) -> set[str]:
    found: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def listeners(port: int) -> set[str]:
    """Inodes of the sockets listening on 127.0.0.1:``port``."""
    local = f"{_LOOPBACK}:{port:04X}"
    return {f[9] for f in _tcp_table() if f[1] == local and f[3] == _LISTEN}


def api_processes(serve_pid: int, port: int) -> dict[int, set[str]]:
    """``serve``'s children that hold a listening socket on ``port``, and which ones."""
    listening = listeners(port)
    found: dict[int, set[str]] = {}
    for task in Path(f"/proc/{serve_pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            held = _socket_inodes(int(child)) & listening
            if held:
                found[int(child)] = held
    return found


def ask_health(conn: socket.socket) -> bytes:
    """One ``GET /healthz`` on a keep-alive connection; the status line."""
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b'{"status":"ok"}' not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data.split(b"\r\n", 1)[0]


def open_connections(
    port: int,
    count: int,
    timeout: float = 20,
    wrap: Callable[[socket.socket], socket.socket] | None = None,
) -> list[socket.socket]:
    """``count`` connections made back to back, then (after ``wrap``, e.g. TLS) one
    request answered on each."""
    raw = [socket.create_connection(("127.0.0.1", port), timeout=timeout) for _ in range(count)]
    conns = [wrap(conn) for conn in raw] if wrap is not None else raw
    for conn in conns:
        status = ask_health(conn)
        assert status == b"HTTP/1.1 200 OK", status
    return conns


def owners(port: int, conns: Iterable[socket.socket], pids: Iterable[int]) -> list[int | None]:
    """For each connection, the pid among ``pids`` that accepted it (None: not found)."""
    inode_pid = {inode: pid for pid in pids for inode in _socket_inodes(pid)}
    local = f"{_LOOPBACK}:{port:04X}"
    by_remote = {f[2]: f[9] for f in _tcp_table() if f[1] == local and f[3] != _LISTEN}
    result: list[int | None] = []
    for conn in conns:
        remote = f"{_LOOPBACK}:{conn.getsockname()[1]:04X}"
        result.append(inode_pid.get(by_remote.get(remote, "")))
    return result
