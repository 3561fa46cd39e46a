"""2024 snapshots: the version history of a Data Studio object, over 2020 file versions.

A snapshot IS a committed file version (the rows of 2020 ListFileVersions); nothing new is
stored::

    ListSnapshots(Namespace, ObjectId, Type) ──▶ the file's versions, newest first,
         │   Namespace = the workspace id, ObjectId = the node / resource / function id
         │   (= the FileId); a workflow definition's id: no snapshots (an empty page)
         └── Type filter: Saved | Deployed | UnDeployed (comma-separated or a JSON array)
    GetSnapshot(Id)  Id = "<FileId>:<version>" ──▶ that one version

Type of a version (its VersionStatus and ChangeType)::

    COMMITTING, COMMITTED, DEPLOYING, CANCELLED ──▶ Saved
    DEPLOYED, change CREATE / UPDATE            ──▶ Deployed
    DEPLOYED, change DELETE                     ──▶ UnDeployed (taken out of production)

StageCode: the last deploy stage the version reached — ``PROD`` once DEPLOYED, ``DEV`` when
COMMITTED or DEPLOYING (in DEV, on its way to PROD), else none. The object decides the
workspace: an object (or snapshot) of a workspace the caller cannot see answers exactly
like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from .access import visible_project
from .context import Core
from .errors import Invalid, NotFound
from .model import ChangeType, DeletedStatus, File, FileVersion, Principal, Project, VersionStatus
from .ports import Page, Tx

__all__ = [
    "SNAPSHOT_TYPES",
    "SnapshotPage",
    "get_snapshot",
    "list_snapshots",
    "parse_snapshot_id",
    "parse_types",
    "snapshot_id",
    "snapshot_type",
    "stage_code",
]

SAVED, DEPLOYED, UNDEPLOYED = "Saved", "Deployed", "UnDeployed"
SNAPSHOT_TYPES = (SAVED, DEPLOYED, UNDEPLOYED)
_BY_LOWER = {t.lower(): t for t in SNAPSHOT_TYPES}
_SCAN = 500  # versions read per page when the Type filter applies
_MAX_ID = 10**18


@dataclass(frozen=True, slots=True)
class SnapshotPage:
    """One page of an object's snapshots: its workspace, the versions and the total."""

    project: Project
    versions: list[FileVersion]
    total: int


def snapshot_type(v: FileVersion) -> str:
    if v.status == VersionStatus.DEPLOYED:
        return UNDEPLOYED if v.change_type == ChangeType.DELETE else DEPLOYED
    return SAVED


def stage_code(v: FileVersion) -> str | None:
    if v.status == VersionStatus.DEPLOYED:
        return "PROD"
    if v.status in (VersionStatus.COMMITTED, VersionStatus.DEPLOYING):
        return "DEV"
    return None


def snapshot_id(v: FileVersion) -> str:
    return f"{v.file_id}:{v.version}"


def _number(text: str, what: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) >= _MAX_ID:
        raise Invalid("Invalid.Param", f"{what} must be a decimal id, not {text!r}.")
    return int(value)


def parse_snapshot_id(text: str) -> tuple[int, int]:
    """``"<FileId>:<version>"`` → (file id, version)."""
    file_part, sep, version_part = text.partition(":")
    if not sep:
        raise Invalid(
            "Invalid.Param",
            f"Id must be a snapshot id of the form <ObjectId>:<Version>, not {text!r}.",
        )
    return _number(file_part, "The object part of Id"), _number(
        version_part, "The version part of Id"
    )


def parse_types(text: str) -> frozenset[str]:
    """Type: one or more of Saved, Deployed, UnDeployed (comma-separated or a JSON array)."""
    raw = text.strip()
    names: list[object]
    if raw.startswith("["):
        try:
            loaded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            loaded = None
        if not isinstance(loaded, list):
            raise Invalid("Invalid.Param", f"Type is not a JSON array: {text!r}.")
        names = loaded
    else:
        names = [part for part in raw.split(",")]
    found: set[str] = set()
    for name in names:
        known = _BY_LOWER.get(name.strip().lower()) if isinstance(name, str) else None
        if known is None:
            raise Invalid(
                "Invalid.Param", f"Type must be Saved, Deployed or UnDeployed, not {name!r}."
            )
        found.add(known)
    return frozenset(found)


def _object_missing(object_id: str) -> NotFound:
    return NotFound("InvalidObject.NotFound", f"The object {object_id} does not exist.")


def _snapshot_missing(text: str) -> NotFound:
    return NotFound("InvalidSnapshot.NotFound", f"The snapshot {text} does not exist.")


def _live(file: File | None) -> File | None:
    return file if file is not None and file.deleted_status != DeletedStatus.DELETED else None


def _versions(
    tx: Tx, file_id: int, types: frozenset[str], page: Page
) -> tuple[list[FileVersion], int]:
    if types == frozenset(SNAPSHOT_TYPES):
        return tx.list_versions(file_id, page)
    chosen: list[FileVersion] = []
    number = 1
    while True:
        batch, total = tx.list_versions(file_id, Page(number, _SCAN))
        chosen.extend(v for v in batch if snapshot_type(v) in types)
        if not batch or number * _SCAN >= total:
            break
        number += 1
    return chosen[page.offset : page.offset + page.size], len(chosen)


def list_snapshots(
    core: Core, principal: Principal, namespace: str, object_id: str, types: str, page: Page
) -> SnapshotPage:
    """The object's snapshots of the given types, newest version first."""
    wanted = parse_types(types)
    project_id = _number(namespace, "Namespace")
    number = _number(object_id, "ObjectId")
    with core.store.transaction() as tx:
        project = visible_project(tx, principal, project_id)
        if project is None:
            raise _object_missing(object_id)
        file = _live(tx.file(number))
        if file is None or file.project_id != project.id:
            business = tx.business(number)
            if business is not None and business.project_id == project.id:
                return SnapshotPage(project, [], 0)  # a workflow definition: no versions
            raise _object_missing(object_id)
        versions, total = _versions(tx, file.id, wanted, page)
        return SnapshotPage(project, versions, total)


def get_snapshot(core: Core, principal: Principal, text: str) -> tuple[Project, FileVersion]:
    """The snapshot named ``"<FileId>:<version>"`` and its workspace."""
    file_id, number = parse_snapshot_id(text)
    with core.store.transaction() as tx:
        file = _live(tx.file(file_id))
        project = visible_project(tx, principal, file.project_id) if file is not None else None
        version = tx.version(file_id, number) if project is not None else None
        if project is None or version is None:
            raise _snapshot_missing(text)
        return project, version
