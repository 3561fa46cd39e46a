"""Writers of one SQLite file take turns on its lock file (store/write_queue.py, store/db.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from openworks.store.db import make_engine
from openworks.store.write_queue import WriteQueue, urgent_writer


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/w.db")
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("CREATE TABLE t (who TEXT)"))
    return engine


def insert(engine: Engine, who: str) -> None:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES (:w)"), {"w": who})


def _no_busy_handler(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=0")


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import text
    from openworks.store.db import make_engine
    engine = make_engine(sys.argv[1])
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES ('holder')"))
            print("holding", flush=True)
            time.sleep(float(sys.argv[2]))
            released = time.time()
    print(released, flush=True)
    """
)


def test_a_writer_of_another_process_is_followed_at_once(tmp_path: Path, engine: Engine) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(engine.url), "1.0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        # Without SQLite's busy handler, a writer that found the lock taken would fail at
        # once with "database is locked": this one waits in the queue instead, and is
        # woken by the other process's commit, not by a sleep running out.
        event.listen(engine, "connect", _no_busy_handler)
        engine.dispose()
        insert(engine, "follower")
        followed = time.time()
        released = float(holder.stdout.readline())
        assert holder.wait(10) == 0
    assert 0 <= followed - released < 0.5, followed - released
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM t"))] == ["holder", "follower"]


def test_the_turn_is_given_up_by_commit_rollback_and_a_failed_begin(engine: Engine) -> None:
    insert(engine, "committed")
    with pytest.raises(RuntimeError), engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(text("INSERT INTO t VALUES ('lost')"))
            raise RuntimeError("handler failed")
    done = threading.Event()
    threading.Thread(target=lambda: (insert(engine, "next"), done.set())).start()
    assert done.wait(5), "the turn was not given up by the rollback"


def test_a_second_write_connection_of_the_holder_does_not_wait_on_itself(tmp_path: Path) -> None:
    queue = WriteQueue(str(tmp_path / "q-writers"), timeout=0.2)
    first, second = queue.turn(), queue.turn()
    try:
        first.acquire()
        second.acquire()  # same thread: returns at once instead of deadlocking
        assert queue.held_here()
        second.release()  # it never took the turn, so it gives nothing up
        assert queue.held_here()
        first.release()
        assert not queue.held_here()
    finally:
        first.close()
        second.close()


def test_waiting_on_the_process_lock_ends_like_a_busy_timeout(tmp_path: Path) -> None:
    queue = WriteQueue(str(tmp_path / "q-writers"), timeout=0.2)
    holder = queue.turn()
    holder.acquire()
    failure: list[BaseException] = []

    def wait() -> None:
        turn = queue.turn()
        try:
            turn.acquire()
        except sqlite3.OperationalError as err:
            failure.append(err)
        finally:
            turn.close()

    thread = threading.Thread(target=wait)
    thread.start()
    thread.join(5)
    holder.release()
    holder.close()
    assert failure and "database is locked" in str(failure[0])


def test_many_threads_write_without_a_lock_error(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                insert(engine, f"{n}-{i}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 200


def test_the_urgent_writer_is_next_after_the_current_one(tmp_path: Path) -> None:
    queue = WriteQueue(str(tmp_path / "q-writers"))
    holder = queue.turn()
    holder.acquire()
    order: list[str] = []
    lock = threading.Lock()

    def write(name: str, urgent: bool) -> None:
        if urgent:
            urgent_writer()
        turn = queue.turn()
        turn.acquire()
        with lock:
            order.append(name)
        time.sleep(0.01)
        turn.release()
        turn.close()

    threads = [threading.Thread(target=write, args=(f"api{n}", False)) for n in range(3)]
    threads.append(threading.Thread(target=write, args=("worker", True)))
    for t in threads:  # the API writers queue first, the urgent one last
        t.start()
        time.sleep(0.05)
    holder.release()
    holder.close()
    for t in threads:
        t.join(5)
    assert sorted(order) == ["api0", "api1", "api2", "worker"]
    # at most the one API writer already waiting on the file lock may come before it
    assert order.index("worker") <= 1, order
