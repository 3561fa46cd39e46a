"""Nouns of cross-workspace deployment (API 2024-05-18) and their storage port.

::

    Environment  id ─ source workspace ──▶ target workspace   (one per pair; an admin of
                 both configures it: ``openworks environments add``)
    mapping      (environment, kind "file" | "workflow", source id) ─▶ target id
                 (a rerun updates the copies these name instead of making new ones)
    CrossRun     a run of one environment: its root object, the items it resolved
                 (root first, then its children), its status and the target packages

Statuses of a run: ``Building`` (inside Create's transaction only) ─▶ ``Ready`` ─ Exec ─▶
``Running`` ─▶ ``Success`` | ``Fail``; ``Ready`` ─ Abolish ─▶ ``Termination``; a Create
whose target cannot take the objects stores the run as ``Fail`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .model import Page

__all__ = [
    "BUILDING",
    "FAIL",
    "FINAL",
    "READY",
    "RUNNING",
    "SUCCESS",
    "TERMINATION",
    "CrossItem",
    "CrossRun",
    "CrossStore",
    "Environment",
    "RunFilter",
]

BUILDING, READY, RUNNING, TERMINATION, SUCCESS, FAIL = (
    "Building",
    "Ready",
    "Running",
    "Termination",
    "Success",
    "Fail",
)
FINAL = frozenset({TERMINATION, SUCCESS, FAIL})


@dataclass(slots=True)
class Environment:
    id: int
    account_id: str
    name: str
    source_project_id: int
    target_project_id: int
    creator: str
    create_time: int
    status: str = "Enabled"


@dataclass(slots=True)
class CrossItem:
    """An object a run copies: ``object_id`` is the source's id, ``version`` the source's
    deployed version (None for a workflow, which is no file), ``target_id`` the copy's id
    in the target (once known)."""

    object_id: int
    object_type: str  # Node | Resource | Function | WorkflowDefinition
    name: str
    version: int | None
    change_type: str  # Create | Update
    is_root: bool
    parent_id: int | None
    target_id: int | None = None
    status: str = "Init"
    error_code: str = ""
    error_message: str = ""


@dataclass(slots=True)
class CrossRun:
    id: str
    environment_id: int
    project_id: int  # the source workspace
    target_project_id: int
    type: str  # Online
    object_id: int
    object_type: str
    object_name: str
    object_version: str
    change_type: str
    status: str
    creator: str
    create_time: int
    modify_time: int
    description: str = ""
    error_code: str = ""
    error_message: str = ""
    executor: str = ""
    execute_time: int | None = None
    finish_time: int | None = None
    abolisher: str = ""
    abolish_time: int | None = None
    dev_package_id: int | None = None
    prod_package_id: int | None = None
    items: list[CrossItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunFilter:
    environment_id: int | None = None
    creator: str | None = None
    executor: str | None = None
    object_id: int | None = None
    object_type: str | None = None
    status: str | None = None
    create_from: int | None = None
    create_to: int | None = None


class CrossStore(Protocol):
    """Storage of environments, mappings and cross runs (``Tx.cross()``)."""

    def insert_environment(self, env: Environment) -> int: ...
    def environment(self, env_id: int) -> Environment | None: ...
    def environment_by_pair(self, source_id: int, target_id: int) -> Environment | None: ...
    def environments(self, account_id: str, source_id: int | None) -> list[Environment]:
        """The account's environments (those of one source workspace), by id."""
        ...

    def delete_environment(self, env_id: int) -> None:
        """The environment, its mappings and its runs."""
        ...

    def mapped(self, env_id: int, kind: str, source_id: int) -> int | None: ...
    def set_mapped(self, env_id: int, kind: str, source_id: int, target_id: int) -> None: ...
    def insert_run(self, run: CrossRun) -> None: ...
    def run(self, run_id: str) -> CrossRun | None: ...
    def lock_run(self, run_id: str) -> CrossRun | None:
        """The run, its row locked until the transaction ends (PostgreSQL)."""
        ...

    def update_run(self, run: CrossRun) -> None: ...
    def list_runs(self, project_id: int, flt: RunFilter, page: Page) -> tuple[list[CrossRun], int]:
        """Newest first."""
        ...

    def active_runs(self, env_id: int) -> list[CrossRun]:
        """The environment's runs not yet final."""
        ...
