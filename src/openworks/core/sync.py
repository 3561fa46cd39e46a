"""``openworks sync``, part 2: making a workspace match a folder and shipping the result.

::

    plan (core.sync_plan) ─▶ write working copies: create / update files (one transaction
         │                   each, through core.files)
         ▼
    submit every uncommitted node, parents first ─▶ delete removed nodes, children first
         │ (packages to DEV; a basic workspace goes straight to PROD)
         ▼ --deploy or --wait
    wait for those packages ── any failed or blocked ─▶ stop: report
         ▼ --deploy
    deploy every node whose production version is behind, parents first, then the
    deletions, children first ─▶ (--wait) wait for the deploy packages ─▶ report

Packages are executed by the worker of ``openworks serve`` on the same database, or, with
``pump`` (``--local-worker``), by this process while it waits. All domain rules apply
unchanged: checks and approvals hold packages; a package that fails or is blocked makes the
sync report it and stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import files as _files
from . import packages as _packages
from .access import ProjectRef, resolve_project
from .context import Core
from .errors import DomainError
from .folder_paths import parse_path
from .model import DeletedStatus, File, Package, PackageStatus, Principal, Project, ProjectMode
from .ports import FileFilter, Page
from .sync_plan import Change, NodeSpec, Plan, make_plan, read_folder

__all__ = ["Outcome", "SyncReport", "managed_files", "plan_sync", "ship"]

Notify = Callable[[str, str], None]  # (action, node name) before each step


@dataclass(frozen=True, slots=True)
class Outcome:
    action: str  # submit | delete | deploy
    name: str
    package_id: int | None
    status: int | None = None  # final package Status, None if not waited for
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status is not None and self.status != PackageStatus.SUCCESS


@dataclass
class SyncReport:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.timed_out


def managed_files(
    core: Core, principal: Principal, ref: ProjectRef, folder: str
) -> tuple[Project, dict[str, File]]:
    """The workspace and its live files directly under the sync folder path, by name."""
    path = parse_path(folder).text
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
    found: dict[str, File] = {}
    number = 1
    while True:
        page, total = _files.list_files(
            core, principal, ref, FileFilter(folder_path=path), Page(number, 100)
        )
        found.update({f.name: f for f in page if f.folder_path == path})
        if number * 100 >= total or not page:
            return project, found
        number += 1


def plan_sync(
    core: Core, principal: Principal, ref: ProjectRef, directory: Path, folder: str
) -> tuple[Project, Plan]:
    project, files = managed_files(core, principal, ref, folder)
    return project, make_plan(project, read_folder(directory), files)


def _changes(project: Project, spec: NodeSpec, folder: str) -> dict[str, object]:
    return {
        "FileName": spec.name,
        "Content": spec.content,
        "CronExpress": spec.cron,
        "InputList": ",".join(spec.inputs(project)),
        "FileDescription": spec.description,
        "FileFolderPath": folder,
        "CreateFolderIfNotExists": True,
    }


def _write(
    core: Core, principal: Principal, ref: ProjectRef, project: Project, plan: Plan, folder: str
) -> None:
    for change in plan.of("create", "update"):
        assert change.spec is not None
        values = _changes(project, change.spec, folder)
        if change.kind == "create":
            _files.create_file(core, principal, ref, change.spec.file_type, values)
        else:
            assert change.file is not None
            if not change.spec.description:
                values["FileDescription"] = None  # an empty value would not clear it
            _files.update_file(core, principal, ref, change.file.id, values)


def _wait(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    package_ids: list[int],
    timeout: float,
    pump: Callable[[], object] | None,
) -> tuple[dict[int, Package], list[int]]:
    """Poll until every package left Status 0; (finished packages, IDs still running)."""
    deadline = time.monotonic() + timeout
    done: dict[int, Package] = {}
    while True:
        if pump is not None:
            pump()
        for package_id in package_ids:
            if package_id not in done:
                package = _packages.get_deployment(core, principal, ref, package_id)
                if package.status != PackageStatus.READY:
                    done[package_id] = package
        left = [p for p in package_ids if p not in done]
        if not left or time.monotonic() > deadline:
            return done, left
        time.sleep(0.1)


def _finish(
    report: SyncReport, started: list[Outcome], done: dict[int, Package], left: list[int]
) -> None:
    for outcome in started:
        package = done.get(outcome.package_id or 0)
        if package is None:
            report.outcomes.append(outcome)
            continue
        message = package.error_message or ""
        if package.checking_status == 7 and package.status == PackageStatus.SUCCESS:
            message = "committed, but its pre-deployment checks failed"
        report.outcomes.append(
            Outcome(outcome.action, outcome.name, outcome.package_id, package.status, message)
        )
    report.timed_out.extend(left)


def ship(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    directory: Path,
    folder: str,
    *,
    deploy: bool,
    wait: bool,
    timeout: float = 600.0,
    pump: Callable[[], object] | None = None,
    notify: Notify | None = None,
) -> SyncReport:
    """Apply the folder to the workspace, submit, and optionally deploy and wait."""
    say = notify or (lambda _action, _name: None)
    project, plan = plan_sync(core, principal, ref, directory, folder)
    report = SyncReport(plan)
    _write(core, principal, ref, project, plan, folder)
    project, files = managed_files(core, principal, ref, folder)
    wanted = [c for c in plan.changes if c.kind != "delete"]
    started: list[Outcome] = []
    for change in wanted:
        file = files[change.name]
        if file.commit_status == 0:
            say("submit", change.name)
            package_id = _packages.submit_file(core, principal, ref, file.id, "openworks sync")
            started.append(Outcome("submit", change.name, package_id))
    for change in plan.of("delete"):
        assert change.file is not None
        say("delete", change.name)
        deleted = _packages.delete_file(core, principal, ref, change.file.id)
        if deleted is not None:
            started.append(Outcome("delete", change.name, deleted))
    if not (deploy or wait):
        report.outcomes.extend(started)
        return report
    done, left = _wait(core, principal, ref, [o.package_id or 0 for o in started], timeout, pump)
    _finish(report, started, done, left)
    if not report.ok or not deploy or project.mode == ProjectMode.BASIC:
        return report
    deploys = _deploy(core, principal, ref, plan, wanted, folder, say, report)
    if wait:
        ids = [o.package_id or 0 for o in deploys]
        done, left = _wait(core, principal, ref, ids, timeout, pump)
        _finish(report, deploys, done, left)
    else:
        report.outcomes.extend(deploys)
    return report


def _deploy(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    plan: Plan,
    wanted: list[Change],
    folder: str,
    say: Notify,
    report: SyncReport,
) -> list[Outcome]:
    _project, files = managed_files(core, principal, ref, folder)
    targets: list[tuple[str, int]] = []
    for change in wanted:
        file = files[change.name]
        if file.prod_version != file.current_version:
            targets.append((change.name, file.id))
    for change in plan.of("delete"):
        assert change.file is not None
        if change.file.deleted_status == DeletedStatus.NORMAL and change.file.current_version:
            targets.append((change.name, change.file.id))
    deploys: list[Outcome] = []
    for name, file_id in targets:
        say("deploy", name)
        try:
            package_id = _packages.deploy_file(
                core, principal, ref, file_id, None, "openworks sync"
            )
        except DomainError as err:  # e.g. a failed check forbids deploying the version
            report.outcomes.append(Outcome("deploy", name, None, PackageStatus.FAILED, err.message))
            continue
        deploys.append(Outcome("deploy", name, package_id))
    return deploys
