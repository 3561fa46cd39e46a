"""Baseline (c): baseline (b)'s GetDeployment handler on PostgreSQL, two processes.

Each process keeps a pool of ``POOL`` psycopg 3 async connections (an ``asyncio.Queue``
of them: ``psycopg_pool`` is not installed, and a queue is all a pool is for this load)::

    request ─▶ parse_qsl(body) ─▶ take a connection ─▶ package row by id ─▶ its items
            ─▶ give it back ─▶ orjson ─▶ response

The processes are arranged as ``openworks serve --workers N`` arranges its own: one
``SO_REUSEPORT`` socket per process on one port (openworks.cli.listening), under the same
supervisor (openworks.cli.processes), so the kernel spreads connections over both sides
alike. The DSN reaches the processes through ``BENCH_PG_DSN``.

    python -m bench.baselines c --port 9003 --dsn postgresql://postgres@127.0.0.1/x
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import orjson
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .baselines import HEALTH, ITEMS_SQL, PACKAGE_SQL, deployment_document

__all__ = ["POOL", "app_from_env", "serve"]

POOL = 4
_PACKAGE = PACKAGE_SQL.replace("?", "%s")
_ITEMS = ITEMS_SQL.replace("?", "%s")


def app_from_env() -> Starlette:
    """The app of one process (uvicorn factory); the DSN is ``$BENCH_PG_DSN``."""
    dsn = os.environ["BENCH_PG_DSN"]
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        conns = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(POOL)]
        for conn in conns:
            pool.put_nowait(conn)
        try:
            yield
        finally:
            for conn in conns:
                await conn.close()

    async def get_deployment(form: dict[str, str]) -> dict[str, Any]:
        package_id = int(form["DeploymentId"])
        conn = await pool.get()
        try:
            row = await (await conn.execute(_PACKAGE, (package_id,))).fetchone()
            if row is None or row[10] != int(form["ProjectId"]):
                return {"Code": "InvalidDeployment.NotFound"}
            items = await (await conn.execute(_ITEMS, (package_id,))).fetchall()
        finally:
            pool.put_nowait(conn)
        return deployment_document(row, items)

    async def api(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        if request.headers.get("x-acs-action") != "GetDeployment":
            return Response(b'{"Code":"UnsupportedOperation"}', status_code=400)
        document = await get_deployment(form)
        document["RequestId"] = str(uuid.uuid4()).upper()
        return Response(orjson.dumps(document), media_type="application/json;charset=utf-8")

    return Starlette(routes=[HEALTH, Route("/", api, methods=["POST"])], lifespan=lifespan)


def serve(dsn: str, port: int, workers: int) -> None:
    """Run ``workers`` processes of the app on ``127.0.0.1:port`` (one: no supervisor)."""
    os.environ["BENCH_PG_DSN"] = dsn
    if workers <= 1:
        uvicorn.run(
            "bench.baseline_pg:app_from_env", factory=True, host="127.0.0.1", port=port,
            access_log=False, log_level="warning",
        )  # fmt: skip
        return
    from openworks.cli.listening import listen_sockets
    from openworks.cli.processes import SpreadProcesses

    sockets = listen_sockets("127.0.0.1", port, workers)
    config = uvicorn.Config(
        "bench.baseline_pg:app_from_env", factory=True, host="127.0.0.1", port=port,
        workers=workers, access_log=False, log_level="warning",
    )  # fmt: skip
    try:
        if len(sockets) > 1:
            SpreadProcesses(config, sockets, "127.0.0.1").run()
        else:  # not Linux: one shared socket, as serve does there
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=sockets).run()
    finally:
        for sock in sockets:
            sock.close()
