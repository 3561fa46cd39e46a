"""Scenario 10: the 2024 Online run to PROD, driven by the generic client loop.

Each client holds one keep-alive connection and repeats, signing every call as the 2024 Tea
SDK does (POSTs with a form body, GetPipelineRun a GET with everything in the query)::

    CreateFile ─▶ CreatePipelineRun (Online, ObjectIds [file]) ─┐
        ┌──────────────────────────────────────────────────────┘
        └▶ GetPipelineRun ─▶ final? done (Success counts) ─▶ a stage ready (the first Init
           stage whose predecessors all succeeded)? ExecPipelineRunStage it, poll again at
           once; else sleep ``poll`` and poll again

A run's latency is from the call of CreatePipelineRun to the return of the GetPipelineRun
that shows it final; on a standard workspace that takes four ExecPipelineRunStage calls
(DEV_CHECK, DEV, PROD_CHECK, PROD) and the worker executing two packages.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from .load import V2024, acs3, raw_request, read_response

__all__ = ["RunLoopResult", "next_ready", "run_loop"]

FINAL = frozenset({"Success", "Fail", "Termination", "Cancel"})


@dataclass
class RunLoopResult:
    clients: int
    seconds: float
    runs: int = 0
    calls: int = 0
    execs: int = 0
    failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.runs / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


def next_ready(stages: list[dict[str, Any]]) -> str | None:
    """The code of the first Init stage whose predecessors all succeeded, if any."""
    for stage in sorted(stages, key=lambda s: int(s["Step"])):
        if stage["Status"] == "Init":
            return str(stage["Code"])
        if stage["Status"] != "Success":
            return None
    return None


class _Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.calls = 0

    async def call(
        self, action: str, query: dict[str, str], form: dict[str, str], method: str = "POST"
    ) -> dict[str, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        target, headers, body = acs3(method, "127.0.0.1", action, query, form, V2024)
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


async def _one_run(conn: _Conn, project: str, name: str, poll: float, out: RunLoopResult) -> None:
    file_id = (
        await conn.call(
            "CreateFile", {}, {
                "ProjectId": project, "FileName": name, "FileType": "10",
                "Content": "SELECT 1;", "FileFolderPath": "Business Flow/bench/MaxCompute",
                "CreateFolderIfNotExists": "true",
            },
        )
    )["Data"]  # fmt: skip
    started = time.perf_counter()
    form = {"ProjectId": project, "Type": "Online", "ObjectIds": json.dumps([str(file_id)])}
    run_id = str((await conn.call("CreatePipelineRun", {}, form))["Id"])
    while True:
        doc = await conn.call("GetPipelineRun", {"Id": run_id, "ProjectId": project}, {}, "GET")
        pipeline = doc["Pipeline"]
        if pipeline["Status"] in FINAL:
            break
        code = next_ready(pipeline["Stages"])
        if code is None:
            await asyncio.sleep(poll)
            continue
        stage = {"Code": code, "Id": run_id}
        await conn.call("ExecPipelineRunStage", {"ProjectId": project}, stage)
        out.execs += 1
    if pipeline["Status"] != "Success":
        raise RuntimeError(f"run {run_id} ended {pipeline['Status']}: {pipeline['Message']}")
    out.latencies_ms.append((time.perf_counter() - started) * 1000)
    out.runs += 1


async def _client(
    n: int, port: int, project: str, deadline: float, poll: float, out: RunLoopResult,
    tag: str,
) -> None:  # fmt: skip
    conn = _Conn(port)
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        try:
            await _one_run(conn, project, f"rl_{tag}_{n}_{i}", poll, out)
        except (RuntimeError, KeyError, OSError, asyncio.IncompleteReadError) as err:
            out.failures += 1
            if out.failures <= 3:
                print(f"run loop client {n}: {err!r}")
            out.calls += conn.calls
            conn.close()
            conn = _Conn(port)
            await asyncio.sleep(0.1)
    out.calls += conn.calls
    conn.close()


async def _run(port: int, project: str, clients: int, seconds: float, poll: float) -> Any:
    out = RunLoopResult(clients, seconds)
    started = time.perf_counter()
    deadline = started + seconds
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"  # file names unique to this run
    await asyncio.gather(
        *(_client(n, port, project, deadline, poll, out, tag) for n in range(clients))
    )
    out.seconds = time.perf_counter() - started
    return out


def run_loop(
    port: int, project_id: int, *, clients: int = 16, seconds: float = 10, poll: float = 0.005
) -> RunLoopResult:
    """``clients`` concurrent 2024 clients for ``seconds`` (runs started before the end
    finish; ``seconds`` is then the time the last one took)."""
    result: RunLoopResult = asyncio.run(_run(port, str(project_id), clients, seconds, poll))
    return result
