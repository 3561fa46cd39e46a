"""Triggering the stages of a pipeline run, and the gate that advances Auto runs.

::

    trigger(code)     BUILD_PACKAGE / OfflineCheck: decided at creation (own status)
                      DEV_CHECK   commit 0→1 of what has changed (or Success at once)
                      PROD_CHECK  standard: deploy 1→2 of the committed versions
                                  basic: commit 0→2; Offline: the deletion 0→2
                      DEV / PROD  release the run's package held "stage"
                      DeleteNode  the node deleted for good
    advance           an Auto run: trigger each next ready stage within its range

What a stage packages is read from the run's object when the stage runs
(:mod:`openworks.core.run_objects`: a node, or each node of a workflow).

:class:`RunsGate` joins the lifecycle as a :class:`~openworks.core.context.Gate`
installed on the :class:`~openworks.core.context.Core` (:func:`install`, done by
:func:`openworks.store.open_core`) as an observer: when a package of a run settles, in the same
transaction, it refreshes the run's stored status and advances an Auto run. The worker
holds the package when the gate locks the run: packages first, then the run, always.
"""

from __future__ import annotations

from . import lifecycle, run_stages
from .context import Core, Creation
from .errors import Forbidden, Invalid
from .model import (
    ChangeType,
    DeletedStatus,
    Env,
    File,
    Package,
    PackageStatus,
    PipelineRun,
    Principal,
    Project,
    ProjectMode,
    RunStage,
)
from .ports import Tx
from .roles import Permission, Rule, holders, permits
from .run_objects import WORKFLOW, run_target
from .run_packages import commit_for_run, deploy_for_run
from .run_stages import Derived, derive, next_ready
from .workspace_settings import load_settings

__all__ = [
    "RunsGate",
    "advance",
    "derive_run",
    "install",
    "refresh",
    "refuse_unless",
    "run_packages",
    "settle_own",
    "trigger",
]

_RS = run_stages


def run_packages(tx: Tx, run: PipelineRun) -> tuple[Package | None, Package | None]:
    """The run's development and production packages, those that exist."""
    dev = tx.package(run.dev_package_id) if run.dev_package_id else None
    prod = tx.package(run.prod_package_id) if run.prod_package_id else None
    return dev, prod


def derive_run(tx: Tx, run: PipelineRun) -> Derived:
    """The run's statuses now (its packages' state read in one statement)."""
    dev, prod = tx.pipeline().package_states(run.dev_package_id, run.prod_package_id)
    return derive(run.stages, dev, prod, run.cancelled)


def refresh(tx: Tx, run: PipelineRun, now: int) -> Derived:
    """Store the run's derived status (ListPipelineRuns filters on it)."""
    derived = derive_run(tx, run)
    run.status, run.message, run.modify_time = derived.status, derived.message, now
    tx.pipeline().update_run(run)
    return derived


def refuse_unless(
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


def settle_own(stage: RunStage, problem: str | None, done: str | None = None) -> None:
    """Decide a stage no package decides: Fail with ``problem``, else Success."""
    stage.status = _RS.FAIL if problem else _RS.SUCCESS
    stage.message = problem or done


def _stage(run: PipelineRun, code: str) -> RunStage:
    return next(s for s in run.stages if s.code == code)


def _delete_node(tx: Tx, project: Project, file: File | None, user: str, now: int) -> str | None:
    if file is None or file.deleted_status == DeletedStatus.DELETED:
        return "The node has already been deleted."
    busy = tx.busy_version(file.id)
    if busy is not None:
        return f"Version {busy.version} of node {file.name} is still in a deployment package."
    return lifecycle.delete_for_good(tx, project, file, user, now)


def _release(tx: Tx, project: Project, run: PipelineRun, stage: RunStage) -> int | None:
    """DEV / PROD: release the run's package held for this stage; its id, or None."""
    package_id = run.dev_package_id if stage.code == _RS.DEV else run.prod_package_id
    package = lifecycle.lock(tx, package_id or 0)
    if package is None:  # nothing was packaged for this stage (see DEV_CHECK)
        settle_own(stage, None, stage.message)
        return None
    if package.status != PackageStatus.READY or package.hold != lifecycle.HOLD_STAGE:
        settle_own(stage, f"The package {package.id} is no longer waiting for this stage.")
        return None
    lifecycle.release_stage(tx, package, load_settings(tx, project.id).approval_required)
    return package.id


def trigger(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    run: PipelineRun,
    code: str,
    woken: list[int],
) -> None:
    """Start stage ``code`` (its predecessors all succeeded) inside the caller's tx; the
    packages it hands to the worker are added to ``woken``."""
    stage = _stage(run, code)
    stage.triggered = True
    if code in (_RS.DEV, _RS.PROD):
        released = _release(tx, project, run, stage)
        woken.extend([released] if released is not None else [])
        return
    target = run_target(tx, project, run)
    if code == _RS.DELETE_NODE:
        file = target.files[0] if target.files else None
        settle_own(stage, _delete_node(tx, project, file, principal.user_id, core.clock()))
        return
    problem = target.blocker(tx)
    if problem is not None:
        settle_own(stage, problem)
        return
    name = target.name
    if code == _RS.DEV_CHECK:
        changed = target.to_commit()
        if not changed:  # committed already: nothing to commit to development
            if target.kind == WORKFLOW:
                done = f"Every node of workflow {name} is already in development."
            else:
                done = f"Version {target.files[0].current_version} is already in development."
            settle_own(stage, None, done)
            settle_own(_stage(run, _RS.DEV), None, done)
            return
        package = commit_for_run(tx, core, principal, project, changed, run.id, Env.DEV, None, name)
        run.dev_package_id = package.id
        return
    # PROD_CHECK
    if run.type == "Offline":
        deleting = ChangeType.DELETE
        package = commit_for_run(
            tx, core, principal, project, target.files, run.id, Env.PROD, deleting, name
        )
    elif project.mode == ProjectMode.BASIC:
        files = target.to_commit() if target.kind == WORKFLOW else list(target.files)
        if not files:
            settle_own(stage, f"Nothing to deploy: no node of workflow {name} has a change.")
            return
        package = commit_for_run(tx, core, principal, project, files, run.id, Env.PROD, None, name)
    else:
        files = target.to_deploy(tx)
        if not files:
            settle_own(stage, f"Nothing to deploy: every node of workflow {name} is in production.")
            return
        try:
            package = deploy_for_run(tx, core, principal, project, files, run.id, name)
        except Invalid as refused:
            settle_own(stage, refused.message)
            return
    run.prod_package_id = package.id


def advance(
    tx: Tx, core: Core, principal: Principal, project: Project, run: PipelineRun, woken: list[int]
) -> None:
    """Trigger the next stages of an Auto run while they are ready and within its range."""
    if run.run_mode != "Auto":
        return
    auto = run_stages.auto_range([s.code for s in run.stages], run.auto_until)
    while True:
        ready = next_ready(derive_run(tx, run))
        if ready is None or ready.code not in auto:
            return
        trigger(tx, core, principal, project, run, ready.code, woken)


# -- the gate -------------------------------------------------------------------------------


class RunsGate:
    """Pipeline runs as a :class:`~openworks.core.context.Gate` observer (``core.observers``):
    they only listen for their packages settling (``settled``); they hold and force nothing."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def created(self, tx: Tx, creation: Creation) -> None:
        return None

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        return None

    def settled(self, tx: Tx, package: Package) -> None:
        """A package of a run settled: refresh the run, advance it if it is Auto."""
        if package.run_id is None:
            return
        run = tx.pipeline().lock_run(package.run_id)
        project = tx.project(run.project_id) if run is not None else None
        if run is None or project is None:
            return
        if run.origin == "2024" and not run.cancelled and run.run_mode == "Auto":
            principal = Principal(project.account_id, run.creator)
            before = sum(s.triggered for s in run.stages)
            advance(tx, self._core, principal, project, run, [])
            if sum(s.triggered for s in run.stages) != before:
                # A stage it triggered may have made a package ready (or one to check):
                # the worker (running this package) claims again once this transaction
                # ends instead of waiting. Nothing triggered: nothing to claim, and a
                # wake-up would cost an empty claim (the write lock, on SQLite).
                self._core.on_package(package.id)
        refresh(tx, run, self._core.clock())


def install(core: Core) -> Core:
    """Make the lifecycle of ``core`` tell pipeline runs when their packages settle (once
    per Core; :func:`openworks.store.open_core` does it, unit tests may); ``core`` again."""
    if not any(isinstance(g, RunsGate) for g in core.observers):
        core.observers = (*core.observers, RunsGate(core))
    return core
