"""2024-05-18 scheduler task operations (group ``scheduler_task``): what deployment made.

A task IS a 2020 node (:mod:`openworks.core.tasks`), its ``Id`` the NodeId::

    GetTask(Id, ProjectEnv = Prod | Dev) ─▶ Task{…, Trigger, Dependencies, Script, …}
    ListTasks(ProjectId, ProjectEnv, Ids, Name, Owner, TaskType, TriggerType,
              TriggerRecurrence, RuntimeResource, WorkflowId, SortBy, paging)
        ─▶ PagingInfo{Tasks[…], PageNumber, PageSize, TotalCount}

GetTask names no workspace: the task's is checked inside the core call.
"""

from __future__ import annotations

from typing import Any

from openworks.core import tasks
from openworks.core.tasks import TaskFilter
from openworks.presenters.task import task, task_summary

from ..registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []

V2024 = "2024-05-18"
_MAX_PAGE = 100


@handles("GetTask", version=V2024)
def get_task(call: Call, p: Params) -> dict[str, Any]:
    env = tasks.parse_env(p.get("ProjectEnv"))
    project, view = tasks.get_task(call.core, call.principal, p["Id"], env)
    return {"Task": task(project, view)}


@handles("ListTasks", version=V2024)
def list_tasks(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p, max_size=_MAX_PAGE)
    env = tasks.parse_env(p.get("ProjectEnv"))
    ids = p.get("Ids")
    flt = TaskFilter(
        ids=frozenset(ids) if ids else None,
        name=p.get("Name"),
        owner=p.get("Owner"),
        runtime_resource=p.get("RuntimeResource"),
        task_type=p.get("TaskType"),
        trigger_recurrence=p.get("TriggerRecurrence"),
        trigger_type=p.get("TriggerType"),
        workflow_id=p.get("WorkflowId"),
    )
    project, found, total = tasks.list_tasks(
        call.core, call.principal, project_ref(p), env, flt, p.get("SortBy"), page
    )
    items = [task_summary(project, v) for v in found]
    return {"PagingInfo": paged("Tasks", items, page, total)}
