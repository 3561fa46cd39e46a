"""A write with a 5,000-character ProjectIdentifier through the official SDKs leaves its
audit row, the identifier cut with a marker (issue 13, item 7). On PostgreSQL the row used
to be lost: the insert failed on the 64-character column and the failure was swallowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from openworks.store import make_engine
from openworks.store.schema_security import audit_log

from .clients import CallFailed, make_client
from .conftest import DEV_KEY, RunningServer, unique


@pytest.mark.parametrize("dialect", ["tea", "legacy"])
def test_a_huge_project_identifier_is_audited_cut_with_a_marker(
    server: RunningServer, dialect: str
) -> None:
    client = make_client(dialect, server.endpoint, *DEV_KEY)
    identifier = unique("huge")
    identifier += "x" * (5000 - len(identifier))
    with pytest.raises(CallFailed) as caught:  # no workspace may have such an identifier
        client.call("CreateProject", ProjectIdentifier=identifier, ProjectName="huge")
    assert caught.value.status is not None and caught.value.status < 500
    engine = make_engine(server.database_url, pool=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(audit_log).where(audit_log.c.request_id == caught.value.request_id)
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 1, "the audit row was lost"
    row = rows[0]._mapping
    assert row["action"] == "CreateProject" and row["code"] == caught.value.code
    stored = row["project_identifier"]
    assert len(stored) == 64 and stored.endswith("…[5000 characters]")
    assert identifier.startswith(stored.removesuffix("…[5000 characters]"))
    assert "…[5000 characters]" in row["params"]
