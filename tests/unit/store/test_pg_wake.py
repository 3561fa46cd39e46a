"""Workers woken across processes on PostgreSQL (migration 0018, store/pg_wake.py).

A package made ready by another process's engine starts at once on a worker whose idle
poll is a minute away; the trigger notifies exactly when the claim could take the row
(status READY, no hold), with the schema as payload. PostgreSQL only, except the first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, update

from openworks.core import checks, files, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.model import PackageStatus
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, make_engine, migrate, open_core
from openworks.store.identity import ensure_account
from openworks.store.pg_pool import driver_params
from openworks.store.pg_wake import CHANNEL, ReadyListener
from openworks.store.schema import packages as packages_table
from openworks.worker import Worker
from tests.dbutil import fresh_database_url, postgres_base
from tests.waiting import within

from ..core.conftest import ROOT, Clock


def test_sqlite_worker_has_no_listener() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    assert Worker(open_core(engine)).listener is None
    engine.dispose()


pytestmark_pg = pytest.mark.skipif(not postgres_base(), reason="needs OPENWORKS_TEST_POSTGRES")


def _engine() -> Engine:
    engine = make_engine(fresh_database_url("wake"))
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    return engine


@pytest.fixture
def url() -> Iterator[str]:
    engine = _engine()
    yield engine.url.render_as_string(hide_password=False)
    engine.dispose()


def _submit(core: Core, name: str) -> tuple[ProjectRef, int]:
    ref = ProjectRef(create_project(core, ROOT, NewProject(name, name)))
    file_id = files.create_file(core, ROOT, ref, 10, {"FileName": name})
    return ref, packages.submit_file(core, ROOT, ref, file_id, None)


@pytestmark_pg
def test_worker_starts_a_package_made_ready_by_another_process(url: str) -> None:
    mine, theirs = make_engine(url), make_engine(url)
    worker = Worker(open_core(mine), idle_seconds=60)  # its own poll: a minute away
    assert worker.listener is not None
    worker.start()
    other = checks.install(Core(SqlStore(theirs), clock=Clock()))  # no hook to that worker
    try:
        assert worker.listener.listening.wait(10)
        time.sleep(0.3)  # past the drain the first wake-up started
        ref, package_id = _submit(other, "ws_wake")

        def done() -> bool:
            status = packages.get_deployment(other, ROOT, ref, package_id).status
            return bool(status == PackageStatus.SUCCESS)

        assert within(done, 5), "the worker was not woken"
    finally:
        worker.stop()
        mine.dispose()
        theirs.dispose()


@pytestmark_pg
def test_trigger_notifies_only_what_a_claim_could_take(url: str) -> None:
    engine = make_engine(url)
    core = checks.install(Core(SqlStore(engine), clock=Clock()))
    params = driver_params(engine)
    with psycopg.connect(autocommit=True, **params) as listen:
        schema = listen.execute("SELECT current_schema()").fetchone()
        listen.execute(f"LISTEN {CHANNEL}")

        def heard() -> list[str]:
            return [n.payload for n in listen.notifies(timeout=0.3)]

        _ref, package_id = _submit(core, "ws_trigger")  # READY at creation
        assert heard() == [schema[0] if schema else None]
        row = packages_table.c.id == package_id
        for values, expected in (
            ({"hold": "manual"}, 0),  # held: no claim could take it
            ({"hold": None}, 1),  # released: ready again
            ({"status": 1}, 0),  # finished
            ({"error_message": "x"}, 0),  # a column the trigger does not watch
        ):
            with engine.begin() as conn:
                conn.info["write"] = True
                conn.execute(update(packages_table).where(row).values(**values))
            assert len(heard()) == expected, values
    engine.dispose()


@pytestmark_pg
def test_listener_ignores_other_schemas(url: str) -> None:
    elsewhere = _engine()  # another server's schema in the same database
    woken = threading.Event()
    listener = ReadyListener(elsewhere, woken.set)
    listener.start()
    engine = make_engine(url)
    try:
        assert listener.listening.wait(10)
        assert woken.wait(1)  # once when it starts listening
        woken.clear()
        _submit(checks.install(Core(SqlStore(engine), clock=Clock())), "ws_other")
        assert not woken.wait(0.5)
        _submit(checks.install(Core(SqlStore(elsewhere), clock=Clock())), "ws_here")
        assert woken.wait(5)
    finally:
        listener.stop()
        engine.dispose()
        elsewhere.dispose()
