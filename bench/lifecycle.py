"""Scenario 4 and 5: full lifecycles by concurrent clients, and package latency.

Each client holds one keep-alive connection and repeats, signing every call on the fly::

    CreateFile ─▶ SubmitFile ─▶ poll GetDeployment until Status ≠ 0
               ─▶ DeployFile ─▶ poll GetDeployment until Status ≠ 0      (one lifecycle)

Package latency is measured from the return of SubmitFile / DeployFile to the return of the
first GetDeployment that shows a final Status (polls are ``poll_interval`` apart).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from .load import raw_request, read_response, sign_acs3

__all__ = ["LifecycleResult", "run_lifecycles"]


@dataclass
class LifecycleResult:
    clients: int
    seconds: float
    lifecycles: int
    calls: int
    failures: int
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.lifecycles / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


class _Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.calls = 0

    async def call(self, action: str, **params: Any) -> dict[str, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        headers, body = sign_acs3("127.0.0.1", action, {k: str(v) for k, v in params.items()})
        self.writer.write(raw_request(headers, body))
        status, payload = await read_response(self.reader)
        self.calls += 1
        doc: dict[str, Any] = orjson.loads(payload)
        if status != 200:
            raise RuntimeError(f"{action} -> {status} {doc.get('Code')}: {doc.get('Message')}")
        return doc


async def _client(
    n: int, port: int, project_id: int, deadline: float, poll: float, out: LifecycleResult,
    tag: str,
) -> None:  # fmt: skip
    conn = _Conn(port)
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        try:
            fid = (
                await conn.call(
                    "CreateFile", ProjectId=project_id, FileName=f"lc_{tag}_{n}_{i}",
                    FileType=10, Content="SELECT 1;",
                    FileFolderPath="Business Flow/bench/MaxCompute",
                    CreateFolderIfNotExists="true",
                )
            )["Data"]  # fmt: skip
            for action in ("SubmitFile", "DeployFile"):
                pkg = (await conn.call(action, ProjectId=project_id, FileId=fid))["Data"]
                returned = time.perf_counter()
                while True:
                    doc = await conn.call("GetDeployment", ProjectId=project_id, DeploymentId=pkg)
                    status = doc["Data"]["Deployment"]["Status"]
                    if status != 0:
                        break
                    await asyncio.sleep(poll)
                out.latencies_ms.append((time.perf_counter() - returned) * 1000)
                if status != 1:
                    raise RuntimeError(f"package {pkg} ended with Status {status}")
            out.lifecycles += 1
        except (RuntimeError, OSError, asyncio.IncompleteReadError) as err:
            out.failures += 1
            if out.failures <= 3:
                print(f"lifecycle client {n}: {err}")
            conn = _Conn(port)
            await asyncio.sleep(0.1)
    out.calls += conn.calls


async def _run(port: int, project_id: int, clients: int, seconds: float, poll: float) -> Any:
    out = LifecycleResult(clients, seconds, 0, 0, 0)
    started = time.perf_counter()
    deadline = started + seconds
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"  # file names unique to this run
    await asyncio.gather(
        *(_client(n, port, project_id, deadline, poll, out, tag) for n in range(clients))
    )
    out.seconds = time.perf_counter() - started
    return out


def run_lifecycles(
    port: int, project_id: int, *, clients: int = 16, seconds: float = 10, poll: float = 0.005
) -> LifecycleResult:
    result: LifecycleResult = asyncio.run(_run(port, project_id, clients, seconds, poll))
    return result
