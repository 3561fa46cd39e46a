"""Concurrent benchmark clients: a keep-alive connection each, one job repeated to a deadline.

Scenarios 4/12/13 (lifecycles) and 10 (the 2024 run loop) share this driver::

    drive(port, clients, seconds, job, tally)
        client n: Conn ─▶ job(conn, name, tally) ─▶ job(...) ─▶ ... until the deadline
                          a failure: counted, the connection replaced, 0.1 s pause
        every job name unique to the run (``<prefix>_<pid>_<random>_<n>_<i>``)

Each call is signed on the fly (ACS3-HMAC-SHA256, bench/load.py) as the Tea SDK sends it.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .load import V2020, acs3, raw_request, read_response

__all__ = ["Conn", "Tally", "drive"]


@dataclass
class Tally:
    """What the clients did: jobs done, calls, failures, and each job's latency."""

    clients: int
    seconds: float
    done: int = 0
    calls: int = 0
    failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.done / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


class Conn:
    """One keep-alive connection; :meth:`call` signs, sends and parses one request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.calls = 0

    async def call(
        self, action: str, query: dict[str, str], form: dict[str, str],
        method: str = "POST", version: str = V2020,
    ) -> dict[str, Any]:  # fmt: skip
        """The answer's document; a non-200 answer raises RuntimeError."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        target, headers, body = acs3(method, "127.0.0.1", action, query, form, version)
        self.writer.write(raw_request(headers, body, method, target))
        status, payload = await read_response(self.reader)
        self.calls += 1
        doc: dict[str, Any] = orjson.loads(payload)
        if status != 200:
            raise RuntimeError(f"{action} -> {status} {doc.get('Code')}: {doc.get('Message')}")
        return doc

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


Job = Callable[[Conn, str, Any], Awaitable[None]]
_FAILURES = (RuntimeError, KeyError, OSError, asyncio.IncompleteReadError)


async def _client(n: int, port: int, deadline: float, job: Job, tally: Tally, prefix: str) -> None:
    conn = Conn(port)
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        try:
            await job(conn, f"{prefix}_{n}_{i}", tally)
        except _FAILURES as err:
            tally.failures += 1
            if tally.failures <= 3:
                print(f"client {n}: {err!r}")
            tally.calls += conn.calls
            conn.close()
            conn = Conn(port)
            await asyncio.sleep(0.1)
    tally.calls += conn.calls
    conn.close()


async def _drive(
    port: int, clients: int, seconds: float, job: Job, tally: Tally, prefix: str
) -> None:
    started = time.perf_counter()
    prefix = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"  # names unique to this run
    await asyncio.gather(
        *(_client(n, port, started + seconds, job, tally, prefix) for n in range(clients))
    )
    tally.seconds = time.perf_counter() - started


def drive(port: int, clients: int, seconds: float, job: Job, tally: Tally, prefix: str) -> None:
    """``clients`` concurrent clients repeat ``job`` for ``seconds`` (jobs started before
    the end finish; ``tally.seconds`` is then the time the last one took)."""
    asyncio.run(_drive(port, clients, seconds, job, tally, prefix))
