"""Pipeline runs (API 2024-05-18): a second view of the one package lifecycle.

A run records which of its stages were triggered and which packages it made; the stage
statuses are derived from those packages (:mod:`openworks.core.run_stages`). Packages stay
the single source of truth and run through :mod:`openworks.core.lifecycle` and the worker
as any other::

    CreatePipelineRun ─▶ first stage at once (BUILD_PACKAGE / OfflineCheck: own status)
       │
       ▼                  Online standard                 basic            Offline
    ExecPipelineRunStage  DEV_CHECK: commit 0→1 (checks)  PROD_CHECK: 0→2  PROD_CHECK: deletion 0→2
    (or Auto)             DEV: release the package        PROD: release    PROD: release
                          PROD_CHECK: deploy 1→2 (checks)                  DeleteNode: file deleted
                          PROD: release (deploy permission; approval may hold it)

The object (``ObjectIds[0]``) is a node or a workflow definition, whose packages then
carry one item per node with something to deploy (:mod:`openworks.core.run_objects`);
Offline runs take nodes only. Triggering stages and advancing Auto runs:
:mod:`openworks.core.run_trigger` (its gate hears when a run's package settles).

Locks: packages first, then the run (``RunStore.lock_run``), as the worker does (it holds
the package when the gate locks the run), so the two never wait on each other in a circle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from . import lifecycle, run_stages
from .access import ProjectRef, admit_project, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .folder_model import Business
from .model import File, FileVersion, Page, PipelineRun, Principal, Project, ProjectMode, RunStage
from .ports import Tx
from .roles import Permission
from .run_objects import NODE, WORKFLOW, Target, find_target, run_target
from .run_stages import FINAL, Derived, RunRead, next_ready
from .run_trigger import (
    advance,
    derive_run,
    refresh,
    refuse_unless,
    run_packages,
    settle_own,
    trigger,
)

__all__ = [
    "ItemView",
    "RunView",
    "abolish_run",
    "create_run",
    "exec_stage",
    "get_run",
    "list_items",
    "list_runs",
]

TYPES = ("Online", "Offline")
MODES = ("Normal", "Auto")
_RS = run_stages


@dataclass(frozen=True, slots=True)
class RunView:
    run: PipelineRun
    derived: Derived


@dataclass(frozen=True, slots=True)
class ItemView:
    """An object a run deploys: a node (``file_id`` its id) or, first, the workflow itself
    (``kind`` WorkflowDefinition, ``file_id`` the workflow's id, ``workflow`` and ``nodes``
    for its spec)."""

    file_id: int
    name: str
    status: str
    version: FileVersion | None
    message: str
    create_time: int
    modify_time: int
    kind: str = NODE
    workflow: Business | None = None
    nodes: tuple[File, ...] = ()


def _refuse_deploy(tx: Tx, principal: Principal, project: Project, what: str) -> None:
    refuse_unless(tx, principal, project, Permission.DEPLOY, what)


# -- the operations -------------------------------------------------------------------------


def _missing(project: Project, run_id: str) -> NotFound:
    return NotFound(
        "InvalidPipelineRun.NotFound",
        f"The pipeline run {run_id} does not exist in workspace {project.identifier}.",
    )


def _find(tx: Tx, project: Project, run_id: str, read: PipelineRun | None = None) -> PipelineRun:
    """The run; locked (``RunStore.lock_run``) when ``read``, its copy read earlier."""
    store = tx.pipeline()
    run = store.lock_run(run_id, read) if read is not None else store.run(run_id)
    if run is None or run.project_id != project.id:
        raise _missing(project, run_id)
    return run


def _refuse_busy(tx: Tx, project: Project, target: Target) -> None:
    """One active run per object: neither the object, nor a node of the workflow, nor the
    workflow of the node may have a non-final run."""
    ids = [target.id]
    if target.kind == WORKFLOW:
        ids += [f.id for f in target.files]
    elif target.files[0].business_id:
        ids.append(target.files[0].business_id)
    for object_id in ids:
        busy = tx.pipeline().active_runs(project.id, object_id)
        if not busy:
            continue
        run = busy[0]
        whose = "" if object_id == target.id else f" of {run.object_type} {object_id}"
        raise Invalid(
            "Invalid.PipelineRun.ObjectBusy",
            f"The {target.label} already has an active pipeline run {run.id}{whose} "
            f"(Status {run.status}); wait for it to finish or abolish it first.",
        )


def _first_stage(tx: Tx, target: Target, offline: bool) -> str | None:
    """BUILD_PACKAGE / OfflineCheck: why the run fails at once, or None."""
    if not offline:
        return target.build_problem(tx)
    problem = target.blocker(tx)
    file = target.files[0]
    if problem is None and file.prod_version is None:
        return (
            f"The node {file.name} ({file.id}) is not in production; there is nothing to "
            "take offline."
        )
    return problem


def create_run(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    type_: str,
    object_ids: list[str],
    description: str | None,
    run_mode: str | None,
    auto_until: str | None,
) -> str:
    if type_ not in TYPES:
        raise Invalid("Invalid.Param", f"Type must be Online or Offline, not {type_!r}.")
    mode = run_mode or "Normal"
    if mode not in MODES:
        raise Invalid("Invalid.Param", f"RunMode must be Normal or Auto, not {mode!r}.")
    now = core.clock()
    woken: list[int] = []
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        target = find_target(tx, project, object_ids)
        offline = type_ == "Offline"
        if offline and target.kind == WORKFLOW:
            raise Invalid(
                "Invalid.PipelineRun.OfflineWorkflow",
                f"An Offline pipeline run takes a node, not the {target.label}; take its "
                "nodes offline one by one.",
            )
        codes = run_stages.stage_codes(offline, project.mode == ProjectMode.STANDARD)
        if auto_until is not None and auto_until not in codes:
            raise Invalid(
                "Invalid.PipelineRun.UnknownStage",
                f"AutoRunUntilStage {auto_until} is not a stage of this run; its stages are "
                f"{', '.join(codes)}.",
            )
        if mode == "Auto" and _RS.PROD in run_stages.auto_range(codes, auto_until):
            _refuse_deploy(tx, principal, project, "An Auto run through the PROD stage")
        _refuse_busy(tx, project, target)
        run = PipelineRun(
            id=str(uuid.uuid4()),
            project_id=project.id,
            type=type_,
            object_id=target.id,
            object_type=target.kind,
            creator=principal.user_id,
            description=description or "",
            run_mode=mode,
            auto_until=auto_until,
            stages=[RunStage(code) for code in codes],
            create_time=now,
            modify_time=now,
        )
        first = run.stages[0]
        first.triggered = True
        settle_own(first, _first_stage(tx, target, offline))
        tx.pipeline().insert_run(run)
        advance(tx, core, principal, project, run, woken)
        refresh(tx, run, now)
    for package_id in woken:
        core.on_package(package_id)
    return run.id


def _not_ready(run: PipelineRun, derived: Derived, code: str) -> Invalid:
    views = {v.code: v for v in derived.stages}
    if code not in views:
        return Invalid(
            "Invalid.PipelineRun.UnknownStage",
            f"The pipeline run {run.id} has no stage {code}; its stages are {', '.join(views)}.",
        )
    if derived.status in FINAL:
        return Invalid(
            "Invalid.PipelineRun.AlreadyFinished",
            f"The pipeline run {run.id} has already finished (Status {derived.status}).",
        )
    if views[code].status != _RS.INIT:
        return Invalid(
            "Invalid.PipelineRun.StageNotReady",
            f"Stage {code} of pipeline run {run.id} has already been triggered "
            f"(Status {views[code].status}); a stage runs once.",
        )
    waiting = next(v for v in derived.stages if v.status != _RS.SUCCESS)
    return Invalid(
        "Invalid.PipelineRun.StageNotReady",
        f"Stage {code} of pipeline run {run.id} cannot run yet: stage {waiting.code} is "
        f"{waiting.status}. Stages run in order; the next one is {waiting.code}.",
    )


def exec_stage(core: Core, principal: Principal, ref: ProjectRef, run_id: str, code: str) -> None:
    woken: list[int] = []
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        found = _find(tx, project, run_id)
        ids = (found.dev_package_id, found.prod_package_id)
        # packages before the run (module docstring); as locked, they are what derives
        dev, prod = (lifecycle.lock(tx, i) if i else None for i in ids)
        run = _find(tx, project, run_id, found)
        if (run.dev_package_id, run.prod_package_id) == ids:
            derived = run_stages.derive(run.stages, dev, prod, run.cancelled)
        else:  # a stage of the run made a package in between (PostgreSQL)
            derived = derive_run(tx, run)
        ready = next_ready(derived)
        if ready is None or ready.code != code:
            raise _not_ready(run, derived, code)
        # the API lets any member through (its rule: READ); the stage decides: the PROD
        # stage needs the deploy permission (O&M, admins, owners), the others development
        if code == _RS.PROD:
            _refuse_deploy(tx, principal, project, "Executing the PROD stage")
        else:
            refuse_unless(tx, principal, project, Permission.DEVELOP, f"Executing the {code} stage")
        trigger(tx, core, principal, project, run, code, woken)
        advance(tx, core, principal, project, run, woken)
        refresh(tx, run, core.clock())
    for package_id in woken:
        core.on_package(package_id)


def abolish_run(core: Core, principal: Principal, ref: ProjectRef, run_id: str) -> None:
    """Cancel the run: its packages still READY (held, or queued for the worker) fail with
    a message saying so; a package the worker is executing finishes first (its row lock)."""
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        found = _find(tx, project, run_id)
        ids = [i for i in (found.dev_package_id, found.prod_package_id) if i]
        packages = [p for p in (lifecycle.lock(tx, i) for i in ids) if p is not None]
        run = _find(tx, project, run_id, found)
        derived = derive_run(tx, run)
        if derived.status in FINAL:
            raise Invalid(
                "Invalid.PipelineRun.AlreadyFinished",
                f"The pipeline run {run.id} has already finished (Status {derived.status}); "
                "only a running pipeline run can be abolished.",
            )
        run.cancelled = True
        tx.pipeline().update_run(run)
        for package in packages:
            if package.status == 0:
                message = f"The pipeline run {run.id} was abolished by {principal.user_id}."
                lifecycle.fail(tx, package, now, message, None, core.lifecycle_gates)
        refresh(tx, _find(tx, project, run_id), now)


def get_run(core: Core, principal: Principal, ref: ProjectRef, run_id: str) -> RunView:
    with core.store.transaction() as tx:
        found: RunRead | None
        if ref.id is not None:  # the workspace, the run and its packages' state at once
            workspace, found = tx.project_with_run(ref.id, run_id)
            project = admit_project(tx, principal, ref, workspace)
        else:
            project = resolve_project(tx, principal, ref)
            found = tx.pipeline().run_read(run_id)  # the run and its packages' state
        if found is None or found.run.project_id != project.id:
            raise _missing(project, run_id)
        run = found.run
        return RunView(run, run_stages.derive(run.stages, found.dev, found.prod, run.cancelled))


def list_runs(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    creator: str | None,
    object_id: str | None,
    status: str | None,
    page: Page,
) -> tuple[list[RunView], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        if object_id is not None and not (
            object_id.isascii() and object_id.isdigit() and len(object_id) < 19
        ):
            return [], 0
        oid = int(object_id) if object_id is not None else None
        runs, total = tx.pipeline().list_runs(project.id, creator, oid, status, page)
        return [RunView(r, derive_run(tx, r)) for r in runs], total


def list_items(
    core: Core, principal: Principal, ref: ProjectRef, run_id: str, page: Page
) -> tuple[Project, list[ItemView], int]:
    """The objects a run deploys: a workflow run lists the workflow first; then the items
    of its packages (production first), or the object's nodes before any package; each
    with the status of the run's last deploy stage."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        run = _find(tx, project, run_id)
        derived = derive_run(tx, run)
        dev, prod = run_packages(tx, run)
        deploys = [v for v in derived.stages if v.code in (_RS.DEV, _RS.PROD)]
        started = [v for v in deploys if v.status != _RS.INIT] or deploys[:1]
        view = started[-1] if started else None
        status = view.status if view is not None else _RS.INIT
        status = _RS.TERMINATION if status == _RS.CANCEL else status
        message = (view.message if view is not None else None) or ""
        target = run_target(tx, project, run)
        items: dict[int, tuple[int | None, int]] = {}
        for package in (p for p in (prod, dev) if p is not None):
            for item in package.items:
                items.setdefault(item.file_id, (item.file_version, package.create_time))
        if not items:
            ids = [f.id for f in target.files] if target.kind == WORKFLOW else [run.object_id]
            items = dict.fromkeys(ids, (None, run.create_time))
        views = []
        if target.kind == WORKFLOW:
            times = (run.create_time, run.modify_time)
            workflow = (target.id, target.name, status, None, message, *times, WORKFLOW)
            views.append(ItemView(*workflow, target.business, target.files))
        for file_id, (number, created) in sorted(items.items()):
            file = tx.file(file_id)
            number = number or (file.current_version if file else None)
            version = tx.version(file_id, number) if number else None
            name = version.name if version else (file.name if file else str(file_id))
            views.append(
                ItemView(file_id, name, status, version, message, created, run.modify_time)
            )
        return project, views[page.offset : page.offset + page.size], len(views)
