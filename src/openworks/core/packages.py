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
and then for approval: making it (:mod:`openworks.core.package_making`) hands it to the
installed gates with its extension event (commit-file, deploy-file, delete-file; SubmitFile's
SkipAllDeployFileExtensions), the checks' gate first; see :mod:`openworks.core.checks` and
:mod:`openworks.core.approvals`.

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

Every package these calls create also gets a *mirror* pipeline run
(:func:`openworks.core.run_packages.mirror`), so that 2024's ListPipelineRuns shows one
history. The shared steps of making a package live in :mod:`openworks.core.package_making`.
"""

from __future__ import annotations

from . import lifecycle
from .access import ProjectRef, admit_project, resolve_project
from .context import Core, Gate
from .errors import Invalid, NotFound
from .files import find_file
from .lifecycle import node_outputs
from .model import ChangeType, DeletedStatus, Env, Package, Principal, ProjectMode, VersionStatus
from .package_making import commit_and_package, deployable, new_package
from .ports import DeploymentFilter, Page, Tx
from .run_packages import mirror, mirror_id

__all__ = [
    "delete_file",
    "deploy_file",
    "execute_package",
    "get_deployment",
    "list_deployments",
    "node_outputs",
    "run_next",
    "run_next_package",
    "submit_file",
]


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
        run_id = mirror_id()
        package_id = commit_and_package(
            tx, core, principal, project, [file], None, comment, run_id,
            event="commit-file", skip_checks=skip_checks,
        )  # fmt: skip
        mirror(tx, core, principal, project, package_id, run_id, deleting=False)
    core.on_package(package_id)
    return package_id


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
        run_id = mirror_id()
        if (
            project.mode == ProjectMode.BASIC
            and file.commit_status == 0
            and file.deleted_status == DeletedStatus.NORMAL
        ):
            package_id = commit_and_package(
                tx, core, principal, project, [file], None, comment, run_id, event="deploy-file"
            )
            deleting = False
        else:
            version = deployable(tx, file, tx.latest_version(file.id))
            lifecycle.start_deploy(tx, version)
            package_id = new_package(
                tx, core, principal, project, file.name, [version], (Env.DEV, Env.PROD),
                comment, run_id, event="deploy-file",
            )  # fmt: skip
            deleting = version.change_type == ChangeType.DELETE
        mirror(tx, core, principal, project, package_id, run_id, deleting)
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
        run_id = mirror_id()
        package_id = commit_and_package(
            tx, core, principal, project, [file], ChangeType.DELETE, None, run_id,
            event="delete-file",
        )  # fmt: skip
        mirror(tx, core, principal, project, package_id, run_id, deleting=True)
    core.on_package(package_id)
    return package_id


# -- reading packages -------------------------------------------------------------------


def get_deployment(core: Core, principal: Principal, ref: ProjectRef, package_id: int) -> Package:
    with core.store.transaction() as tx:
        package: Package | None
        if ref.id is not None:  # the workspace and the package in one read
            found, package = tx.project_with_package(ref.id, package_id)
            project = admit_project(tx, principal, ref, found)
        else:
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
    """Claim the oldest READY package that is not held and execute it; its id, or None."""
    ran = run_next(core)
    return None if ran is None else ran[0]


def run_next(core: Core) -> tuple[int, bool] | None:
    """Claim the oldest READY package that is not held and execute it: its id and whether
    another package was claimable when it was claimed (else None: nothing was).

    If executing raises (a defect, or the database going away mid-way), the transaction
    rolls back and the package is failed in a second transaction with a message saying so,
    so one bad package cannot block the queue; the exception propagates to be logged.
    """
    claimed: int | None = None
    try:
        with core.store.transaction(write=True) as tx:
            claim = tx.claim_ready_package()
            if claim is None:
                return None
            package = claim.package
            claimed = package.id
            execute_package(tx, package, core.clock(), core.lifecycle_gates)
            core.inside_execution(package.id)
            return package.id, claim.more
    except Exception:
        if claimed is not None:
            _fail_after_crash(core, claimed)
        raise


def _fail_after_crash(core: Core, package_id: int) -> None:
    with core.store.transaction(write=True) as tx:
        lifecycle.fail_after_crash(tx, package_id, core.clock(), core.lifecycle_gates)
