"""Rate limits, daily caps and overload protection, seen through the official SDKs.

One module-wide server runs with a TOML file that gives each test its own account (limits
are per account, so tests cannot drain each other's buckets); the overload tests start
their own servers with ``--max-inflight``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_dataworks_public20200518 import models
from alibabacloud_dataworks_public20200518.client import Client
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_tea_openapi.models import Config
from darabonba.policy.retry import RetryOptions  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from openworks.store.db import is_sqlite
from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.protocol.signer import sign_acs3

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import DEV_KEY, RunningServer, start_server, unique
from .test_protocol_errors import send

HEADER = re.compile(r"^Limit:\d+,Remain:\d+,TimeLeft:\d+$")
Key = tuple[str, str]
Limited = tuple[RunningServer, dict[str, Any]]  # the server, the keys by name and "ids"


_urls: dict[Path, str] = {}


def database_for(tmp: Path) -> str:
    """One database per temporary directory: the CLI and the server must share it."""
    if tmp not in _urls:
        _urls[tmp] = fresh_database_url("thr") if postgres_base() else f"sqlite:///{tmp}/ow.db"
    return _urls[tmp]


def cli_env(tmp: Path) -> tuple[str, dict[str, str]]:
    """The database URL and environment :func:`start_server` will use for ``tmp``."""
    database_url = database_for(tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env["XDG_DATA_HOME"] = str(tmp / "xdg")
    return database_url, env


_CREATE = """
import json, sys
from openworks.cli import main
url, names = sys.argv[1], sys.argv[2:]
for name in names:
    main(["accounts", "create", name, "--database-url", url], standalone_mode=False)
"""


def create_accounts(tmp: Path, names: list[str]) -> dict[str, tuple[str, Key]]:
    """``openworks accounts create`` for each name (one interpreter): id and root key."""
    database_url, env = cli_env(tmp)
    done = subprocess.run(
        [sys.executable, "-c", _CREATE, database_url, *(unique(n) for n in names)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    made = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {
        name: (data["AccountId"], (data["AccessKeyId"], data["AccessKeySecret"]))
        for name, data in zip(names, made, strict=True)
    }


def tea_client(
    server: RunningServer,
    key: Key,
    retry: RetryOptions | None = None,
    read_timeout: int | None = None,
) -> Client:
    config = Config(
        access_key_id=key[0],
        access_key_secret=key[1],
        endpoint=server.endpoint,
        protocol="HTTP",
        retry_options=retry,
        read_timeout=read_timeout,
    )
    return Client(config)


def list_projects(sdk: Client) -> dict[str, Any]:
    return dict(sdk.list_projects(models.ListProjectsRequest(page_size=10)).body.to_map())


NAMES = ["tea", "tea_v2", "legacy", "raw", "retry", "api", "daily", "calm"]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Limited]:
    """A server where every account is on ``basic`` unless the TOML file says otherwise."""
    tmp = tmp_path_factory.mktemp("throttled")
    made = create_accounts(tmp, NAMES)
    ids = {name: account for name, (account, _) in made.items()}
    toml = tmp / "limits.toml"
    toml.write_text(
        f"""
preset = "basic"   # every account not named below: 5 QPS, 100 calls a day

[accounts."{ids["retry"]}"]
qps = 4
daily = 0

[accounts."{ids["api"]}"]
preset = "enterprise"
[accounts."{ids["api"]}".operations]
ListProjects = 1

[accounts."{ids["daily"]}"]
qps = 0
daily = 3

[accounts."{ids["calm"]}"]
preset = "off"
""",
        encoding="utf-8",
    )
    server = start_server(
        tmp, extra_env={"OPENWORKS_THROTTLE": str(toml)}, database_url=database_for(tmp)
    )
    yield server, {name: key for name, (_, key) in made.items()} | {"ids": ids}
    server.stop()


def burst_until_throttled(call: Any, limit: int = 60) -> tuple[int, BaseException]:
    """Call without pause until refused: (calls that passed, the refusal)."""
    for passed in range(limit):
        try:
            call()
        except (ThrottlingException, CallFailed) as err:
            return passed, err
    raise AssertionError(f"{limit} calls in a row were never throttled")


@pytest.mark.parametrize("v2", [False, True], ids=["tea", "tea-v2"])
def test_burst_raises_tea_throttling_exception(limited: Limited, v2: bool) -> None:
    server, keys = limited
    sdk = tea_client(server, keys["tea_v2" if v2 else "tea"])
    if v2:
        sdk._signature_algorithm = "v2"
    passed, err = burst_until_throttled(lambda: list_projects(sdk))
    assert isinstance(err, ThrottlingException)
    assert passed >= 5  # the basic edition's burst: five calls in one second
    assert (err.code, err.status_code) == ("Throttling.User", 429)
    assert err.retry_after is not None and 0 < err.retry_after <= 200
    time.sleep(err.retry_after / 1000)
    list_projects(sdk)  # after the hint, the call goes through


def test_legacy_sdk_sees_the_documented_code(limited: Limited) -> None:
    server, keys = limited
    legacy = LegacyClient(server.endpoint, *keys["legacy"])
    passed, err = burst_until_throttled(lambda: legacy.call("ListProjects", PageSize=10))
    assert isinstance(err, CallFailed)
    assert passed >= 5
    assert (err.code, err.status) == ("Throttling.User", 429)
    assert err.request_id and "limit of 5 calls per second" in err.message


def test_raw_429_carries_every_throttling_header(limited: Limited) -> None:
    server, keys = limited
    key_id, secret = keys["raw"]

    def raw_call() -> tuple[int, dict[str, str], bytes]:
        req = sign_acs3(key_id, secret, uuid.uuid4().hex, time.time(), action="GetProject")
        return send(server, req)

    # A failing call (missing ProjectId) carries no throttling header at all.
    status, headers, _ = raw_call()
    assert status == 400
    assert not {h for h in headers if "retry-after" in h or "ratelimit" in h}
    while True:
        status, headers, body = raw_call()
        if status == 429:
            break
        assert status == 400
    doc = json.loads(body)
    assert doc["Code"] == "Throttling.User" and doc["HttpStatusCode"] == 429
    retry = int(headers["x-acs-retry-after"])
    assert 0 < retry <= 200
    for name in ("x-ratelimit-user", "x-ratelimit-user-api"):
        assert HEADER.match(headers[name]), headers[name]
        assert all(item.count(":") == 1 for item in headers[name].split(","))
    assert headers["x-ratelimit-user"].startswith("Limit:5,Remain:0,")


def test_tea_retry_options_recover_by_themselves(limited: Limited) -> None:
    server, keys = limited
    retry = RetryOptions(
        {
            "retryable": True,
            "retryCondition": [
                {"exception": ["ThrottlingException"], "maxAttempts": 20, "maxDelay": 2000}
            ],
        }
    )
    sdk = tea_client(server, keys["retry"], retry)
    started = time.monotonic()
    results = [list_projects(sdk) for _ in range(8)]
    elapsed = time.monotonic() - started
    assert all("PageResult" in r for r in results)
    # 4 QPS: four calls at once, the other four one token (250 ms) apart.
    assert elapsed >= 0.9
    refused = [
        line
        for line in server.log().splitlines()
        if " 429 " in line and f"account={keys['ids']['retry']}" in line
    ]
    assert refused, "the SDK never met a 429, so it did not have to retry"


def test_per_operation_limit_is_throttling_api(limited: Limited) -> None:
    server, keys = limited
    tea = TeaClient(server.endpoint, *keys["api"])
    legacy = LegacyClient(server.endpoint, *keys["api"])
    tea.call("ListProjects", PageSize=10)
    with pytest.raises(CallFailed) as info:
        legacy.call("ListProjects", PageSize=10)
    assert (info.value.code, info.value.status) == ("Throttling.Api", 429)
    with pytest.raises(CallFailed) as info:
        tea.call("ListProjects", PageSize=10)
    assert info.value.code == "Throttling.Api"
    assert isinstance(info.value.__cause__, ThrottlingException)
    assert 0 < info.value.__cause__.retry_after <= 1000
    for _ in range(10):  # other operations keep the enterprise limits (and fail normally)
        with pytest.raises(CallFailed) as other:
            tea.call("GetProject", ProjectId=987654321)
        assert other.value.status != 429
    time.sleep(1.0)
    tea.call("ListProjects", PageSize=10)


def test_daily_cap_counts_failed_calls(limited: Limited) -> None:
    server, keys = limited
    tea = TeaClient(server.endpoint, *keys["daily"])
    legacy = LegacyClient(server.endpoint, *keys["daily"])
    tea.call("ListProjects", PageSize=10)
    for client in (tea, legacy):  # two failing calls: they count too
        with pytest.raises(CallFailed) as failed:
            client.call("GetProject", ProjectId=987654321)
        assert failed.value.status != 429
    with pytest.raises(CallFailed) as info:
        tea.call("ListProjects", PageSize=10)
    assert (info.value.code, info.value.status) == ("Throttling.Resource", 429)
    cause = info.value.__cause__
    assert isinstance(cause, ThrottlingException)
    assert 0 < cause.retry_after <= 86_400_000
    with pytest.raises(CallFailed) as info:
        legacy.call("ListProjects", PageSize=10)
    assert info.value.code == "Throttling.Resource"


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, time.monotonic() - started


def test_one_account_flooding_leaves_health_and_other_accounts_fast(limited: Limited) -> None:
    server, keys = limited
    stop = threading.Event()
    codes: list[str] = []

    def flood() -> None:
        client = TeaClient(server.endpoint, *keys["tea"])
        while not stop.is_set():
            try:
                client.call("ListProjects", PageSize=1)
            except CallFailed as err:
                codes.append(err.code)

    threads = [threading.Thread(target=flood) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        calm = TeaClient(server.endpoint, *keys["calm"])
        for _ in range(10):
            status, elapsed = timed_get(f"http://{server.endpoint}/healthz")
            # Generous bounds: the flood shares two CPU cores with this client and the server.
            assert status == 200 and elapsed < 3.0
            started = time.monotonic()
            assert "PageResult" in calm.call("ListProjects", PageSize=1)  # never throttled
            assert time.monotonic() - started < 5.0
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert "Throttling.User" in codes


def trickle(port: int, count: int) -> list[socket.socket]:
    """Connections that send a request head and part of the body, then wait."""
    held = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\nAc"
        )
        held.append(conn)
    return held


@contextlib.contextmanager
def projects_locked(database_url: str) -> Iterator[None]:
    """Every write to the ``projects`` table waits while this block runs.

    SQLite: an exclusive transaction on the same file (in WAL mode readers go on; writers
    wait up to the server's busy timeout, 30 s, see store/db.py). PostgreSQL: an ACCESS
    EXCLUSIVE lock on the table in the server's schema (the URL's search_path)."""
    if is_sqlite(database_url):
        path = make_url(database_url).database
        assert path
        lite = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            lite.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                lite.execute("ROLLBACK")
        finally:
            lite.close()
        return
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as pg:  # not autocommit: the lock lasts until the rollback
        try:
            pg.execute("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
            yield
        finally:
            pg.rollback()


def wait_until_full(server: RunningServer) -> None:
    """Until a probe is refused with Throttling.System: every slot is taken.

    A probe that gets a slot fails its parameter check (PageSize 0) before any database
    work, so it never waits for the lock itself (on PostgreSQL a real ListProjects would:
    the table lock stops readers too)."""
    root = TeaClient(server.endpoint, *DEV_KEY)
    deadline = time.monotonic() + 10
    while True:
        with pytest.raises(CallFailed) as refused:
            root.call("ListProjects", PageSize=0)
        if refused.value.code == "Throttling.System":
            return
        assert refused.value.status == 400, refused.value
        assert time.monotonic() < deadline, "the slots were never all taken"
        time.sleep(0.05)


@contextlib.contextmanager
def hold_slots(server: RunningServer, count: int) -> Iterator[list[object]]:
    """``count`` CreateProject calls stuck inside their handlers, each waiting for the
    database lock this block holds, until every slot is taken; then the block's body runs.

    Yields the calls' outcomes (project ids, or the exceptions they raised), filled in once
    the lock is gone and they finish. Writes run on the API's threads (API_THREADS in
    app.py): four stuck writers hold four in-flight slots and every thread."""
    outcomes: list[object] = []
    lock = threading.Lock()
    # a read timeout well past how long the test holds the lock
    sdk = tea_client(server, DEV_KEY, read_timeout=60_000)

    def create() -> None:
        request = models.CreateProjectRequest(
            project_identifier=unique("slow"), project_name="slow", project_mode=2
        )
        while True:
            try:
                outcome: object = sdk.create_project(request).body.data
            except ThrottlingException:  # a probe held a slot for a moment: come again
                time.sleep(0.05)
                continue
            except Exception as err:  # reported by the test, not lost in the thread
                outcome = err
            break
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=create) for _ in range(count)]
    try:
        with projects_locked(server.database_url):
            for t in threads:
                t.start()
            wait_until_full(server)
            yield outcomes
    finally:  # the lock is gone: the slow calls finish
        for t in threads:
            if t.ident is not None:  # started
                t.join(30)
    assert not any(t.is_alive() for t in threads), "the slow calls never finished"


def test_overloaded_server_answers_throttling_system_at_once(tmp_path: Path) -> None:
    calm_key = create_accounts(tmp_path, ["calm"])["calm"][1]
    server = start_server(
        tmp_path,
        args=("--max-inflight", "4", "--throttle", "off"),
        database_url=database_for(tmp_path),
    )
    try:
        root = TeaClient(server.endpoint, *DEV_KEY)
        # A client trickling its body in holds no slot: with ten of them half-sent, four
        # slots still serve calls (the body is read before the in-flight gate, issue 13).
        trickling = trickle(server.port, 10)
        try:
            time.sleep(0.5)  # the server has read their heads and waits for their bodies
            for _ in range(5):
                assert "PageResult" in root.call("ListProjects", PageSize=1)
            for conn in trickling:  # waiting, not dropped: once finished, they are answered
                conn.sendall(b"tion=ListProjects&")
                status_line = conn.recv(65536).split(b"\r\n", 1)[0]
                assert status_line.startswith(b"HTTP/1.1 4"), status_line  # unsigned
                assert b" 408 " not in status_line and b" 429 " not in status_line, status_line
        finally:
            for conn in trickling:
                conn.close()

        results: list[tuple[str, int | None, float]] = []
        lock = threading.Lock()

        def flood(key: Key) -> None:
            sdk = tea_client(server, key)
            for _ in range(5):
                started = time.monotonic()
                try:
                    list_projects(sdk)
                    outcome: tuple[str, int | None] = ("ok", None)
                except ThrottlingException as err:
                    outcome = (err.code, err.retry_after)
                with lock:
                    results.append((*outcome, time.monotonic() - started))

        with hold_slots(server, 4) as slow:  # four writes stuck in their handlers
            keys = [DEV_KEY] * 7 + [calm_key] * 3
            threads = [threading.Thread(target=flood, args=(k,)) for k in keys]
            for t in threads:
                t.start()
            for _ in range(5):
                status, elapsed = timed_get(f"http://{server.endpoint}/healthz")
                assert status == 200 and elapsed < 3.0
            for t in threads:
                t.join()
            assert not slow, f"a slow call finished while the database was locked: {slow}"
        assert len(results) == 50
        assert {code for code, _, _ in results} == {"Throttling.System"}
        assert all(retry == 200 for _, retry, _ in results)
        assert max(elapsed for _, _, elapsed in results) < 5.0

        # the lock is gone: the slow calls went through and the slots are free again
        assert len(slow) == 4 and all(isinstance(x, int) and x > 0 for x in slow), slow
        assert "PageResult" in root.call("ListProjects", PageSize=1)
        assert "PageResult" in TeaClient(server.endpoint, *calm_key).call(
            "ListProjects", PageSize=1
        )
    finally:
        server.stop()
