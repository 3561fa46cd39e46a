"""SQLite transactions: writers queue, a failed writer lets go, readers never wait for one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from openworks.store.db import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/w.db")
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("CREATE TABLE t (who TEXT, at REAL)"))
    return engine


def write(engine: Engine, who: str, hold: float = 0.0) -> None:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (who TEXT, at REAL)"))
            conn.execute(text("INSERT INTO t VALUES (:w, :t)"), {"w": who, "t": time.monotonic()})
            time.sleep(hold)


def test_a_failed_write_lets_the_next_writer_in(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES ('lost', 0)"))
            raise RuntimeError("handler failed")
    done = threading.Event()
    threading.Thread(target=lambda: (write(engine, "next"), done.set())).start()
    assert done.wait(5), "the write lock was not released by the rollback"
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM t"))] == ["next"]


def test_readers_do_not_queue_behind_a_writer(engine: Engine) -> None:
    write(engine, "x")  # leaves a pooled connection that last wrote
    holding = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                conn.execute(text("INSERT INTO t VALUES ('held', 0)"))
                holding.set()
                release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(5)
    try:
        started = time.monotonic()
        with engine.connect() as conn, conn.begin():
            count = conn.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert count == 1  # the held insert is not visible yet
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join()


def test_many_writers_all_land(engine: Engine) -> None:
    threads = [threading.Thread(target=write, args=(engine, f"w{i}")) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 16


def test_the_write_flag_does_not_outlive_its_checkout(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.info["write"] = True
        first = conn.connection.dbapi_connection
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is first  # the same pooled connection
        assert "write" not in conn.info


def test_reads_on_the_kept_connection_open_no_transaction(tmp_path: Path) -> None:
    """The event loop's inline reads: no BEGIN of their own, each statement sees what was
    committed when it ran, and a statement through SQLAlchemy (autobegin) is ended with
    the read, so the kept connection serves the next read too."""
    from openworks.store.repo import SqlStore

    engine = make_engine(f"sqlite:///{tmp_path}/k.db")
    write(engine, "first")
    store = SqlStore(engine)
    store.keep_connection()
    try:
        with store.transaction() as tx:
            kept = tx.conn
            driver = kept.connection.driver_connection
            assert not kept.in_transaction() and not driver.in_transaction
            assert driver.execute("SELECT count(*) FROM t").fetchone() == (1,)
            write(engine, "second")  # commits while the read is open
            assert driver.execute("SELECT count(*) FROM t").fetchone() == (2,)
            assert kept.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
            assert kept.in_transaction() and driver.in_transaction  # autobegun: BEGIN
        assert not kept.in_transaction() and not driver.in_transaction
        with store.transaction() as tx:
            assert tx.conn is kept  # the same connection, free again
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.conn.execute(text("SELECT 1"))
            raise RuntimeError("handler failed")
        assert not kept.in_transaction() and not driver.in_transaction
    finally:
        store.release_connection()
