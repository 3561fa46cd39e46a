"""Executing a cross run: copy the deployed versions into the target, then deploy them
there through the ordinary package lifecycle.

::

    Exec (one transaction)   each file item: the source's DEPLOYED version ─▶ the target's
                             working copy (a new file, or the copy the mapping names,
                             updated); the workflow ─▶ the target's workflow of that name
                             (made if missing); mappings recorded; resource bytes granted
                             to the target
                             ─▶ ONE package of all copies, as SubmitFile would
                                (LOCAL ─▶ DEV in a standard target, ─▶ PROD in a basic
                                one; checks of event commit-file in the target)
    CrossGate.settled        the commit package succeeded, standard target:
                             ─▶ ONE package DEV ─▶ PROD of the committed copies, as
                                DeployFile would (checks of event deploy-file; approval if
                                the target requires it)
                             the production package succeeded ─▶ run Success
                             a package failed or was rejected ─▶ run Fail (its message)

Packages carry ``run_id`` = the cross run's id (no pipeline run has it, so pipeline runs'
gate ignores them). Lists of names are rewritten on the way: an ``InputList`` /
``OutputList`` entry ``<source identifier>.x`` becomes ``<target identifier>.x``.
"""

from __future__ import annotations

from typing import Any

from . import lifecycle
from .context import Core, Creation
from .cross_model import FAIL, RUNNING, SUCCESS, CrossRun, Environment
from .cross_objects import FILE, WORKFLOW, WORKFLOW_KIND
from .errors import Invalid
from .files import add_file, change_file, split_names
from .folders import insert_business
from .model import Env, File, Package, PackageStatus, Principal, Project
from .package_making import commit_and_package, deployable, new_package
from .ports import Tx
from .resources import resource_of

__all__ = ["CrossGate", "finish", "install", "rewrite_names", "start"]

_LISTS = ("InputList", "OutputList")


def rewrite_names(config: dict[str, Any], source: Project, target: Project) -> dict[str, Any]:
    prefix = f"{source.identifier}."
    for key in _LISTS:
        names = split_names(str(config.get(key) or ""))
        if any(n.startswith(prefix) for n in names):
            renamed = [f"{target.identifier}.{n[len(prefix) :]}" if n.startswith(prefix) else n
                       for n in names]  # fmt: skip
            config[key] = ",".join(renamed)
    return config


def _copy(
    tx: Tx, principal: Principal, source: Project, target: Project, run: CrossRun, now: int
) -> list[File]:
    copies: list[File] = []
    for item in run.items:
        if item.object_type == WORKFLOW:
            continue
        version = tx.version(item.object_id, item.version or 0)
        if version is None:
            raise Invalid(
                "Invalid.CrossProjectPipelineRun.VersionGone",
                f"Version {item.version} of {item.name} ({item.object_id}) no longer exists.",
            )
        config = rewrite_names(dict(version.config), source, target)
        changes = {
            "FileName": version.name,
            "Content": version.content,
            "FileDescription": version.description,
            "FileFolderPath": version.folder_path or None,
            "CreateFolderIfNotExists": True,
        }
        copy = tx.file(item.target_id) if item.target_id is not None else None
        if copy is None:
            copy = add_file(tx, target, principal, version.file_type, changes, now, config)
        else:
            copy.config = {**copy.config, **config}
            change_file(tx, target, principal, copy, changes, now)
        if copy.use_type != version.use_type:
            copy.use_type = version.use_type
            tx.update_file(copy)
        record = resource_of(config)
        if record is not None:
            tx.grant_blob(target.id, str(record["digest"]), int(record.get("size") or 0), now)
        tx.cross().set_mapped(run.environment_id, FILE, item.object_id, copy.id)
        item.target_id = copy.id
        copies.append(copy)
    return copies


def _place_workflows(
    tx: Tx, principal: Principal, target: Project, run: CrossRun, copies: list[File], now: int
) -> None:
    by_source = {i.object_id: c for i, c in zip(_file_items(run), copies, strict=True)}
    for item in run.items:
        if item.object_type != WORKFLOW:
            continue
        children = [i for i in run.items if i.parent_id == item.object_id]
        placed = [by_source[i.object_id].business_id for i in children if i.object_id in by_source]
        business_id = next((b for b in placed if b), None)
        if business_id is None:
            existing = tx.business_by_name(target.id, item.name)
            business_id = existing.id if existing else None
        if business_id is None:
            business_id = insert_business(tx, target, principal, item.name, "", "NORMAL", now)
        tx.cross().set_mapped(run.environment_id, WORKFLOW_KIND, item.object_id, business_id)
        item.target_id = business_id


def _file_items(run: CrossRun) -> list[Any]:
    return [i for i in run.items if i.object_type != WORKFLOW]


def start(
    tx: Tx,
    core: Core,
    principal: Principal,
    source: Project,
    target: Project,
    env: Environment,
    run: CrossRun,
) -> int:
    """Copy the run's items into ``target`` and make its first package; the package id."""
    now = core.clock()
    copies = _copy(tx, principal, source, target, run, now)
    _place_workflows(tx, principal, target, run, copies, now)
    comment = f"cross-workspace run {run.id} from {source.identifier} (environment {env.id})"
    package_id = commit_and_package(
        tx, core, principal, target, copies, None, comment, run.id, None, False,
        run.object_name, event="commit-file",
    )  # fmt: skip
    package = tx.package(package_id)
    if package is not None and package.to_env == Env.PROD:
        run.prod_package_id = package_id
    else:
        run.dev_package_id = package_id
    for item in run.items:
        item.status = RUNNING
    return package_id


def finish(run: CrossRun, status: str, code: str, message: str, now: int) -> None:
    run.status, run.error_code, run.error_message = status, code, message
    run.finish_time = run.modify_time = now
    for item in run.items:
        item.status = status
        if status == FAIL:
            item.error_code, item.error_message = code, message


def _deploy(tx: Tx, core: Core, principal: Principal, target: Project, run: CrossRun) -> int:
    """The DEV ─▶ PROD package of the copies' committed versions, as DeployFile makes."""
    files = [tx.file(i.target_id or 0) for i in _file_items(run)]
    versions = [deployable(tx, f, tx.latest_version(f.id)) for f in files if f is not None]
    for version in versions:
        lifecycle.start_deploy(tx, version)
    comment = f"cross-workspace run {run.id}: deploy"
    return new_package(
        tx, core, principal, target, run.object_name, versions, (Env.DEV, Env.PROD),
        comment, run.id, False, event="deploy-file",
    )  # fmt: skip


class CrossGate:
    """Cross runs as a lifecycle observer: they hear their target packages settle."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def created(self, tx: Tx, creation: Creation) -> None:
        return None

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        return None

    def settled(self, tx: Tx, package: Package) -> None:
        if package.run_id is None or package.status == PackageStatus.READY:
            return
        run = tx.cross().lock_run(package.run_id)
        if run is None or run.status != RUNNING:
            return
        target = tx.project(run.target_project_id)
        now = self._core.clock()
        if target is None:
            finish(run, FAIL, "Invalid.Target", "The target workspace no longer exists.", now)
        elif package.status != PackageStatus.SUCCESS:
            message = package.error_message or f"Package {package.id} did not succeed."
            finish(run, FAIL, "Deployment.Failed", f"Package {package.id}: {message}", now)
        elif package.to_env == Env.DEV and run.prod_package_id is None:
            principal = Principal(target.account_id, run.executor)
            try:
                run.prod_package_id = _deploy(tx, self._core, principal, target, run)
                run.modify_time = now
                # the worker running this package claims the new one once this ends
                self._core.on_package(run.prod_package_id)
            except Invalid as refused:
                finish(run, FAIL, refused.code, refused.message, now)
        else:
            finish(run, SUCCESS, "", "", now)
        tx.cross().update_run(run)


def install(core: Core) -> Core:
    """Make ``core``'s lifecycle tell cross runs when their packages settle (once)."""
    if not any(isinstance(g, CrossGate) for g in core.observers):
        core.observers = (*core.observers, CrossGate(core))
    return core
