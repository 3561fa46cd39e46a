"""Test control is a gate of the lifecycle, installed only when asked for (issue 14, item 2).

Without it, creating and executing packages and the worker's claim send no SQL that
mentions a control table; with it, the same calls do (so the counting below can see it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event

from openworks.cli import main
from openworks.core import checks, files, packages, test_control
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.model import PackageStatus
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, hot, make_engine, migrate, open_core
from openworks.store.identity import ensure_account
from tests.dbutil import fresh_database_url, postgres_base

from .conftest import ROOT, Clock

CONTROL_TABLES = ("control_state", "control_gates")


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine(fresh_database_url("gates") if postgres_base() else "sqlite://")
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    yield engine
    engine.dispose()


class Statements:
    """Every statement sent to ``engine`` while recording, as SQL text: the engine's, and
    the hot ones that store/hot.py runs straight on the driver (no engine event sees those).
    Other engines' hot statements are left out: the test kit's session server (started by
    tests/sdk, alive for the whole session) runs its worker's claim from its own thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sql: list[str] = []
        self._execute = hot._execute

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        execute = self._execute

        def seen_hot(conn: Any, compiled: Any, args: Any, many: bool = False) -> Any:
            if conn.engine is self.engine:
                self.sql.append(compiled.sql)
            return execute(conn, compiled, args, many)

        hot._execute = seen_hot
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
        hot._execute = self._execute

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.sql.append(statement)

    def mentioning_control(self) -> list[str]:
        return [s for s in self.sql if any(t in s for t in CONTROL_TABLES)]


def lifecycle(core: Core) -> tuple[int, int]:
    """CreateFile, SubmitFile, run it, DeployFile, run it: the two packages' IDs."""
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_gates", "G")))
    file_id = files.create_file(core, ROOT, ref, 10, {"FileName": "one"})
    commit = packages.submit_file(core, ROOT, ref, file_id, None)
    assert packages.run_next_package(core) == commit
    deploy = packages.deploy_file(core, ROOT, ref, file_id, None, None)
    assert packages.run_next_package(core) == deploy
    assert packages.run_next_package(core) is None
    for package_id in (commit, deploy):
        done = packages.get_deployment(core, ROOT, ref, package_id)
        assert done.status == PackageStatus.SUCCESS
    return commit, deploy


def claim_sql(store: object) -> str:
    """The SQL text of the claim statements the store chose at start."""
    assert isinstance(store, SqlStore)
    claim = store._claim
    return str(claim.first.stmt.compile(store.engine)) + str(claim.ready.compile(store.engine))


def test_without_the_gate_no_control_sql(engine: Engine) -> None:
    core = checks.install(Core(SqlStore(engine), clock=Clock()))
    assert core.gates == ()
    assert not any(t in claim_sql(core.store) for t in CONTROL_TABLES)
    with Statements(engine) as seen:
        lifecycle(core)
    assert any("packages" in s for s in seen.sql)  # the listener saw the lifecycle
    assert seen.mentioning_control() == []


def test_open_core_installs_only_when_asked(engine: Engine) -> None:
    plain = open_core(engine)
    assert plain.gates == () and isinstance(plain.store, SqlStore)
    assert not plain.store.test_control
    controlled = open_core(engine, test_control=True)
    assert controlled.gates == (test_control.GATE,)
    assert isinstance(controlled.store, SqlStore) and controlled.store.test_control
    assert "control_gates" in claim_sql(controlled.store)
    test_control.install(controlled)  # idempotent
    assert controlled.gates == (test_control.GATE,)


def test_with_the_gate_creation_claim_and_execution_ask_it(engine: Engine) -> None:
    core = open_core(engine, test_control=True)
    core.clock = Clock()
    with Statements(engine) as seen:
        lifecycle(core)
    control = seen.mentioning_control()
    assert any("control_gates" in s for s in control)  # the claim
    assert any("control_state" in s and "UPDATE" in s.upper() for s in control)  # execution


def test_installed_gate_holds_and_fails_packages(engine: Engine) -> None:
    core = open_core(engine, test_control=True)
    core.clock = Clock()
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_held", "H")))
    test_control.set_mode(core, "manual")
    file_id = files.create_file(core, ROOT, ref, 10, {"FileName": "held"})
    held = packages.submit_file(core, ROOT, ref, file_id, None)
    assert packages.run_next_package(core) is None  # the gate holds it
    # a process without the gate neither sees nor honours the gates
    plain = Core(SqlStore(engine), clock=Clock())
    test_control.fail_next(core, 1, "forced", 2)
    assert test_control.release(core, held) == [held]
    assert packages.run_next_package(plain) == held
    assert packages.get_deployment(core, ROOT, ref, held).status == PackageStatus.SUCCESS
    assert test_control.control_state(core).fail_remaining == 1  # not taken without the gate
    test_control.set_mode(core, "instant")
    deploy = packages.deploy_file(core, ROOT, ref, file_id, None, None)
    assert packages.run_next_package(core) == deploy
    failed = packages.get_deployment(core, ROOT, ref, deploy)
    assert failed.status == PackageStatus.FAILED and failed.error_message == "forced"


def test_worker_command_takes_control_flag_and_env() -> None:
    from openworks.cli.worker import worker  # commands load when named (cli/__init__.py)

    control = next(p for p in worker.params if p.name == "control")
    assert control.envvar == "OPENWORKS_CONTROL"  # type: ignore[attr-defined]
    assert "--control" in CliRunner().invoke(main, ["worker", "--help"]).output
