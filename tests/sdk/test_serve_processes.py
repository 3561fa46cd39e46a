"""``serve --workers N`` spreads connections over its processes (issue 18).

Each API process accepts on a socket of its own (``SO_REUSEPORT``); Linux hashes each new
connection to one of them. A burst of keep-alive connections, the way benchmarks and pools
open them, must land on every process, not all on the first to wake (what one shared
socket did: 32 of 32 on one process in most tries). Who holds which connection is read in
``/proc`` (tests/sdk/processes.py). Also: a killed process's socket is closed at once
(new connections go to the others) and its replacement serves on a fresh one;
``SIGTTIN``/``SIGTTOU`` add and retire a socket with a process; ``--workers 1`` keeps its
one plain socket; HTTPS and plain HTTP on one port with several processes; a second
``serve`` on the port is refused.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import RunningServer, start_server
from .processes import api_processes, listeners, open_connections, owners
from .test_tls import SERVE, clean_env, start_tls_server

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/net/tcp").exists() or not hasattr(socket, "SO_REUSEPORT"),
    reason="needs Linux /proc and SO_REUSEPORT",
)

TRIES = 5
CONNECTIONS = 32
AT_LEAST = 4  # of 32 on each of 2 processes; a fair hash misses it with p ≈ 1e-6


def wait_processes(server: RunningServer, count: int, timeout: float = 60) -> dict[int, set[str]]:
    """The API processes once there are ``count`` of them, each with its own socket."""
    deadline = time.monotonic() + timeout
    while True:
        found = api_processes(server.process.pid, server.port)
        sockets = [inode for held in found.values() for inode in held]
        if len(found) == count and len(set(sockets)) == len(sockets) == count:
            return found
        assert time.monotonic() < deadline, (found, server.log())
        time.sleep(0.05)


def spread(
    server: RunningServer,
    pids: list[int],
    connections: int = CONNECTIONS,
    wrap: Callable[[socket.socket], socket.socket] | None = None,
) -> Counter[int | None]:
    conns = open_connections(server.port, connections, wrap=wrap)
    try:
        return Counter(owners(server.port, conns, pids))
    finally:
        for conn in conns:
            conn.close()


def assert_stopped(server: RunningServer, pids: list[int]) -> None:
    server.stop()
    assert server.process.returncode == 0, server.log()
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert listeners(server.port) == set()


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[RunningServer, list[int]]]:
    server = start_server(tmp_path, args=("--workers", "2"))
    try:
        yield server, sorted(wait_processes(server, 2))
    finally:
        server.stop()


def test_a_burst_of_connections_lands_on_both_processes(
    two: tuple[RunningServer, list[int]],
) -> None:
    server, pids = two
    assert len(listeners(server.port)) == 2
    for _ in range(TRIES):
        counts = spread(server, pids)
        assert None not in counts, counts
        assert all(counts[pid] >= AT_LEAST for pid in pids), counts
    assert_stopped(server, pids)


def test_a_killed_process_is_replaced_with_a_fresh_socket(
    two: tuple[RunningServer, list[int]],
) -> None:
    server, pids = two
    processes = api_processes(server.process.pid, server.port)
    victim, survivor = pids
    os.kill(victim, signal.SIGKILL)
    # Its socket is closed at once, so new connections do not wait for the replacement.
    deadline = time.monotonic() + 20
    while processes[victim] & listeners(server.port):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.01)
    counts = spread(server, [survivor])
    assert sum(counts.values()) == CONNECTIONS
    if len(listeners(server.port)) == 1:  # the replacement is not listening yet
        assert counts == {survivor: CONNECTIONS}, counts
    replaced = wait_processes(server, 2)
    (newcomer,) = set(replaced) - {survivor}
    assert newcomer != victim and replaced[survivor] == processes[survivor]
    assert not replaced[newcomer] & processes[victim]  # a fresh socket
    for _ in range(TRIES):
        counts = spread(server, [survivor, newcomer])
        assert all(counts[pid] >= AT_LEAST for pid in (survivor, newcomer)), counts
    assert f"Child process [{victim}] died" in server.log()
    assert_stopped(server, [survivor, newcomer])


def test_ttin_adds_a_socket_and_ttou_retires_one(
    two: tuple[RunningServer, list[int]],
) -> None:
    server, pids = two
    os.kill(server.process.pid, signal.SIGTTIN)
    three = sorted(wait_processes(server, 3))
    assert set(pids) < set(three) and len(listeners(server.port)) == 3
    counts = spread(server, three, 48)
    assert all(counts[pid] >= 3 for pid in three), counts
    os.kill(server.process.pid, signal.SIGTTOU)
    back = sorted(wait_processes(server, 2))
    deadline = time.monotonic() + 20
    while len(listeners(server.port)) != 2:  # the retired socket is closed, not orphaned
        assert time.monotonic() < deadline, listeners(server.port)
        time.sleep(0.05)
    counts = spread(server, back)  # none waits on the retired socket
    assert None not in counts and all(counts[pid] >= AT_LEAST for pid in back), counts
    assert_stopped(server, back)


def test_one_process_keeps_one_plain_socket(tmp_path: Path) -> None:
    server = start_server(tmp_path, args=("--workers", "1"))
    try:
        assert api_processes(server.process.pid, server.port) == {}  # serves itself
        (inode,) = listeners(server.port)
        counts = spread(server, [server.process.pid], 8)
        assert counts == {server.process.pid: 8}
        # Without SO_REUSEPORT on the server's socket, nobody can share the port.
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with pytest.raises(OSError) as taken:
                other.bind(("127.0.0.1", server.port))
            assert taken.value.errno == errno.EADDRINUSE
        assert listeners(server.port) == {inode}
    finally:
        server.stop()
    assert listeners(server.port) == set()


def test_a_second_serve_with_workers_cannot_join_the_port(
    two: tuple[RunningServer, list[int]], tmp_path: Path
) -> None:
    server, _ = two
    other = ("--port", str(server.port), "--database-url", f"sqlite:///{tmp_path}/other.db")
    done = subprocess.run(
        [*SERVE, *other, "--workers", "2"],
        env=clean_env(tmp_path / "other"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    expected = f"openworks: cannot listen on 127.0.0.1:{server.port}: address already in use"
    assert done.stderr == expected + "\n"
    assert len(listeners(server.port)) == 2


def test_https_and_plain_http_on_one_port_with_two_processes(tmp_path: Path) -> None:
    server, ca = start_tls_server(tmp_path, ("--tls", "--workers", "2"))
    context = ssl.create_default_context(cafile=str(ca))
    try:
        pids = sorted(wait_processes(server, 2))
        assert "listening on https://" in server.log() and "(HTTPS and plain HTTP)" in server.log()

        def tls(conn: socket.socket) -> socket.socket:
            return context.wrap_socket(conn, server_hostname="127.0.0.1")

        for wrap in (tls, None):
            for _ in range(2):
                counts = spread(server, pids, wrap=wrap)
                assert None not in counts and all(counts[p] >= AT_LEAST for p in pids), counts
        assert_stopped(server, pids)
    finally:
        server.stop()
