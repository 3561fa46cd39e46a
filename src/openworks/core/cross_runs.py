"""Cross-workspace pipeline runs (API 2024-05-18): promote a source workspace's deployed
objects into another workspace of the account and deploy them there.

::

    Create  (source ProjectId, DeploymentEnvironmentId, Type Online, ObjectIds [one id])
            admin of both ─▶ Building: resolve the items (core/cross_objects.py) and check
            the target ─▶ Ready (or Fail with the reason the target cannot take them)
    Exec    Ready ─▶ Running: copy + first package (core/cross_exec.py) ─▶ Success | Fail
            as the target's packages settle
    Abolish Ready ─▶ Termination (a Running run is the target's packages: it finishes)
    Get / List / ListItems   read in the source workspace; ListCandidates: the source's
            deployed objects and whether the target already has a copy (ChangeType)

Only one non-final run per environment and object. Type Offline is refused (taking
objects offline across workspaces is not served). Bad input answers 4xx and writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .access import ProjectRef, resolve_project
from .context import Core
from .cross_envs import find_environment, pair, refuse_unless_admin
from .cross_exec import start
from .cross_model import (
    BUILDING,
    FAIL,
    READY,
    TERMINATION,
    CrossItem,
    CrossRun,
    Environment,
    RunFilter,
)
from .cross_objects import (
    CREATE,
    FILE,
    UPDATE,
    WORKFLOW,
    WORKFLOW_KIND,
    deployed_files,
    object_type,
    resolve_items,
    target_problem,
)
from .errors import Invalid, NotFound
from .model import Page, Principal, Project
from .ports import Tx

__all__ = [
    "Candidate",
    "CandidateFilter",
    "abolish_run",
    "create_run",
    "exec_run",
    "get_run",
    "list_candidates",
    "list_environments",
    "list_items",
    "list_runs",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    object_id: int
    object_type: str
    name: str
    version: int | None
    change_type: str
    commit_time: int
    commit_user: str


def _both(
    tx: Tx, principal: Principal, ref: ProjectRef, env_id: int, what: str
) -> tuple[Project, Environment, Project]:
    source = resolve_project(tx, principal, ref)
    env = find_environment(tx, source, env_id)
    target = pair(tx, principal, source, env)
    for project in (source, target):
        refuse_unless_admin(tx, principal, project, what)
    return source, env, target


def _find(tx: Tx, project: Project, run_id: str, lock: bool = False) -> CrossRun:
    store = tx.cross()
    run = store.lock_run(run_id) if lock else store.run(run_id)
    if run is None or run.project_id != project.id:
        raise NotFound(
            "InvalidPipelineRun.NotFound",
            f"The cross-workspace pipeline run {run_id} does not exist in workspace "
            f"{project.identifier}.",
        )
    return run


def create_run(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    env_id: int,
    type_: str,
    object_ids: list[str],
    description: str | None,
) -> str:
    if type_ != "Online":
        raise Invalid(
            "Invalid.Param",
            f"Type must be Online (promote deployed objects), not {type_!r}; taking objects "
            "offline across workspaces is not served.",
        )
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        source, env, target = _both(tx, principal, ref, env_id, "A cross-workspace run")
        items = resolve_items(tx, source, object_ids)
        root = items[0]
        for busy in tx.cross().active_runs(env.id):
            if busy.object_id == root.object_id:
                raise Invalid(
                    "Invalid.PipelineRun.ObjectBusy",
                    f"{root.object_type} {root.object_id} already has an active cross-workspace "
                    f"run {busy.id} (Status {busy.status}) in environment {env.id}.",
                )
        run = CrossRun(
            id=str(uuid.uuid4()),
            environment_id=env.id,
            project_id=source.id,
            target_project_id=target.id,
            type=type_,
            object_id=root.object_id,
            object_type=root.object_type,
            object_name=root.name,
            object_version=str(root.version) if root.version is not None else "",
            change_type="",
            status=BUILDING,
            creator=principal.user_id,
            create_time=now,
            modify_time=now,
            description=description or "",
            items=items,
        )
        problem = target_problem(tx, env, target, items)
        run.change_type = root.change_type
        if problem is None:
            run.status = READY
        else:
            run.status, run.finish_time = FAIL, now
            run.error_code, run.error_message = "Invalid.Target.Conflict", problem
        tx.cross().insert_run(run)
        return run.id


def exec_run(core: Core, principal: Principal, ref: ProjectRef, run_id: str) -> None:
    package_id = None
    with core.store.transaction(write=True) as tx:
        source = resolve_project(tx, principal, ref)
        run = _find(tx, source, run_id, lock=True)
        _, env, target = _both(tx, principal, ref, run.environment_id, "Executing the run")
        if run.status != READY:
            raise Invalid(
                "Invalid.PipelineRun.NotReady",
                f"The cross-workspace run {run.id} is {run.status}; only a Ready run can be "
                "executed.",
            )
        problem = target_problem(tx, env, target, run.items)  # the target may have moved
        if problem is not None:
            raise Invalid("Invalid.Target.Conflict", problem)
        run.status, run.executor = "Running", principal.user_id
        run.execute_time = run.modify_time = core.clock()
        package_id = start(tx, core, principal, source, target, env, run)
        tx.cross().update_run(run)
    core.on_package(package_id)


def abolish_run(
    core: Core, principal: Principal, ref: ProjectRef, run_id: str, reason: str | None
) -> None:
    with core.store.transaction(write=True) as tx:
        source = resolve_project(tx, principal, ref)
        run = _find(tx, source, run_id, lock=True)
        if run.status != READY:
            raise Invalid(
                "Invalid.PipelineRun.AlreadyStarted",
                f"The cross-workspace run {run.id} is {run.status}; only a Ready run (not "
                "yet executed) can be abolished.",
            )
        now = core.clock()
        run.status, run.abolisher = TERMINATION, principal.user_id
        run.abolish_time = run.finish_time = run.modify_time = now
        run.error_message = reason or ""
        for item in run.items:
            item.status = TERMINATION
        tx.cross().update_run(run)


def get_run(core: Core, principal: Principal, ref: ProjectRef, run_id: str) -> CrossRun:
    with core.store.transaction() as tx:
        return _find(tx, resolve_project(tx, principal, ref), run_id)


def list_runs(
    core: Core, principal: Principal, ref: ProjectRef, flt: RunFilter, page: Page
) -> tuple[list[CrossRun], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return tx.cross().list_runs(project.id, flt, page)


def list_items(
    core: Core, principal: Principal, ref: ProjectRef, run_id: str, page: Page
) -> tuple[list[CrossItem], int]:
    with core.store.transaction() as tx:
        run = _find(tx, resolve_project(tx, principal, ref), run_id)
        return run.items[page.offset : page.offset + page.size], len(run.items)


def list_environments(
    core: Core, principal: Principal, ref: ProjectRef
) -> tuple[list[tuple[Environment, Project | None]], Project]:
    with core.store.transaction() as tx:
        source = resolve_project(tx, principal, ref)
        envs = tx.cross().environments(principal.account_id, source.id)
        return [(e, tx.project(e.target_project_id)) for e in envs], source


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    object_id: str | None = None
    object_type: str | None = None
    keyword: str | None = None
    commit_user: str | None = None
    commit_from: int | None = None
    commit_to: int | None = None
    change_type: str | None = None


def list_candidates(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    env_id: int,
    flt: CandidateFilter,
    page: Page,
) -> tuple[list[Candidate], int]:
    """The source's deployed files and workflows (with a deployed file), newest commit
    first; ChangeType Update when the environment already holds a copy."""
    with core.store.transaction() as tx:
        source = resolve_project(tx, principal, ref)
        env = find_environment(tx, source, env_id)
        store = tx.cross()
        found: list[Candidate] = []
        flows: dict[int, Candidate] = {}
        for file, version in deployed_files(tx, source):
            change = UPDATE if store.mapped(env.id, FILE, file.id) is not None else CREATE
            kind, when, who = object_type(file.file_type), version.commit_time, version.commit_user
            found.append(Candidate(file.id, kind, version.name, version.version, change, when, who))
            business = tx.business(file.business_id) if file.business_id else None
            if business is None:
                continue
            latest = flows.get(business.id)
            if latest is None or latest.commit_time < version.commit_time:
                mapped = store.mapped(env.id, WORKFLOW_KIND, business.id) is not None
                change = UPDATE if mapped else CREATE
                flows[business.id] = Candidate(
                    business.id, WORKFLOW, business.name, None, change, when, who
                )
        chosen = [c for c in [*found, *flows.values()] if _matches(c, flt)]
        chosen.sort(key=lambda c: (-c.commit_time, -c.object_id))
        return chosen[page.offset : page.offset + page.size], len(chosen)


def _matches(c: Candidate, flt: CandidateFilter) -> bool:
    return (
        (flt.object_id is None or str(c.object_id) == flt.object_id.strip())
        and (flt.object_type is None or c.object_type.lower() == flt.object_type.lower())
        and (not flt.keyword or flt.keyword.lower() in c.name.lower())
        and (flt.commit_user is None or c.commit_user == flt.commit_user)
        and (flt.commit_from is None or c.commit_time >= flt.commit_from)
        and (flt.commit_to is None or c.commit_time <= flt.commit_to)
        and (flt.change_type is None or c.change_type.lower() == flt.change_type.lower())
    )
