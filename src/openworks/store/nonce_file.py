"""The replay cache of the processes that share one SQLite file: a hash table in a file.

``DatabaseNonceCache`` on an SQLite database keeps its nonces here, in ``<database>-nonces``
next to the database, instead of the ``nonces`` table: an insert into the table took the
database's single write lock for every signed request, reads included, so two processes
queued on it (``serve --workers 2``: the largest share of the write-lock wait). Every
process that opens the same database maps the same file, so replay protection holds
across the processes of one ``serve --workers N`` and across separately started ``serve``
commands on one database file alike::

    <database>-nonces   (mmap MAP_SHARED; flock'd while a check runs)
    ┌──────────────┬──────────────────────────────┬──────────────────────────────┐
    │ header 4 KiB │ digests   int64 * (slots+P)  │ expiries  int64 * (slots+P)  │
    │ magic, slots │ 0 = never used               │ ms since epoch; ≤ now = free │
    └──────────────┴──────────────────────────────┴──────────────────────────────┘

A ``(key, nonce)`` pair is a 64-bit digest (never 0) whose low bits pick a home slot; it
lives in one of the ``P`` (probe) slots from there. A check, under a lock of this process
and an exclusive ``flock`` of the file, reads the ``P`` digests: found and unexpired, the
pair is a replay; found and expired, or not found, it is recorded (in the found slot, else
in the slot of the earliest expiry — free if that has passed). When all ``P`` slots hold
live nonces (the table near full: about 1.5 million nonces within the window at the
default size), the one closest to expiry is forgotten early, as ``MemoryNonceCache``
drops its oldest chunk at its bound; a warning is logged the first time.

Nothing is fsynced: the kernel writes the pages back in its own time. A process that dies
loses nothing (the pages belong to the file). A machine that loses power may lose the
last seconds of nonces, and a torn write can only drop a nonce or make a pair that was
never seen look seen — each one 16 bytes in two places, there is no structure to corrupt.
A file with an unknown header or size (another openworks version, a truncated file) is
reset. Two different pairs share a digest with probability about n²/2⁶⁵, as in memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import threading

from .write_queue import flock_now

__all__ = ["FileNonceCache", "nonce_path"]

log = logging.getLogger("openworks.nonces")

MAGIC = b"OWNONCE1"
HEADER = 4096
SLOTS = 1 << 21  # 2,097,152 slots: 32 MiB of file
PROBE = 32


def nonce_path(database: str) -> str:
    """The nonce file of an SQLite database file."""
    return f"{database}-nonces"


def _digest(key: str, nonce: str) -> int:
    data = key.encode("utf-8", "surrogatepass") + b"\x00" + nonce.encode("utf-8", "surrogatepass")
    digest = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)
    return digest or 1  # 0 marks a slot never used


class FileNonceCache:
    """:class:`openworks.protocol.nonces.NonceCache` in a file mapped by every process of
    one SQLite database (see the module docstring)."""

    def __init__(
        self, path: str, window_seconds: int = 1800, slots: int = SLOTS, probe: int = PROBE
    ) -> None:
        if slots <= 0 or slots & (slots - 1) or probe <= 0:
            raise ValueError("slots must be a power of two, probe positive")
        self.path = path
        self.window_ms = window_seconds * 1000
        self.slots = slots
        self.probe = probe
        self.forgotten_early = 0  # live nonces given up because their slots were full
        self._lock = threading.Lock()
        self._mask = slots - 1
        width = (slots + probe) * 8
        size = HEADER + 2 * width
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                self._prepare(size)
                self._map = mmap.mmap(self._fd, size, mmap.MAP_SHARED)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(self._fd)
            raise
        view = memoryview(self._map)
        self._digests = view[HEADER : HEADER + width].cast("q")
        self._expiries = view[HEADER + width : size].cast("q")

    def _header(self) -> bytes:
        return MAGIC + self.slots.to_bytes(8, "little") + self.probe.to_bytes(8, "little")

    def _prepare(self, size: int) -> None:
        """Under the file lock: keep a file of this layout, reset any other (empty, made by
        another version, cut short)."""
        header = self._header()
        if os.fstat(self._fd).st_size == size and os.pread(self._fd, len(header), 0) == header:
            return
        if os.fstat(self._fd).st_size:
            log.warning("nonce file %s has another layout: starting it afresh", self.path)
        os.ftruncate(self._fd, 0)
        os.ftruncate(self._fd, size)  # sparse: pages are allocated as slots are used
        os.pwrite(self._fd, header, 0)

    def check_and_add(self, key: str, nonce: str, now: float) -> bool:
        digest = _digest(key, nonce)
        now_ms = int(now * 1000)
        home = digest & self._mask
        end = home + self.probe
        digests, expiries = self._digests, self._expiries
        with self._lock:
            if not flock_now(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB):
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                seen = digests[home:end].tolist()
                if digest in seen:
                    slot = home + seen.index(digest)
                    if expiries[slot] > now_ms:
                        return False
                else:
                    times = expiries[home:end].tolist()
                    earliest = min(times)
                    slot = home + times.index(earliest)
                    if earliest > now_ms:
                        self._forget_early()
                    digests[slot] = digest
                expiries[slot] = now_ms + self.window_ms
                return True
            finally:
                flock_now(self._fd, fcntl.LOCK_UN)

    def _forget_early(self) -> None:
        self.forgotten_early += 1
        if self.forgotten_early == 1:
            log.warning(
                "nonce file %s is full: nonces are being forgotten before their window ends "
                "(more than ~%d signed calls in %d s)",
                self.path,
                self.slots * 3 // 4,
                self.window_ms // 1000,
            )

    def close(self) -> None:
        with self._lock:
            if self._fd < 0:
                return
            self._digests.release()
            self._expiries.release()
            self._map.close()
            os.close(self._fd)
            self._fd = -1
