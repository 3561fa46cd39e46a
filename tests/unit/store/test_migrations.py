"""The schema history has one head, and migrating twice is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from openworks.store import make_engine, migrate
from openworks.store.db import MIGRATIONS, migration_heads
from tests.dbutil import fresh_database_url, postgres_base


def test_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == ["0018"]


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = fresh_database_url("mig") if postgres_base() else f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    try:
        migrate(engine)
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"packages", "folders", "audit_log", "nonces", "extensions"} <= tables
        with engine.connect() as conn:
            assert conn.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).scalars().all() == ["0018"]
    finally:
        engine.dispose()


def test_heads_read_from_files_match_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert migration_heads() == set(ScriptDirectory.from_config(config).get_heads())


def test_database_at_the_heads_skips_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    calls: list[str] = []
    real_upgrade = command.upgrade

    def counting_upgrade(config: Config, revision: str) -> None:
        calls.append(revision)
        real_upgrade(config, revision)

    monkeypatch.setattr(command, "upgrade", counting_upgrade)
    try:
        migrate(engine)  # fresh: Alembic runs
        migrate(engine)  # at the heads: it does not
        assert calls == ["heads"]
        with engine.begin() as conn:  # an older database is upgraded again
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
        with pytest.raises(Exception):  # noqa: B017 (0009 only merges; re-running 0002.. fails)
            migrate(engine)
        assert calls == ["heads", "heads"]
    finally:
        engine.dispose()
