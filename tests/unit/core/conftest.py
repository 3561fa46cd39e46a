"""A domain on a fresh in-memory SQLite store (no server, no database file)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from openworks.core import checks
from openworks.core.context import Core
from openworks.core.model import Principal
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from tests.dbutil import fresh_database_url, postgres_base

ROOT = Principal("1000000000000001", "1000000000000001", "root")


class Clock:
    def __init__(self) -> None:
        self.ticks = itertools.count(1_800_000_000_000, 1000)

    def __call__(self) -> int:
        return next(self.ticks)


@pytest.fixture
def core() -> Iterator[Core]:
    engine = make_engine(fresh_database_url("core") if postgres_base() else "sqlite://")
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    yield checks.install(Core(SqlStore(engine), clock=Clock()))
    engine.dispose()
