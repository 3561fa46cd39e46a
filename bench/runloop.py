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
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

from .clients import Conn, Tally, drive
from .load import V2024

__all__ = ["RunLoopResult", "next_ready", "run_loop"]

FINAL = frozenset({"Success", "Fail", "Termination", "Cancel"})


@dataclass
class RunLoopResult(Tally):
    """``done``: runs to PROD; ``latencies_ms``: each run's latency."""

    execs: int = 0

    @property
    def runs(self) -> int:
        return self.done


def next_ready(stages: list[dict[str, Any]]) -> str | None:
    """The code of the first Init stage whose predecessors all succeeded, if any."""
    for stage in sorted(stages, key=lambda s: int(s["Step"])):
        if stage["Status"] == "Init":
            return str(stage["Code"])
        if stage["Status"] != "Success":
            return None
    return None


async def _one_run(project: str, poll: float, conn: Conn, name: str, out: RunLoopResult) -> None:
    file_id = (
        await conn.call(
            "CreateFile", {}, {
                "ProjectId": project, "FileName": name, "FileType": "10",
                "Content": "SELECT 1;", "FileFolderPath": "Business Flow/bench/MaxCompute",
                "CreateFolderIfNotExists": "true",
            }, "POST", V2024,
        )
    )["Data"]  # fmt: skip
    started = time.perf_counter()
    form = {"ProjectId": project, "Type": "Online", "ObjectIds": json.dumps([str(file_id)])}
    run_id = str((await conn.call("CreatePipelineRun", {}, form, "POST", V2024))["Id"])
    while True:
        doc = await conn.call(
            "GetPipelineRun", {"Id": run_id, "ProjectId": project}, {}, "GET", V2024
        )
        pipeline = doc["Pipeline"]
        if pipeline["Status"] in FINAL:
            break
        code = next_ready(pipeline["Stages"])
        if code is None:
            await asyncio.sleep(poll)
            continue
        stage = {"Code": code, "Id": run_id}
        await conn.call("ExecPipelineRunStage", {"ProjectId": project}, stage, "POST", V2024)
        out.execs += 1
    if pipeline["Status"] != "Success":
        raise RuntimeError(f"run {run_id} ended {pipeline['Status']}: {pipeline['Message']}")
    out.latencies_ms.append((time.perf_counter() - started) * 1000)
    out.done += 1


def run_loop(
    port: int, project_id: int, *, clients: int = 16, seconds: float = 10, poll: float = 0.005
) -> RunLoopResult:
    """``clients`` concurrent 2024 clients for ``seconds`` (runs started before the end
    finish; ``seconds`` is then the time the last one took)."""
    out = RunLoopResult(clients, seconds)
    drive(port, clients, seconds, functools.partial(_one_run, str(project_id), poll), out, "rl")
    return out
