"""Pipeline runs (API 2024-05-18) in the Deploy center, next to the packages they make.

::

    /console/w/{ProjectId}/runs              runs, newest first, each with its step bar
                                             (ListPipelineRuns: status filter, paging)
    /console/w/{ProjectId}/runs.json         the same rows as an HTML fragment + pending
    /console/w/{ProjectId}/runs/{RunId}      stages, items, the packages it made
    /console/w/{ProjectId}/runs/{RunId}.json the live part of that page + pending

A run's object and items link to their pages: a node to its file page, a workflow
definition (which has no file page) to the Files list filtered by the workflow's folder,
which also shows the workflow's tables; a workflow that no longer exists links nowhere.

A run id in the path must be a UUID (:func:`openworks.core.run_reads.parse_run_id`); any
other text, or a run of another workspace, is a 404 page. Reads run under the rules of
GetPipelineRun / ListPipelineRuns (2024-05-18), which are those of the package pages. A
stage's look (done, running, waiting for approval, failed, rejected, cancelled, not started)
comes from :func:`openworks.presenters.labels.stage_look`, drawn with words and a mark,
never colour alone.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from openworks.core import projects
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.folders import USE_TYPES
from openworks.core.model import Page, Principal, Project
from openworks.core.pipeline_runs import ItemView, list_runs
from openworks.core.run_objects import WORKFLOW
from openworks.core.run_reads import RunDetail, find_run, parse_run_id, run_items
from openworks.core.run_stages import FINAL

from . import labels
from .deployments import MAX_PAGE, PAGE_SIZE, project_of
from .inputs import Refused, query_int
from .web import SECURITY_HEADERS, Console, SignedIn

__all__ = ["RunFilters", "item_href", "parse_run_filters", "run_detail", "run_list"]

V2024 = "2024-05-18"


@dataclass(frozen=True, slots=True)
class RunFilters:
    status: str | None
    page: int

    def query(self, page: int | None = None) -> str:
        values = {"status": self.status} if self.status else {}
        if page is not None and page > 1:
            values["page"] = str(page)
        return urllib.parse.urlencode(values)


def parse_run_filters(query: Any) -> RunFilters:
    status = query.get("status", "").strip() or None
    if status is not None and status not in labels.RUN_STATUS:
        words = ", ".join(labels.RUN_STATUS)
        raise Refused(400, "Bad filter", f"Status must be one of {words}.")
    page = query_int("page", query.get("page", "1"), 32)
    if not 1 <= page <= MAX_PAGE:
        raise Refused(400, "Bad filter", f"page must be a number from 1 to {MAX_PAGE}.")
    return RunFilters(status, page)


def _list(
    core: Core, principal: Principal, ref: ProjectRef, filters: RunFilters
) -> tuple[Project, list[RunDetail], int]:
    project = projects.get_project(core, principal, ref)
    page = Page(filters.page, PAGE_SIZE)
    views, total = list_runs(core, principal, ref, None, None, filters.status, page)
    return project, [find_run(core, principal, v.run.id, ref) for v in views], total


async def run_list(console: Console, signed: SignedIn, live: bool = False) -> Response:
    ref = project_of(signed)
    filters = parse_run_filters(signed.request.query_params)
    core, principal = console.service.core, signed.principal
    project, runs, total = await console.read(
        signed, "ListPipelineRuns", ref, lambda: _list(core, principal, ref, filters), V2024
    )
    pending = any(d.view.derived.status not in FINAL for d in runs)
    context: dict[str, Any] = {
        "session": signed.session,
        "project": project,
        "runs": runs,
        "total": total,
        "filters": filters,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "pending": pending,
    }
    if live:
        html = await console.html("_run_rows.html", **context)
        return JSONResponse(
            {"html": html, "pending": pending, "total": total}, headers=SECURITY_HEADERS
        )
    return await console.page("runs.html", **context)


def item_href(project_id: int, item: ItemView) -> str | None:
    """Where an item of a run links: a node's file page, a workflow's folder in the Files
    list, or nowhere (a workflow that no longer exists)."""
    if item.kind != WORKFLOW:
        return f"/console/w/{project_id}/files/{item.file_id}"
    if item.workflow is None:
        return None
    folder = f"{USE_TYPES[item.workflow.use_type]}/{item.workflow.name}"
    return f"/console/w/{project_id}/files?" + urllib.parse.urlencode({"folder": folder})


def _detail(
    core: Core, principal: Principal, ref: ProjectRef, run_id: str
) -> tuple[RunDetail, list[ItemView]]:
    detail = find_run(core, principal, run_id, ref)
    return detail, run_items(core, principal, detail)


async def run_detail(console: Console, signed: SignedIn, live: bool = False) -> Response:
    ref = project_of(signed)
    text = signed.request.path_params.get("run_id")
    run_id = parse_run_id(text) if isinstance(text, str) else None
    if run_id is None:
        raise Refused(404, "Not found", "No such pipeline run.")
    core, principal = console.service.core, signed.principal
    detail, items = await console.read(
        signed, "GetPipelineRun", ref, lambda: _detail(core, principal, ref, run_id), V2024
    )
    pending = detail.view.derived.status not in FINAL
    context: dict[str, Any] = {
        "session": signed.session,
        "project": detail.project,
        "detail": detail,
        "run": detail.run,
        "items": items,
        "object": next((i for i in items if i.kind == WORKFLOW), None),
        "item_href": lambda item: item_href(detail.project.id, item),
        "pending": pending,
    }
    if live:
        html = await console.html("_run_body.html", **context)
        return JSONResponse({"html": html, "pending": pending}, headers=SECURITY_HEADERS)
    return await console.page("run.html", **context)
