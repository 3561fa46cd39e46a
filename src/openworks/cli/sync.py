"""``openworks sync DIR --workspace ID [--deploy] [--wait] [--dry-run]``: ship a folder.

The folder format and the steps are described in :mod:`openworks.core.sync_plan` and
:mod:`openworks.core.sync`. Output: the plan, one progress line per step (a bar that
redraws in place on a terminal), then a summary. Exit status 0 when everything asked for
succeeded, 1 when a package failed, was blocked or did not finish in time (or on a domain
error), 2 for bad usage. A sync that changes something (not ``--dry-run``) is recorded in
``openworks audit`` (source ``cli``): the plan's counts, the packages and how they ended.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openworks.core.packages import run_next_package
from openworks.core.sync import SyncReport, plan_sync, ship
from openworks.core.sync_plan import DEFAULT_FOLDER, Plan
from openworks.presenters.labels import PACKAGE_PROGRESS

from . import main
from .common import DATABASE_URL, Seconds
from .deployments_view import find_deployment, waiting_note
from .domain import Session, domain_errors, open_session, project_ref, run

__all__ = ["sync"]


def _print_plan(plan: Plan, diffs: bool) -> None:
    counts = {k: len(plan.of(k)) for k in ("create", "update", "delete", "unchanged")}
    click.echo(
        f"plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged"
    )
    for change in plan.changes:
        if change.kind == "unchanged":
            continue
        click.echo(f"  {change.kind:<7} {change.name}")
        if diffs:
            for line in change.diff:
                click.echo("    " + line.rstrip("\n"))


class _Progress:
    """``[####······] 3/6 deploy orders_daily``; redrawn in place on a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.tty = sys.stderr.isatty()

    def __call__(self, action: str, name: str) -> None:
        self.done += 1
        width = 20
        self.total = max(self.total, self.done)
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        line = f"[{bar}] {self.done}/{self.total} {action} {name}"
        if self.tty:
            click.echo("\r\x1b[2K" + line, nl=False, err=True)
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.tty and self.done:
            click.echo("", err=True)


def _summary(report: SyncReport) -> None:
    for outcome in report.outcomes:
        state = "started" if outcome.status is None else PACKAGE_PROGRESS.get(outcome.status, "?")
        package = f"package {outcome.package_id}" if outcome.package_id else "no package"
        detail = f": {outcome.message}" if outcome.message else ""
        click.echo(f"  {outcome.action:<6} {outcome.name:<30} {package:<16} {state}{detail}")
    for package_id in report.timed_out:
        click.echo(f"  package {package_id} did not finish in time (still Status 0)")
    if report.ok:
        click.echo("sync: done")
        return
    click.echo(
        f"sync: FAILED - {len(report.failures)} package(s) failed or were blocked, "
        f"{len(report.timed_out)} did not finish",
        err=True,
    )


def _approval_notes(session: Session, report: SyncReport) -> None:
    """Say which unfinished packages wait for a reviewer, and who may approve them."""
    unfinished = report.timed_out + [
        o.package_id for o in report.outcomes if o.status is None and o.package_id
    ]
    core, principal = session.core, session.principal
    for package_id in dict.fromkeys(unfinished):
        with domain_errors():
            _package, _project, team = find_deployment(core, principal, package_id, None)
        if team:
            click.echo(waiting_note(package_id, team), err=True)


def _result(report: SyncReport) -> dict[str, object]:
    """The audit row's account of a sync: each package and how it ended."""
    return {
        "Ok": report.ok,
        "Packages": [
            {
                "Action": o.action,
                "Name": o.name,
                "DeploymentId": o.package_id,
                "Status": o.status,
                "Message": o.message,
            }
            for o in report.outcomes
        ],
        "TimedOut": report.timed_out,
    }


@main.command()
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR"
)
@click.option("--workspace", "workspace_id", required=True, help="Workspace ID or identifier.")
@click.option(
    "--folder",
    default=DEFAULT_FOLDER,
    show_default=True,
    help="DataStudio folder whose files the sync manages (created if missing).",
)
@click.option("--deploy", is_flag=True, help="Deploy to production after the commits succeed.")
@click.option("--wait", is_flag=True, help="Wait for every package to finish.")
@click.option("--dry-run", is_flag=True, help="Print the plan with diffs; change nothing.")
@click.option(
    "--timeout",
    default=600.0,
    type=Seconds(),
    show_default=True,
    help="Seconds to wait for the packages.",
)
@click.option(
    "--local-worker",
    is_flag=True,
    help="Execute ready packages in this process while waiting (no server running).",
)
@click.option("--user", default=None, help="Act as this user (default: the root user).")
@DATABASE_URL
def sync(
    directory: Path,
    workspace_id: str,
    folder: str,
    deploy: bool,
    wait: bool,
    dry_run: bool,
    timeout: float,
    local_worker: bool,
    user: str | None,
    database_url: str | None,
) -> None:
    """Make the workspace's files match DIR (one .sql file per node) and ship them."""
    session = open_session(database_url, user)
    core, principal = session.core, session.principal
    ref = project_ref(workspace_id)
    project, plan = run(lambda: plan_sync(core, principal, ref, directory, folder))
    _print_plan(plan, diffs=dry_run)
    if dry_run:
        return

    def pump() -> None:
        while run_next_package(core) is not None:
            pass

    writes = len(plan.of("create", "update", "delete"))
    progress = _Progress(writes * (2 if deploy else 1))
    params = {
        "Directory": str(directory.resolve()),
        "Folder": folder,
        "Deploy": deploy,
        "Wait": wait,
        "Plan": {k: len(plan.of(k)) for k in ("create", "update", "delete", "unchanged")},
    }

    def shipped() -> SyncReport:
        with session.audited("sync", params, ref) as change:
            change.workspace(project.id, project.identifier)
            report = ship(
                core,
                principal,
                ref,
                directory,
                folder,
                deploy=deploy,
                wait=wait,
                timeout=timeout,
                pump=pump if local_worker else None,
                notify=progress,
            )
            change.result.update(_result(report))
            return report

    try:
        report = run(shipped)
    finally:
        progress.close()
    _summary(report)
    _approval_notes(session, report)
    if not report.ok:
        sys.exit(1)
