"""Repositories: :class:`openworks.core.ports.Tx` implemented with SQLAlchemy Core.

``SqlStore.transaction(write=...)`` hands out a :class:`SqlTx` bound to one connection and
one transaction. Rows become domain dataclasses only in the store: workspaces, files,
versions, packages and nodes here, the rest in the other repo_*.py modules and
identity.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Select

from openworks.core.context import now_ms
from openworks.core.errors import Invalid
from openworks.core.model import File, FileVersion, Item, Node, Package, Project
from openworks.core.ports import Claimed, DeploymentFilter, FileFilter, Page
from openworks.core.run_stages import RunRead

from .hot import HotRead, HotWrite
from .list_counts import counted, fts_candidates, fts_exact, page_of_few
from .repo_blobs import BlobGrantsRepo
from .repo_checks import SqlCheckStore
from .repo_cross import SqlCrossStore
from .repo_folders import FoldersRepo
from .repo_members import MembersRepo
from .repo_package_files import PackageFilesRepo
from .repo_pipeline import SqlRunStore
from .repo_test_control import SqlControlStore, not_gated
from .schema import (
    file_versions,
    files,
    members,
    node_edges,
    node_ids,
    nodes,
    package_items,
    packages,
    projects,
    users,
)
from .schema_counts import file_counts, package_counts
from .secrets import SecretBox

__all__ = ["SqlStore", "SqlTx"]

# The advisory lock that serialises package execution per workspace (PostgreSQL): one
# 64-bit key from the schema and the workspace id, so that workspaces of the same id in
# different schemas of one cluster (tenants, test runs) never wait on each other.
_WORKSPACE_LOCK = text(
    "pg_try_advisory_xact_lock(hashtextextended("
    "'openworks:workspace:' || coalesce(current_schema(), '') || ':' || "
    "CAST(packages.project_id AS text), 0))"
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _plain(value: object) -> object:
    """Enum members as the plain values the columns hold."""
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value


def _like(text: str) -> str:
    return f"%{_escape(text)}%"


def _attrs(cls: type, exclude: set[str]) -> tuple[str, ...]:
    """The dataclass fields stored one-to-one as columns of the same name."""
    return tuple(f.name for f in fields(cls) if f.name not in exclude)


def _project(row: Row[Any] | Mapping[str, Any]) -> Project:
    m = row._mapping if isinstance(row, Row) else row
    return Project(
        id=m["id"],
        account_id=m["account_id"],
        identifier=m["identifier"],
        name=m["name"],
        mode=m["mode"],
        owner_id=m["owner_id"],
        description=m["description"],
        status=m["status"],
        disable_development=bool(m["disable_development"]),
        is_allow_download=m["is_allow_download"],
        resource_group_id=m["resource_group_id"],
        tags=orjson.loads(m["tags"]),
        client_token=m["client_token"],
        create_time=m["create_time"],
        modify_time=m["modify_time"],
    )


_FILE_ATTRS = _attrs(File, exclude={"id", "config"})


def _file(row: Row[Any] | Mapping[str, Any]) -> File:
    m = row._mapping if isinstance(row, Row) else row
    values = {attr: m[attr] for attr in _FILE_ATTRS}
    values["auto_parsing"] = bool(values["auto_parsing"])
    return File(id=m["id"], config=orjson.loads(m["config"]), **values)


def _file_values(file: File) -> dict[str, Any]:
    values = {attr: getattr(file, attr) for attr in _FILE_ATTRS}
    values["name_key"] = file.name.lower()
    values["config"] = _dumps(file.config)
    return values


_VERSION_ATTRS = _attrs(FileVersion, exclude={"config"})

# Statements of the write path built once: values travel as execution parameters, so a
# call neither builds a bind parameter per column nor generates a new cache key for them
# (with ``.values(...)`` that was the largest part of a write's Python time). An UPDATE's
# SET clause is the parameters named after columns; the "_"-prefixed ones feed its WHERE.
# The reads and writes a lifecycle repeats run as hot statements (store/hot.py): compiled
# once, executed on the driver without SQLAlchemy's per-execution machinery.
_FILE = HotRead(select(files).where(files.c.id == bindparam("_id")))
_FILE_FOR_UPDATE = HotRead(select(files).where(files.c.id == bindparam("_id")).with_for_update())
_FILE_BY_NAME = HotRead(
    select(files).where(
        files.c.project_id == bindparam("_project_id"),
        files.c.name_key == bindparam("_name_key"),
        files.c.deleted_status == "NORMAL",
    )
)
_VERSION = HotRead(
    select(file_versions).where(
        file_versions.c.file_id == bindparam("_file_id"),
        file_versions.c.version == bindparam("_version"),
    )
)
_LATEST_VERSION = HotRead(
    select(file_versions)
    .where(file_versions.c.file_id == bindparam("_file_id"), file_versions.c.status != "CANCELLED")
    .order_by(file_versions.c.version.desc())
    .limit(1)
)
_INSERT_FILE = HotWrite(insert(files).returning(files.c.id))
_UPDATE_FILE = HotWrite(update(files).where(files.c.id == bindparam("_id")))
_INSERT_VERSION = HotWrite(insert(file_versions))
_MOVE_VERSION = HotWrite(
    update(file_versions).where(  # compare-and-set (core.lifecycle)
        file_versions.c.file_id == bindparam("_file_id"),
        file_versions.c.version == bindparam("_version"),
        file_versions.c.status == bindparam("_expected"),
    )
)
_VERSIONS_AFTER = HotRead(
    select(file_versions)
    .where(
        file_versions.c.file_id == bindparam("_file_id"),
        file_versions.c.version > bindparam("_version"),
    )
    .order_by(file_versions.c.version)
)
_BUSY_VERSION = (
    select(file_versions)
    .where(
        file_versions.c.file_id == bindparam("_file_id"),
        file_versions.c.status.in_(("COMMITTING", "DEPLOYING")),
    )
    .order_by(file_versions.c.version)
    .limit(1)
)
_INSERT_PACKAGE = HotWrite(insert(packages).returning(packages.c.id))
_INSERT_ITEMS = HotWrite(insert(package_items))
# compare-and-set of a package's changed columns (core.lifecycle), by its expected hold
_MOVE_PACKAGE_UNHELD = HotWrite(
    update(packages).where(
        packages.c.id == bindparam("_id"),
        packages.c.status == bindparam("_status"),
        packages.c.hold.is_(None),
    )
)
_MOVE_PACKAGE_HELD = HotWrite(
    update(packages).where(
        packages.c.id == bindparam("_id"),
        packages.c.status == bindparam("_status"),
        packages.c.hold == bindparam("_hold"),
    )
)
_PACKAGE_FOR_UPDATE = select(packages).where(packages.c.id == bindparam("_id")).with_for_update()
_UPDATE_ITEM = HotWrite(
    update(package_items).where(
        package_items.c.package_id == bindparam("_package_id"),
        package_items.c.file_id == bindparam("_file_id"),
    )
)
_INSERT_NODE = HotWrite(insert(nodes))
_INSERT_EDGES = HotWrite(insert(node_edges))
_DELETE_NODE = HotWrite(
    delete(nodes).where(nodes.c.env == bindparam("_env"), nodes.c.node_id == bindparam("_node_id"))
)
_DELETE_EDGES = HotWrite(
    delete(node_edges).where(
        node_edges.c.env == bindparam("_env"), node_edges.c.node_id == bindparam("_node_id")
    )
)
_NEXT_NODE_ID = HotWrite(insert(node_ids).returning(node_ids.c.id))


def _version(row: Row[Any] | Mapping[str, Any]) -> FileVersion:
    m = row._mapping if isinstance(row, Row) else row
    return FileVersion(config=orjson.loads(m["config"]), **{a: m[a] for a in _VERSION_ATTRS})


_PACKAGE_ATTRS = _attrs(Package, exclude={"id", "items"})


def _package(row: Row[Any] | Mapping[str, Any], items: list[Item]) -> Package:
    m = row._mapping if isinstance(row, Row) else row
    return Package(id=m["id"], items=items, **{a: m[a] for a in _PACKAGE_ATTRS})


def _items_of(rows: list[dict[str, Any]]) -> list[Item]:
    """The items of a package read with ``_ITEM_COLUMNS`` beside it (one row per item; one
    row of NULL item columns for a package without items)."""
    return [
        Item(r["item_file_id"], r["item_file_version"], r["item_status"])
        for r in rows
        if r["item_file_id"] is not None
    ]


# Statements of the hottest reads, compiled once and run on the driver (store.hot).
_PROJECT_BY_ID = HotRead(select(projects).where(projects.c.id == bindparam("id")))
_MEMBER_ROLES = HotRead(
    select(members.c.role).where(
        members.c.project_id == bindparam("project_id"),
        members.c.user_id == bindparam("user_id"),
    )
)
_ITEM_COLUMNS = (  # a package's items beside its row: (file id, version, status) last
    package_items.c.file_id.label("item_file_id"),
    package_items.c.file_version.label("item_file_version"),
    package_items.c.status.label("item_status"),
)
_PACKAGE_WITH_ITEMS = HotRead(
    select(packages, *_ITEM_COLUMNS)
    .outerjoin(package_items, package_items.c.package_id == packages.c.id)
    .where(packages.c.id == bindparam("id"))
    .order_by(package_items.c.file_id)
)
# GetDeployment's read: the workspace, and the package with its items if it is one of the
# workspace's, in one statement (a workspace row with NULL package columns: no such package)
_PROJECT_AND_PACKAGE = HotRead(
    select(
        projects,
        *(c.label(f"package__{c.key}") for c in packages.c),
        *_ITEM_COLUMNS,
    )
    .select_from(
        projects.outerjoin(
            packages,
            and_(packages.c.id == bindparam("package_id"), packages.c.project_id == projects.c.id),
        ).outerjoin(package_items, package_items.c.package_id == packages.c.id)
    )
    .where(projects.c.id == bindparam("project_id"))
    .order_by(package_items.c.file_id)
)
_PROJECT_COLUMNS = tuple(c.key for c in projects.c)
_PACKAGE_COLUMNS = tuple(c.key for c in packages.c)
_PACKAGE_ITEMS = HotRead(
    select(package_items.c.file_id, package_items.c.file_version, package_items.c.status)
    .where(package_items.c.package_id == bindparam("id"))
    .order_by(package_items.c.file_id)
)


class _Claim(NamedTuple):
    """The worker's claim (claim_ready_package): READY, unheld packages, oldest first."""

    ready: Select[Any]
    first: HotRead  # SQLite: the claimed one, and whether there is more (up to two rows)
    candidates: HotRead  # PostgreSQL: the first 50 (id, workspace)
    take: HotRead  # PostgreSQL: candidate "_id" with its items, its row and workspace locked
    gated: bool  # and no test-control gate blocking it at bind parameter "_now"


def _claim(gated: bool) -> _Claim:
    where = [packages.c.status == 0, packages.c.hold.is_(None)]
    if gated:
        where.append(not_gated(bindparam("_now")))
    ready = select(packages).where(*where).order_by(packages.c.id)
    candidates = ready.with_only_columns(packages.c.id, packages.c.project_id).limit(50)
    # One round trip takes the workspace's advisory lock, the row (still ready, not locked
    # by another claim) and its items; no row back: the workspace or the row is busy.
    take = (
        select(packages, *_ITEM_COLUMNS)
        .outerjoin(package_items, package_items.c.package_id == packages.c.id)
        .where(*where, packages.c.id == bindparam("_id"), _WORKSPACE_LOCK)
        .order_by(package_items.c.file_id)
        .with_for_update(skip_locked=True, of=packages)
    )
    return _Claim(ready, HotRead(ready.limit(2)), HotRead(candidates), HotRead(take), gated)


# Chosen once per SqlStore: only a store opened with test control pays for its gates.
_CLAIM = _claim(gated=False)
_CLAIM_TEST_CONTROL = _claim(gated=True)


class SqlTx(FoldersRepo, MembersRepo, PackageFilesRepo, BlobGrantsRepo):
    """One transaction; implements :class:`openworks.core.ports.Tx`."""

    def __init__(
        self, conn: Connection, box: SecretBox | None = None, claim: _Claim = _CLAIM
    ) -> None:
        self.conn = conn
        self.box = box  # seals secrets the domain stores (extension signing secrets)
        self._claim = claim
        self._locking = conn.dialect.name == "postgresql" and bool(conn.info.get("write"))

    # accounts and users ---------------------------------------------------------------
    def user_name(self, user_id: str) -> str | None:
        return self.conn.execute(select(users.c.name).where(users.c.id == user_id)).scalar()

    # projects -------------------------------------------------------------------------
    def project(self, project_id: int) -> Project | None:
        rows = _PROJECT_BY_ID.dicts(self.conn, {"id": project_id})
        return _project(rows[0]) if rows else None

    def project_with_package(
        self, project_id: int, package_id: int
    ) -> tuple[Project | None, Package | None]:
        rows = _PROJECT_AND_PACKAGE.rows(
            self.conn, {"project_id": project_id, "package_id": package_id}
        )
        if not rows:
            return None, None
        first, n, k = rows[0], len(_PROJECT_COLUMNS), len(_PACKAGE_COLUMNS)
        project = _project(dict(zip(_PROJECT_COLUMNS, first[:n], strict=True)))
        if first[n] is None:  # packages.id: none of this workspace
            return project, None
        items = [Item(r[-3], r[-2], r[-1]) for r in rows if r[-3] is not None]
        row = dict(zip(_PACKAGE_COLUMNS, first[n : n + k], strict=True))
        return project, _package(row, items)

    def project_with_run(
        self, project_id: int, run_id: str
    ) -> tuple[Project | None, RunRead | None]:
        columns, found = self.pipeline().project_run_read(project_id, run_id)
        return (None if columns is None else _project(columns)), found

    def project_by_identifier(self, identifier: str) -> Project | None:
        stmt = select(projects).where(projects.c.identifier == identifier)
        row = self.conn.execute(stmt).first()
        return _project(row) if row else None

    def project_by_client_token(self, account_id: str, token: str) -> Project | None:
        stmt = select(projects).where(
            projects.c.account_id == account_id, projects.c.client_token == token
        )
        row = self.conn.execute(stmt).first()
        return _project(row) if row else None

    def insert_project(self, project: Project) -> int:
        values = {
            "account_id": project.account_id,
            "identifier": project.identifier,
            "name": project.name,
            "description": project.description,
            "mode": project.mode,
            "owner_id": project.owner_id,
            "status": project.status,
            "disable_development": project.disable_development,
            "is_allow_download": project.is_allow_download,
            "resource_group_id": project.resource_group_id,
            "tags": _dumps(project.tags),
            "client_token": project.client_token,
            "create_time": project.create_time,
            "modify_time": project.modify_time,
        }
        result = self.conn.execute(insert(projects).values(values).returning(projects.c.id))
        return int(result.scalar_one())

    def update_project(self, project: Project) -> None:
        values = {
            "name": project.name,
            "description": project.description,
            "mode": project.mode,
            "status": project.status,
            "disable_development": project.disable_development,
            "modify_time": project.modify_time,
        }
        self.conn.execute(update(projects).where(projects.c.id == project.id).values(values))

    def list_projects(
        self, account_id: str, page: Page, tags: Sequence[tuple[str, str]]
    ) -> tuple[list[Project], int]:
        stmt = select(projects).where(projects.c.account_id == account_id, projects.c.status != 1)
        rows = [_project(r) for r in self.conn.execute(stmt.order_by(projects.c.id))]
        if tags:
            wanted = set(tags)
            rows = [p for p in rows if wanted <= {(t["Key"], t["Value"]) for t in p.tags}]
        return rows[page.offset : page.offset + page.size], len(rows)

    def member_roles(self, project_id: int, user_id: str) -> set[str]:
        params = {"project_id": project_id, "user_id": user_id}
        return {row[0] for row in _MEMBER_ROLES.rows(self.conn, params)}

    def add_member(self, project_id: int, user_id: str, role: str) -> None:
        if role not in self.member_roles(project_id, user_id):
            self.conn.execute(
                insert(members).values(project_id=project_id, user_id=user_id, role=role)
            )

    # files and versions ---------------------------------------------------------------
    def file(self, file_id: int) -> File | None:
        # a write transaction reads a file in order to change it (versions, packages): on
        # PostgreSQL take the row lock now so concurrent commits of one file queue
        read = _FILE_FOR_UPDATE if self._locking else _FILE
        rows = read.dicts(self.conn, {"_id": file_id})
        return _file(rows[0]) if rows else None

    def file_by_node(self, project_id: int, node_id: int) -> File | None:
        stmt = select(files).where(files.c.project_id == project_id, files.c.node_id == node_id)
        row = self.conn.execute(stmt.order_by(files.c.id.desc())).first()
        return _file(row) if row else None

    def file_by_name(self, project_id: int, name: str) -> File | None:
        params = {"_project_id": project_id, "_name_key": name.lower()}
        rows = _FILE_BY_NAME.dicts(self.conn, params)
        return _file(rows[0]) if rows else None

    def insert_file(self, file: File) -> int:
        row = _INSERT_FILE.returning(self.conn, _file_values(file))
        assert row is not None
        file.id = int(row[0])
        return file.id

    def update_file(self, file: File) -> None:
        _UPDATE_FILE.run(self.conn, {"_id": file.id, **_file_values(file)})

    def list_files(self, project_id: int, flt: FileFilter, page: Page) -> tuple[list[File], int]:
        cond = [files.c.project_id == project_id, files.c.deleted_status == "NORMAL"]
        keys = {
            "owner": flt.owner or None,
            "commit_status": flt.commit_status,
            "file_type": flt.file_types,  # several: the sum of their counter rows
        }
        among = None
        if flt.folder_path:
            path = flt.folder_path.rstrip("/")
            cond.append(
                or_(
                    files.c.folder_path == path,
                    files.c.folder_path.like(_escape(path) + "/%", escape="\\"),
                )
            )
        if flt.keyword:
            keyword = flt.keyword.lower()
            among = fts_candidates(
                self.conn, files, keyword, lambda: counted(self.conn, file_counts, project_id, keys)
            )
            if among is None or not fts_exact(keyword):  # else the FTS match alone decides
                cond.append(files.c.name_key.like(_like(keyword), escape="\\"))
            if among is not None:
                cond.append(among)
        if flt.exact_name:
            cond.append(files.c.name_key == flt.exact_name.lower())
        if flt.file_ids is not None:
            cond.append(files.c.id.in_(list(flt.file_ids)))
        if flt.file_types is not None:
            cond.append(files.c.file_type.in_(list(flt.file_types)))
        if flt.node_id is not None:
            cond.append(files.c.node_id == flt.node_id)
        if flt.owner:
            cond.append(files.c.owner == flt.owner)
        if flt.last_edit_user:
            cond.append(files.c.last_edit_user == flt.last_edit_user)
        if flt.use_type:
            cond.append(files.c.use_type == flt.use_type)
        if flt.commit_status is not None:
            cond.append(files.c.commit_status == flt.commit_status)
        where = and_(*cond)
        if among is not None:  # a few FTS candidates: ids once, then the page's rows
            few, total = page_of_few(self.conn, files, where, [files.c.id], page)
            return [_file(r) for r in few], total
        if len(cond) == 2 + sum(v is not None for v in keys.values()):  # only counted keys
            total = counted(self.conn, file_counts, project_id, keys)
        else:
            total = self.conn.execute(
                select(func.count()).select_from(files).where(where)
            ).scalar_one()
        stmt = select(files).where(where).order_by(files.c.id).limit(page.size).offset(page.offset)
        return [_file(r) for r in self.conn.execute(stmt)], int(total)

    def insert_version(self, version: FileVersion) -> None:
        values = {a: getattr(version, a) for a in _VERSION_ATTRS}
        values["config"] = _dumps(version.config)
        _INSERT_VERSION.run(self.conn, values)

    def version(self, file_id: int, version: int) -> FileVersion | None:
        rows = _VERSION.dicts(self.conn, {"_file_id": file_id, "_version": version})
        return _version(rows[0]) if rows else None

    def latest_version(self, file_id: int) -> FileVersion | None:
        rows = _LATEST_VERSION.dicts(self.conn, {"_file_id": file_id})
        return _version(rows[0]) if rows else None

    def versions_after(self, file_id: int, version: int) -> list[FileVersion]:
        params = {"_file_id": file_id, "_version": version}
        return [_version(r) for r in _VERSIONS_AFTER.dicts(self.conn, params)]

    def busy_version(self, file_id: int) -> FileVersion | None:
        row = self.conn.execute(_BUSY_VERSION, {"_file_id": file_id}).first()
        return _version(row) if row else None

    def move_version(self, file_id: int, version: int, expected: str, status: str) -> bool:
        params = {"_file_id": file_id, "_version": version, "_expected": expected}
        return _MOVE_VERSION.run(self.conn, {**params, "status": status}) == 1

    def list_versions(self, file_id: int, page: Page) -> tuple[list[FileVersion], int]:
        where = file_versions.c.file_id == file_id
        total = self.conn.execute(
            select(func.count()).select_from(file_versions).where(where)
        ).scalar_one()
        stmt = (
            select(file_versions)
            .where(where)
            .order_by(file_versions.c.version.desc())
            .limit(page.size)
            .offset(page.offset)
        )
        return [_version(r) for r in self.conn.execute(stmt)], int(total)

    def next_node_id(self) -> int:
        row = _NEXT_NODE_ID.returning(self.conn, {})
        assert row is not None
        return int(row[0])

    # packages -------------------------------------------------------------------------
    def insert_package(self, package: Package) -> int:
        values = {a: getattr(package, a) for a in _PACKAGE_ATTRS}
        row = _INSERT_PACKAGE.returning(self.conn, values)
        assert row is not None
        package.id = int(row[0])
        if package.items:
            _INSERT_ITEMS.many(
                self.conn,
                [
                    {
                        "package_id": package.id,
                        "file_id": i.file_id,
                        "file_version": i.file_version,
                        "status": i.status,
                    }
                    for i in package.items
                ],
            )
        return package.id

    def _items(self, package_id: int) -> list[Item]:
        rows = _PACKAGE_ITEMS.rows(self.conn, {"id": package_id})
        return [Item(file_id, version, status) for file_id, version, status in rows]

    def package(self, package_id: int) -> Package | None:
        rows = _PACKAGE_WITH_ITEMS.dicts(self.conn, {"id": package_id})
        return _package(rows[0], _items_of(rows)) if rows else None

    def lock_package(self, package_id: int) -> Package | None:
        if not self._locking:  # SQLite: a write transaction is already the only writer
            return self.package(package_id)
        row = self.conn.execute(_PACKAGE_FOR_UPDATE, {"_id": package_id}).first()
        return _package(row, self._items(package_id)) if row else None

    def move_package(
        self,
        package_id: int,
        expected_status: int,
        expected_hold: str | None,
        changes: Mapping[str, object],
    ) -> bool:
        """A compare-and-set of the changed columns only (core.lifecycle)."""
        if not changes:
            return True
        values = {k: _plain(v) for k, v in changes.items()}
        values.update(_id=package_id, _status=int(expected_status))
        if expected_hold is None:
            return _MOVE_PACKAGE_UNHELD.run(self.conn, values) == 1
        return _MOVE_PACKAGE_HELD.run(self.conn, {**values, "_hold": expected_hold}) == 1

    def set_item_status(self, package_id: int, file_id: int, status: int) -> None:
        params = {"_package_id": package_id, "_file_id": file_id, "status": int(status)}
        _UPDATE_ITEM.run(self.conn, params)

    def list_packages(
        self, project_id: int, flt: DeploymentFilter, page: Page
    ) -> tuple[list[Package], int]:
        cond = [packages.c.project_id == project_id]
        keys = {"status": flt.status, "creator_id": flt.creator or None}
        among = None
        order = [packages.c.create_time.desc(), packages.c.id.desc()]
        if flt.creator:
            cond.append(packages.c.creator_id == flt.creator)
        if flt.executor:
            cond.append(packages.c.handler_id == flt.executor)
        if flt.keyword:
            among = fts_candidates(
                self.conn,
                packages,
                flt.keyword,
                lambda: counted(self.conn, package_counts, project_id, keys),
            )
            if among is None or not fts_exact(flt.keyword):  # else the FTS match decides
                cond.append(packages.c.name.like(_like(flt.keyword), escape="\\"))
            if among is not None:
                cond.append(among)
        if flt.status is not None:
            cond.append(packages.c.status == flt.status)
        if flt.end_create_time is not None:
            cond.append(packages.c.create_time <= flt.end_create_time)
        if flt.end_execute_time is not None:
            cond.append(packages.c.execute_time <= flt.end_execute_time)
        where = and_(*cond)
        if among is not None:  # a few FTS candidates: ids once, then the page's rows
            few, total = page_of_few(self.conn, packages, where, order, page)
            return [_package(r, []) for r in few], total
        if len(cond) == 1 + sum(v is not None for v in keys.values()):  # only counted keys
            total = counted(self.conn, package_counts, project_id, keys)
        else:
            total = self.conn.execute(
                select(func.count()).select_from(packages).where(where)
            ).scalar_one()
        stmt = select(packages).where(where).order_by(*order).limit(page.size).offset(page.offset)
        rows = list(self.conn.execute(stmt))
        return [_package(r, []) for r in rows], int(total)

    def claim_ready_package(self) -> Claimed | None:
        """The oldest READY, unheld package, locked for this transaction (with test
        control, also not held by a test-control gate; see :class:`SqlStore`), and whether
        the worker should claim again at once: on SQLite when a second row of the same query
        was ready; on PostgreSQL always, since another process's claim that found this
        package's workspace locked skipped what arrived meanwhile (and there an empty claim
        takes no database-wide lock).

        SQLite: the caller's ``BEGIN IMMEDIATE`` already makes this the only writer.
        PostgreSQL: the row is taken with ``FOR UPDATE SKIP LOCKED`` and the workspace with a
        transaction-scoped advisory lock, so packages of one workspace run one at a time in
        ID order (a later package may depend on what an earlier one deploys) while other
        workspaces proceed in parallel. Locks end with the transaction — also when the
        worker process dies, which is what makes a crashed package available again.
        """
        claim = self._claim
        now = {"_now": now_ms()} if claim.gated else {}
        if self.conn.dialect.name != "postgresql":
            rows = claim.first.dicts(self.conn, now)
            if not rows:
                return None
            package = _package(rows[0], self._items(rows[0]["id"]))
            return Claimed(package, more=len(rows) > 1)
        busy: set[int] = set()
        for package_id, project_id in claim.candidates.rows(self.conn, now):
            if project_id in busy:
                continue
            rows = claim.take.dicts(self.conn, {"_id": package_id, **now})
            if rows:
                return Claimed(_package(rows[0], _items_of(rows)), more=True)
            busy.add(project_id)  # its workspace runs a package elsewhere (or this one does)
        return None

    # checks, extensions and approvals -------------------------------------------------
    def checks(self) -> SqlCheckStore:
        return SqlCheckStore(self.conn, self.box)

    # test control (issue 9) -------------------------------------------------------------
    def control(self) -> SqlControlStore:
        return SqlControlStore(self.conn)

    # pipeline runs (2024-05-18) ----------------------------------------------------------
    def pipeline(self) -> SqlRunStore:
        return SqlRunStore(self.conn)

    # cross-workspace runs (2024-05-18, repo_cross.py) -----------------------------------
    def cross(self) -> SqlCrossStore:
        return SqlCrossStore(self.conn)

    # nodes ----------------------------------------------------------------------------
    def node(self, env: int, node_id: int) -> Node | None:
        row = self.conn.execute(
            select(nodes).where(nodes.c.env == env, nodes.c.node_id == node_id)
        ).first()
        return self._node(row) if row else None

    def _node(self, row: Row[Any]) -> Node:
        m = row._mapping
        edges = self.conn.execute(
            select(node_edges.c.kind, node_edges.c.name)
            .where(node_edges.c.env == m["env"], node_edges.c.node_id == m["node_id"])
            .order_by(node_edges.c.position)
        ).all()
        return Node(
            node_id=m["node_id"],
            env=m["env"],
            project_id=m["project_id"],
            file_id=m["file_id"],
            file_version=m["file_version"],
            name=m["name"],
            file_type=m["file_type"],
            owner=m["owner"],
            content=m["content"],
            config=orjson.loads(m["config"]),
            inputs=[e.name for e in edges if e.kind == "in"],
            outputs=[e.name for e in edges if e.kind == "out"],
            modify_time=m["modify_time"],
            status=m["status"],
        )

    def upsert_node(self, node: Node) -> None:
        self.delete_node(node.env, node.node_id)
        _INSERT_NODE.run(
            self.conn,
            {
                "env": node.env,
                "node_id": node.node_id,
                "project_id": node.project_id,
                "file_id": node.file_id,
                "file_version": node.file_version,
                "name": node.name,
                "file_type": node.file_type,
                "owner": node.owner,
                "content": node.content,
                "config": _dumps(node.config),
                "status": node.status,
                "modify_time": node.modify_time,
            },
        )
        edges = [("in", n) for n in node.inputs] + [("out", n) for n in node.outputs]
        if edges:
            _INSERT_EDGES.many(
                self.conn,
                [
                    {
                        "project_id": node.project_id,
                        "env": node.env,
                        "kind": kind,
                        "name": name,
                        "node_id": node.node_id,
                        "position": position,
                    }
                    for position, (kind, name) in enumerate(edges)
                ],
            )

    def delete_node(self, env: int, node_id: int) -> None:
        _DELETE_NODE.run(self.conn, {"_env": env, "_node_id": node_id})
        _DELETE_EDGES.run(self.conn, {"_env": env, "_node_id": node_id})

    def producers(self, project_id: int, env: int, output: str) -> list[int]:
        stmt = select(node_edges.c.node_id).where(
            node_edges.c.project_id == project_id,
            node_edges.c.env == env,
            node_edges.c.kind == "out",
            node_edges.c.name == output,
        )
        return [int(n) for n in self.conn.execute(stmt).scalars()]

    def consumers(self, project_id: int, env: int, outputs: Sequence[str]) -> list[Node]:
        if not outputs:
            return []
        ids = select(node_edges.c.node_id).where(
            node_edges.c.project_id == project_id,
            node_edges.c.env == env,
            node_edges.c.kind == "in",
            node_edges.c.name.in_(list(outputs)),
        )
        stmt = select(nodes).where(nodes.c.env == env, nodes.c.node_id.in_(ids))
        return [self._node(r) for r in self.conn.execute(stmt.order_by(nodes.c.node_id))]


class SqlStore:
    """Implements :class:`openworks.core.ports.Store` over one SQLAlchemy engine.

    A thread may keep a connection of its own for its read transactions
    (:meth:`keep_connection`): the API's event loop does, for the SQLite reads it runs
    inline, which saves a pool checkout and reset (about 70 µs) per request. Writes, nested
    transactions and every other thread use the pool.
    """

    def __init__(
        self, engine: Engine, box: SecretBox | None = None, *, test_control: bool = False
    ) -> None:
        self.engine = engine
        self.box = box
        # The worker's claim, chosen once: only with test control (--control) does it also
        # wait for test-control gates (see openworks.core.test_control).
        self.test_control = test_control
        self._claim = _CLAIM_TEST_CONTROL if test_control else _CLAIM
        self._kept: dict[int, Connection] = {}

    def keep_connection(self) -> None:
        """Hold a pooled connection for the calling thread's read transactions (file-based
        SQLite only: an in-memory database has one connection that every thread shares)."""
        if isinstance(self.engine.pool, StaticPool) or self.engine.dialect.name != "sqlite":
            return
        self._kept.setdefault(threading.get_ident(), self.engine.connect())

    def release_connection(self) -> None:
        """Give the calling thread's kept connection back to the pool."""
        conn = self._kept.pop(threading.get_ident(), None)
        if conn is not None:
            conn.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[SqlTx]:
        """One transaction; a constraint violation raced in by a concurrent request becomes
        the domain error ``Invalid.Conflict`` (retryable) instead of a server error.

        ``write=False`` promises what READ COMMITTED gives, no more: each statement sees
        the data committed when it starts (not one snapshot for the whole transaction).
        On PostgreSQL its plain SELECTs run without BEGIN/COMMIT; its first write or
        locking read through SQLAlchemy opens a real transaction that the rest joins, and
        one on the raw driver is refused (store/pg_pool.py). On SQLite it is one WAL
        snapshot, except on a thread's kept connection (the event loop's inline reads):
        there, as on PostgreSQL, hot reads run without BEGIN/COMMIT (:meth:`_read_kept`).
        Anything that writes asks for ``write=True``."""
        kept = None if write else self._kept.get(threading.get_ident())
        if kept is not None and not kept.in_transaction() and not kept.invalidated:
            yield from self._read_kept(kept)
            return
        with self.engine.connect() as conn:
            yield from self._run(conn, write)

    def _read_kept(self, conn: Connection) -> Iterator[SqlTx]:
        """A read on the kept SQLite connection: no transaction is opened for it, so each
        hot read (store/hot.py, straight on the driver) is a statement of its own in
        autocommit; a statement through SQLAlchemy opens a real transaction on the way
        (autobegin, then BEGIN from store/db.py), ended here. Two transaction objects and
        the BEGIN / COMMIT round trips were ~10 % of an inline GetDeployment."""
        conn.info["write"] = False
        try:
            yield SqlTx(conn, self.box, self._claim)
        finally:
            if conn.in_transaction():
                conn.rollback()  # a read: nothing to keep

    def _run(self, conn: Connection, write: bool) -> Iterator[SqlTx]:
        conn.info["write"] = write
        try:
            with conn.begin():
                yield SqlTx(conn, self.box, self._claim)
        except IntegrityError as err:
            raise Invalid(
                "Invalid.Conflict",
                "A concurrent request changed the same object; retry the call.",
            ) from err
