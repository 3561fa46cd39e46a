"""``listen_sockets`` (cli/listening.py): one plain socket, or one ``SO_REUSEPORT`` socket per
process on one port, and a port someone listens on refused in one line whatever the count."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from openworks.cli.listening import ListenError, listen_sockets, spreads

linux = pytest.mark.skipif(not spreads(), reason="SO_REUSEPORT spreads on Linux only")


def reuse_port(sock: socket.socket) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)


@pytest.fixture
def taken() -> Iterator[socket.socket]:
    """A port listened on with SO_REUSEPORT, the way another ``serve --workers 2`` holds it."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_one_process_one_plain_socket() -> None:
    (sock,) = listen_sockets("127.0.0.1", 0, 1)
    with sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        if hasattr(socket, "SO_REUSEPORT"):
            assert reuse_port(sock) == 0
        assert sock.get_inheritable()


@linux
def test_several_processes_a_socket_each_on_one_port() -> None:
    sockets = listen_sockets("127.0.0.1", 0, 3)
    try:
        assert len({s.fileno() for s in sockets}) == 3
        assert len({s.getsockname() for s in sockets}) == 1
        for sock in sockets:
            assert reuse_port(sock) == 1 and sock.get_inheritable()
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        for sock in sockets:
            sock.close()


@linux
@pytest.mark.parametrize("count", [1, 2])
def test_a_port_shared_by_others_is_refused(taken: socket.socket, count: int) -> None:
    port = taken.getsockname()[1]
    with pytest.raises(ListenError) as err:
        listen_sockets("127.0.0.1", port, count)
    assert str(err.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"


def test_not_linux_means_one_shared_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not spreads()
    (sock,) = listen_sockets("127.0.0.1", 0, 4)
    sock.close()
