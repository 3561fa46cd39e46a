"""The nouns of checks and extensions, and what the domain needs from storage for them.

``Tx.checks()`` hands out a :class:`CheckStore` bound to the same transaction, so a check
result, the package it gates and the package's versions always change together.

::

    Extension ──binds──▶ events (commit-file, deploy-file, delete-file)
    CheckEvent (one per package item, MessageId) ──▶ CheckRun (one per check)
    CheckRun (extension) ──▶ Delivery (the signed webhook, retried until delivered)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from .model import Page

__all__ = [
    "CheckEvent",
    "CheckRun",
    "CheckStore",
    "Delivery",
    "Extension",
    "ProcessFilter",
    "RunStatus",
]


class RunStatus(StrEnum):
    CHECKING = "CHECKING"
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(slots=True)
class Extension:
    account_id: str
    code: str
    name: str
    events: list[str]
    url: str
    secret: str
    owner: str
    create_time: int
    description: str = ""
    status: int = 1
    project_ids: list[int] = field(default_factory=list)  # empty: every workspace


@dataclass(slots=True)
class CheckEvent:
    id: int
    message_id: str
    package_id: int
    project_id: int
    account_id: str
    event_code: str
    file_id: int
    file_version: int
    operator: str
    process_name: str
    create_time: int
    deadline: int
    open: bool = True


@dataclass(slots=True)
class CheckRun:
    id: int
    event_id: int
    package_id: int
    kind: str  # "builtin" or "extension"
    name: str  # the built-in check's name or the extension code
    checker_instance_id: str
    status: str = RunStatus.CHECKING
    spec: str = ""
    message: str = ""
    finish_time: int | None = None


@dataclass(slots=True)
class Delivery:
    id: int
    run_id: int
    account_id: str
    extension_code: str
    body: str
    state: str = "PENDING"  # PENDING, DELIVERED, ABANDONED
    attempts: int = 0
    next_attempt: int = 0
    last_error: str = ""
    create_time: int = 0


@dataclass(frozen=True, slots=True)
class ProcessFilter:
    event_code: str
    message_id: str | None = None
    operator: str | None = None


class CheckStore(Protocol):
    # workspace settings ------------------------------------------------------------
    def settings(self, project_id: int) -> dict[str, str]: ...
    def set_setting(self, project_id: int, key: str, value: str | None) -> None: ...

    # extensions --------------------------------------------------------------------
    def extension(self, account_id: str, code: str) -> Extension | None: ...
    def insert_extension(self, extension: Extension) -> None: ...
    def delete_extension(self, account_id: str, code: str) -> bool: ...
    def list_extensions(self, account_id: str, page: Page) -> tuple[list[Extension], int]: ...
    def extensions_for(
        self, account_id: str, project_id: int, event_code: str
    ) -> list[Extension]: ...

    # events and runs ---------------------------------------------------------------
    def insert_event(self, event: CheckEvent) -> int: ...
    def event_by_message(self, message_id: str) -> CheckEvent | None: ...
    def events_for_package(self, package_id: int) -> list[CheckEvent]: ...
    def close_events(self, package_id: int) -> None: ...
    def open_package_ids(self) -> list[int]: ...
    def insert_run(self, run: CheckRun) -> int: ...
    def finish_run(self, run: CheckRun) -> bool:
        """Store the run's verdict if it is still CHECKING (compare-and-set); whether it was."""
        ...

    def run(self, run_id: int) -> CheckRun | None: ...
    def run_by_instance(self, checker_instance_id: str) -> CheckRun | None: ...
    def runs_for_event(self, event_id: int) -> list[CheckRun]: ...
    def runs_for_package(self, package_id: int) -> list[CheckRun]: ...
    def pending_builtin_runs(self, limit: int) -> list[CheckRun]: ...
    def work_due(self, now: int) -> bool:
        """Whether the check loop has anything to do: an open gate, a pending built-in
        run or a delivery due by ``now`` (one cheap read, asked before the real ones)."""
        ...

    def list_events(
        self, project_id: int, flt: ProcessFilter
    ) -> list[tuple[CheckEvent, list[CheckRun]]]: ...

    # webhook outbox ----------------------------------------------------------------
    def insert_delivery(self, delivery: Delivery) -> int: ...
    def due_deliveries(self, now: int, limit: int) -> list[Delivery]: ...
    def update_delivery(self, delivery: Delivery) -> None: ...

    # people ------------------------------------------------------------------------
    def user_id_by_name(self, account_id: str, name: str) -> str | None: ...
