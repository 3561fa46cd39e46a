"""Deployment packages: how commits and deploys are created, and how they run.

::

                 create (SubmitFile / DeployFile / DeleteFile)
                                  │
                                  ▼
                         Status 0 READY  ── queued for the worker
                                  │
                           execute (once)
                     ┌────────────┴─────────────┐
                     ▼                          ▼
             Status 1 SUCCESS          Status 2 FAILED, ErrorMessage
             items 1 SUCCESS           failing item 2 ERROR (commit, from LOCAL)
                                                 or 4 DEPLOY_ERROR (deploy, from DEV)

Between creation and execution a package may be held (``hold``) for pre-deployment checks
and then for approval; see :mod:`openworks.core.checks` and :mod:`openworks.core.approvals`.

Which package a call creates (environments LOCAL 0, DEV 1, PROD 2):

=============  ====================================  ====================================
call           standard workspace                    basic workspace
=============  ====================================  ====================================
SubmitFile     commit, package 0 → 1                 commit, package 0 → 2
DeployFile     latest committed version, 1 → 2       commit pending change + ship, 0 → 2
DeleteFile     DELETE version, 0 → 1 (node leaves    DELETE version, 0 → 2
               DEV; DeployFile then takes it out
               of PROD)
=============  ====================================  ====================================

Executing a package validates every item against the target environment first (each input
must be produced by a node there, by another item of the package, or be the workspace root
output; a removed node must have no children left there), then applies all items, in one
transaction: a package never half-applies. A package whose target moved on (the file
deleted, a newer version already in that environment) fails as stale instead. Every state
change is made by :mod:`openworks.core.lifecycle`, which draws the whole transition table.

DeleteFile is refused (``Invalid.File.Busy``) while any version of the file is still in a
package (committing or deploying), not only the latest one.

Every package these calls create also gets a *mirror* pipeline run (origin ``package``,
every stage triggered), so that 2024's ListPipelineRuns shows one history:

==========================  ===========================================  ========
package                     stages                                       Type
==========================  ===========================================  ========
commit 0 → 1 (standard)     BUILD_PACKAGE, DEV_CHECK, DEV                Online
commit 0 → 2 (basic)        BUILD_PACKAGE, PROD_CHECK, PROD              Online
deploy 1 → 2                PROD_CHECK, PROD                             Online
deletion 0 → 1 / 0 → 2      OfflineCheck, DEV / OfflineCheck, PROD       Offline
deletion deployed 1 → 2     PROD_CHECK, PROD                             Offline
==========================  ===========================================  ========

:func:`commit_for_run` and :func:`deploy_for_run` make the packages of 2024 runs
(:mod:`openworks.core.pipeline_runs`) the same way, linked to the run and waiting for its
deploy stage.
"""

from __future__ import annotations

import time
import uuid

from . import checks, lifecycle, run_stages
from .access import ProjectRef, resolve_project
from .context import Core, Gate
from .errors import Invalid, NotFound
from .files import find_file
from .lifecycle import node_outputs
from .model import (
    ChangeType,
    DeletedStatus,
    Env,
    File,
    FileVersion,
    Item,
    Package,
    PipelineRun,
    Principal,
    Project,
    ProjectMode,
    RunStage,
    VersionStatus,
)
from .ports import DeploymentFilter, Page, Tx

__all__ = [
    "commit_for_run",
    "delete_file",
    "deploy_file",
    "deploy_for_run",
    "execute_package",
    "get_deployment",
    "list_deployments",
    "node_outputs",
    "run_next_package",
    "submit_file",
]


def package_name(file_name: str, now_ms: int, creator_id: str) -> str:
    day = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))
    return f"{file_name}-{day}_{creator_id}"


# -- creating packages ----------------------------------------------------------------


def _new_package(
    tx: Tx,
    core: Core,
    principal: Principal,
    file: File,
    version: FileVersion,
    from_env: Env,
    to_env: Env,
    comment: str | None,
    run_id: str | None = None,
    await_stage: bool = False,
) -> int:
    now = core.clock()
    package = Package(
        id=0,
        project_id=file.project_id,
        name=package_name(file.name, now, principal.user_id),
        from_env=from_env,
        to_env=to_env,
        creator_id=principal.user_id,
        handler_id=principal.user_id,
        create_time=now,
        comment=comment or "",
        items=[Item(file.id, version.version)],
        run_id=run_id,
        await_stage=await_stage,
    )
    package_id = tx.insert_package(package)
    lifecycle.created(tx, core.gates, package_id, now)  # gates: none unless installed
    return package_id


def _commit(
    tx: Tx, core: Core, principal: Principal, file: File, change: ChangeType, comment: str | None
) -> FileVersion:
    """Snapshot the working copy as the next version (status COMMITTING)."""
    if file.node_id is None:
        file.node_id = tx.next_node_id()
    number = (file.current_version or 0) + 1
    version = FileVersion(
        file_id=file.id,
        version=number,
        change_type=change,
        status=VersionStatus.COMMITTING,
        commit_time=core.clock(),
        commit_user=principal.user_id,
        name=file.name,
        file_type=file.file_type,
        content=file.content,
        folder_path=file.folder_path,
        owner=file.owner,
        config=dict(file.config),
        node_id=file.node_id,
        use_type=file.use_type,
        comment=comment or "",
        description=file.description,
    )
    file.current_version = number
    file.commit_status = 1
    return version


def _change_type(tx: Tx, file: File) -> ChangeType:
    return ChangeType.UPDATE if tx.latest_version(file.id) is not None else ChangeType.CREATE


def _commit_and_package(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    file: File,
    change: ChangeType,
    comment: str | None,
    run_id: str | None = None,
    to_env: Env | None = None,
    await_stage: bool = False,
) -> int:
    version = _commit(tx, core, principal, file, change, comment)
    if to_env is None:
        to_env = Env.PROD if project.mode == ProjectMode.BASIC else Env.DEV
    package_id = _new_package(
        tx, core, principal, file, version, Env.LOCAL, to_env, comment, run_id, await_stage
    )
    version.package_id = package_id
    tx.insert_version(version)
    tx.update_file(file)
    return package_id


def submit_file(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    file_id: int,
    comment: str | None,
    skip_checks: bool = False,
) -> int:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id)
        if file.deleted_status != DeletedStatus.NORMAL:
            raise Invalid("Invalid.File.Deleted", f"The file {file_id} has been deleted.")
        if file.commit_status == 1:
            raise Invalid(
                "Invalid.File.NoChange",
                f"The file {file_id} has no change since version {file.current_version}; "
                "update it before submitting again.",
            )
        change = _change_type(tx, file)
        mirror = _mirror_id()
        package_id = _commit_and_package(
            tx, core, principal, project, file, change, comment, mirror
        )
        checks.open_gate(
            tx, core.clock(), principal, project, package_id, "commit-file", skip_checks
        )
        _mirror(tx, core, principal, project, package_id, mirror)
    core.on_package(package_id)
    return package_id


def _refuse_unless_deployable(tx: Tx, file: File, version: FileVersion | None) -> FileVersion:
    if version is None:
        raise Invalid(
            "Invalid.Deploy.NotCommitted",
            f"The file {file.id} has no committed version; call SubmitFile first.",
        )
    if version.status == VersionStatus.COMMITTING:
        blocker = checks.deploy_blocker(tx, version)
        if blocker is not None:
            raise blocker
        package = tx.package(version.package_id or 0)
        state = f"Status {package.status}" if package else "unknown"
        raise Invalid(
            "Invalid.Deploy.CommitNotFinished",
            f"Version {version.version} of file {file.id} is not committed yet: its package "
            f"{version.package_id} has not succeeded ({state}). Poll GetDeployment first.",
        )
    if version.status == VersionStatus.DEPLOYING:
        raise Invalid(
            "Invalid.Deploy.InProgress",
            f"Version {version.version} of file {file.id} is already being deployed.",
        )
    if version.status == VersionStatus.DEPLOYED or version.version == file.prod_version:
        what = "The deletion" if version.change_type == ChangeType.DELETE else "Version"
        raise Invalid(
            "Invalid.Deploy.NothingToDeploy",
            f"{what} {version.version} of file {file.id} is already in production; "
            "there is nothing new to deploy.",
        )
    blocker = checks.deploy_blocker(tx, version)
    if blocker is not None:
        raise blocker
    return version


def deploy_file(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    file_id: int | None,
    node_id: int | None,
    comment: str | None,
) -> int:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id, node_id)
        mirror = _mirror_id()
        if (
            project.mode == ProjectMode.BASIC
            and file.commit_status == 0
            and file.deleted_status == DeletedStatus.NORMAL
        ):
            change = _change_type(tx, file)
            package_id = _commit_and_package(
                tx, core, principal, project, file, change, comment, mirror
            )
        else:
            version = _refuse_unless_deployable(tx, file, tx.latest_version(file.id))
            lifecycle.start_deploy(tx, version)
            package_id = _new_package(
                tx, core, principal, file, version, Env.DEV, Env.PROD, comment, mirror
            )
        checks.open_gate(tx, core.clock(), principal, project, package_id, "deploy-file")
        _mirror(tx, core, principal, project, package_id, mirror)
    core.on_package(package_id)
    return package_id


def delete_file(core: Core, principal: Principal, ref: ProjectRef, file_id: int) -> int | None:
    """Delete a file: at once if it was never committed, else through a package."""
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id)
        if file.deleted_status != DeletedStatus.NORMAL:
            raise Invalid("Invalid.File.Deleted", f"The file {file_id} has already been deleted.")
        latest = tx.latest_version(file.id)
        if latest is None:
            file.deleted_status = DeletedStatus.DELETED
            file.last_edit_user, file.last_edit_time = principal.user_id, core.clock()
            tx.update_file(file)
            return None
        busy = tx.busy_version(file.id)  # any version, not only the latest (issue 14, D)
        if busy is not None:
            where = (
                f"package {busy.package_id}"
                if busy.status == VersionStatus.COMMITTING
                else "a deployment package"
            )
            raise Invalid(
                "Invalid.File.Busy",
                f"Version {busy.version} of file {file_id} is still in {where}; wait for it "
                "to finish before deleting.",
            )
        file.deleted_status = DeletedStatus.RECYCLE_BIN
        mirror = _mirror_id()
        package_id = _commit_and_package(
            tx, core, principal, project, file, ChangeType.DELETE, None, mirror
        )
        checks.open_gate(tx, core.clock(), principal, project, package_id, "delete-file")
        _mirror(tx, core, principal, project, package_id, mirror)
    core.on_package(package_id)
    return package_id


# -- pipeline runs -------------------------------------------------------------------------


def _mirror_id() -> str:
    return str(uuid.uuid4())


def _mirror_codes(package: Package, deleting: bool) -> tuple[str, ...]:
    rs = run_stages
    deploy = rs.DEV if package.to_env == Env.DEV else rs.PROD
    if package.from_env != Env.LOCAL:
        return (rs.PROD_CHECK, rs.PROD)
    if deleting:
        return (rs.OFFLINE_CHECK, deploy)
    check = rs.DEV_CHECK if package.to_env == Env.DEV else rs.PROD_CHECK
    return (rs.BUILD, check, deploy)


def _mirror(
    tx: Tx, core: Core, principal: Principal, project: Project, package_id: int, run_id: str
) -> None:
    """The run that shows a 2020 package in 2024's ListPipelineRuns (every stage triggered)."""
    package = tx.package(package_id)
    if package is None:
        raise RuntimeError(f"package {package_id} vanished inside its own transaction")
    item = package.items[0]
    version = tx.version(item.file_id, item.file_version)
    deleting = version is not None and version.change_type == ChangeType.DELETE
    own = {run_stages.BUILD, run_stages.OFFLINE_CHECK}
    stages = [
        RunStage(code, True, run_stages.SUCCESS if code in own else None)
        for code in _mirror_codes(package, deleting)
    ]
    dev = package if package.to_env == Env.DEV else None
    prod = package if package.to_env == Env.PROD else None
    derived = run_stages.derive(stages, dev, prod, cancelled=False)
    now = core.clock()
    run = PipelineRun(
        id=run_id,
        project_id=project.id,
        type="Offline" if deleting else "Online",
        object_id=item.file_id,
        object_type="Node",
        creator=principal.user_id,
        description=package.comment,
        run_mode="Normal",
        auto_until=None,
        stages=stages,
        create_time=now,
        modify_time=now,
        origin="package",
        dev_package_id=dev.id if dev else None,
        prod_package_id=prod.id if prod else None,
        status=derived.status,
        message=derived.message,
    )
    tx.pipeline().insert_run(run)


def commit_for_run(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    file: File,
    run_id: str,
    to_env: Env,
    change: ChangeType | None = None,
) -> Package:
    """Commit the working copy (or the deletion) into a package of a run, like SubmitFile
    (a deletion like DeleteFile), held for its checks and then for the run's deploy stage."""
    deleting = change == ChangeType.DELETE
    change = change or _change_type(tx, file)
    package_id = _commit_and_package(
        tx, core, principal, project, file, change, None, run_id, to_env, await_stage=True
    )
    event = "delete-file" if deleting else "commit-file"
    return _gated(tx, core, principal, project, package_id, event)


def deploy_for_run(
    tx: Tx, core: Core, principal: Principal, project: Project, file: File, run_id: str
) -> Package:
    """Package the latest committed version for production, like DeployFile; refused
    (Invalid) as DeployFile refuses it."""
    version = _refuse_unless_deployable(tx, file, tx.latest_version(file.id))
    lifecycle.start_deploy(tx, version)
    package_id = _new_package(
        tx, core, principal, file, version, Env.DEV, Env.PROD, None, run_id, True
    )
    return _gated(tx, core, principal, project, package_id, "deploy-file")


def _gated(
    tx: Tx, core: Core, principal: Principal, project: Project, package_id: int, event: str
) -> Package:
    checks.open_gate(tx, core.clock(), principal, project, package_id, event)
    package = tx.package(package_id)
    if package is None:
        raise RuntimeError(f"package {package_id} vanished inside its own transaction")
    if package.hold is None:  # nothing to check: it waits for the deploy stage at once
        lifecycle.hold_for_stage(tx, package)
    return package


# -- reading packages -------------------------------------------------------------------


def get_deployment(core: Core, principal: Principal, ref: ProjectRef, package_id: int) -> Package:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        package = tx.package(package_id)
        if package is None or package.project_id != project.id:
            raise NotFound(
                "InvalidDeployment.NotFound",
                f"The deployment package {package_id} does not exist in workspace "
                f"{project.identifier}.",
            )
        return package


def list_deployments(
    core: Core, principal: Principal, ref: ProjectRef, flt: DeploymentFilter, page: Page
) -> tuple[list[Package], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return tx.list_packages(project.id, flt, page)


# -- executing packages -----------------------------------------------------------------


def execute_package(tx: Tx, package: Package, now: int, gates: tuple[Gate, ...]) -> None:
    """Run one claimed READY package to its final status, inside the caller's transaction."""
    lifecycle.execute(tx, package, now, gates)


def run_next_package(core: Core) -> int | None:
    """Claim the oldest READY package that is not held and execute it; its id, or None.

    If executing raises (a defect, or the database going away mid-way), the transaction
    rolls back and the package is failed in a second transaction with a message saying so,
    so one bad package cannot block the queue; the exception propagates to be logged.
    """
    claimed: int | None = None
    try:
        with core.store.transaction(write=True) as tx:
            package = tx.claim_ready_package()
            if package is None:
                return None
            claimed = package.id
            execute_package(tx, package, core.clock(), core.gates)
            core.inside_execution(package.id)
            return package.id
    except Exception:
        if claimed is not None:
            _fail_after_crash(core, claimed)
        raise


def _fail_after_crash(core: Core, package_id: int) -> None:
    with core.store.transaction(write=True) as tx:
        lifecycle.fail_after_crash(tx, package_id, core.clock())
