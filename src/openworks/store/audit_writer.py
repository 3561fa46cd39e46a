"""Group commit of audit rows: one writer thread per process, one transaction per batch.

::

    API call ──queued(entry)──▶ Queued (row made: redacted, bounded; its Future)
             ──offer / put────▶ queue (≤ max_rows rows, ≤ max_bytes) ──▶ writer thread
             ◀──Future[bool]── done once the transaction holding its row committed ──┘

    writer thread: a row queued ─▶ begin a write transaction (SQLite: wait for the write
                   lock) ─▶ take every queued row ─▶ insert them (executemany) ─▶ commit
                   (row by row if it fails) ─▶ complete each row's Future ─▶ again

There is no timer: the rows of the calls that finish while the writer waits for the write
lock or writes the previous batch go together in its next transaction, so a lone call waits
for no one and concurrent calls share one lock turn and one commit instead of each taking
its own. A Future's result is
that of :func:`~openworks.store.audit.append` for its row (``False``: a reduced row, or
lost), after the rules of :mod:`openworks.store.audit`; each row is still committed before
its Future completes, so a caller that waits for it answers only with its row written.

The queue is bounded in rows and in bytes (a row's characters counted as bytes, plus a fixed
overhead). When it is full no row is dropped: :meth:`AuditWriter.offer` says so, without
blocking, and the caller then waits in :meth:`AuditWriter.put` (from a thread) until the
writer takes the queued rows; while anyone waits there, :meth:`~AuditWriter.offer` refuses
too, so the waiting callers go first. A row larger than ``max_bytes`` still enters an empty
queue.

The thread starts with the first row. :meth:`AuditWriter.close` lets it write every row
queued until then and ends it (the server's lifespan, at shutdown); a row offered after that
starts a new one. The thread is a daemon, so a process that never closes the writer is not
kept alive by it (its callers still wait for their rows).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from .audit import AuditEntry, append_rows, prepared

__all__ = ["MAX_BYTES", "MAX_ROWS", "AuditWriter", "Queued"]

MAX_ROWS = 1000  # rows queued at most
MAX_BYTES = 8 << 20  # bytes queued at most (a character counted as a byte)
_ROW_OVERHEAD = 512  # bytes of a row's dict, integers and Future, roughly
log = logging.getLogger("openworks.audit")


@dataclass(slots=True)
class Queued:
    """One row on its way: its values (``None``: not even a reduced row could be made,
    then :attr:`future` is already done), whether it is whole, its size in bytes."""

    row: dict[str, Any] | None
    whole: bool
    size: int
    future: Future[bool] = field(default_factory=Future)


def _size(row: dict[str, Any]) -> int:
    return _ROW_OVERHEAD + sum(len(v) for v in row.values() if isinstance(v, str))


class AuditWriter:
    """The process's audit writer for ``engine`` (see the module docstring)."""

    def __init__(self, engine: Engine, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES):
        self.engine = engine
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._cond = threading.Condition()
        self._queue: deque[Queued] = deque()
        self._bytes = 0
        self._waiting = 0  # callers in put()
        self._stopping = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def queued(entry: AuditEntry) -> Queued:
        """The entry's row, made in the caller's thread (never raises: see
        :func:`~openworks.store.audit.prepared`)."""
        row, whole = prepared(entry)
        if row is None:
            item = Queued(None, False, 0)
            item.future.set_result(False)
            return item
        return Queued(row, whole, _size(row))

    def offer(self, item: Queued) -> bool:
        """Queue ``item`` if there is room and no one waits for it; never blocks."""
        if item.row is None:
            return True
        with self._cond:
            if self._waiting or not self._room(item.size):
                return False
            self._add(item)
        return True

    def put(self, item: Queued) -> None:
        """Queue ``item``, waiting for room as long as it takes (never drops it)."""
        if item.row is None:
            return
        with self._cond:
            self._waiting += 1
            try:
                while not self._room(item.size):
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._add(item)

    def close(self, timeout: float | None = None) -> None:
        """Write every queued row, then end the thread (a later row starts a new one)."""
        with self._cond:
            thread = self._thread
            if thread is None:
                return
            self._stopping = True
            self._cond.notify_all()
        thread.join(timeout)

    @property
    def depth(self) -> tuple[int, int]:
        """Rows and bytes queued now."""
        with self._cond:
            return len(self._queue), self._bytes

    # -- under the condition's lock ------------------------------------------------------

    def _room(self, size: int) -> bool:
        queue = self._queue
        return not queue or (len(queue) < self.max_rows and self._bytes + size <= self.max_bytes)

    def _add(self, item: Queued) -> None:
        self._queue.append(item)
        self._bytes += item.size
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="openworks-audit", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    # -- the writer thread ---------------------------------------------------------------

    def _wait(self) -> bool:
        """Until a row is queued: ``True``; ``False`` when stopping with none left (then
        this thread ends)."""
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if self._queue:
                return True
            self._thread = None
            self._stopping = False
            return False

    def _take(self) -> list[Queued]:
        """Every queued row (room for the callers waiting in put())."""
        with self._cond:
            batch = list(self._queue)
            self._queue.clear()
            self._bytes = 0
            self._cond.notify_all()
            return batch

    def _run(self) -> None:
        while self._wait():
            self._write_batch()

    def _write_batch(self) -> None:
        taken: list[Queued] = []
        answer: list[bool] = []

        def take() -> list[dict[str, Any]]:
            # called once the transaction has begun (holds the write lock on SQLite): the
            # rows queued while it waited go in too
            if not taken:
                taken.extend(self._take())
                # a Future its caller cancelled (the call itself was cancelled) gets no
                # result, but its row is written all the same
                answer.extend(item.future.set_running_or_notify_cancel() for item in taken)
            return [item.row for item in taken if item.row is not None]

        try:
            written = append_rows(self.engine, take)
        except Exception:  # append_rows does not raise; the callers must not hang
            take()  # nor may the rows it did not take stay queued for ever
            log.exception("audit writer failed on a batch of %d rows", len(taken))
            written = [False] * len(taken)
        for item, ok, live in zip(taken, written, answer, strict=True):
            if live:
                item.future.set_result(ok and item.whole)
