"""The packages of pipeline runs, and the runs that mirror 2020 packages.

A 2024 run's check stage makes its package the way 2020 would (one item per file: a node,
or each node of a workflow that has something to deploy), linked to the run and flagged
``await_stage``: once checked it is held "stage" until the run's deploy stage releases it
(:mod:`openworks.core.lifecycle`)::

    commit_for_run   commit 0 → 1 / 0 → 2 (or a deletion 0 → 2), checks of event
                     commit-file (delete-file)
    deploy_for_run   latest committed versions 1 → 2, checks of event deploy-file; refused
                     (Invalid) as DeployFile refuses a version

Every package 2020's SubmitFile / DeployFile / DeleteFile create also gets a *mirror*
run (origin ``package``, every stage triggered, :func:`mirror`), so that 2024's
ListPipelineRuns shows one history:

==========================  ===========================================  ========
package                     stages                                       Type
==========================  ===========================================  ========
commit 0 → 1 (standard)     BUILD_PACKAGE, DEV_CHECK, DEV                Online
commit 0 → 2 (basic)        BUILD_PACKAGE, PROD_CHECK, PROD              Online
deploy 1 → 2                PROD_CHECK, PROD                             Online
deletion 0 → 1 / 0 → 2      OfflineCheck, DEV / OfflineCheck, PROD       Offline
deletion deployed 1 → 2     PROD_CHECK, PROD                             Offline
==========================  ===========================================  ========
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from . import lifecycle, run_stages
from .context import Core
from .model import (
    ChangeType,
    Env,
    File,
    Package,
    PipelineRun,
    Principal,
    Project,
    RunStage,
)
from .package_making import commit_and_package, deployable, new_package
from .ports import Tx

__all__ = ["commit_for_run", "deploy_for_run", "mirror", "mirror_id"]


def commit_for_run(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    files: Sequence[File],
    run_id: str,
    to_env: Env,
    change: ChangeType | None = None,
    name: str | None = None,
) -> Package:
    """Commit the working copies (or the deletion) into one package of the run, like
    SubmitFile (a deletion like DeleteFile), held for its checks, then for the stage."""
    event = "delete-file" if change == ChangeType.DELETE else "commit-file"
    package_id = commit_and_package(
        tx, core, principal, project, files, change, None, run_id, to_env, True, name,
        event=event,
    )  # fmt: skip
    return _staged(tx, package_id)


def deploy_for_run(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    files: Sequence[File],
    run_id: str,
    name: str | None = None,
) -> Package:
    """Package the latest committed versions for production, like DeployFile; refused
    (Invalid) as DeployFile refuses one of them."""
    versions = [deployable(tx, f, tx.latest_version(f.id)) for f in files]
    for version in versions:
        lifecycle.start_deploy(tx, version)
    package_id = new_package(
        tx,
        core,
        principal,
        project,
        name or files[0].name,
        versions,
        (Env.DEV, Env.PROD),
        None,
        run_id,
        True,
        event="deploy-file",
    )
    return _staged(tx, package_id)


def _staged(tx: Tx, package_id: int) -> Package:
    """The new package, held for the deploy stage unless its gates (checks) hold it."""
    package = tx.package(package_id)
    if package is None:
        raise RuntimeError(f"package {package_id} vanished inside its own transaction")
    if package.hold is None:  # nothing to check: it waits for the deploy stage at once
        lifecycle.hold_for_stage(tx, package)
    return package


# -- mirrors of 2020 packages ------------------------------------------------------------


def mirror_id() -> str:
    """A new run id (the mirror's id is chosen before its package exists)."""
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


def mirror(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    package_id: int,
    run_id: str,
    deleting: bool,
) -> None:
    """The run that shows a 2020 package in 2024's ListPipelineRuns (every stage triggered);
    ``deleting``: the package ships a deletion (an Offline run)."""
    package = tx.package(package_id)
    if package is None:
        raise RuntimeError(f"package {package_id} vanished inside its own transaction")
    item = package.items[0]
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
