"""PostgreSQL connections (store/pg_pool.py): no ping on a busy connection, a dead one
replaced without the caller noticing, read transactions without BEGIN/COMMIT that still
run writes and locking reads in one transaction. PostgreSQL only, except the first test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, select, text

from openworks.store import make_engine, migrate, pg_pool
from openworks.store.nonces import DatabaseNonceCache
from openworks.store.repo import SqlStore
from openworks.store.schema_scale import nonces
from tests.dbutil import fresh_database_url, postgres_base

IDLE, INTRANS = TransactionStatus.IDLE, TransactionStatus.INTRANS


def test_only_a_plain_select_runs_outside_a_transaction() -> None:
    assert not pg_pool.needs_transaction("SELECT packages.id FROM packages WHERE id = %(id)s")
    assert not pg_pool.needs_transaction("  select 1")
    for statement in (
        "INSERT INTO nonces (digest, expires_at) VALUES (%s, %s)",
        "UPDATE packages SET status = 1",
        "DELETE FROM nonces",
        "WITH x AS (DELETE FROM nonces RETURNING 1) SELECT count(*) FROM x",
        "SET LOCAL statement_timeout = 100",
        "SELECT packages.id FROM packages WHERE id = 1 FOR UPDATE",
        "SELECT id FROM packages FOR UPDATE SKIP LOCKED",
        "SELECT id FROM packages FOR SHARE",
        "SELECT id FROM packages FOR NO KEY UPDATE",
        "SELECT pg_advisory_xact_lock(1, 2)",
        "SELECT pg_try_advisory_xact_lock(1, 2)",
        "select id from packages where id = 1 for update",
        "SAVEPOINT sa_savepoint_1",
    ):
        assert pg_pool.needs_transaction(statement), statement


pg = pytest.mark.skipif(not postgres_base(), reason="needs OPENWORKS_TEST_POSTGRES")


@pytest.fixture
def tagged() -> Iterator[tuple[Engine, str]]:
    """A migrated PostgreSQL schema on an engine whose sessions carry their own
    application_name, so that a test can end exactly those sessions."""
    tag = f"owpool{uuid.uuid4().hex[:12]}"
    engine = make_engine(f"{fresh_database_url('pool')}&application_name={tag}")
    migrate(engine)
    yield engine, tag
    engine.dispose()


def _terminate(tag: str) -> int:
    base = (postgres_base() or "").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as admin:
        rows = admin.execute(
            # with a timeout: returns once each session has ended (PostgreSQL 14+)
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (tag,),
        ).fetchall()
    return len(rows)


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings = [0]
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def _status(conn: Any) -> TransactionStatus:
    return TransactionStatus(conn.connection.driver_connection.info.transaction_status)


@pg
def test_a_busy_connection_is_not_pinged_an_idle_one_is(
    tagged: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _ = tagged
    pings = _count_pings(engine, monkeypatch)
    for _ in range(20):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings[0] == 0
    monkeypatch.setattr(pg_pool, "PING_AFTER", 0.0)  # every connection now counts as idle
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings[0] == 3


@pg
def test_connections_ended_by_the_server_are_replaced_unnoticed(
    tagged: tuple[Engine, str],
) -> None:
    engine, tag = tagged
    store = SqlStore(engine)
    cache = DatabaseNonceCache(engine, window_seconds=60)
    held = [engine.connect() for _ in range(3)]  # three pooled connections, then idle
    for conn in held:
        conn.execute(text("SELECT 1"))
        conn.close()
    assert cache.check_and_add("key", "before", 1000.0)
    assert _terminate(tag) >= 4  # the pool's three and the replay check's one
    for n in range(6):  # every call succeeds, as pool_pre_ping made them
        with store.transaction() as tx:
            assert tx.conn.execute(text("SELECT 1")).scalar() == 1
        with store.transaction(write=True) as tx:
            tx.conn.execute(nonces.insert().values(digest=f"w{n}", expires_at=1))
    assert cache.check_and_add("key", "after", 1000.0)
    assert not cache.check_and_add("key", "before", 1001.0)  # still remembered
    cache.close()


@pg
def test_a_read_transaction_sends_no_begin(tagged: tuple[Engine, str]) -> None:
    store = SqlStore(tagged[0])
    with store.transaction() as tx:
        tx.conn.execute(text("SELECT 1"))
        assert _status(tx.conn) == IDLE  # autocommit: nothing open on the server
    with store.transaction(write=True) as tx:
        tx.conn.execute(text("SELECT 1"))
        assert _status(tx.conn) == INTRANS
    with store.transaction() as tx:  # the same connection, back in autocommit
        tx.conn.execute(text("SELECT 1"))
        assert _status(tx.conn) == IDLE


@pg
def test_writes_in_a_read_transaction_stay_one_transaction(tagged: tuple[Engine, str]) -> None:
    engine = tagged[0]
    store = SqlStore(engine)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.conn.execute(select(nonces.c.digest))  # a read first: autocommit
        tx.conn.execute(nonces.insert().values(digest="a", expires_at=1))
        assert _status(tx.conn) == INTRANS
        tx.conn.execute(nonces.insert().values(digest="b", expires_at=1))
        raise RuntimeError("rolled back")
    with engine.connect() as conn:
        assert conn.execute(select(nonces.c.digest)).all() == []


@pg
def test_a_locking_read_holds_its_lock_to_the_end(tagged: tuple[Engine, str]) -> None:
    engine = tagged[0]
    with engine.begin() as conn:  # write=False, as every engine.begin()
        conn.execute(nonces.insert().values(digest="x", expires_at=1))
    store = SqlStore(engine)
    with store.transaction() as tx:
        tx.conn.execute(select(nonces.c.digest).with_for_update())
        assert _status(tx.conn) == INTRANS
        tx.conn.execute(text("SELECT pg_advisory_xact_lock(7, 7)"))
        assert _status(tx.conn) == INTRANS


@pg
def test_a_raw_write_in_a_read_transaction_is_refused(tagged: tuple[Engine, str]) -> None:
    """A statement on the driver itself (store/hot.py) cannot turn autocommit off: in a
    read transaction a write fails instead of committing alone."""
    store = SqlStore(tagged[0])
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), store.transaction() as tx:
        driver = tx.conn.connection.driver_connection
        assert driver is not None
        driver.execute("INSERT INTO nonces (digest, expires_at) VALUES ('r', 1)")
    with store.transaction(write=True) as tx:  # the same statement where it belongs
        driver = tx.conn.connection.driver_connection
        assert driver is not None
        driver.execute("INSERT INTO nonces (digest, expires_at) VALUES ('r', 1)")


@pg
def test_the_replay_check_is_one_statement_and_atomic(tagged: tuple[Engine, str]) -> None:
    engine = tagged[0]
    cache = DatabaseNonceCache(engine, window_seconds=60, sweep_every=2)
    assert cache.postgres is not None
    assert cache.check_and_add("k", "n", 1000.0)
    assert not cache.check_and_add("k", "n", 1059.9)
    assert cache.check_and_add("k", "n", 1060.0)  # the sighting expired: usable again
    assert not cache.check_and_add("k", "n", 1061.0)
    cache.check_and_add("k", "m", 2000.0)  # the 6th call sweeps the expired rows
    cache.check_and_add("k", "o", 2000.0)
    with engine.connect() as conn:
        left = {row.digest for row in conn.execute(select(nonces.c.digest))}
    assert len(left) == 2  # "n" (expired at 1120) swept, "m" and "o" kept
    cache.close()
