"""The domain's nouns: plain dataclasses, no behaviour beyond small derived values.

Environments (``Env``) run left to right::

    LOCAL (0, the DataStudio working copy) ──▶ DEV (1) ──▶ PROD (2)

A *standard* workspace has DEV and PROD; a *basic* one only PROD, so a commit there goes
straight from LOCAL to PROD. Times are integers of milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

__all__ = [
    "ROOT_OUTPUT_SUFFIX",
    "ChangeType",
    "CheckingStatus",
    "DeletedStatus",
    "Env",
    "File",
    "FileVersion",
    "Item",
    "ItemStatus",
    "Node",
    "Package",
    "PackageStatus",
    "Page",
    "PipelineRun",
    "Principal",
    "Project",
    "ProjectMode",
    "RunStage",
    "VersionStatus",
]

ROOT_OUTPUT_SUFFIX = "_root"


class Env(IntEnum):
    LOCAL = 0
    DEV = 1
    PROD = 2


class ProjectMode(IntEnum):
    BASIC = 2
    STANDARD = 3


class PackageStatus(IntEnum):
    READY = 0
    SUCCESS = 1
    FAILED = 2
    REJECTED = 6


class CheckingStatus(IntEnum):
    """A package's pre-deployment check state (``CheckingStatus``; empty: none or passed)."""

    FAILED = 7
    CHECKING = 8


class ItemStatus(IntEnum):
    UNPUBLISHED = 0
    SUCCESS = 1
    ERROR = 2
    CLONED = 3
    DEPLOY_ERROR = 4
    CLONING = 5
    REJECT = 6


class ChangeType(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class VersionStatus(StrEnum):
    """Life of one committed version.

    COMMITTING ──submit ok──▶ COMMITTED ──deploy queued──▶ DEPLOYING ──ok──▶ DEPLOYED
        │                        ▲                            │
        └─submit failed─▶ CANCELLED   └──────deploy failed────┘
    Basic workspaces go COMMITTING ──ok──▶ DEPLOYED in one package.
    """

    COMMITTING = "COMMITTING"
    COMMITTED = "COMMITTED"
    DEPLOYING = "DEPLOYING"
    DEPLOYED = "DEPLOYED"
    CANCELLED = "CANCELLED"


class DeletedStatus(StrEnum):
    NORMAL = "NORMAL"
    RECYCLE_BIN = "RECYCLE_BIN"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing (numbers from 1); :mod:`openworks.core.ports` re-exports it."""

    number: int = 1
    size: int = 10

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an Alibaba Cloud account (tenant) and one of its users."""

    account_id: str
    user_id: str
    name: str = ""

    @property
    def is_root(self) -> bool:
        return self.user_id == self.account_id


@dataclass(slots=True)
class Project:
    id: int
    account_id: str
    identifier: str
    name: str
    mode: int
    owner_id: str
    description: str = ""
    status: int = 0
    disable_development: bool = False
    is_allow_download: int = 1
    resource_group_id: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    client_token: str | None = None
    create_time: int = 0
    modify_time: int = 0

    @property
    def env_types(self) -> list[str]:
        return ["PROD"] if self.mode == ProjectMode.BASIC else ["DEV", "PROD"]

    @property
    def root_output(self) -> str:
        return f"{self.identifier}{ROOT_OUTPUT_SUFFIX}"


@dataclass(slots=True)
class File:
    """The working copy of one DataStudio file plus where its versions stand."""

    id: int
    project_id: int
    name: str
    file_type: int
    owner: str
    create_user: str
    create_time: int
    content: str = ""
    folder_path: str = ""
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    commit_status: int = 0
    current_version: int | None = None
    node_id: int | None = None
    deleted_status: str = DeletedStatus.NORMAL
    use_type: str = "NORMAL"
    auto_parsing: bool = False
    connection_name: str | None = None
    advanced_settings: str | None = None
    business_id: int | None = None
    parent_id: int | None = None
    last_edit_user: str = ""
    last_edit_time: int = 0
    prod_version: int | None = None


@dataclass(slots=True)
class FileVersion:
    """An immutable snapshot taken by a commit (SubmitFile, DeleteFile, basic DeployFile)."""

    file_id: int
    version: int
    change_type: str
    status: str
    commit_time: int
    commit_user: str
    name: str
    file_type: int
    content: str
    folder_path: str
    owner: str
    config: dict[str, Any]
    node_id: int
    use_type: str = "NORMAL"
    comment: str = ""
    description: str = ""
    package_id: int | None = None


@dataclass(slots=True)
class Item:
    file_id: int
    file_version: int
    status: int = ItemStatus.UNPUBLISHED


@dataclass(slots=True)
class Package:
    """A deployment package; see :mod:`openworks.core.packages` for its state machine."""

    id: int
    project_id: int
    name: str
    from_env: int
    to_env: int
    creator_id: str
    handler_id: str | None
    create_time: int
    status: int = PackageStatus.READY
    checking_status: int | None = None
    execute_time: int | None = None
    error_message: str | None = None
    comment: str = ""
    hold: str | None = None
    # pipeline runs (core/pipeline_runs.py): the run that made or mirrors the package, and
    # whether it waits (hold "stage") for its deploy stage to be triggered once checked
    run_id: str | None = None
    await_stage: bool = False
    items: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class Node:
    """A scheduling node as deployed into one environment."""

    node_id: int
    env: int
    project_id: int
    file_id: int
    file_version: int
    name: str
    file_type: int
    owner: str
    content: str
    config: dict[str, Any]
    inputs: list[str]
    outputs: list[str]
    modify_time: int = 0
    status: str = "NORMAL"


@dataclass(slots=True)
class RunStage:
    """A stage of a pipeline run as stored: its code, whether it has been triggered, and
    its own status and message for the stages no package decides (see core/run_stages)."""

    code: str
    triggered: bool = False
    status: str | None = None
    message: str | None = None


@dataclass(slots=True)
class PipelineRun:
    """A 2024 pipeline run: a view of the packages it made (core/pipeline_runs.py)."""

    id: str
    project_id: int
    type: str  # Online | Offline
    object_id: int
    object_type: str  # Node | WorkflowDefinition
    creator: str
    description: str
    run_mode: str  # Normal | Auto
    auto_until: str | None
    stages: list[RunStage]
    create_time: int
    modify_time: int
    origin: str = "2024"  # or "package": the mirror of a 2020 package
    dev_package_id: int | None = None
    prod_package_id: int | None = None
    cancelled: bool = False
    status: str = "Running"  # derived (core/run_stages.derive), stored for filtering
    message: str = ""
