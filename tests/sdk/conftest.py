"""A real openworks server on a free port, and official SDK clients pointed at it."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.dbutil import fresh_database_url, postgres_base

from .clients import (
    DIALECTS,
    DIALECTS_2024,
    CommonClient2024,
    LegacyClient,
    Tea2024Client,
    TeaClient,
    make_client,
    make_client_2024,
)

DEV_KEY = ("openworks-dev-key", "openworks-dev-secret")
_counter = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    port: int
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openworks", *args, "--database-url", self.database_url],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def wait_healthy(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not become healthy:\n{log_path.read_text()}")


def start_server(
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    database_url: str | None = None,
) -> RunningServer:
    """``openworks serve`` on a free port; a fresh database unless one is given."""
    port = free_port()
    if database_url is None:
        database_url = fresh_database_url("srv") if postgres_base() else f"sqlite:///{tmp}/ow.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env.update({"XDG_DATA_HOME": str(tmp / "xdg"), "NO_PROXY": "*", "no_proxy": "*"})
    env.update(extra_env or {})
    log_path = tmp / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openworks",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_healthy(port, process, log_path)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RunningServer(port, database_url, process, log_path, env)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    running.stop()


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(server: RunningServer, dialect: str) -> TeaClient | LegacyClient:
    return make_client(dialect, server.endpoint, *DEV_KEY)


@pytest.fixture(params=DIALECTS_2024)
def dialect_2024(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client24(server: RunningServer, dialect_2024: str) -> Tea2024Client | CommonClient2024:
    """A 2024-05-18 client of each kind (Tea ACS3, Tea v2, core CommonRequest)."""
    return make_client_2024(dialect_2024, server.endpoint, *DEV_KEY)


@pytest.fixture
def tea24(server: RunningServer) -> Tea2024Client:
    return Tea2024Client(server.endpoint, *DEV_KEY)


@pytest.fixture
def tea(server: RunningServer) -> TeaClient:
    return TeaClient(server.endpoint, *DEV_KEY)


@pytest.fixture
def legacy(server: RunningServer) -> LegacyClient:
    return LegacyClient(server.endpoint, *DEV_KEY)


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_counter)}_{int(time.time() * 1000) % 100000}"


@pytest.fixture
def new_project(client: TeaClient | LegacyClient) -> Callable[..., int]:
    def create(mode: int = 3) -> int:
        data = client.call(
            "CreateProject",
            ProjectIdentifier=unique("ws"),
            ProjectName="workspace under test",
            ProjectMode=mode,
        )
        return int(data["Data"])

    return create


def poll(client: TeaClient | LegacyClient, project_id: int, deployment_id: int) -> dict:
    """Poll GetDeployment until the package is final, as the official sample does."""
    deadline = time.monotonic() + 10
    while True:
        data = client.call("GetDeployment", ProjectId=project_id, DeploymentId=deployment_id)
        if data["Data"]["Deployment"]["Status"] != 0 or time.monotonic() > deadline:
            return data
        time.sleep(0.02)
