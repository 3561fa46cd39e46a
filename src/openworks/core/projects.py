"""Workspaces: create, read, list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .access import OWNER, ProjectRef, resolve_project
from .context import Core
from .errors import Invalid
from .model import Principal, Project, ProjectMode
from .ports import Page

__all__ = ["NewProject", "create_project", "get_project", "list_projects"]

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


def _validate(spec: NewProject) -> int:
    if not IDENTIFIER.fullmatch(spec.identifier):
        raise Invalid(
            "Invalid.Param",
            "ProjectIdentifier must be 3-64 characters: a letter, then letters, digits or "
            f"underscores (got {spec.identifier!r}).",
        )
    if not spec.name.strip() or len(spec.name) > 128:
        raise Invalid("Invalid.Param", "ProjectName must be 1-128 characters.")
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
