"""Extension signing secrets are sealed at rest with the server key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from openworks.core.context import Core
from openworks.core.extensions import add_extension
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from openworks.store.schema_checks import extensions
from openworks.store.secrets import SecretBox
from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.core.conftest import ROOT

SECRET = "webhook-signing-secret-42"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = fresh_database_url("ext") if postgres_base() else f"sqlite:///{tmp_path}/e.db"
    engine = make_engine(url)
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    yield engine
    engine.dispose()


def test_secret_is_sealed_in_the_table_and_opened_for_delivery(engine: Engine) -> None:
    box = SecretBox(os.urandom(32))
    core = Core(SqlStore(engine, box))
    add_extension(core, ROOT, "no_max_pt", "No MAX_PT", ["commit-file"], "http://127.0.0.1:9/x",
                  SECRET)  # fmt: skip
    with engine.connect() as conn:
        stored = conn.execute(select(extensions.c.secret)).scalar_one()
    assert SECRET not in stored and stored.startswith("ow1:")
    with core.store.transaction() as tx:
        found = tx.checks().extension(ROOT.account_id, "no_max_pt")
    assert found is not None and found.secret == SECRET
    # another server key cannot open it
    other = Core(SqlStore(engine, SecretBox(os.urandom(32))))
    with pytest.raises(Exception, match="server key"), other.store.transaction() as tx:
        tx.checks().extension(ROOT.account_id, "no_max_pt")
