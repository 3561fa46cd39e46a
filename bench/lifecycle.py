"""Scenario 4 and 5: full lifecycles by concurrent clients, and package latency.

Each client holds one keep-alive connection and repeats (bench/clients.py), signing every
call on the fly::

    CreateFile ─▶ SubmitFile ─▶ poll GetDeployment until Status ≠ 0
               ─▶ DeployFile ─▶ poll GetDeployment until Status ≠ 0      (one lifecycle)

Package latency is measured from the return of SubmitFile / DeployFile to the return of the
first GetDeployment that shows a final Status (polls are ``poll_interval`` apart).
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass

from .clients import Conn, Tally, drive

__all__ = ["LifecycleResult", "run_lifecycles"]


@dataclass
class LifecycleResult(Tally):
    """``done``: lifecycles; ``latencies_ms``: package latencies."""

    @property
    def lifecycles(self) -> int:
        return self.done


async def _lifecycle(project_id: int, poll: float, conn: Conn, name: str, out: Tally) -> None:
    form = {
        "ProjectId": str(project_id), "FileName": name, "FileType": "10",
        "Content": "SELECT 1;", "FileFolderPath": "Business Flow/bench/MaxCompute",
        "CreateFolderIfNotExists": "true",
    }  # fmt: skip
    fid = (await conn.call("CreateFile", {}, form))["Data"]
    for action in ("SubmitFile", "DeployFile"):
        ids = {"ProjectId": str(project_id), "FileId": str(fid)}
        pkg = (await conn.call(action, {}, ids))["Data"]
        returned = time.perf_counter()
        while True:
            doc = await conn.call(
                "GetDeployment", {}, {"ProjectId": str(project_id), "DeploymentId": str(pkg)}
            )
            status = doc["Data"]["Deployment"]["Status"]
            if status != 0:
                break
            await asyncio.sleep(poll)
        out.latencies_ms.append((time.perf_counter() - returned) * 1000)
        if status != 1:
            raise RuntimeError(f"package {pkg} ended with Status {status}")
    out.done += 1


def run_lifecycles(
    port: int, project_id: int, *, clients: int = 16, seconds: float = 10, poll: float = 0.005
) -> LifecycleResult:
    out = LifecycleResult(clients, seconds)
    drive(port, clients, seconds, functools.partial(_lifecycle, project_id, poll), out, "lc")
    return out
