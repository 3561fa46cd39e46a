"""The audit trail never drops a row (issue 13, item 7): every column is bounded to its
width, a failed insert is logged, counted and replaced by a reduced row.

Runs on SQLite, and on PostgreSQL when OPENWORKS_TEST_POSTGRES is set (where a value
longer than its column used to make the insert fail and the row vanish)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from openworks.core.model import Principal
from openworks.security import Security
from openworks.store import audit as audit_store
from openworks.store import make_engine, migrate
from openworks.store.audit import (
    MAX_PARAMS,
    AuditEntry,
    audit_failures,
    audit_rows_lost,
    bounded,
    query,
    record,
)
from openworks.store.schema_security import audit_log
from openworks.store.secrets import SecretBox
from tests.dbutil import fresh_database_url, postgres_base

ACCOUNT = "1000000000000001"
ROOT = Principal(ACCOUNT, ACCOUNT, "root")
WIDTHS = {
    "account_id": 32,
    "user_id": 32,
    "access_key_id": 64,
    "action": 64,
    "project_identifier": 64,
    "code": 128,
    "request_id": 64,
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = fresh_database_url("aud") if postgres_base() else f"sqlite:///{tmp_path}/a.db"
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def _audit(security: Security, request_id: str, **params: Any) -> None:
    entry = security.audit_entry(
        principal=ROOT,
        access_key_id="LTAI0123456789abcdefghij",
        action="CreateFile",
        params=params,
        status=400,
        code="InvalidParameter",
        request_id=request_id,
        document=None,
    )
    security.audit(entry)


def _row(engine: Engine, request_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.request_id == request_id)).all()
    assert len(rows) == 1, rows
    return dict(rows[0]._mapping)


def test_bounded_cuts_with_a_marker_to_the_exact_width() -> None:
    assert bounded("short", 64) == "short"
    cut = bounded("p" * 5000, 64)
    assert len(cut) == 64 and cut == "p" * 46 + "…[5000 characters]"
    assert bounded("a\x00b\ud800", 64) == "a\\x00b\ufffd"
    assert bounded("é😀中", 64) == "é😀中"  # other non-ASCII text is kept as it is
    assert bounded("\ud83d\ude00é", 64) == "\ufffd\ufffdé"  # surrogates are never a pair here
    assert len(bounded("x" * 100, 8)) == 8


def test_a_5000_character_project_identifier_is_stored_cut_with_its_marker(
    engine: Engine,
) -> None:
    security = Security(engine, SecretBox(b"k" * 32))
    failures = audit_failures()
    identifier = "ws_" + "i" * 4997
    _audit(security, "req-long-identifier", ProjectIdentifier=identifier, FileName="a")
    assert audit_failures() == failures  # written whole, not as a reduced row
    row = _row(engine, "req-long-identifier")
    stored = row["project_identifier"]
    assert len(stored) == 64 and stored.endswith("…[5000 characters]")
    assert identifier.startswith(stored.removesuffix("…[5000 characters]"))
    params = orjson.loads(row["params"])
    assert params["ProjectIdentifier"].endswith("…[5000 characters]")
    assert params["ProjectIdentifier"].startswith(identifier[:256])
    (entry,) = [e for e in query(engine) if e.request_id == "req-long-identifier"]
    assert entry.project_identifier == stored and entry.code == "InvalidParameter"


def test_every_column_is_bounded_whatever_the_caller_sends(engine: Engine) -> None:
    nasty = "n\x00\ud83d" + "x" * 10_000
    entry = AuditEntry(
        time=1,
        account_id=nasty,
        user_id=nasty,
        access_key_id=nasty,
        action=nasty,
        status=2**40,
        code=nasty,
        request_id="req-nasty" + "r" * 1000,
        project_id=2**70,
        project_identifier=nasty,
        params={
            "Content": nasty,
            "Huge": 10**30,
            "FileIdIn": list(range(100_000)),
            "Deep": [[[[[["bottom"]]]]]],
            "Wide": {f"k{i}": "v" * 300 for i in range(10_000)},
            "AccessKeySecret": "do-not-store",
            nasty: "a key with a NUL",
        },
    )
    record(engine, entry)
    with engine.connect() as conn:
        (row,) = conn.execute(select(audit_log)).all()
    values = dict(row._mapping)
    for column, width in WIDTHS.items():
        assert len(values[column]) <= width, column
        assert "\x00" not in values[column]
    assert values["request_id"].startswith("req-nasty")
    assert values["request_id"].endswith("…[1009 characters]")
    assert values["project_id"] is None and values["status"] == 0
    assert len(values["params"]) <= MAX_PARAMS and "do-not-store" not in values["params"]
    params = orjson.loads(values["params"])
    assert params["AccessKeySecret"] == "***"
    assert params["FileIdIn"][-1] == "…[100000 items]" and len(params["FileIdIn"]) == 51
    assert params["Huge"] == str(10**30)
    assert params["Wide"]["…"] == "[10000 entries]"
    assert "\x00" not in values["params"]


def test_a_failed_insert_is_logged_counted_and_replaced_by_a_reduced_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = audit_store.record
    calls: list[str] = []

    def failing_once(engine: Engine, entry: AuditEntry) -> None:
        calls.append(entry.request_id)
        if len(calls) == 1:
            # what a driver error looks like: the statement's parameters in the message
            raise RuntimeError("value too long\n[parameters: {'Content': 'top-secret-content'}]")
        real(engine, entry)

    monkeypatch.setattr(audit_store, "record", failing_once)
    security = Security(engine, SecretBox(b"k" * 32))
    failures, lost = audit_failures(), audit_rows_lost()
    with caplog.at_level(logging.ERROR, logger="openworks.audit"):
        _audit(security, "req-reduced", Content="top-secret-content", ProjectId=7)
    assert (audit_failures(), audit_rows_lost()) == (failures + 1, lost)
    assert calls == ["req-reduced", "req-reduced"]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "openworks.audit"]
    assert "req-reduced" in line and "CreateFile" in line and "value too long" in line
    assert "top-secret-content" not in line
    row = _row(engine, "req-reduced")
    assert (row["action"], row["project_id"], row["status"]) == ("CreateFile", 7, 400)
    assert "parameters not stored" in orjson.loads(row["params"])["…"]
    assert "top-secret-content" not in row["params"]


def test_a_row_that_cannot_be_written_at_all_is_counted_as_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bare = make_engine(f"sqlite:///{tmp_path}/{os.getpid()}-no-schema.db")  # no audit_log
    try:
        security = Security(bare, SecretBox(b"k" * 32))
        failures, lost = audit_failures(), audit_rows_lost()
        with caplog.at_level(logging.ERROR, logger="openworks.audit"):
            _audit(security, "req-lost", Content="c")  # does not raise
        assert (audit_failures(), audit_rows_lost()) == (failures + 1, lost + 1)
        messages = [r.getMessage() for r in caplog.records if r.name == "openworks.audit"]
        assert len(messages) == 2 and "LOST" in messages[1] and "req-lost" in messages[1]
    finally:
        bare.dispose()
