"""Group commit of audit rows (issue 18): the rows due at the same time share one write
transaction, each caller's Future completes only once its row is committed, a bad row costs
the others nothing, a full queue makes callers wait, and rows queued at shutdown are
written.

Runs on SQLite, and on PostgreSQL when OPENWORKS_TEST_POSTGRES is set."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, event, select

from openworks.core.model import Principal
from openworks.security import Security
from openworks.server.pipeline import INLINE_AUDIT_CHARS, AuditNote, audit
from openworks.store import audit_writer, make_engine, migrate
from openworks.store.audit import AuditEntry, append_rows, audit_failures, audit_rows_lost
from openworks.store.audit_writer import AuditWriter, Queued
from openworks.store.schema_security import audit_log
from openworks.store.secrets import SecretBox
from tests.dbutil import fresh_database_url, postgres_base

Row = Mapping[str, Any]
ACCOUNT = "1000000000000001"
ROOT = Principal(ACCOUNT, ACCOUNT, "root")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = fresh_database_url("audw") if postgres_base() else f"sqlite:///{tmp_path}/a.db"
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


class Gate:
    """append_rows as the writer calls it, its first batch held (taken, inside its
    transaction) until :meth:`open`; the sizes of the batches and the write transactions
    each took."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine = engine
        self.held = threading.Event()  # the first batch is taken, its transaction open
        self.release = threading.Event()
        self.batches: list[int] = []
        self.transactions: list[int] = []
        self._begins = 0
        event.listen(engine, "begin", self._begin)
        monkeypatch.setattr(audit_writer, "append_rows", self)

    def _begin(self, _conn: Any) -> None:
        self._begins += 1

    def __call__(self, engine: Engine, take: Callable[[], Sequence[Row]]) -> list[bool]:
        first = not self.batches

        def taking() -> Sequence[Row]:
            rows = take()
            self.batches.append(len(rows))
            if first:
                self.held.set()
                assert self.release.wait(10)
            return rows

        begins = self._begins
        written = append_rows(engine, taking)
        self.transactions.append(self._begins - begins)
        return written

    def open(self) -> None:
        self.release.set()


def _entry(request_id: str, **params: Any) -> AuditEntry:
    return AuditEntry(
        time=1,
        account_id=ACCOUNT,
        user_id=ACCOUNT,
        access_key_id="LTAI0123456789abcdefghij",
        action="CreateFile",
        status=200,
        code="OK",
        request_id=request_id,
        project_id=7,
        params=params,
    )


def _stored(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log)).all()
    return {r._mapping["request_id"]: dict(r._mapping) for r in rows}


def _offer(writer: AuditWriter, request_id: str, **params: Any) -> Queued:
    item = writer.queued(_entry(request_id, **params))
    assert writer.offer(item)
    return item


def test_rows_due_together_share_one_transaction_and_complete_after_commit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(engine, monkeypatch)
    writer = AuditWriter(engine)
    seen: dict[str, bool] = {}  # request id -> its row committed when its Future completed

    def check(request_id: str) -> Any:
        return lambda _future: seen.__setitem__(request_id, request_id in _stored(engine))

    first = _offer(writer, "r0")
    first.future.add_done_callback(check("r0"))
    assert gate.held.wait(10)
    later = [_offer(writer, f"r{i}", FileName=f"f{i}") for i in range(1, 9)]
    for i, item in enumerate(later, 1):
        item.future.add_done_callback(check(f"r{i}"))
    time.sleep(0.05)
    assert not any(item.future.done() for item in [first, *later])  # nothing committed yet
    gate.open()
    assert all(item.future.result(10) for item in [first, *later])
    writer.close()
    assert gate.batches == [1, 8] and gate.transactions == [1, 1]
    assert seen == {f"r{i}": True for i in range(9)}
    stored = _stored(engine)
    assert sorted(stored) == [f"r{i}" for i in range(9)]
    assert orjson.loads(stored["r3"]["params"]) == {"FileName": "f3"}


def test_rows_queued_while_the_writer_waits_for_the_write_lock_join_its_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL has none to wait for")
    gate = Gate(engine, monkeypatch)
    gate.open()
    writer = AuditWriter(engine)
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():  # another writer of the process holds the write lock
            items = [_offer(writer, f"l{i}") for i in range(6)]
            time.sleep(0.1)  # the writer woke for l0 and waits for its turn
            assert not any(item.future.done() for item in items)
    assert all(item.future.result(10) for item in items)
    writer.close()
    assert gate.batches == [6] and gate.transactions == [1]
    assert sorted(_stored(engine)) == [f"l{i}" for i in range(6)]


def test_a_failing_row_in_a_batch_costs_the_others_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(engine, monkeypatch)
    writer = AuditWriter(engine)
    failures, lost = audit_failures(), audit_rows_lost()
    _offer(writer, "lead")
    assert gate.held.wait(10)
    items = [writer.queued(_entry(f"b{i}", FileName=f"f{i}")) for i in range(5)]
    assert items[2].row is not None
    items[2].row["params"] = None  # NOT NULL: the database refuses this row whole
    for item in items:
        assert writer.offer(item)
    gate.open()
    assert [item.future.result(10) for item in items] == [True, True, False, True, True]
    writer.close()
    assert gate.batches == [1, 5]
    assert (audit_failures(), audit_rows_lost()) == (failures + 1, lost)
    stored = _stored(engine)
    assert sorted(stored) == ["b0", "b1", "b2", "b3", "b4", "lead"]  # each once
    assert "parameters not stored" in orjson.loads(stored["b2"]["params"])["…"]
    assert orjson.loads(stored["b3"]["params"]) == {"FileName": "f3"}


def test_a_full_queue_makes_callers_wait_and_drops_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(engine, monkeypatch)
    writer = AuditWriter(engine, max_rows=2)
    _offer(writer, "w0")
    assert gate.held.wait(10)
    queued = [_offer(writer, "w1"), _offer(writer, "w2")]
    full = writer.queued(_entry("w3"))
    assert not writer.offer(full)  # two rows queued: full
    waiter = threading.Thread(target=writer.put, args=(full,))
    waiter.start()
    time.sleep(0.05)
    assert waiter.is_alive() and writer.depth[0] == 2  # waits, not dropped, not queued
    behind = writer.queued(_entry("w4"))
    assert not writer.offer(behind)  # someone waits: a newcomer does not pass it
    gate.open()
    waiter.join(10)
    assert not waiter.is_alive()
    writer.put(behind)
    assert all(item.future.result(10) for item in [*queued, full, behind])
    writer.close()
    assert sorted(_stored(engine)) == ["w0", "w1", "w2", "w3", "w4"]


def test_the_byte_bound_counts_a_row_s_characters(engine: Engine) -> None:
    big = AuditWriter.queued(_entry("big", Content="c" * 5000))
    small = AuditWriter.queued(_entry("small"))
    assert big.size > small.size + 256  # Content is stored cut to 256 characters
    writer = AuditWriter(engine, max_bytes=small.size)
    with writer._cond:  # the thread cannot take rows while this test holds the lock
        writer._queue.append(small)
        writer._bytes = small.size
        assert not writer._room(small.size)
        writer._queue.clear()
        writer._bytes = 0
        assert writer._room(big.size)  # a row larger than the bound enters an empty queue


def test_rows_queued_at_shutdown_are_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(engine, monkeypatch)
    writer = AuditWriter(engine)
    _offer(writer, "s0")
    assert gate.held.wait(10)
    items = [_offer(writer, f"s{i}") for i in range(1, 6)]
    cancelled = _offer(writer, "s6")
    assert cancelled.future.cancel()  # its caller went away: the row is written anyway
    closing = threading.Thread(target=writer.close)
    closing.start()
    time.sleep(0.05)
    assert closing.is_alive()  # close waits for the queued rows
    gate.open()
    closing.join(10)
    assert not closing.is_alive() and writer._thread is None
    assert all(item.future.done() and item.future.result() for item in items)
    assert sorted(_stored(engine)) == [f"s{i}" for i in range(7)]
    again = _offer(writer, "s7")  # a row after close starts the writer again
    assert again.future.result(10)
    writer.close()
    assert "s7" in _stored(engine)


def test_the_pipeline_step_waits_for_room_and_for_its_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(engine, monkeypatch)
    security = Security(engine, SecretBox(b"k" * 32))
    security.writer.max_rows = 1
    note = AuditNote(
        ROOT, "LTAI0123456789abcdefghij", {"FileId": "9"}, "2020-05-18", "ProjectId", 1
    )

    async def calls() -> list[bool]:
        steps = [
            asyncio.ensure_future(audit(security, note, "DeleteFile", 200, "OK", f"p{i}", None))
            for i in range(4)
        ]
        await asyncio.sleep(0.05)
        assert gate.held.is_set() and security.writer.depth[0] == 1  # the rest wait for room
        waiting = [not step.done() for step in steps]
        gate.open()
        await asyncio.gather(*steps)
        return waiting

    assert asyncio.run(calls()) == [True] * 4
    security.close()
    stored = _stored(engine)
    assert sorted(stored) == ["p0", "p1", "p2", "p3"]
    assert orjson.loads(stored["p2"]["params"]) == {"FileId": "9"}


def test_large_parameters_are_bounded_off_the_event_loop(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bounding walks what was sent (~20 ms for 4 MiB): a large row is made in a thread,
    # a small one on the loop
    security = Security(engine, SecretBox(b"k" * 32))
    made_in: dict[str, bool] = {}
    real = AuditWriter.queued

    def queued(entry: AuditEntry) -> Queued:
        made_in[entry.request_id] = threading.current_thread() is threading.main_thread()
        return real(entry)

    monkeypatch.setattr(AuditWriter, "queued", staticmethod(queued))
    big = "é" * (INLINE_AUDIT_CHARS + 1)
    notes = {
        "small": AuditNote(ROOT, "LTAI0123456789abcdefghij", {"FileId": "9"}, "2020-05-18",
                           "ProjectId", 1),
        "large": AuditNote(ROOT, "LTAI0123456789abcdefghij", {"Content": big}, "2020-05-18",
                           "ProjectId", len(big)),
    }  # fmt: skip

    async def calls() -> None:
        for request_id, note in notes.items():
            await audit(security, note, "UpdateFile", 200, "OK", request_id, None)

    asyncio.run(calls())
    security.close()
    assert made_in == {"small": True, "large": False}  # True: on the loop's thread
    assert sorted(_stored(engine)) == ["large", "small"]


def test_a_writer_bug_releases_the_callers_instead_of_spinning(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_engine: Engine, _take: Callable[[], Sequence[Row]]) -> list[bool]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(audit_writer, "append_rows", broken)
    writer = AuditWriter(engine)
    with caplog.at_level(logging.ERROR, logger="openworks.audit"):
        item = _offer(writer, "bug")
        assert item.future.result(10) is False
        writer.close()
    assert writer.depth == (0, 0)
    assert any("audit writer failed" in r.getMessage() for r in caplog.records)
