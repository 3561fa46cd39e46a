"""PostgreSQL: the per-workspace execution lock is per schema.

Two schemas of one cluster (tenants, parallel test runs) number their workspaces alike;
a worker running a package of workspace 10001 in one schema must not make the worker of
another schema skip its own workspace 10001 (the claim's advisory lock once keyed on the
workspace id alone: CI saw packages left READY by a concurrent server's worker).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from openworks.core.model import Item, Package, Project
from openworks.store import make_engine, migrate
from openworks.store.identity import ensure_account
from openworks.store.repo import SqlStore
from tests.dbutil import fresh_database_url, postgres_base

ACCOUNT = "1000000000000001"
pytestmark = pytest.mark.skipif(postgres_base() is None, reason="PostgreSQL only")


def _ready_package(engine: Engine) -> tuple[int, int]:
    with SqlStore(engine).transaction(write=True) as tx:
        pid = tx.insert_project(
            Project(id=0, account_id="1000000000000001", identifier="ws", name="ws", mode=3,
                    owner_id="1000000000000001", create_time=1, modify_time=1)
        )  # fmt: skip
        package = Package(
            id=0, project_id=pid, name="p", status=0, from_env=0, to_env=1,
            creator_id=ACCOUNT, handler_id=ACCOUNT, create_time=1, items=[Item(1, 1, 0)],
        )  # fmt: skip
        return pid, tx.insert_package(package)


def test_a_busy_workspace_in_one_schema_does_not_block_another_schema() -> None:
    engines = [make_engine(fresh_database_url("lock")) for _ in range(2)]
    try:
        for engine in engines:
            migrate(engine)
            ensure_account(engine, ACCOUNT)
        (pid_a, _), (pid_b, package_b) = (_ready_package(e) for e in engines)
        assert pid_a == pid_b  # the same workspace id in both schemas
        store_a, store_b = (SqlStore(e) for e in engines)
        with store_a.transaction(write=True) as tx_a:
            assert tx_a.claim_ready_package() is not None  # holds workspace pid_a's lock
            with store_b.transaction(write=True) as tx_b:
                claimed = tx_b.claim_ready_package()
                assert claimed is not None and claimed.package.id == package_b
    finally:
        for engine in engines:
            engine.dispose()
