"""The schema history has one head, and migrating twice is a no-op."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from openworks.store import make_engine, migrate
from openworks.store.db import MIGRATIONS
from tests.dbutil import fresh_database_url, postgres_base


def test_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == ["0009"]


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
            ).scalars().all() == ["0009"]
    finally:
        engine.dispose()
