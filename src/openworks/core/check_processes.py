"""Reading check processes: the event snapshot an extension inspects, and the process list.

A *process* is one check event (one package item, one MessageId)::

    CHECKING  some check has not answered and the gate is still open
    BLOCKED   some check answered FAIL (or timed out)
    PASSED    every check answered OK or WARN
"""

from __future__ import annotations

from dataclasses import dataclass

from .access import ProjectRef, resolve_project
from .check_ports import CheckEvent, CheckRun, ProcessFilter, RunStatus
from .context import Core
from .errors import Invalid, NotFound
from .model import File, FileVersion, Principal, Project
from .ports import Page

__all__ = ["EventSnapshot", "event_detail", "list_processes", "process_status"]

STATUSES = ("CHECKING", "PASSED", "BLOCKED")


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    event: CheckEvent
    project: Project
    file: File
    version: FileVersion


def process_status(event: CheckEvent, runs: list[CheckRun]) -> str:
    if any(r.status == RunStatus.FAIL for r in runs):
        return "BLOCKED"
    if any(r.status == RunStatus.CHECKING for r in runs):
        return "CHECKING"
    return "PASSED"


def event_detail(
    core: Core, principal: Principal, ref: ProjectRef, message_id: str
) -> EventSnapshot:
    """The file as it was committed when the event fired (versions never change)."""
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        event = tx.checks().event_by_message(message_id)
        if event is None or event.project_id != project.id:
            raise NotFound(
                "InvalidMessage.NotFound",
                f"No extension event has MessageId {message_id} in workspace {project.identifier}.",
            )
        file = tx.file(event.file_id)
        version = tx.version(event.file_id, event.file_version)
        if file is None or version is None:
            raise NotFound("InvalidFile.NotFound", f"The file {event.file_id} no longer exists.")
        return EventSnapshot(event, project, file, version)


def list_processes(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    flt: ProcessFilter,
    status: str | None,
    page: Page,
) -> tuple[list[tuple[CheckEvent, str]], int]:
    if status is not None and status not in STATUSES:
        raise Invalid("Invalid.Param", f"Status must be one of {', '.join(STATUSES)}.")
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        found = [
            (event, process_status(event, runs))
            for event, runs in tx.checks().list_events(project.id, flt)
        ]
    if status is not None:
        found = [f for f in found if f[1] == status]
    return found[page.offset : page.offset + page.size], len(found)
