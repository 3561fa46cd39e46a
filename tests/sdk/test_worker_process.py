"""``serve`` on PostgreSQL runs the package worker as a process of its own
(cli/worker_process.py): started with the server, started again when it dies, stopped
with the server, and gone when the server is killed. On SQLite there is no such process.
Packages are driven through the official SDK (TeaClient, ACS3)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.dbutil import postgres_base
from tests.waiting import within

from .clients import TeaClient
from .conftest import DEV_KEY, RunningServer, poll, start_server, unique


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def worker_pids(server: RunningServer) -> list[int]:
    """serve's children that are package workers."""
    return [p for p in _children(server.process.pid) if "worker" in _cmdline(p)]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"


def lifecycle(client: TeaClient) -> None:
    """CreateProject, CreateFile, SubmitFile, DeployFile: both packages succeed."""
    project = int(client.call("CreateProject", ProjectIdentifier=unique("ws"),
                              ProjectName="worker process", ProjectMode=3)["Data"])  # fmt: skip
    file_id = int(client.call("CreateFile", ProjectId=project, FileName=unique("f"),
                              FileType=10, Content="select 1;")["Data"])  # fmt: skip
    for action in ("SubmitFile", "DeployFile"):
        package = int(client.call(action, ProjectId=project, FileId=file_id)["Data"])
        assert poll(client, project, package)["Data"]["Deployment"]["Status"] == 1, action


@pytest.mark.skipif(not postgres_base(), reason="needs OPENWORKS_TEST_POSTGRES")
def test_worker_process_lives_and_dies_with_serve(tmp_path: Path) -> None:
    server = start_server(tmp_path, args=("--workers", "2"))
    try:
        assert "package worker in a process of its own" in server.log()
        assert within(lambda: len(worker_pids(server)) == 1, 20), server.log()
        first = worker_pids(server)[0]
        client = TeaClient(server.endpoint, *DEV_KEY)
        lifecycle(client)

        os.kill(first, signal.SIGKILL)  # dies: started again
        assert within(lambda: worker_pids(server) not in ([], [first]), 20), server.log()
        assert "the package worker process exited" in server.log()
        lifecycle(client)
        second = worker_pids(server)[0]
    finally:
        server.stop()
    assert within(lambda: not _alive(second), 15), "serve left its worker running"


@pytest.mark.skipif(not postgres_base(), reason="needs OPENWORKS_TEST_POSTGRES")
def test_worker_process_exits_when_serve_is_killed(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        assert within(lambda: len(worker_pids(server)) == 1, 20), server.log()
        worker = worker_pids(server)[0]
    finally:
        server.process.kill()
        server.process.wait()
    assert within(lambda: not _alive(worker), 15), "the worker outlived a killed serve"


@pytest.mark.skipif(bool(postgres_base()), reason="SQLite only")
def test_sqlite_serve_keeps_its_worker_thread(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        assert "package worker in each" in server.log()
        lifecycle(TeaClient(server.endpoint, *DEV_KEY))
        assert worker_pids(server) == []
    finally:
        server.stop()
