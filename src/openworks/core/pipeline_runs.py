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

A package of a run is held "stage" once its checks passed until its deploy stage is
triggered (:func:`lifecycle.release_stage`). When such a package settles, the lifecycle
calls :func:`_on_settled` (installed by :func:`install`) in the same transaction: the run's
stored status is refreshed and an Auto run triggers its next stage within its range.

Locks: packages first, then the run (``RunStore.lock_run``), as the worker does (it holds
the package when the hook locks the run), so the two never wait on each other in a circle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from . import lifecycle, run_stages
from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Forbidden, Invalid, NotFound
from .model import (
    ChangeType,
    DeletedStatus,
    Env,
    File,
    FileVersion,
    Package,
    PackageStatus,
    Page,
    PipelineRun,
    Principal,
    Project,
    ProjectMode,
    RunStage,
    VersionStatus,
)
from .packages import commit_for_run, deploy_for_run
from .ports import Tx
from .roles import Permission, Rule, holders, permits
from .run_stages import FINAL, Derived, derive, next_ready
from .workspace_settings import load_settings

__all__ = [
    "ItemView",
    "RunView",
    "abolish_run",
    "create_run",
    "exec_stage",
    "get_run",
    "install",
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
    file_id: int
    name: str
    status: str
    version: FileVersion | None
    message: str
    create_time: int
    modify_time: int


def install(core: Core) -> None:
    """Let the lifecycle tell this module when a package of a run settles."""
    lifecycle.install_run_hook(lambda tx, package: _on_settled(tx, core, package))


# -- deriving ---------------------------------------------------------------------------


def _packages(tx: Tx, run: PipelineRun) -> tuple[Package | None, Package | None]:
    dev = tx.package(run.dev_package_id) if run.dev_package_id else None
    prod = tx.package(run.prod_package_id) if run.prod_package_id else None
    return dev, prod


def _derive(tx: Tx, run: PipelineRun) -> Derived:
    dev, prod = _packages(tx, run)
    return derive(run.stages, dev, prod, run.cancelled)


def _refresh(tx: Tx, run: PipelineRun, now: int) -> Derived:
    derived = _derive(tx, run)
    run.status, run.message, run.modify_time = derived.status, derived.message, now
    tx.pipeline().update_run(run)
    return derived


def _on_settled(tx: Tx, core: Core, package: Package) -> None:
    run = tx.pipeline().lock_run(package.run_id or "")
    project = tx.project(run.project_id) if run is not None else None
    if run is None or project is None:
        return
    if run.origin == "2024" and not run.cancelled:
        _advance(tx, core, Principal(project.account_id, run.creator), project, run, [])
    _refresh(tx, run, core.clock())


# -- stages ------------------------------------------------------------------------------


def _refuse_unless(
    tx: Tx, principal: Principal, project: Project, permission: Permission, what: str
) -> None:
    """Refuse unless one of the caller's roles holds ``permission`` in the workspace."""
    roles = tx.member_roles(project.id, principal.user_id)
    if not permits(Rule(permission), project.mode, roles, principal.is_root):
        holding = ", ".join(sorted(holders(permission)))
        raise Forbidden(
            "Forbidden.Access",
            f"{what} needs the {permission.value} permission in workspace "
            f"{project.identifier} (roles: {holding}).",
        )


def _refuse_deploy(tx: Tx, principal: Principal, project: Project, what: str) -> None:
    _refuse_unless(tx, principal, project, Permission.DEPLOY, what)


def _blocker(tx: Tx, file: File | None, name: str) -> str | None:
    """Why nothing can be packaged for the object now, or None."""
    if file is None or file.deleted_status != DeletedStatus.NORMAL:
        return f"The node {name} has been deleted."
    busy = tx.busy_version(file.id)
    if busy is not None:
        return (
            f"Version {busy.version} of node {file.name} ({file.id}) is still in a deployment "
            "package; wait for it to finish."
        )
    return None


def _build(tx: Tx, file: File) -> str | None:
    """BUILD_PACKAGE: why there is nothing to deploy, or None."""
    problem = _blocker(tx, file, str(file.id))
    if problem is not None or file.commit_status == 0:
        return problem
    latest = tx.latest_version(file.id)
    if latest is None or latest.status != VersionStatus.COMMITTED:
        return (
            f"Nothing to deploy: node {file.name} ({file.id}) has no change since version "
            f"{file.current_version}, which is already in production."
        )
    return None


def _offline_check(tx: Tx, file: File) -> str | None:
    problem = _blocker(tx, file, str(file.id))
    if problem is None and file.prod_version is None:
        return (
            f"The node {file.name} ({file.id}) is not in production; there is nothing to "
            "take offline."
        )
    return problem


def _delete_node(tx: Tx, project: Project, file: File | None, user: str, now: int) -> str | None:
    if file is None or file.deleted_status == DeletedStatus.DELETED:
        return "The node has already been deleted."
    busy = tx.busy_version(file.id)
    if busy is not None:
        return f"Version {busy.version} of node {file.name} is still in a deployment package."
    return lifecycle.delete_for_good(tx, project, file, user, now)


def _stage(run: PipelineRun, code: str) -> RunStage:
    return next(s for s in run.stages if s.code == code)


def _settle_own(stage: RunStage, problem: str | None, done: str | None = None) -> None:
    stage.status = _RS.FAIL if problem else _RS.SUCCESS
    stage.message = problem or done


def _trigger(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    run: PipelineRun,
    code: str,
    woken: list[int],
) -> None:
    """Start stage ``code`` (its predecessors all succeeded) inside the caller's tx."""
    stage = _stage(run, code)
    stage.triggered = True
    file = tx.file(run.object_id)
    offline = run.type == "Offline"
    if code in (_RS.DEV, _RS.PROD):
        package_id = run.dev_package_id if code == _RS.DEV else run.prod_package_id
        package = lifecycle.lock(tx, package_id or 0)
        if package is None:  # nothing was packaged for this stage (see DEV_CHECK)
            _settle_own(stage, None, stage.message)
            return
        if package.status != PackageStatus.READY or package.hold != lifecycle.HOLD_STAGE:
            _settle_own(stage, f"The package {package.id} is no longer waiting for this stage.")
            return
        required = load_settings(tx, project.id).approval_required
        lifecycle.release_stage(tx, package, required)
        woken.append(package.id)
        return
    if code == _RS.DELETE_NODE:
        _settle_own(stage, _delete_node(tx, project, file, principal.user_id, core.clock()))
        return
    problem = _blocker(tx, file, str(run.object_id))
    if problem is not None or file is None:
        _settle_own(stage, problem)
        return
    if code == _RS.DEV_CHECK:
        if file.commit_status == 1:  # committed already: nothing to commit to development
            done = f"Version {file.current_version} is already in development."
            _settle_own(stage, None, done)
            _settle_own(_stage(run, _RS.DEV), None, done)
            return
        run.dev_package_id = commit_for_run(tx, core, principal, project, file, run.id, Env.DEV).id
        return
    # PROD_CHECK
    if offline:
        deleting = ChangeType.DELETE
        package = commit_for_run(tx, core, principal, project, file, run.id, Env.PROD, deleting)
    elif project.mode == ProjectMode.BASIC:
        package = commit_for_run(tx, core, principal, project, file, run.id, Env.PROD)
    else:
        try:
            package = deploy_for_run(tx, core, principal, project, file, run.id)
        except Invalid as refused:
            _settle_own(stage, refused.message)
            return
    run.prod_package_id = package.id


def _advance(
    tx: Tx, core: Core, principal: Principal, project: Project, run: PipelineRun, woken: list[int]
) -> None:
    """Trigger the next stages of an Auto run while they are ready and within its range."""
    if run.run_mode != "Auto":
        return
    auto = run_stages.auto_range([s.code for s in run.stages], run.auto_until)
    while True:
        ready = next_ready(_derive(tx, run))
        if ready is None or ready.code not in auto:
            return
        _trigger(tx, core, principal, project, run, ready.code, woken)


# -- the operations -------------------------------------------------------------------------


def _find(tx: Tx, project: Project, run_id: str, lock: bool = False) -> PipelineRun:
    store = tx.pipeline()
    run = store.lock_run(run_id) if lock else store.run(run_id)
    if run is None or run.project_id != project.id:
        raise NotFound(
            "InvalidPipelineRun.NotFound",
            f"The pipeline run {run_id} does not exist in workspace {project.identifier}.",
        )
    return run


def _object(tx: Tx, project: Project, object_ids: list[str]) -> File:
    first = object_ids[0].strip() if object_ids else ""
    file = tx.file(int(first)) if first.isascii() and first.isdigit() and len(first) < 19 else None
    if file is None or file.project_id != project.id or file.deleted_status != "NORMAL":
        raise NotFound(
            "InvalidObject.NotFound",
            f"No object to deploy was found: {object_ids} (ObjectIds takes the ID of a node "
            f"of workspace {project.identifier}; only the first one is deployed).",
        )
    return file


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
        file = _object(tx, project, object_ids)
        offline = type_ == "Offline"
        codes = run_stages.stage_codes(offline, project.mode == ProjectMode.STANDARD)
        if auto_until is not None and auto_until not in codes:
            raise Invalid(
                "Invalid.PipelineRun.UnknownStage",
                f"AutoRunUntilStage {auto_until} is not a stage of this run; its stages are "
                f"{', '.join(codes)}.",
            )
        if mode == "Auto" and _RS.PROD in run_stages.auto_range(codes, auto_until):
            _refuse_deploy(tx, principal, project, "An Auto run through the PROD stage")
        busy = tx.pipeline().active_runs(project.id, file.id)
        if busy:
            raise Invalid(
                "Invalid.PipelineRun.ObjectBusy",
                f"The node {file.id} already has an active pipeline run {busy[0].id} "
                f"(Status {busy[0].status}); wait for it to finish or abolish it first.",
            )
        run = PipelineRun(
            id=str(uuid.uuid4()),
            project_id=project.id,
            type=type_,
            object_id=file.id,
            object_type="Node",
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
        _settle_own(first, _offline_check(tx, file) if offline else _build(tx, file))
        tx.pipeline().insert_run(run)
        _advance(tx, core, principal, project, run, woken)
        _refresh(tx, run, now)
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
        for package_id in (found.dev_package_id, found.prod_package_id):
            if package_id:
                lifecycle.lock(tx, package_id)  # packages before the run (module docstring)
        run = _find(tx, project, run_id, lock=True)
        derived = _derive(tx, run)
        ready = next_ready(derived)
        if ready is None or ready.code != code:
            raise _not_ready(run, derived, code)
        # the API lets any member through (its rule: READ); the stage decides: the PROD
        # stage needs the deploy permission (O&M, admins, owners), the others development
        if code == _RS.PROD:
            _refuse_deploy(tx, principal, project, "Executing the PROD stage")
        else:
            _refuse_unless(
                tx, principal, project, Permission.DEVELOP, f"Executing the {code} stage"
            )
        _trigger(tx, core, principal, project, run, code, woken)
        _advance(tx, core, principal, project, run, woken)
        _refresh(tx, run, core.clock())
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
        run = _find(tx, project, run_id, lock=True)
        derived = _derive(tx, run)
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
                lifecycle.fail(tx, package, now, message, None)
        _refresh(tx, _find(tx, project, run_id), now)


def get_run(core: Core, principal: Principal, ref: ProjectRef, run_id: str) -> RunView:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        run = _find(tx, project, run_id)
        return RunView(run, _derive(tx, run))


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
        return [RunView(r, _derive(tx, r)) for r in runs], total


def list_items(
    core: Core, principal: Principal, ref: ProjectRef, run_id: str, page: Page
) -> tuple[Project, list[ItemView], int]:
    """The objects a run deploys: the items of its packages (production first), or the
    object itself before any package; each with the status of the run's last deploy stage."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        run = _find(tx, project, run_id)
        derived = _derive(tx, run)
        dev, prod = _packages(tx, run)
        deploys = [v for v in derived.stages if v.code in (_RS.DEV, _RS.PROD)]
        started = [v for v in deploys if v.status != _RS.INIT] or deploys[:1]
        view = started[-1] if started else None
        status = view.status if view is not None else _RS.INIT
        status = _RS.TERMINATION if status == _RS.CANCEL else status
        message = (view.message if view is not None else None) or ""
        items: dict[int, tuple[int | None, int]] = {}
        for package in (p for p in (prod, dev) if p is not None):
            for item in package.items:
                items.setdefault(item.file_id, (item.file_version, package.create_time))
        if not items:
            items[run.object_id] = (None, run.create_time)
        views = []
        for file_id, (number, created) in sorted(items.items()):
            file = tx.file(file_id)
            number = number or (file.current_version if file else None)
            version = tx.version(file_id, number) if number else None
            name = version.name if version else (file.name if file else str(file_id))
            views.append(
                ItemView(file_id, name, status, version, message, created, run.modify_time)
            )
        return project, views[page.offset : page.offset + page.size], len(views)
