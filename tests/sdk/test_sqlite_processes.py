"""``openworks serve --workers 2`` on one SQLite file (issue 18): correct under load.

Lifecycles from several SDK threads: every package reaches its final status and is
executed exactly once, no ``database is locked`` reaches a client or the log; a signed
request answered by one process is refused as a replay by the other, proved by finding,
in ``/proc``, which process accepted each of the two connections.
"""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from openworks.store.nonce_file import nonce_path
from tests.unit.protocol.signer import sign_acs3

from .clients import TeaClient
from .conftest import DEV_KEY, RunningServer, poll, start_server, unique

pytestmark = pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")


def api_processes(server: RunningServer, database: Path) -> list[int]:
    """The children of ``serve`` that map the database's nonce file (its API processes)."""
    wanted = nonce_path(str(database))
    found: list[int] = []
    for task in Path(f"/proc/{server.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                maps = Path(f"/proc/{child}/maps").read_text()
            except OSError:
                continue
            if wanted in maps:
                found.append(int(child))
    return sorted(found)


def accepting_process(port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server side of the connection from ``client_port``."""
    local, remote = f"0100007F:{port:04X}", f"0100007F:{client_port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def connect_to(server: RunningServer, pids: list[int], want: int | None) -> tuple[Any, int]:
    """A fresh connection accepted by ``want`` (any of ``pids`` when None), and its pid."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.connect()
        client_port = conn.sock.getsockname()[1]
        owner = None
        settle = time.monotonic() + 2
        while owner is None and time.monotonic() < settle:
            owner = accepting_process(server.port, client_port, pids)
            if owner is None:
                time.sleep(0.005)
        if owner is not None and (want is None or owner == want):
            return conn, owner
        conn.close()
    raise AssertionError(f"no connection was accepted by process {want}")


def send_on(conn: Any, raw: Any) -> tuple[int, bytes]:
    path = "/?" + raw.query_string.decode() if raw.query_string else "/"
    conn.request(raw.method, path, body=raw.body or None, headers=dict(raw.headers))
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


@pytest.fixture
def two_processes(tmp_path: Path) -> Any:
    database = tmp_path / "shared.db"
    server = start_server(
        tmp_path,
        args=("--workers", "2", "--log-level", "debug"),
        database_url=f"sqlite:///{database}",
    )
    try:
        deadline = time.monotonic() + 30
        while len(pids := api_processes(server, database)) < 2:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        yield server, pids
    finally:
        server.stop()


def test_lifecycles_from_many_threads_end_once_each(two_processes: Any) -> None:
    server, pids = two_processes
    assert "2 API process(es)" in server.log() and "nonces in database" in server.log()
    admin = TeaClient(server.endpoint, *DEV_KEY)
    project = admin.call("CreateProject", ProjectIdentifier=unique("procs"),
                         ProjectName="p")["Data"]  # fmt: skip
    created: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        client = TeaClient(server.endpoint, *DEV_KEY)
        try:
            for round_ in range(4):
                fid = client.call("CreateFile", ProjectId=project, FileName=unique(f"t{n}"),
                                  FileType=10, Content=f"SELECT {round_};")["Data"]  # fmt: skip
                for action in ("SubmitFile", "DeployFile"):
                    dep = client.call(action, ProjectId=project, FileId=fid)["Data"]
                    with lock:
                        created.append(dep)
                    status = poll(client, project, dep)["Data"]["Deployment"]["Status"]
                    assert status == 1, (dep, status)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not errors, errors
    assert len(created) == 8 * 4 * 2
    listing = admin.call("ListDeployments", ProjectId=project, PageSize=100)["Data"]
    statuses = {d["Id"]: d["Status"] for d in listing["Deployments"]}
    assert set(statuses) == set(created) and set(statuses.values()) == {1}, statuses
    log = server.log()
    executed = Counter(int(n) for n in re.findall(r"executed package (\d+)", log))
    assert set(executed) == set(created), "every package was executed"
    assert max(executed.values()) == 1, "a package was executed twice"
    assert "database is locked" not in log and "package execution failed" not in log
    assert api_processes(server, Path(server.database_url.removeprefix("sqlite:///"))) == pids


def test_a_replay_is_refused_by_the_other_process(two_processes: Any) -> None:
    server, pids = two_processes
    for first_pid in pids:  # each process in turn answers first, the other sees the replay
        other = next(pid for pid in pids if pid != first_pid)
        for _ in range(3):
            raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(),
                            action="ListProjects")  # fmt: skip
            conn, _ = connect_to(server, pids, first_pid)
            status, body = send_on(conn, raw)
            assert status == 200, body
            conn, _ = connect_to(server, pids, other)
            status, body = send_on(conn, raw)
            assert status == 400 and b"SignatureNonceUsed" in body, body
