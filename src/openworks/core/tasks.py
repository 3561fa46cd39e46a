"""2024 scheduler tasks: the nodes deployment made, per environment (2020 GetNode's rows).

A task IS a 2020 node (:mod:`openworks.core.nodes`): Task ``Id`` = NodeId = 2024
``GetNode.TaskId``. A task is in Dev once its file was committed to DEV (SubmitFile, a
run's DEV stage) and in Prod once deployed; it carries the schedule and dependencies of
the version deployed there, not the file's working copy::

    GetTask(Id, ProjectEnv=Prod) ──▶ node row + its deployed version + upstream tasks
    ListTasks(ProjectId, ProjectEnv=Prod, filters, SortBy="Id Desc") ──▶ node rows

Upstream dependencies: one per (input, producing task) in the same environment — a task
depends on the tasks whose outputs are among its inputs; an input no task produces (the
workspace root, a table made elsewhere) is listed with no ``UpstreamTaskId``. A task of a
workspace the caller cannot see answers exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .access import ProjectRef, resolve_project, visible_project
from .context import Core
from .errors import Invalid, NotFound
from .flowspec_fields import command_of
from .model import Env, File, FileVersion, Node, Principal, Project
from .nodes import OFFLINE
from .ports import Page, Tx

__all__ = [
    "SORT_FIELDS",
    "TaskFilter",
    "TaskView",
    "get_task",
    "list_tasks",
    "parse_env",
    "parse_sort",
    "recurrence",
    "trigger_type",
]

_ENVS = {"dev": Env.DEV, "prod": Env.PROD}
_RECURRENCES = ("Normal", "Pause", "Skip")
_TRIGGERS = ("Scheduler", "Manual")
SORT_FIELDS = ("Id", "ModifyTime", "CreateTime")


@dataclass(frozen=True, slots=True)
class TaskView:
    """A deployed node with what the task documents show from its file and version."""

    node: Node
    env: Env
    file: File | None
    version: FileVersion | None
    upstream: list[tuple[str, int | None]] = field(default_factory=list)

    @property
    def create_time(self) -> int:
        return self.file.create_time if self.file is not None else self.node.modify_time


@dataclass(frozen=True, slots=True)
class TaskFilter:
    ids: frozenset[int] | None = None
    name: str | None = None
    owner: str | None = None
    runtime_resource: str | None = None
    task_type: str | None = None
    trigger_recurrence: str | None = None
    trigger_type: str | None = None
    workflow_id: int | None = None


def parse_env(text: str | None) -> Env:
    """ProjectEnv: Prod (the default) or Dev, in any letter case."""
    if text is None or not text.strip():
        return Env.PROD
    env = _ENVS.get(text.strip().lower())
    if env is None:
        raise Invalid("Invalid.Param", f"ProjectEnv must be Prod or Dev, not {text!r}.")
    return env


def parse_sort(text: str | None) -> tuple[str, bool]:
    """SortBy ``"<Id|ModifyTime|CreateTime> [Asc|Desc]"`` → (field, descending); default Id Desc."""
    if text is None or not text.strip():
        return "Id", True
    parts = text.split()
    fields = {f.lower(): f for f in SORT_FIELDS}
    name = fields.get(parts[0].lower())
    order = parts[1].lower() if len(parts) == 2 else "asc" if len(parts) == 1 else ""
    if name is None or order not in ("asc", "desc"):
        raise Invalid(
            "Invalid.Param",
            f"SortBy must be Id, ModifyTime or CreateTime, optionally followed by Asc or Desc, "
            f"not {text!r}.",
        )
    return name, order == "desc"


def _choice(value: str | None, allowed: tuple[str, ...], label: str) -> str | None:
    if value is None or not value.strip():
        return None
    found = {a.lower(): a for a in allowed}.get(value.strip().lower())
    if found is None:
        raise Invalid("Invalid.Param", f"{label} must be {' or '.join(allowed)}, not {value!r}.")
    return found


def recurrence(node: Node) -> str:
    """Trigger.Recurrence: Pause when taken offline or paused, Skip for a dry run."""
    scheduler = str(node.config.get("SchedulerType") or "NORMAL")
    if scheduler == "SKIP":
        return "Skip"
    if node.status == OFFLINE or scheduler == "PAUSE" or node.config.get("Stop"):
        return "Pause"
    return "Normal"


def trigger_type(node: Node) -> str:
    return "Manual" if node.config.get("SchedulerType") == "MANUAL" else "Scheduler"


def _missing(task_id: int, env: Env) -> NotFound:
    where = "production" if env is Env.PROD else "development"
    return NotFound("InvalidTask.NotFound", f"The task {task_id} does not exist in {where}.")


def _view(tx: Tx, node: Node, env: Env) -> TaskView:
    return TaskView(node, env, tx.file(node.file_id), tx.version(node.file_id, node.file_version))


def _upstream(tx: Tx, project: Project, node: Node, env: Env) -> list[tuple[str, int | None]]:
    found: list[tuple[str, int | None]] = []
    for wanted in node.inputs:
        producers = [p for p in tx.producers(project.id, env, wanted) if p != node.node_id]
        found.extend((wanted, p) for p in sorted(set(producers)))
        if not producers:
            found.append((wanted, None))
    return found


def get_task(core: Core, principal: Principal, task_id: int, env: Env) -> tuple[Project, TaskView]:
    with core.store.transaction() as tx:
        node = tx.node(env, task_id)
        project = visible_project(tx, principal, node.project_id if node else None)
        if node is None or project is None:
            raise _missing(task_id, env)
        view = _view(tx, node, env)
        upstream = _upstream(tx, project, node, env)
        return project, TaskView(view.node, env, view.file, view.version, upstream)


def _matcher(flt: TaskFilter) -> Callable[[TaskView], bool]:
    recur = _choice(flt.trigger_recurrence, _RECURRENCES, "TriggerRecurrence")
    trigger = _choice(flt.trigger_type, _TRIGGERS, "TriggerType")

    def matches(view: TaskView) -> bool:
        n, f = view.node, view.file
        return (
            (flt.ids is None or n.node_id in flt.ids)
            and (not flt.name or flt.name.lower() in n.name.lower())
            and (not flt.owner or flt.owner == n.owner)
            and (
                not flt.runtime_resource
                or str(n.config.get("ResourceGroupId") or "") == flt.runtime_resource
                or str(n.config.get("ResourceGroupIdentifier") or "") == flt.runtime_resource
            )
            and (not flt.task_type or flt.task_type.upper() == command_of(n.file_type))
            and (trigger is None or trigger_type(n) == trigger)
            and (recur is None or recurrence(n) == recur)
            and (flt.workflow_id is None or (f is not None and f.business_id == flt.workflow_id))
        )

    return matches


def _sort_key(name: str) -> Callable[[TaskView], tuple[int, int]]:
    if name == "ModifyTime":
        return lambda v: (v.node.modify_time, v.node.node_id)
    if name == "CreateTime":
        return lambda v: (v.create_time, v.node.node_id)
    return lambda v: (v.node.node_id, 0)


def list_tasks(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    env: Env,
    flt: TaskFilter,
    sort_by: str | None,
    page: Page,
) -> tuple[Project, list[TaskView], int]:
    """The workspace's tasks in ``env`` that pass the filter, sorted, one page."""
    matches = _matcher(flt)
    name, descending = parse_sort(sort_by)
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        views = [_view(tx, n, env) for n in tx.list_nodes(project.id, env)]
    chosen = sorted((v for v in views if matches(v)), key=_sort_key(name), reverse=descending)
    return project, chosen[page.offset : page.offset + page.size], len(chosen)
