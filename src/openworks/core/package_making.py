"""Making packages: the shared steps of every call that creates a deployment package.

::

    commit(file)                 working copy ─▶ next FileVersion (COMMITTING), file
                                 CommitStatus 1; not stored yet
    commit_and_package(files)    commit each file, then ONE package of all the versions
                                 (LOCAL 0 → DEV 1 in a standard workspace, → PROD 2 in a
                                 basic one, or the given target), versions and files stored
    new_package(versions)        READY package of existing versions, one item per version
                                 (a deploy: their status already moved by the caller)
        then, for either         the installed gates hear of it, checks first
                                 (:func:`openworks.core.lifecycle.created`, with the
                                 :class:`~openworks.core.context.Creation`: who, where,
                                 which extension event) and may hold it
    deployable(file, version)    the version DeployFile may package, or Invalid saying why

2020's SubmitFile / DeployFile / DeleteFile (:mod:`openworks.core.packages`) make one-item
packages; pipeline runs (:mod:`openworks.core.run_packages`) one item per node of a
workflow. Nothing here opens a transaction or decides a package's later state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from operator import attrgetter

from . import checks, lifecycle
from .context import Core, Creation
from .errors import Invalid
from .model import (
    ChangeType,
    Env,
    File,
    FileVersion,
    Item,
    Package,
    Principal,
    Project,
    ProjectMode,
    VersionStatus,
)
from .ports import Tx

__all__ = [
    "change_type",
    "commit_and_package",
    "deployable",
    "new_package",
    "package_name",
]


def package_name(name: str, now_ms: int, creator_id: str) -> str:
    day = time.strftime("%Y-%m-%d", time.gmtime(now_ms / 1000))
    return f"{name}-{day}_{creator_id}"


def _insert_package(
    tx: Tx,
    core: Core,
    principal: Principal,
    project_id: int,
    name: str,
    versions: Sequence[FileVersion],
    envs: tuple[Env, Env],
    comment: str | None,
    run_id: str | None,
    await_stage: bool,
) -> Package:
    """Insert a READY package of ``versions`` (one item each) moving ``envs`` (from, to);
    the package as stored, its id set."""
    now = core.clock()
    package = Package(
        id=0,
        project_id=project_id,
        name=package_name(name, now, principal.user_id),
        from_env=envs[0],
        to_env=envs[1],
        creator_id=principal.user_id,
        handler_id=principal.user_id,
        create_time=now,
        comment=comment or "",
        items=[Item(v.file_id, v.version) for v in versions],
        run_id=run_id,
        await_stage=await_stage,
    )
    tx.insert_package(package)
    return package


def _created(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    package: Package,
    event: str,
    skip_checks: bool,
    versions: Sequence[FileVersion],
) -> None:
    """The installed gates hear of the package, now that its versions are stored (and get
    it as a read would give it, items in file id order: none reads it back)."""
    stored = replace(package, items=sorted(package.items, key=attrgetter("file_id")))
    now = core.clock()
    creation = Creation(stored, now, principal, project, event, skip_checks, tuple(versions))
    lifecycle.created(tx, core.lifecycle_gates, creation)


def new_package(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    name: str,
    versions: Sequence[FileVersion],
    envs: tuple[Env, Env],
    comment: str | None,
    run_id: str | None = None,
    await_stage: bool = False,
    *,
    event: str,
) -> int:
    """A READY package of stored ``versions`` moving ``envs`` (from, to), which the gates
    hear of as a package of extension event ``event``."""
    package = _insert_package(
        tx, core, principal, project.id, name, versions, envs, comment, run_id, await_stage
    )
    _created(tx, core, principal, project, package, event, False, versions)
    return package.id


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


def change_type(tx: Tx, file: File) -> ChangeType:
    """CREATE for a file never committed (or whose commits were all cancelled), else
    UPDATE. A file without CurrentVersion has no version at all (only :func:`_commit` sets
    it, in the transaction that stores the version): nothing to read."""
    if file.current_version is None:
        return ChangeType.CREATE
    return ChangeType.UPDATE if tx.latest_version(file.id) is not None else ChangeType.CREATE


def commit_and_package(
    tx: Tx,
    core: Core,
    principal: Principal,
    project: Project,
    files: Sequence[File],
    change: ChangeType | None,
    comment: str | None,
    run_id: str | None = None,
    to_env: Env | None = None,
    await_stage: bool = False,
    name: str | None = None,
    *,
    event: str,
    skip_checks: bool = False,
) -> int:
    """Commit each file (``change``, or CREATE/UPDATE as fits each) into one package, which
    the gates hear of (as a package of extension ``event``) once the versions are stored."""
    versions = [
        _commit(tx, core, principal, f, change or change_type(tx, f), comment) for f in files
    ]
    if to_env is None:
        to_env = Env.PROD if project.mode == ProjectMode.BASIC else Env.DEV
    package = _insert_package(
        tx,
        core,
        principal,
        project.id,
        name or files[0].name,
        versions,
        (Env.LOCAL, to_env),
        comment,
        run_id,
        await_stage,
    )
    for file, version in zip(files, versions, strict=True):
        version.package_id = package.id
        tx.insert_version(version)
        tx.update_file(file)
    _created(tx, core, principal, project, package, event, skip_checks, versions)
    return package.id


def deployable(tx: Tx, file: File, version: FileVersion | None) -> FileVersion:
    """``version`` if DeployFile may package it for production, else Invalid saying why."""
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
