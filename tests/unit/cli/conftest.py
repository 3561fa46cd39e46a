"""A fresh database (SQLite, or a PostgreSQL schema with OPENWORKS_TEST_POSTGRES) with the
root account and one workspace, and a CliRunner bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from openworks.cli import main
from openworks.core import checks
from openworks.core.context import Core
from openworks.core.model import Principal
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from tests.dbutil import fresh_database_url

ACCOUNT = "1000000000000001"
ROOT = Principal(ACCOUNT, ACCOUNT, "root")


@dataclass
class CliDb:
    url: str
    engine: Engine
    core: Core
    project_id: int  # workspace "ws_cli"

    def invoke(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> Result:
        return CliRunner().invoke(main, [*args, "--database-url", self.url], stdin, env=env)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliDb]:
    for name in ("OPENWORKS_DATABASE_URL", "OPENWORKS_ACCOUNT_ID", "SUDO_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = fresh_database_url("cli")
    engine = make_engine(url)
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    core = checks.install(Core(SqlStore(engine)))
    project_id = create_project(core, ROOT, NewProject("ws_cli", "CLI workspace"))
    yield CliDb(url, engine, core, project_id)
    engine.dispose()
