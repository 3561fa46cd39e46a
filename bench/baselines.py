"""The two baselines, each one uvicorn process on the same stack as the server.

(a) bare Starlette: reads the request (a POST form, or a 2024 GET) and answers a constant
    JSON body of the same size as the server's answer to that action (captured from the
    server before the run).
(b) the smallest honest handler: ``parse_qsl`` the form (a GET: the query), read the package
    and its items by primary key (ListDeployments: the same filtered count + page query the
    server runs; GetPipelineRun: the run and its packages, bench/baseline_runs.py) with the
    stdlib ``sqlite3``, serialize the DataWorks shape with orjson.
(c) the handler of (b) for GetDeployment on PostgreSQL: a small psycopg 3 pool of async
    connections per process, two processes (uvicorn ``workers=2``), bench/baseline_pg.py.

    python -m bench.baselines a --port 9001 --bodies bodies.json
    python -m bench.baselines b --port 9002 --db /tmp/ow-bench/1m.db
    python -m bench.baselines c --port 9003 --dsn postgresql://... --workers 2
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import uuid
from typing import Any
from urllib.parse import parse_qsl

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .baseline_runs import get_pipeline_run

__all__ = [
    "DEPLOYMENT_KEYS",
    "HEALTH",
    "ITEMS_SQL",
    "PACKAGE_SQL",
    "bare_app",
    "deployment_document",
    "minimal_app",
]

HEALTH = Route("/healthz", lambda _r: Response(b'{"status":"ok"}'), methods=["GET"])


def bare_app(bodies: dict[str, bytes]) -> Starlette:
    default = next(iter(bodies.values()), b"{}")

    async def api(request: Request) -> Response:
        await request.body()
        body = bodies.get(request.headers.get("x-acs-action", ""), default)
        return Response(body, media_type="application/json;charset=utf-8")

    return Starlette(routes=[HEALTH, Route("/", api, methods=["GET", "POST"])])


PACKAGE_SQL = (
    "SELECT status, error_message, from_env, to_env, checking_status, create_time, handler_id,"
    " creator_id, execute_time, name, project_id FROM packages WHERE id = ?"
)
ITEMS_SQL = (
    "SELECT file_id, file_version, status FROM package_items WHERE package_id = ? ORDER BY file_id"
)
_WHERE = (
    " FROM packages WHERE project_id = ? AND creator_id = ? AND name LIKE ? ESCAPE '\\'"
    " AND status = ?"
)
_COUNT = "SELECT count(*)" + _WHERE
_PAGE = (
    "SELECT id, name, status, creator_id, handler_id, create_time, execute_time, error_message"
    + _WHERE
    + " ORDER BY create_time DESC, id DESC LIMIT ? OFFSET ?"
)


DEPLOYMENT_KEYS = ("Status", "ErrorMessage", "FromEnvironment", "ToEnvironment",
                   "CheckingStatus", "CreateTime", "HandlerId", "CreatorId", "ExecuteTime",
                   "Name")  # fmt: skip


def deployment_document(row: Any, items: list[Any]) -> dict[str, Any]:
    """GetDeployment's ``Data`` document from the package row and its item rows."""
    return {
        "Data": {
            "Deployment": dict(zip(DEPLOYMENT_KEYS, row, strict=False)),
            "DeployedItems": [{"FileId": f, "FileVersion": v, "Status": s} for f, v, s in items],
        },
        "Success": True,
    }


def minimal_app(db_path: str) -> Starlette:
    db = sqlite3.connect(db_path, check_same_thread=False)
    db.execute("PRAGMA cache_size=-65536")

    def get_deployment(form: dict[str, str]) -> dict[str, Any]:
        row = db.execute(PACKAGE_SQL, (int(form["DeploymentId"]),)).fetchone()
        if row is None or row[10] != int(form["ProjectId"]):
            return {"Code": "InvalidDeployment.NotFound"}
        items = db.execute(ITEMS_SQL, (int(form["DeploymentId"]),)).fetchall()
        return deployment_document(row, items)

    def list_deployments(form: dict[str, str]) -> dict[str, Any]:
        size, number = int(form.get("PageSize", "10")), int(form.get("PageNumber", "1"))
        kw = form["Keyword"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args = (int(form["ProjectId"]), form["Creator"], f"%{kw}%", int(form["Status"]))
        total = db.execute(_COUNT, args).fetchone()[0]
        rows = db.execute(_PAGE, (*args, size, (number - 1) * size)).fetchall()
        keys = ("Id", "Name", "Status", "Creator", "Executor", "CreateTime", "ExecuteTime",
                "ErrorMessage")  # fmt: skip
        return {
            "Data": {
                "Deployments": [dict(zip(keys, r, strict=True)) for r in rows],
                "PageNumber": number,
                "PageSize": size,
                "TotalCount": total,
            },
            "Success": True,
        }

    def get_run(params: dict[str, str]) -> dict[str, Any]:
        return get_pipeline_run(db, params)

    handlers = {
        "GetDeployment": get_deployment,
        "ListDeployments": list_deployments,
        "GetPipelineRun": get_run,
    }

    async def api(request: Request) -> Response:
        if request.method == "GET":
            form = dict(parse_qsl(request.scope["query_string"].decode()))
        else:
            form = dict(parse_qsl((await request.body()).decode()))
        document = handlers[request.headers["x-acs-action"]](form)
        document["RequestId"] = str(uuid.uuid4()).upper()
        return Response(orjson.dumps(document), media_type="application/json;charset=utf-8")

    return Starlette(routes=[HEALTH, Route("/", api, methods=["GET", "POST"])])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="run one benchmark baseline")
    parser.add_argument("kind", choices=["a", "b", "c"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", help="(a) JSON file: action -> response body text")
    parser.add_argument("--db", help="(b) SQLite database file")
    parser.add_argument("--dsn", help="(c) PostgreSQL connection string")
    parser.add_argument("--workers", type=int, default=2, help="(c) processes")
    args = parser.parse_args(argv)
    if args.kind == "c":
        from .baseline_pg import serve

        serve(args.dsn, args.port, args.workers)
        return
    if args.kind == "a":
        with open(args.bodies) as fh:
            bodies = {k: v.encode() for k, v in json.load(fh).items()}
        app = bare_app(bodies)
    else:
        app = minimal_app(args.db)
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
