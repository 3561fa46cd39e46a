"""Pipeline runs (API 2024-05-18) in ``openworks deployments list|show|wait|approve|reject``.

The commands of :mod:`openworks.cli.deployments` and :mod:`openworks.cli.deployments_view`
take a package id *or* a run id (the argument :data:`DEPLOYMENT_OR_RUN`: ASCII digits →
the package's 64-bit id, a UUID → the run) and hand runs to this module::

    show RUN   the run as JSON: GetPipelineRun's Pipeline + Type, ObjectId, RunMode,
               Packages, WaitingForApproval (+ WaitingDeploymentId, Reviewers), Items
    wait RUN   poll until Success (exit 0) · Fail / Termination / Cancel (exit 1) ·
               timeout (exit 2); stderr says once when a stage waits for approval and
               once per stage that waits to be executed (ExecPipelineRunStage)
    list --runs   ID, STATUS, STAGES (``BUILD_PACKAGE✓ DEV… PROD·``), OBJECT, CREATOR, CREATED
    approve|reject RUN   act on the run's package that waits for approval

This module imports no other command module, so both of them can import it.
"""

from __future__ import annotations

import json
import sys
import time

import click

from openworks.core.access import ProjectRef
from openworks.core.approvals import Reviewer
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.model import Page, Principal
from openworks.core.pipeline_runs import list_runs
from openworks.core.run_reads import RunDetail, find_run, parse_run_id, run_items
from openworks.core.run_stages import FINAL, INIT, SUCCESS, next_ready
from openworks.presenters.labels import RUN_STATUS
from openworks.presenters.pipeline import run_card, step_line

from .common import INT64
from .domain import run

__all__ = [
    "DEPLOYMENT_OR_RUN",
    "RUN_STATUSES",
    "deployment_or_run",
    "print_runs",
    "show_run",
    "wait_run",
    "waiting_in_run",
    "who",
]

RUN_STATUSES = tuple(RUN_STATUS)  # Init Running Success Fail Termination Cancel


def deployment_or_run(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    """A deployment package id (a signed 64-bit integer of ASCII digits, read as INT64
    reads it) or a pipeline run id (a UUID, 8-4-4-4-12 hex digits); the callback of a
    text argument (click's ParamType is generic in some releases and not in others)."""
    run_id = parse_run_id(value)
    if run_id is not None:
        return run_id
    try:
        return INT64.convert(value, param, ctx)
    except click.BadParameter as err:
        raise click.BadParameter(
            f"{err.message}, or a pipeline run ID (a UUID)", ctx, param
        ) from None


DEPLOYMENT_OR_RUN = click.argument("deployment_id", callback=deployment_or_run)


def who(team: list[Reviewer]) -> str:
    """``root (root user), alice (owner), bob (admin/deploy)``."""
    return ", ".join(
        f"{r.name} (root user)"
        if r.is_root
        else f"{r.name} ({'/'.join(role.removeprefix('role_project_') for role in r.roles)})"
        for r in team
    )


def _approval_note(detail: RunDetail) -> str:
    waiting = detail.waiting
    stage = ", ".join(sorted(detail.held))
    run_id = detail.run.id
    return (
        f"pipeline run {run_id}: stage {stage} (deployment {waiting.id if waiting else '?'}) "
        "is waiting for approval by the root user or a workspace owner, administrator or "
        f"deployer: {who(detail.reviewers)}. Decide with `openworks deployments approve "
        f"{run_id} [--user NAME]` or `... reject {run_id} --reason TEXT`."
    )


def _find(core: Core, principal: Principal, run_id: str, ref: ProjectRef | None) -> RunDetail:
    return run(lambda: find_run(core, principal, run_id, ref))


def show_run(core: Core, principal: Principal, run_id: str, ref: ProjectRef | None) -> None:
    detail = _find(core, principal, run_id, ref)
    items = run(lambda: run_items(core, principal, detail))
    click.echo(json.dumps(run_card(detail, items), indent=2))
    if detail.held:
        click.echo(_approval_note(detail), err=True)


def _exec_note(detail: RunDetail) -> str | None:
    """Which stage waits for ExecPipelineRunStage, if the run waits for nothing else."""
    derived = detail.view.derived
    if any(s.status not in (INIT, SUCCESS) for s in derived.stages):
        return None  # a stage is running: the run moves by itself
    ready = next_ready(derived)
    if ready is None:
        return None
    return (
        f"pipeline run {detail.run.id}: stage {ready.code} waits to be executed "
        f"(ExecPipelineRunStage Code={ready.code})."
    )


def wait_run(
    core: Core,
    principal: Principal,
    run_id: str,
    ref: ProjectRef | None,
    timeout: float,
    interval: float,
) -> None:
    """Poll until the run is final; exit 0 Success, 1 otherwise, 2 on timeout."""
    deadline = time.monotonic() + timeout
    told: set[str] = set()
    while True:
        detail = _find(core, principal, run_id, ref)
        status = detail.view.derived.status
        if status in FINAL:
            break
        note = _approval_note(detail) if detail.held else _exec_note(detail)
        if note is not None and note not in told:  # each note once
            click.echo(note, err=True)
            told.add(note)
        if time.monotonic() >= deadline:
            state = "waiting for approval" if detail.held else status
            click.echo(f"pipeline run {run_id}: still {state} after {timeout:g} s", err=True)
            sys.exit(2)
        time.sleep(max(0.05, min(interval, deadline - time.monotonic())))
    message = detail.view.derived.message
    click.echo(f"pipeline run {run_id}: {status}{f': {message}' if message else ''}")
    if status != SUCCESS:
        sys.exit(1)


def waiting_in_run(core: Core, principal: Principal, run_id: str) -> int:
    """The id of the run's package that waits for approval, else a clear 400."""
    detail = find_run(core, principal, run_id)
    waiting = detail.waiting
    if waiting is None:
        derived = detail.view.derived
        stages = ", ".join(f"{s.code} {s.status}" for s in derived.stages)
        raise Invalid(
            "Invalid.Deploy.NotAwaitingApproval",
            f"No package of pipeline run {run_id} is waiting for approval (Status "
            f"{derived.status}; stages {stages}).",
        )
    return waiting.id


def print_runs(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    creator: str | None,
    object_id: str | None,
    status: str | None,
    page: Page,
    as_json: bool,
) -> None:
    """``deployments list --runs``: a table or ListPipelineRuns' documents."""
    views, total = run(lambda: list_runs(core, principal, ref, creator, object_id, status, page))
    details = [_find(core, principal, v.run.id, ref) for v in views]
    if as_json:
        documents = [run_card(d) for d in details]
        click.echo(json.dumps({"TotalCount": total, "PipelineRuns": documents}, indent=2))
        return
    lines = [step_line(d) for d in details]
    width = max([len("STAGES"), *map(len, lines)])
    click.echo(
        f"{'ID':<36}  {'STATUS':<11}  {'STAGES':<{width}}  {'OBJECT':<12}  {'CREATOR':<18}  "
        "CREATED (UTC)"
    )
    for detail, line in zip(details, lines, strict=True):
        r = detail.run
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.create_time / 1000))
        click.echo(
            f"{r.id:<36}  {detail.view.derived.status:<11}  {line:<{width}}  "
            f"{r.object_id:<12}  {r.creator:<18}  {created}"
        )
    click.echo(f"{len(details)} of {total} (page {page.number})")
    held = [d for d in details if d.held]
    if held:
        click.echo(
            f"waiting for approval: {', '.join(d.run.id for d in held)}; may approve or "
            f"reject: {who(held[0].reviewers)} (`openworks deployments approve RUN_ID "
            "[--user NAME]`)"
        )
