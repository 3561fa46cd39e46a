"""The Deploy center: workspaces, the package list with its filters, and one package.

::

    /console/w                                      workspaces the user belongs to
    /console/w/{ProjectId}/deployments              packages (ListDeployments filters, paging)
    /console/w/{ProjectId}/deployments.json         the same rows as an HTML fragment + pending
    /console/w/{ProjectId}/deployments/{Id}         every GetDeployment field, items, checks,
                                                    timeline, Approve / Reject
    /console/w/{ProjectId}/deployments/{Id}.json    the live part of that page + pending

The ``.json`` twins let ``console.js`` refresh a page in place: every second while a shown
package is not final, and (first page of the list only) every three seconds otherwise so
that new packages appear.
"""

from __future__ import annotations

import calendar
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from openworks.core import files, packages, pipeline_runs, projects
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import DomainError
from openworks.core.model import FileVersion, Item, Package, Principal, Project
from openworks.core.ports import DeploymentFilter, Page

from . import labels, review
from .inputs import path_id, query_int
from .web import SECURITY_HEADERS, Console, Refused, SignedIn

__all__ = [
    "PAGE_SIZE",
    "deployment_detail",
    "deployment_list",
    "parse_filters",
    "project_of",
    "workspace_list",
]

PAGE_SIZE = 20
MAX_PAGE = 100_000
MAX_FILTER_TEXT = 128  # characters of creator, executor and keyword


def project_of(signed: SignedIn) -> ProjectRef:
    return ProjectRef(id=path_id(signed.request.path_params, "project_id", "workspace"))


# -- workspaces --------------------------------------------------------------------------


def _visible_projects(core: Core, principal: Principal) -> list[Project]:
    """Every workspace of the account the user may open (a member, or the root user)."""
    shown: list[Project] = []
    number = 1
    while True:
        batch, total = projects.list_projects(core, principal, Page(number, 100))
        for project in batch:
            try:
                shown.append(projects.get_project(core, principal, ProjectRef(id=project.id)))
            except DomainError:
                continue
        if not batch or number * 100 >= total:
            return shown
        number += 1


async def workspace_list(console: Console, signed: SignedIn) -> Response:
    core, principal = console.service.core, signed.principal
    found = await console.read(
        signed, "ListProjects", ProjectRef(), lambda: _visible_projects(core, principal)
    )
    return await console.page(
        "workspaces.html", session=signed.session, projects=found, project=None
    )


# -- the package list --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's query string, validated: the filter, the page and the text to re-show."""

    flt: DeploymentFilter
    page: int
    values: dict[str, str]

    def query(self, page: int | None = None) -> str:
        values = {k: v for k, v in self.values.items() if v}
        if page is not None and page > 1:
            values["page"] = str(page)
        return urllib.parse.urlencode(values)


def _time_ms(name: str, text: str) -> int | None:
    """``YYYY-MM-DDTHH:MM`` (UTC, what a datetime-local field sends) or plain milliseconds
    (a signed 64-bit integer, as the API's time parameters)."""
    if not text:
        return None
    if text.lstrip("+-").isdigit():
        return query_int(name, text, 64)
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(text, pattern)) * 1000
        except ValueError:
            continue
    raise Refused(400, "Bad filter", f"{name} must be a date and time such as 2024-05-01T12:00.")


def parse_filters(query: Mapping[str, str]) -> Filters:
    values = {
        k: query.get(k, "").strip()
        for k in ("status", "creator", "executor", "keyword", "created_before", "executed_before")
    }
    if any("\x00" in v for v in values.values()):  # PostgreSQL text cannot hold it
        raise Refused(400, "Bad filter", "Filters must not contain the NUL character.")
    status: int | None = None
    if values["status"]:
        if values["status"] not in {str(k) for k in labels.PACKAGE_STATUS}:
            raise Refused(400, "Bad filter", "Status must be one of 0, 1, 2 or 6.")
        status = int(values["status"])
    page = query_int("page", query.get("page", "1"), 32)
    if not 1 <= page <= MAX_PAGE:
        raise Refused(400, "Bad filter", f"page must be a number from 1 to {MAX_PAGE}.")
    for key in ("creator", "executor", "keyword"):
        if len(values[key]) > MAX_FILTER_TEXT:
            raise Refused(400, "Bad filter", f"{key} is longer than {MAX_FILTER_TEXT} characters.")
    flt = DeploymentFilter(
        creator=values["creator"] or None,
        executor=values["executor"] or None,
        keyword=values["keyword"] or None,
        status=status,
        end_create_time=_time_ms("Created before", values["created_before"]),
        end_execute_time=_time_ms("Executed before", values["executed_before"]),
    )
    return Filters(flt, page, values)


def _list(
    core: Core, principal: Principal, ref: ProjectRef, filters: Filters
) -> tuple[Project, list[Package], int]:
    project = projects.get_project(core, principal, ref)
    found, total = packages.list_deployments(
        core, principal, ref, filters.flt, Page(filters.page, PAGE_SIZE)
    )
    return project, found, total


async def deployment_list(console: Console, signed: SignedIn, live: bool = False) -> Response:
    ref = project_of(signed)
    filters = parse_filters(signed.request.query_params)
    core, principal = console.service.core, signed.principal
    project, found, total = await console.read(
        signed, "ListDeployments", ref, lambda: _list(core, principal, ref, filters)
    )
    pending = any(not labels.is_final(p) for p in found)
    context: dict[str, Any] = {
        "session": signed.session,
        "project": project,
        "packages": found,
        "total": total,
        "filters": filters,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "pending": pending,
    }
    if live:
        html = await console.html("_deployment_rows.html", **context)
        return JSONResponse(
            {"html": html, "pending": pending, "total": total}, headers=SECURITY_HEADERS
        )
    return await console.page("deployments.html", **context)


# -- one package -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemView:
    item: Item
    version: FileVersion | None


def _run_here(core: Core, principal: Principal, ref: ProjectRef, package: Package) -> bool:
    """Whether the package's run is a pipeline run of its workspace, with a page here (the
    other kind is a cross-workspace run, kept in its source workspace)."""
    if package.run_id is None:
        return False
    try:
        pipeline_runs.get_run(core, principal, ref, package.run_id)
    except DomainError:
        return False
    return True


def _detail(
    core: Core, principal: Principal, ref: ProjectRef, package_id: int
) -> tuple[Project, Package, list[ItemView], review.ReviewView, bool]:
    project = projects.get_project(core, principal, ref)
    package = packages.get_deployment(core, principal, ref, package_id)
    items: list[ItemView] = []
    for item in package.items:
        try:
            _file, version = files.get_version(
                core, principal, ref, item.file_id, item.file_version
            )
        except DomainError:
            version = None
        items.append(ItemView(item, version))
    run_here = _run_here(core, principal, ref, package)
    return project, package, items, review.view(core, principal, project, package), run_here


async def deployment_detail(console: Console, signed: SignedIn, live: bool = False) -> Response:
    ref = project_of(signed)
    package_id = path_id(signed.request.path_params, "deployment_id", "deployment package")
    core, principal = console.service.core, signed.principal
    project, package, items, checks, run_here = await console.read(
        signed, "GetDeployment", ref, lambda: _detail(core, principal, ref, package_id)
    )
    context: dict[str, Any] = {
        "session": signed.session,
        "project": project,
        "package": package,
        "items": items,
        "review": checks,
        "run_here": run_here,  # else a cross-workspace run: no page in this workspace
        "timeline": review.timeline(package, checks),
        "pending": not labels.is_final(package),
    }
    if live:
        html = await console.html("_deployment_body.html", **context)
        return JSONResponse({"html": html, "pending": context["pending"]}, headers=SECURITY_HEADERS)
    return await console.page("deployment.html", **context)
