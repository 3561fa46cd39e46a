"""Users, accounts and clients for the security tests, made with the real CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import DEV_KEY, RunningServer, unique

Client = TeaClient | LegacyClient


def cli_json(server: RunningServer, *args: str) -> dict[str, Any]:
    done = server.cli(*args)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@dataclass
class User:
    name: str
    user_id: str
    key_id: str
    secret: str

    def tea(self, server: RunningServer) -> TeaClient:
        return TeaClient(server.endpoint, self.key_id, self.secret)


def new_user(server: RunningServer, prefix: str = "u", *extra: str) -> User:
    name = unique(prefix)
    made = cli_json(server, "users", "create", name, *extra)
    return User(name, made["UserId"], made["AccessKeyId"], made["AccessKeySecret"])


def root(server: RunningServer) -> TeaClient:
    return TeaClient(server.endpoint, *DEV_KEY)


def new_project(client: Client, mode: int = 3) -> int:
    data = client.call(
        "CreateProject", ProjectIdentifier=unique("sec"), ProjectName="security", ProjectMode=mode
    )
    return int(data["Data"])


def failure(call: Callable[[], Any]) -> CallFailed:
    with pytest.raises(CallFailed) as caught:
        call()
    return caught.value


def eventually_fails(call: Callable[[], Any], code: str, seconds: float = 6.0) -> CallFailed:
    """Retry until the call fails with ``code`` (key lookups are cached for 2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            call()
        except CallFailed as err:
            if err.code == code or time.monotonic() > deadline:
                return err
        else:
            if time.monotonic() > deadline:
                raise AssertionError(f"still succeeds after {seconds}s, expected {code}")
        time.sleep(0.2)
