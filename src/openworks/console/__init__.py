"""The web console: DataWorks' Deploy center in a browser, served under ``/console``.

Server-rendered pages (Jinja2) over the same domain functions the API calls, with the
signed-in user's :class:`~openworks.core.model.Principal`, so the same membership and role
checks apply. Assets come from ``/console/static``; nothing is loaded from elsewhere.

::

    /console/login                         GET form · POST sign in (AccessKey or password)
    /console/logout                        POST sign out
    /console/w                             workspaces
    /console/w/{ProjectId}/deployments     Deploy center (+ .json for live refresh)
    /console/w/{ProjectId}/deployments/{Id}          package (+ .json)
    /console/w/{ProjectId}/deployments/{Id}/approve  POST
    /console/w/{ProjectId}/deployments/{Id}/reject   POST (reason)
    /console/w/{ProjectId}/runs            pipeline runs with their step bars (+ .json)
    /console/w/{ProjectId}/runs/{RunId}    a run: stages, items, its packages (+ .json)
    /console/w/{ProjectId}/files           folder tree and files
    /console/w/{ProjectId}/files/{FileId}  DEV | PROD, history
    /console/w/{ProjectId}/files/{FileId}/diff       line diff of two versions
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import auth, deployments, files, review, runs
from .web import Console, SignedIn

if TYPE_CHECKING:
    from openworks.server.service import Service

__all__ = ["console_routes"]

STATIC = Path(__file__).with_name("static")


def console_routes(service: Service) -> list[BaseRoute]:
    """The console's routes, to be added to the application's route list."""
    console = Console(service)

    def page(
        fn: Callable[..., Awaitable[Response]], **kwargs: Any
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(signed: SignedIn) -> Response:
            return await fn(console, signed, **kwargs)

        return console.signed_in(run)

    async def home(_request: Request) -> Response:
        return RedirectResponse("/console/w", 303)

    # Ids are matched as text and converted by the page (console/inputs.py path_id): a
    # Starlette ``int`` segment would pass a 30-digit id on to the database (a 500).
    w = "/w/{project_id}"
    d = w + "/deployments/{deployment_id}"
    f = w + "/files/{file_id}"
    r = w + "/runs/{run_id}"
    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/login", partial(auth.login_form, console), methods=["GET"]),
        Route("/login", partial(auth.login_submit, console), methods=["POST"]),
        Route("/logout", page(auth.logout), methods=["POST"]),
        Route("/w", page(deployments.workspace_list), methods=["GET"]),
        Route(w + "/deployments", page(deployments.deployment_list), methods=["GET"]),
        Route(
            w + "/deployments.json", page(deployments.deployment_list, live=True), methods=["GET"]
        ),
        # ".json" first: a text segment would also match "{Id}.json"
        Route(d + ".json", page(deployments.deployment_detail, live=True), methods=["GET"]),
        Route(d, page(deployments.deployment_detail), methods=["GET"]),
        Route(d + "/approve", page(review.approve), methods=["POST"]),
        Route(d + "/reject", page(review.reject), methods=["POST"]),
        Route(w + "/runs", page(runs.run_list), methods=["GET"]),
        Route(w + "/runs.json", page(runs.run_list, live=True), methods=["GET"]),
        Route(r + ".json", page(runs.run_detail, live=True), methods=["GET"]),
        Route(r, page(runs.run_detail), methods=["GET"]),
        Route(w + "/files", page(files.file_list), methods=["GET"]),
        Route(f, page(files.file_detail), methods=["GET"]),
        Route(f + "/diff", page(files.file_diff), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
    return [
        Route("/console", home, methods=["GET"]),
        Mount("/console", routes=routes),
    ]
