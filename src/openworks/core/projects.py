"""Workspaces: create, read, list; update, delete and filtered listing (2024-05-18)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .access import OWNER, ProjectRef, resolve_project
from .context import Core
from .errors import Invalid
from .model import PackageStatus, Principal, Project, ProjectMode
from .ports import DeploymentFilter, Page, Tx
from .run_stages import FINAL
from .run_trigger import derive_run

__all__ = [
    "DELETED",
    "NewProject",
    "ProjectChanges",
    "ProjectFilter",
    "create_project",
    "delete_project",
    "find_projects",
    "get_project",
    "list_projects",
    "update_project",
]

DELETED = 1  # projects.status of a deleted workspace (access answers ProjectNotExists)
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,63}")


@dataclass(frozen=True, slots=True)
class NewProject:
    identifier: str
    name: str
    mode: int | None = None
    description: str | None = None
    disable_development: bool | None = None
    is_allow_download: int | None = None
    resource_group_id: str | None = None
    tags: Sequence[dict[str, str]] = field(default_factory=tuple)
    client_token: str | None = None
    labels: tuple[str, str] = ("ProjectIdentifier", "ProjectName")
    """The parameter names of identifier and name in messages (2024: Name, DisplayName)."""


def _validate(spec: NewProject) -> int:
    identifier_label, name_label = spec.labels
    if not IDENTIFIER.fullmatch(spec.identifier):
        raise Invalid(
            "Invalid.Param",
            f"{identifier_label} must be 3-64 characters: a letter, then letters, digits or "
            f"underscores (got {spec.identifier!r}).",
        )
    if not spec.name.strip() or len(spec.name) > 128:
        raise Invalid("Invalid.Param", f"{name_label} must be 1-128 characters.")
    mode = ProjectMode.STANDARD if spec.mode is None else spec.mode
    if mode not in (ProjectMode.BASIC, ProjectMode.STANDARD):
        raise Invalid(
            "Invalid.Param", f"ProjectMode must be 2 (basic) or 3 (standard), not {mode}."
        )
    if spec.is_allow_download not in (None, 0, 1):
        raise Invalid("Invalid.Param", "IsAllowDownload must be 0 or 1.")
    for tag in spec.tags:
        if not tag.get("Key"):
            raise Invalid("Invalid.Param", "Every tag needs a non-empty Key.")
    return int(mode)


def create_project(core: Core, principal: Principal, spec: NewProject) -> int:
    mode = _validate(spec)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        if spec.client_token:
            earlier = tx.project_by_client_token(principal.account_id, spec.client_token)
            if earlier is not None:
                return earlier.id
        if tx.project_by_identifier(spec.identifier) is not None:
            raise Invalid(
                "Invalid.Tenant.ProjectAlreadyExists",
                f"A workspace with the identifier {spec.identifier} already exists.",
            )
        project = Project(
            id=0,
            account_id=principal.account_id,
            identifier=spec.identifier,
            name=spec.name,
            mode=mode,
            owner_id=principal.user_id,
            description=spec.description or "",
            disable_development=bool(spec.disable_development),
            is_allow_download=1 if spec.is_allow_download is None else spec.is_allow_download,
            resource_group_id=spec.resource_group_id,
            tags=[{"Key": t["Key"], "Value": t.get("Value", "")} for t in spec.tags],
            client_token=spec.client_token,
            create_time=now,
            modify_time=now,
        )
        project_id = tx.insert_project(project)
        tx.add_member(project_id, principal.user_id, OWNER)
        return project_id


def get_project(core: Core, principal: Principal, ref: ProjectRef) -> Project:
    with core.store.transaction() as tx:
        return resolve_project(tx, principal, ref)


def list_projects(
    core: Core, principal: Principal, page: Page, tags: Sequence[dict[str, str]] = ()
) -> tuple[list[Project], int]:
    wanted = [(t.get("Key", ""), t.get("Value", "")) for t in tags]
    with core.store.transaction() as tx:
        return tx.list_projects(principal.account_id, page, wanted)


# -- 2024-05-18: update, delete, filtered listing ------------------------------------------
#
# A workspace is updated in place (display name, description, the dev role switch, basic →
# standard) and deleted by marking it (status 1), after which it answers like one that
# never existed. Both refuse while a package of the workspace is still in flight.

_ALL = Page(1, 1 << 62)


@dataclass(frozen=True, slots=True)
class ProjectChanges:
    """What UpdateProject may change; None leaves a value as it is."""

    name: str | None = None
    description: str | None = None
    standard: bool | None = None
    disable_development: bool | None = None


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    """ListProjects (2024) filters; None or empty = no filter. ``tags`` match any pair."""

    ids: Sequence[int] = ()
    identifiers: Sequence[str] = ()
    standard: bool | None = None
    disable_development: bool | None = None
    status: int | None = None
    resource_group_id: str | None = None
    tags: Sequence[tuple[str, str]] = ()


def _in_flight(tx: Tx, project: Project) -> int:
    _, total = tx.list_packages(
        project.id, DeploymentFilter(status=PackageStatus.READY), Page(1, 1)
    )
    return total


def _refuse_in_flight(tx: Tx, project: Project, what: str) -> None:
    busy = _in_flight(tx, project)
    if busy:
        raise Invalid(
            "Invalid.Project.PackagesInFlight",
            f"{what} workspace {project.identifier} waits until its {busy} deployment "
            "package(s) in flight are final (GetDeployment).",
        )


def _apply(tx: Tx, project: Project, changes: ProjectChanges) -> None:
    if changes.name is not None:
        if not changes.name.strip() or len(changes.name) > 128:
            raise Invalid("Invalid.Param", "DisplayName must be 1-128 characters.")
        project.name = changes.name
    if changes.description is not None:
        project.description = changes.description
    if changes.disable_development is not None:
        if changes.disable_development and not project.disable_development:
            raise Invalid(
                "Invalid.Param",
                "DevRoleDisabled cannot become true: the development role stays enabled once "
                "it is enabled.",
            )
        project.disable_development = changes.disable_development
    if changes.standard is not None:
        current = project.mode == ProjectMode.STANDARD
        if current and not changes.standard:
            raise Invalid(
                "Invalid.Param",
                "DevEnvironmentEnabled cannot become false: a standard workspace stays "
                "standard (only basic → standard is allowed).",
            )
        if changes.standard and not current:
            _refuse_in_flight(tx, project, "Enabling the development environment of")
            project.mode = ProjectMode.STANDARD


def update_project(
    core: Core, principal: Principal, ref: ProjectRef, changes: ProjectChanges
) -> Project:
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        _apply(tx, project, changes)
        project.modify_time = core.clock()
        tx.update_project(project)
        return project


def _refuse_active_run(tx: Tx, project: Project) -> None:
    """Refuse while a run is active: its status derived now (the stored one may lag)."""
    for run in tx.pipeline().project_active_runs(project.id):
        status = derive_run(tx, run).status
        if status not in FINAL:
            raise Invalid(
                "Invalid.Project.PipelineRunActive",
                f"Deleting workspace {project.identifier} waits until its pipeline run "
                f"{run.id} (Status {status}) is final: execute its remaining stages or "
                "abolish it (AbolishPipelineRun).",
            )


def delete_project(core: Core, principal: Principal, ref: ProjectRef) -> None:
    """Refused while a package is in flight or a pipeline run is active (not final)."""
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        _refuse_in_flight(tx, project, "Deleting")
        _refuse_active_run(tx, project)
        project.status = DELETED
        project.modify_time = core.clock()
        tx.update_project(project)


def _matches(p: Project, flt: ProjectFilter) -> bool:
    tags = {(t["Key"], t["Value"]) for t in p.tags}
    return (
        (not flt.ids or p.id in flt.ids)
        and (not flt.identifiers or p.identifier in flt.identifiers)
        and (flt.standard is None or (p.mode == ProjectMode.STANDARD) == flt.standard)
        and (flt.disable_development is None or p.disable_development == flt.disable_development)
        and (flt.status is None or p.status == flt.status)
        and (flt.resource_group_id is None or p.resource_group_id == flt.resource_group_id)
        and (not flt.tags or bool(tags & set(flt.tags)))
    )


def find_projects(
    core: Core, principal: Principal, flt: ProjectFilter, page: Page
) -> tuple[list[Project], int]:
    """The account's live workspaces matching ``flt`` (by ID), one page of them."""
    with core.store.transaction() as tx:
        every, _ = tx.list_projects(principal.account_id, _ALL, ())
    found = [p for p in every if _matches(p, flt)]
    return found[page.offset : page.offset + page.size], len(found)
