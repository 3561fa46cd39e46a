"""Reading pipeline runs for the CLI and the console: a run found by its id alone, with
its packages, which of them waits for approval, and who may decide.

::

    parse_run_id("3F2B…-…")  ─▶ "3f2b…-…" (the canonical lower-case UUID) | None
    find_run(core, principal, run_id, ref?)
        run ─▶ its workspace (same account, not deleted; ``ref`` only narrows)
            ─▶ membership (resolve_project) ─▶ RunDetail
               (RunView, DEV and PROD packages, the stages held for approval, reviewers)
    run_items(core, principal, detail)  ─▶ every item of the run (ListPipelineRunItems)

A run id names nothing in another account: such a run "does not exist", as for packages
(:func:`openworks.cli.deployments_view.find_deployment`). Nothing here changes state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import run_stages
from .access import ProjectRef, resolve_project
from .approvals import Reviewer, awaiting_approval, reviewers
from .context import Core
from .errors import NotFound
from .model import Package, Page, PipelineRun, Principal, Project
from .pipeline_runs import ItemView, RunView, list_items
from .ports import Tx

__all__ = ["RunDetail", "find_run", "parse_run_id", "run_items"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ITEM_PAGE = 100


def parse_run_id(text: str) -> str | None:
    """``text`` as a run id (a UUID written 8-4-4-4-12, either case), lower-cased; None
    for anything else (a package id, a typo), so that no other text reaches a query."""
    lowered = text.strip().lower()
    return lowered if len(lowered) == 36 and _UUID.fullmatch(lowered) else None


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run as its readers show it."""

    project: Project
    view: RunView
    dev: Package | None
    prod: Package | None
    held: frozenset[str]  # codes of the deploy stages whose package waits for approval
    reviewers: list[Reviewer]  # who may approve (empty unless a stage is held)

    @property
    def run(self) -> PipelineRun:
        return self.view.run

    @property
    def packages(self) -> list[Package]:
        """The run's packages, DEV then PROD, those that exist."""
        return [p for p in (self.dev, self.prod) if p is not None]

    @property
    def waiting(self) -> Package | None:
        """The run's package held for approval (PROD first), if any."""
        return next((p for p in (self.prod, self.dev) if p and awaiting_approval(p)), None)


def _missing(run_id: str, project: Project | None = None) -> NotFound:
    where = f" in workspace {project.identifier}" if project is not None else ""
    return NotFound(
        "InvalidPipelineRun.NotFound", f"The pipeline run {run_id} does not exist{where}."
    )


def _project(
    tx: Tx, principal: Principal, run_id: str, run: PipelineRun | None, ref: ProjectRef | None
) -> Project:
    if ref is not None:
        project = resolve_project(tx, principal, ref)
        if run is None or run.project_id != project.id:
            raise _missing(run_id, project)
        return project
    found = tx.project(run.project_id) if run is not None else None
    if found is None or found.account_id != principal.account_id or found.status == 1:
        raise _missing(run_id)
    return resolve_project(tx, principal, ProjectRef(id=found.id))  # membership


def find_run(
    core: Core, principal: Principal, run_id: str, ref: ProjectRef | None = None
) -> RunDetail:
    """The run ``run_id`` (in ``ref``'s workspace if given, else wherever it is in the
    caller's account) with its packages; 404 ``InvalidPipelineRun.NotFound`` otherwise."""
    with core.store.transaction() as tx:
        run = tx.pipeline().run(run_id)
        project = _project(tx, principal, run_id, run, ref)
        assert run is not None  # _project raised otherwise
        dev = tx.package(run.dev_package_id) if run.dev_package_id else None
        prod = tx.package(run.prod_package_id) if run.prod_package_id else None
        derived = run_stages.derive(run.stages, dev, prod, run.cancelled)
        held = frozenset(
            code
            for code, package in ((run_stages.DEV, dev), (run_stages.PROD, prod))
            if package is not None and awaiting_approval(package)
        )
        team = reviewers(tx, project) if held else []
        return RunDetail(project, RunView(run, derived), dev, prod, held, team)


def run_items(core: Core, principal: Principal, detail: RunDetail) -> list[ItemView]:
    """Every item of the run, page by page (ListPipelineRunItems' order)."""
    ref = ProjectRef(id=detail.project.id)
    found: list[ItemView] = []
    number = 1
    while True:
        _project, batch, total = list_items(
            core, principal, ref, detail.run.id, Page(number, _ITEM_PAGE)
        )
        found.extend(batch)
        if not batch or number * _ITEM_PAGE >= total:
            return found
        number += 1
