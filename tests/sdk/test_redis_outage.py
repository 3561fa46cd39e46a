"""A Redis outage seen through the official SDKs: 503 ServiceUnavailable, then recovery.

Each test starts its own ``redis-server`` on a free port (never the shared one on 6379),
points a real server at it, kills it, and starts it again on the same port.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import DEV_KEY, free_port, start_server

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    assert self.process.poll() is None, "redis-server exited"
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis(free_port())
    server.start()
    yield server
    server.kill()


def healthz_seconds(port: int) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("nonce_store", "what"),
    [("redis", "the replay cache"), ("memory", "the rate limiter")],
)
def test_redis_outage_is_503_and_recovers(
    tmp_path: Path, own_redis: OwnRedis, nonce_store: str, what: str
) -> None:
    server = start_server(
        tmp_path,
        args=(
            "--redis-url", own_redis.url, "--nonce-store", nonce_store,
            "--throttle", "standard",
        ),
    )  # fmt: skip
    try:
        tea = TeaClient(server.endpoint, *DEV_KEY)
        clients: list[TeaClient | LegacyClient] = [
            tea,
            TeaClient(server.endpoint, *DEV_KEY, v2=True),
            LegacyClient(server.endpoint, *DEV_KEY),
        ]
        assert tea.call("ListProjects", PageNumber=1, PageSize=10)["RequestId"]

        own_redis.kill()
        for _ in range(3):
            for client in clients:
                with pytest.raises(CallFailed) as info:
                    client.call("ListProjects", PageNumber=1, PageSize=10)
                err = info.value
                assert (err.code, err.status) == ("ServiceUnavailable", 503), err
                assert f"{what} (Redis) is unreachable" in err.message, err
                assert err.request_id
            assert healthz_seconds(server.port) < 0.5  # liveness does not depend on Redis
        log = server.log()
        assert log.count("Redis unreachable") == 1, log  # one warning per outage
        assert "InternalError" not in log and "Traceback" not in log, log

        own_redis.start()  # the same port again
        deadline = time.monotonic() + 10
        while True:
            try:
                assert tea.call("ListProjects", PageNumber=1, PageSize=10)["RequestId"]
                break
            except CallFailed as err:
                assert err.code == "ServiceUnavailable", err
                assert time.monotonic() < deadline, "calls did not recover"
                time.sleep(0.1)
        for client in clients:
            assert client.call("ListProjects", PageNumber=1, PageSize=10)["RequestId"]
        assert "Redis reachable again" in server.log()
    finally:
        server.stop()
