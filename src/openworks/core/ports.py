"""What the domain needs from storage: one transaction object with typed finders.

The store package implements these protocols (SQLite or PostgreSQL); domain tests run them
on an in-memory SQLite database. Every method runs inside the transaction it belongs to; a
``Store.transaction(write=True)`` block either commits entirely or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .folder_model import Business, Folder, ParseNote, TableRelation
from .member_model import Member, UserInfo
from .model import File, FileVersion, ItemStatus, Node, Package, Page, Project
from .package_file_model import PackageFile, PackageFileFilter

if TYPE_CHECKING:
    from .check_ports import CheckStore
    from .cross_model import CrossStore
    from .run_stages import RunRead, RunStore

__all__ = [
    "Claimed",
    "ControlState",
    "ControlStore",
    "DeploymentFilter",
    "FileFilter",
    "Page",
    "Store",
    "Tx",
]


class Claimed(NamedTuple):
    """A package the worker claimed, and whether another one was claimable beside it (when
    not, the worker waits for a notification instead of claiming again to find none)."""

    package: Package
    more: bool


@dataclass(frozen=True, slots=True)
class FileFilter:
    folder_path: str | None = None
    keyword: str | None = None
    exact_name: str | None = None
    file_ids: Sequence[int] | None = None
    file_types: Sequence[int] | None = None
    node_id: int | None = None
    owner: str | None = None
    last_edit_user: str | None = None
    use_type: str | None = None
    commit_status: int | None = None  # 2024 ListFiles: 0 changed since commit, 1 committed


@dataclass(frozen=True, slots=True)
class DeploymentFilter:
    creator: str | None = None
    executor: str | None = None
    keyword: str | None = None
    status: int | None = None
    end_create_time: int | None = None
    end_execute_time: int | None = None


@dataclass(frozen=True, slots=True)
class ControlState:
    """Test control's policy (:mod:`openworks.core.test_control`)."""

    mode: str = "instant"
    delay_ms: int = 0
    fail_remaining: int = 0
    fail_message: str = ""
    fail_item_status: int = int(ItemStatus.ERROR)
    seed: int = 0


class ControlStore(Protocol):
    """Storage of test control (issue 9), bound to the surrounding transaction."""

    def state(self) -> ControlState: ...
    def save_state(self, state: ControlState) -> None: ...
    def take_failure(self) -> ControlState | None:
        """Consume one forced failure atomically; the state it was taken from, or None."""
        ...

    def add_gate(self, package_id: int, kind: str, run_after: int | None) -> None: ...
    def gated(self, package_id: int | None) -> list[int]:
        """IDs of READY packages with a gate (all of them, or just ``package_id``)."""
        ...

    def remove_gates(self, package_ids: list[int]) -> None: ...


class Tx(Protocol):
    # accounts and users -------------------------------------------------------------
    def user_name(self, user_id: str) -> str | None: ...

    # projects ----------------------------------------------------------------------
    def project(self, project_id: int) -> Project | None: ...
    def project_with_package(
        self, project_id: int, package_id: int
    ) -> tuple[Project | None, Package | None]:
        """The workspace and, if it is one of the workspace's, the package with its items
        (GetDeployment's read, one statement)."""
        ...

    def project_with_run(
        self, project_id: int, run_id: str
    ) -> tuple[Project | None, RunRead | None]:
        """The workspace and, if it is one of the workspace's, the pipeline run with its
        packages' state (GetPipelineRun's read, one statement)."""
        ...

    def project_by_identifier(self, identifier: str) -> Project | None: ...
    def project_by_client_token(self, account_id: str, token: str) -> Project | None: ...
    def insert_project(self, project: Project) -> int: ...
    def update_project(self, project: Project) -> None:
        """Store the changeable columns (name, description, mode, status, dev role, modify
        time) of a workspace (2024 UpdateProject/DeleteProject)."""
        ...

    def list_projects(
        self, account_id: str, page: Page, tags: Sequence[tuple[str, str]]
    ) -> tuple[list[Project], int]: ...
    def member_roles(self, project_id: int, user_id: str) -> set[str]: ...
    def add_member(self, project_id: int, user_id: str, role: str) -> None: ...
    def user(self, user_id: str) -> UserInfo | None: ...
    def list_members(self, project_id: int, page: Page) -> tuple[list[Member], int]: ...
    def remove_member(self, project_id: int, user_id: str, role: str | None = None) -> None: ...

    # files and versions ------------------------------------------------------------
    def file(self, file_id: int) -> File | None: ...
    def file_by_node(self, project_id: int, node_id: int) -> File | None: ...
    def file_by_name(self, project_id: int, name: str) -> File | None: ...
    def insert_file(self, file: File) -> int: ...
    def update_file(self, file: File) -> None: ...
    def list_files(
        self, project_id: int, flt: FileFilter, page: Page
    ) -> tuple[list[File], int]: ...
    def insert_version(self, version: FileVersion) -> None: ...
    def version(self, file_id: int, version: int) -> FileVersion | None: ...
    def latest_version(self, file_id: int) -> FileVersion | None: ...
    def versions_after(self, file_id: int, version: int) -> list[FileVersion]:
        """The file's versions numbered above ``version``, oldest first."""
        ...

    def busy_version(self, file_id: int) -> FileVersion | None:
        """A version of the file still in a package (COMMITTING or DEPLOYING), if any."""
        ...

    def move_version(self, file_id: int, version: int, expected: str, status: str) -> bool:
        """Set the version's status if it is still ``expected``; whether it was."""
        ...

    def list_versions(self, file_id: int, page: Page) -> tuple[list[FileVersion], int]: ...
    def next_node_id(self) -> int: ...

    # packages ----------------------------------------------------------------------
    def insert_package(self, package: Package) -> int: ...
    def package(self, package_id: int) -> Package | None: ...
    def lock_package(self, package_id: int) -> Package | None:
        """The package, its row locked until the transaction ends (a write transaction)."""
        ...

    def move_package(
        self,
        package_id: int,
        expected_status: int,
        expected_hold: str | None,
        changes: Mapping[str, object],
    ) -> bool:
        """Set ``changes`` (columns) if the package still has that status and hold;
        whether it had (only :mod:`openworks.core.lifecycle` calls this)."""
        ...

    def set_item_status(self, package_id: int, file_id: int, status: int) -> None: ...
    def list_packages(
        self, project_id: int, flt: DeploymentFilter, page: Page
    ) -> tuple[list[Package], int]: ...
    def claim_ready_package(self) -> Claimed | None: ...
    def list_package_files(
        self, project_id: int, flt: PackageFileFilter, page: Page
    ) -> tuple[list[PackageFile], int]:
        """Items of the workspace's packages with their file versions, newest package first
        (2024 ListDeploymentPackageFiles; store/repo_package_files.py)."""
        ...

    # checks, extensions and approvals (same transaction) ---------------------------
    def checks(self) -> CheckStore: ...
    def control(self) -> ControlStore: ...  # test control (issue 9)
    def pipeline(self) -> RunStore: ...  # pipeline runs (2024-05-18)
    def cross(self) -> CrossStore: ...  # cross-workspace runs (core/cross_model.py)

    # nodes per environment ---------------------------------------------------------
    def node(self, env: int, node_id: int) -> Node | None: ...
    def upsert_node(self, node: Node) -> None: ...
    def delete_node(self, env: int, node_id: int) -> None: ...
    def producers(self, project_id: int, env: int, output: str) -> list[int]: ...
    def consumers(self, project_id: int, env: int, outputs: Sequence[str]) -> list[Node]: ...
    def list_nodes(self, project_id: int, env: int) -> list[Node]: ...
    def set_node_status(self, env: int, node_id: int, status: str) -> None: ...

    # workflows, folders, parse notes (see core/folders.py) -------------------------
    def business(self, business_id: int) -> Business | None: ...
    def business_by_name(self, project_id: int, name: str) -> Business | None: ...
    def insert_business(self, business: Business) -> int: ...
    def add_business(self, business: Business) -> Business:
        """Insert unless the workspace has a workflow of that name (made meanwhile by a
        concurrent request, say); the stored one."""
        ...

    def update_business(self, business: Business) -> None: ...
    def delete_business(self, business_id: int) -> None: ...
    def list_businesses(
        self, project_id: int, keyword: str | None, page: Page
    ) -> tuple[list[Business], int]: ...
    def folder(self, folder_id: str) -> Folder | None: ...
    def folder_by_path(self, project_id: int, path: str) -> Folder | None: ...
    def insert_folder(self, folder: Folder) -> None: ...
    def add_folder(self, folder: Folder) -> Folder:
        """Insert unless the workspace has a folder of that path; the stored one."""
        ...

    def delete_folder(self, folder_id: str) -> None: ...
    def child_folders(
        self, project_id: int, parent_path: str, page: Page | None
    ) -> tuple[list[Folder], int]: ...
    def move_folder_tree(self, project_id: int, old_path: str, new_path: str) -> None: ...
    def count_live_files_in(self, project_id: int, path: str) -> int: ...
    def set_parse_note(self, note: ParseNote) -> None: ...
    def parse_note(self, file_id: int) -> ParseNote | None: ...
    def relate_table(self, relation: TableRelation) -> None:
        """Insert or replace the workspace's row for ``relation.table_guid``."""
        ...

    def table_relation(self, project_id: int, table_guid: str) -> TableRelation | None: ...
    def table_relations(self, business_id: int) -> list[TableRelation]: ...

    # resource bytes a workspace may name (core/resources.py, store/repo_blobs.py) -------
    def grant_blob(self, project_id: int, digest: str, size: int, now: int) -> None: ...
    def blob_granted(self, project_id: int, digest: str) -> bool: ...


class Store(Protocol):
    def transaction(self, write: bool = False) -> AbstractContextManager[Tx]: ...
