"""Replay protection: remember each signature nonce for a while.

A request is accepted only if its timestamp lies within ``±window`` of the server clock,
so a nonce has to be remembered for ``2 * window`` (900 s each way → 1800 s) to make a
replay impossible::

    NonceCache (Protocol)          check_and_add(key, nonce, now) -> bool
    └── MemoryNonceCache           one process; a shared store (Redis...) implements the
                                   same protocol elsewhere

``MemoryNonceCache`` keeps an insertion-ordered map of fixed-size digests of
``(key, nonce)`` → time first seen. Expired entries are dropped lazily from the old end on
every call; when ``max_entries`` is reached the oldest entry is evicted (bounded memory at
the price of forgetting the oldest nonces early under extreme load).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Protocol

__all__ = ["MemoryNonceCache", "NonceCache"]


class NonceCache(Protocol):
    """Records ``(key, nonce)`` pairs; a pair may be recorded once per window."""

    def check_and_add(self, key: str, nonce: str, now: float) -> bool:
        """Atomically: ``False`` if the pair was seen within the window, else record it."""
        ...


class MemoryNonceCache:
    """Thread-safe, bounded, in-process :class:`NonceCache`."""

    def __init__(self, window_seconds: int = 1800, max_entries: int = 1_000_000) -> None:
        if window_seconds <= 0 or max_entries <= 0:
            raise ValueError("window_seconds and max_entries must be positive")
        self._window = window_seconds
        self._max = max_entries
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def size(self) -> int:
        """Number of remembered entries (expired ones may still be counted)."""
        with self._lock:
            return len(self._seen)

    @staticmethod
    def _digest(key: str, nonce: str) -> bytes:
        data = (
            key.encode("utf-8", "surrogatepass") + b"\x00" + nonce.encode("utf-8", "surrogatepass")
        )
        return hashlib.blake2b(data, digest_size=16).digest()

    def _expire(self, now: float) -> None:
        seen = self._seen
        while seen:
            oldest, first_seen = next(iter(seen.items()))
            if now - first_seen < self._window:
                break
            del seen[oldest]

    def check_and_add(self, key: str, nonce: str, now: float) -> bool:
        digest = self._digest(key, nonce)
        with self._lock:
            self._expire(now)
            first_seen = self._seen.get(digest)
            if first_seen is not None and now - first_seen < self._window:
                return False
            self._seen.pop(digest, None)
            while len(self._seen) >= self._max:
                self._seen.popitem(last=False)
            self._seen[digest] = now
            return True
