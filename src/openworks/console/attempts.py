"""A limit on failed console sign-ins, against password and secret guessing.

Each identity that signs in (an AccessKey ID or a user name, compared case-insensitively)
and each client address may fail ``limit`` times within ``window`` seconds; after that,
every sign-in for it is refused until the oldest failure leaves the window — also one with
the right credentials, so guessing learns nothing. A successful sign-in clears the
identity's failures. Counts live in the process (several API processes each count their
own), which bounds guessing to ``limit * processes`` tries per window.

Memory is bounded: identities are clipped to 128 characters, each key keeps at most
``limit`` times, and at most ``max_keys`` keys (about 1 KiB each: 20,000 keys ≈ 20 MiB)
are held before the table starts over.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["SignInAttempts"]


class SignInAttempts:
    def __init__(
        self,
        limit: int = 10,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 20_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(identity: str, address: str) -> tuple[str, str]:
        return f"id:{identity.strip().lower()[:128]}", f"ip:{address[:64]}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def wait_seconds(self, identity: str, address: str) -> float:
        """0 if a sign-in may be tried now, else how long until it may."""
        now = self.clock()
        with self._lock:
            waits = [
                times[0] + self.window - now
                for key in self.keys(identity, address)
                if len(times := self._recent(key, now)) >= self.limit
            ]
        return max(waits, default=0.0)

    def failed(self, identity: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                self._failures.clear()  # bounded memory under a spray of identities
            for key in self.keys(identity, address):
                self._failures.setdefault(key, deque(maxlen=self.limit)).append(now)

    def succeeded(self, identity: str) -> None:
        with self._lock:
            self._failures.pop(self.keys(identity, "")[0], None)
