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
transaction: a package never half-applies.
"""

from __future__ import annotations

import time

from . import checks, control  # control: test control (issue 9)
from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .files import find_file, split_names
from .model import (
    ChangeType,
    DeletedStatus,
    Env,
    File,
    FileVersion,
    Item,
    ItemStatus,
    Node,
    Package,
    PackageStatus,
    Principal,
    Project,
    ProjectMode,
    VersionStatus,
)
from .ports import DeploymentFilter, Page, Tx

__all__ = [
    "delete_file",
    "deploy_file",
    "execute_package",
    "get_deployment",
    "list_deployments",
    "node_outputs",
    "run_next_package",
    "submit_file",
]

_ENV_NAMES = {Env.LOCAL: "local", Env.DEV: "development", Env.PROD: "production"}


def package_name(file_name: str, now_ms: int, creator_id: str) -> str:
    day = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))
    return f"{file_name}-{day}_{creator_id}"


def node_outputs(project: Project, name: str, config: dict[str, object]) -> list[str]:
    """The automatic output ``<workspace>.<node>`` followed by the declared OutputList."""
    auto = f"{project.identifier}.{name}"
    declared = split_names(str(config.get("OutputList") or ""))
    return [auto, *(o for o in declared if o != auto)]


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
    )
    package_id = tx.insert_package(package)
    control.on_created(tx, package_id, now)  # test control (issue 9): execution mode
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
) -> int:
    version = _commit(tx, core, principal, file, change, comment)
    to_env = Env.PROD if project.mode == ProjectMode.BASIC else Env.DEV
    package_id = _new_package(tx, core, principal, file, version, Env.LOCAL, to_env, comment)
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
        package_id = _commit_and_package(tx, core, principal, project, file, change, comment)
        checks.open_gate(
            tx, core.clock(), principal, project, package_id, "commit-file", skip_checks
        )
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
        if (
            project.mode == ProjectMode.BASIC
            and file.commit_status == 0
            and file.deleted_status == DeletedStatus.NORMAL
        ):
            change = _change_type(tx, file)
            package_id = _commit_and_package(tx, core, principal, project, file, change, comment)
        else:
            version = _refuse_unless_deployable(tx, file, tx.latest_version(file.id))
            version.status = VersionStatus.DEPLOYING
            tx.update_version(version)
            package_id = _new_package(
                tx, core, principal, file, version, Env.DEV, Env.PROD, comment
            )
        checks.open_gate(tx, core.clock(), principal, project, package_id, "deploy-file")
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
        if latest.status in (VersionStatus.COMMITTING, VersionStatus.DEPLOYING):
            raise Invalid(
                "Invalid.File.Busy",
                f"Version {latest.version} of file {file_id} is still in package "
                f"{latest.package_id}; wait for it to finish before deleting.",
            )
        file.deleted_status = DeletedStatus.RECYCLE_BIN
        package_id = _commit_and_package(
            tx, core, principal, project, file, ChangeType.DELETE, None
        )
        checks.open_gate(tx, core.clock(), principal, project, package_id, "delete-file")
    core.on_package(package_id)
    return package_id


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


def _problem(
    tx: Tx,
    project: Project,
    version: FileVersion,
    env: Env,
    produced_here: set[str],
    removed_nodes: set[int],
) -> str | None:
    """Why this item cannot go into ``env``, or None."""
    where = _ENV_NAMES[env]
    if version.change_type == ChangeType.DELETE:
        current = tx.node(env, version.node_id)
        if current is None:
            return None
        children = [
            n
            for n in tx.consumers(project.id, env, current.outputs)
            if n.node_id != version.node_id and n.node_id not in removed_nodes
        ]
        if children:
            names = ", ".join(sorted(f"{c.name} ({c.node_id})" for c in children))
            return (
                f"Node {version.name} ({version.node_id}) still has children in the {where} "
                f"environment: {names}."
            )
        return None
    for wanted in split_names(str(version.config.get("InputList") or "")):
        if wanted == project.root_output or wanted in produced_here:
            continue
        producers = [p for p in tx.producers(project.id, env, wanted) if p != version.node_id]
        if not [p for p in producers if p not in removed_nodes]:
            return (
                f"The output name {wanted} of the dependent ancestor node of {version.name} does "
                f"not exist in the {where} environment: no node there produces it."
            )
    return None


def _apply(tx: Tx, project: Project, version: FileVersion, env: Env, now: int) -> None:
    if version.change_type == ChangeType.DELETE:
        tx.delete_node(env, version.node_id)
        return
    tx.upsert_node(
        Node(
            node_id=version.node_id,
            env=env,
            project_id=project.id,
            file_id=version.file_id,
            file_version=version.version,
            name=version.name,
            file_type=version.file_type,
            owner=version.owner,
            content=version.content,
            config=dict(version.config),
            inputs=split_names(str(version.config.get("InputList") or "")),
            outputs=node_outputs(project, version.name, version.config),
            modify_time=now,
        )
    )


def _settle_version(tx: Tx, package: Package, version: FileVersion, ok: bool) -> None:
    """Move the version (and its file) to where the package outcome leaves them."""
    file = tx.file(version.file_id)
    committing = package.from_env == Env.LOCAL
    if ok:
        version.status = (
            VersionStatus.DEPLOYED if package.to_env == Env.PROD else VersionStatus.COMMITTED
        )
        if file is not None and package.to_env == Env.PROD:
            deleted = version.change_type == ChangeType.DELETE
            file.prod_version = None if deleted else version.version
            tx.update_file(file)
    elif committing:
        version.status = VersionStatus.CANCELLED
        if file is not None:
            file.commit_status = 0
            if version.change_type == ChangeType.DELETE:
                file.deleted_status = DeletedStatus.NORMAL
            tx.update_file(file)
    else:
        version.status = VersionStatus.COMMITTED
    tx.update_version(version)


def execute_package(tx: Tx, package: Package, now: int) -> None:
    """Run one READY package to its final status, inside the caller's transaction."""
    if control.fail_if_forced(tx, package, now):  # test control (issue 9): forced failure
        return
    project = tx.project(package.project_id)
    env = Env(package.to_env)
    versions: list[FileVersion] = []
    for item in package.items:
        version = tx.version(item.file_id, item.file_version)
        if version is None or project is None:
            raise RuntimeError(f"package {package.id} refers to a missing file version")
        versions.append(version)
    assert project is not None
    produced: set[str] = set()
    removed: set[int] = set()
    for version in versions:
        if version.change_type == ChangeType.DELETE:
            removed.add(version.node_id)
        else:
            produced.update(node_outputs(project, version.name, version.config))
    failure: tuple[Item, str] | None = None
    for item, version in zip(package.items, versions, strict=True):
        own = produced - set(node_outputs(project, version.name, version.config))
        reason = _problem(tx, project, version, env, own, removed - {version.node_id})
        if reason is not None:
            failure = (item, reason)
            break
    if failure is None:
        for item, version in zip(package.items, versions, strict=True):
            _apply(tx, project, version, env, now)
            item.status = ItemStatus.SUCCESS
        package.status = PackageStatus.SUCCESS
    else:
        bad, reason = failure
        bad.status = ItemStatus.ERROR if package.from_env == Env.LOCAL else ItemStatus.DEPLOY_ERROR
        package.status = PackageStatus.FAILED
        package.error_message = reason
    for version in versions:
        _settle_version(tx, package, version, failure is None)
    package.execute_time = now
    tx.update_package(package)


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
            execute_package(tx, package, core.clock())
            core.inside_execution(package.id)
            return package.id
    except Exception:
        if claimed is not None:
            _fail_after_crash(core, claimed)
        raise


def _fail_after_crash(core: Core, package_id: int) -> None:
    with core.store.transaction(write=True) as tx:
        package = tx.package(package_id)
        if package is None or package.status != PackageStatus.READY:
            return
        for item in package.items:
            item.status = (
                ItemStatus.ERROR if package.from_env == Env.LOCAL else ItemStatus.DEPLOY_ERROR
            )
            version = tx.version(item.file_id, item.file_version)
            if version is not None:
                _settle_version(tx, package, version, ok=False)
        package.status = PackageStatus.FAILED
        package.error_message = "Internal error while executing the package; see the server log."
        package.execute_time = core.clock()
        tx.update_package(package)
