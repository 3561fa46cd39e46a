"""The worker executes every ready package exactly once, also with two of them racing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from openworks.core import checks, files, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from openworks.worker import Worker
from tests.dbutil import fresh_database_url, postgres_base

from .core.conftest import ROOT

_urls: dict[Path, str] = {}
_engines: list[Engine] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while _engines:
        _engines.pop().dispose()


def make_core(path: Path) -> Core:
    # the same path always means the same database, also on PostgreSQL
    if path not in _urls:
        _urls[path] = fresh_database_url("worker") if postgres_base() else f"sqlite:///{path}"
    engine = make_engine(_urls[path])
    _engines.append(engine)
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    return checks.install(Core(SqlStore(engine)))


def queue_packages(core: Core, count: int) -> tuple[ProjectRef, list[int]]:
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_worker", "W")))
    ids = []
    for n in range(count):
        fid = files.create_file(core, ROOT, ref, 10, {"FileName": f"f{n}"})
        ids.append(packages.submit_file(core, ROOT, ref, fid, None))
    return ref, ids


def test_two_workers_execute_each_package_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = make_core(tmp_path / "w.db")
    ref, ids = queue_packages(core, 40)
    executed: Counter[int] = Counter()
    real = packages.execute_package
    lock = threading.Lock()

    def counting(tx, package, now, gates):  # type: ignore[no-untyped-def]
        with lock:
            executed[package.id] += 1
        real(tx, package, now, gates)

    monkeypatch.setattr(packages, "execute_package", counting)
    workers = [Worker(make_core(tmp_path / "w.db")) for _ in range(2)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(executed) == set(ids)
    assert all(count == 1 for count in executed.values())
    assert all(packages.get_deployment(core, ROOT, ref, i).status == 1 for i in ids)


def test_ready_packages_run_after_restart(tmp_path: Path) -> None:
    # packages created while no worker runs (e.g. the process died) stay READY in the
    # database and a new worker picks them up
    first = make_core(tmp_path / "r.db")
    ref, ids = queue_packages(first, 3)
    assert all(packages.get_deployment(first, ROOT, ref, i).status == 0 for i in ids)
    second = make_core(tmp_path / "r.db")
    worker = Worker(second, idle_seconds=0.05)
    worker.start()
    worker.notify()
    try:
        for _ in range(200):
            if all(packages.get_deployment(second, ROOT, ref, i).status == 1 for i in ids):
                break
            threading.Event().wait(0.02)
    finally:
        worker.stop()
    assert [packages.get_deployment(second, ROOT, ref, i).status for i in ids] == [1, 1, 1]


def test_crashing_package_fails_instead_of_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = make_core(tmp_path / "c.db")
    ref, ids = queue_packages(core, 2)

    def boom(tx, package, now, gates):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(packages, "execute_package", boom)
    Worker(core).drain()
    first = packages.get_deployment(core, ROOT, ref, ids[0])
    assert first.status == 2 and "Internal error" in (first.error_message or "")
    assert packages.get_deployment(core, ROOT, ref, ids[1]).status == 2


def test_packages_of_one_workspace_run_in_order_with_two_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each downstream package needs its upstream's node in DEV: executed out of order, it
    # would fail; slow executions make the two workers overlap
    real = packages.execute_package

    def slow(tx, package, now, gates):  # type: ignore[no-untyped-def]
        time.sleep(0.03)
        real(tx, package, now, gates)

    monkeypatch.setattr(packages, "execute_package", slow)
    core = make_core(tmp_path / "o.db")
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_order", "O")))
    ids = []
    previous = ""
    for n in range(12):
        fields = {"FileName": f"step{n}", "InputList": previous}
        fid = files.create_file(core, ROOT, ref, 10, fields)
        ids.append(packages.submit_file(core, ROOT, ref, fid, None))
        previous = f"ws_order.step{n}"
    workers = [Worker(make_core(tmp_path / "o.db")) for _ in range(2)]

    def keep_draining(worker: Worker) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            packages.get_deployment(core, ROOT, ref, i).status == 0 for i in ids
        ):
            worker.drain()
            time.sleep(0.005)

    threads = [threading.Thread(target=keep_draining, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [packages.get_deployment(core, ROOT, ref, i).status for i in ids] == [1] * 12


def count_claims(monkeypatch: pytest.MonkeyPatch, core: Core) -> list[bool]:
    """Every claim made on ``core``'s database: True if it found a package. Claims on other
    engines are left out: the test kit's session server (started by tests/sdk, alive for the
    whole session) claims from its own worker thread through the same patched class."""
    from openworks.store.repo import SqlTx

    assert isinstance(core.store, SqlStore)
    engine = core.store.engine
    claims: list[bool] = []
    real = SqlTx.claim_ready_package

    def counted(self: SqlTx):  # type: ignore[no-untyped-def]
        found = real(self)
        if self.conn.engine is engine:
            claims.append(found is not None)
        return found

    monkeypatch.setattr(SqlTx, "claim_ready_package", counted)
    return claims


def test_no_claim_after_the_last_ready_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite: the claim tells whether another package was ready, so the worker stops after
    # the last one instead of taking the write lock once more to find none. PostgreSQL
    # claims once more (another process may have skipped a package meanwhile).
    core = make_core(tmp_path / "n.db")
    queue_packages(core, 3)
    claims = count_claims(monkeypatch, core)
    assert Worker(core).drain() == 3
    assert claims == [True, True, True] + ([False] if postgres_base() else [])
    claims.clear()
    assert Worker(core).drain() == 0 and claims == [False]


def test_a_package_an_execution_makes_ready_runs_without_waiting(tmp_path: Path) -> None:
    # an Auto run's DEV package settles inside the worker's transaction and its next stage
    # makes the PROD package: the worker is told, so it does not wait out its idle time
    from openworks.core import pipeline_runs, run_trigger
    from openworks.core import run_stages as rs

    core = run_trigger.install(make_core(tmp_path / "a.db"))
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_auto_wait", "A", mode=3)))
    fid = files.create_file(core, ROOT, ref, 10, {"FileName": "auto", "Content": "SELECT 1"})
    worker = Worker(core, idle_seconds=60)
    core.on_package = worker.notify
    worker.start()
    try:
        started = time.monotonic()
        run_id = pipeline_runs.create_run(core, ROOT, ref, "Online", [str(fid)], None, "Auto", None)
        worker.notify()
        while time.monotonic() - started < 20:
            view = pipeline_runs.get_run(core, ROOT, ref, run_id)
            if view.derived.status != rs.RUNNING:
                break
            time.sleep(0.02)
        assert view.derived.status == rs.SUCCESS
        assert time.monotonic() - started < 20
    finally:
        worker.stop()


def test_a_normal_run_wakes_the_worker_for_its_released_packages_only(tmp_path: Path) -> None:
    # a Normal run's package settling triggers nothing: waking the worker then would only
    # cost it an empty claim (the write lock, on SQLite)
    from openworks.core import pipeline_runs, run_trigger
    from openworks.core import run_stages as rs

    core = run_trigger.install(make_core(tmp_path / "n.db"))
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_normal_wake", "N", mode=3)))
    fid = files.create_file(core, ROOT, ref, 10, {"FileName": "normal", "Content": "SELECT 1"})
    woken: list[int] = []
    core.on_package = woken.append
    worker = Worker(core)
    run_id = pipeline_runs.create_run(core, ROOT, ref, "Online", [str(fid)], None, None, None)
    for code in (rs.DEV_CHECK, rs.DEV, rs.PROD_CHECK, rs.PROD):
        pipeline_runs.exec_stage(core, ROOT, ref, run_id, code)
        worker.drain()
        worker.checks.tick()
    assert pipeline_runs.get_run(core, ROOT, ref, run_id).derived.status == rs.SUCCESS
    run = pipeline_runs.get_run(core, ROOT, ref, run_id).run
    assert woken == [run.dev_package_id, run.prod_package_id]  # released by DEV and PROD


def test_worker_command_logs_in_the_format_asked_for(tmp_path: Path) -> None:
    """``openworks worker`` honours ``OPENWORKS_LOG_FORMAT`` (what ``serve --log-format``
    hands the worker process it starts on PostgreSQL): its records are JSON lines."""
    import json
    import os
    import subprocess
    import sys

    core = make_core(tmp_path / "log.db")
    ref, (package_id,) = queue_packages(core, 1)
    url = _urls[tmp_path / "log.db"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENWORKS_")}
    env.update({"XDG_DATA_HOME": str(tmp_path / "xdg"), "OPENWORKS_LOG_FORMAT": "json"})
    args = ["worker", "--database-url", url, "--log-level", "debug"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "openworks", *args], stderr=subprocess.PIPE, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while packages.get_deployment(core, ROOT, ref, package_id).status == 0:
            assert time.monotonic() < deadline and worker.poll() is None, "not executed"
            time.sleep(0.05)
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    records = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert f"executed package {package_id}" in [r["message"] for r in records], err.decode()
