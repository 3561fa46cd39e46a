"""Several API processes and separate workers on one database (issue 7).

Runs on SQLite by default and on PostgreSQL when OPENWORKS_TEST_POSTGRES is set (CI runs
both): processes share nothing but the database.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.protocol.signer import sign_acs3

from .clients import CallFailed, TeaClient
from .conftest import DEV_KEY, RunningServer, poll, start_server, unique
from .test_protocol_errors import send


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(tmp: Path, database_url: str, env: dict[str, str], name: str) -> WorkerProcess:
    log_path = tmp / f"worker-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "openworks", "worker", "--database-url", database_url,
             "--log-level", "debug"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while "worker running" not in log_path.read_text(errors="replace"):
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "worker did not start"
        time.sleep(0.05)
    return WorkerProcess(process, log_path)


def shared_database(tmp: Path) -> str:
    return fresh_database_url("scale") if postgres_base() else f"sqlite:///{tmp}/shared.db"


def worker_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env.update({"XDG_DATA_HOME": str(tmp / "xdg"), **extra})
    return env


def executed_ids(*workers: WorkerProcess) -> Counter[int]:
    counts: Counter[int] = Counter()
    for w in workers:
        counts.update(int(n) for n in re.findall(r"executed package (\d+)", w.log()))
    return counts


def test_two_api_processes_and_two_workers_run_overlapping_lifecycles(tmp_path: Path) -> None:
    url = shared_database(tmp_path)
    apis = [
        start_server(tmp_path, args=("--no-worker",), database_url=url),
        start_server(tmp_path, args=("--no-worker",), database_url=url),
    ]
    workers = [start_worker(tmp_path, url, apis[0].env, str(n)) for n in range(2)]
    try:
        clients = [TeaClient(api.endpoint, *DEV_KEY) for api in apis]
        pid = clients[0].call("CreateProject", ProjectIdentifier=unique("scale"),
                              ProjectName="s")["Data"]  # fmt: skip
        names = [unique(f"shared{n}") for n in range(4)]
        file_ids = [
            clients[n % 2].call("CreateFile", ProjectId=pid, FileName=name, FileType=10)["Data"]
            for n, name in enumerate(names)
        ]
        created: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def run(n: int) -> None:
            client = clients[n % 2]
            fid = file_ids[n % len(file_ids)]  # several clients share each file
            try:
                for round_ in range(3):
                    client.call("UpdateFile", ProjectId=pid, FileId=fid, Content=f"-- {n} {round_}")
                    try:
                        dep = client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
                    except CallFailed as err:  # another client committed this change first
                        assert err.code == "Invalid.File.NoChange", err
                        continue
                    with lock:
                        created.append(dep)
                    poll(client, pid, dep)
                    try:
                        dep = client.call("DeployFile", ProjectId=pid, FileId=fid)["Data"]
                    except CallFailed as err:  # raced with another client's commit or deploy
                        assert err.code.startswith("Invalid.Deploy."), err
                        continue
                    with lock:
                        created.append(dep)
                    poll(client, pid, dep)
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert created, "no package was created"
        deadline = time.monotonic() + 30
        while True:
            listing = clients[0].call("ListDeployments", ProjectId=pid, PageSize=100)["Data"]
            statuses = {d["Id"]: d["Status"] for d in listing["Deployments"]}
            if all(s != 0 for s in statuses.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert set(created) <= set(statuses)
        assert all(s in (1, 2) for s in statuses.values()), statuses
        counts = executed_ids(*workers)
        assert set(counts) == set(statuses), "every package was executed by some worker"
        assert max(counts.values()) == 1, "a package was executed twice"
        for fid in file_ids:
            versions = clients[1].call("ListFileVersions", ProjectId=pid, FileId=fid,
                                       PageSize=100)["Data"]["FileVersions"]  # fmt: skip
            numbers = sorted(v["FileVersion"] for v in versions)
            assert numbers == list(range(1, len(numbers) + 1)), numbers
    finally:
        for w in workers:
            w.stop()
        for api in apis:
            api.stop()


def test_worker_killed_mid_package_is_taken_over(tmp_path: Path) -> None:
    url = shared_database(tmp_path)
    api = start_server(tmp_path, args=("--no-worker",), database_url=url)
    stuck = start_worker(
        tmp_path, url, {**api.env, "OPENWORKS_TEST_EXECUTION_PAUSE_MS": "60000"}, "stuck"
    )
    rescuer: WorkerProcess | None = None
    try:
        client = TeaClient(api.endpoint, *DEV_KEY)
        pid = client.call("CreateProject", ProjectIdentifier=unique("crash"),
                          ProjectName="c")["Data"]  # fmt: skip
        fid = client.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10)["Data"]
        dep = client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
        deadline = time.monotonic() + 20
        while f"holding package {dep} mid-execution" not in stuck.log():
            assert time.monotonic() < deadline, stuck.log()
            time.sleep(0.05)
        assert (
            client.call("GetDeployment", ProjectId=pid, DeploymentId=dep)["Data"]["Deployment"][
                "Status"
            ]
            == 0
        )
        stuck.process.send_signal(signal.SIGKILL)
        stuck.process.wait(10)
        rescuer = start_worker(tmp_path, url, api.env, "rescuer")
        final = poll(client, pid, dep)["Data"]
        assert final["Deployment"]["Status"] == 1
        assert final["DeployedItems"] == [{"FileId": fid, "FileVersion": 1, "Status": 1}]
        assert executed_ids(rescuer)[dep] == 1
        versions = client.call("ListFileVersions", ProjectId=pid, FileId=fid)["Data"]
        assert [v["Status"] for v in versions["FileVersions"]] == ["COMMITTED"]
    finally:
        stuck.stop()
        if rescuer is not None:
            rescuer.stop()
        api.stop()


def test_replay_is_rejected_by_another_api_process(tmp_path: Path) -> None:
    url = shared_database(tmp_path)
    # on SQLite two separately started servers must be told to share nonces; on
    # PostgreSQL "auto" already picks the database
    args = ("--nonce-store", "database") if not postgres_base() else ()
    first = start_server(tmp_path, args=args, database_url=url)
    second = start_server(tmp_path, args=args, database_url=url)
    try:
        raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(),
                        action="ListProjects")  # fmt: skip
        assert send(first, raw)[0] == 200
        status, _, body = send(second, raw)
        assert status == 400 and b"SignatureNonceUsed" in body
    finally:
        first.stop()
        second.stop()


def test_serve_with_several_processes(tmp_path: Path) -> None:
    server: RunningServer = start_server(tmp_path, args=("--workers", "2"))
    try:
        client = TeaClient(server.endpoint, *DEV_KEY)
        pid = client.call("CreateProject", ProjectIdentifier=unique("multi"),
                          ProjectName="m")["Data"]  # fmt: skip
        fid = client.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10)["Data"]
        dep = client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
        assert poll(client, pid, dep)["Data"]["Deployment"]["Status"] == 1
        raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(),
                        action="ListProjects")  # fmt: skip
        results = [send(server, raw)[0] for _ in range(4)]
        assert results[0] == 200 and results[1:] == [400, 400, 400]
        assert "nonces in database" in server.log()
    finally:
        server.stop()


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_nonce_store_choice_is_reported(tmp_path: Path, store: str) -> None:
    args = ("--nonce-store", store, "--redis-url", "redis://127.0.0.1:6379/0")
    server = start_server(tmp_path, args=args)
    try:
        assert f"nonces in {store}" in server.log()
        raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(),
                        action="ListProjects")  # fmt: skip
        assert send(server, raw)[0] == 200 and send(server, raw)[0] == 400
    finally:
        server.stop()
