"""Repository method for the files of deployment packages (2024 ListDeploymentPackageFiles).

Mixed into :class:`openworks.store.repo.SqlTx`; uses ``self.conn``. One row per package
item, joined to the file version it carries, its file and the committer's name::

    packages ─┬─ package_items ── file_versions (file_id, version)
              │                        └── files (prod_version, business_id)
              └─ users (commit_user → name, outer)
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, and_, func, select

from openworks.core.model import FileVersion, Item, Package
from openworks.core.package_file_model import PackageFile, PackageFileFilter
from openworks.core.ports import Page

from .schema import file_versions, files, package_items, packages, users

__all__ = ["PackageFilesRepo"]

_JOINED = (
    packages.join(package_items, package_items.c.package_id == packages.c.id)
    .join(
        file_versions,
        and_(
            file_versions.c.file_id == package_items.c.file_id,
            file_versions.c.version == package_items.c.file_version,
        ),
    )
    .join(files, files.c.id == package_items.c.file_id)
    .outerjoin(users, users.c.id == file_versions.c.commit_user)
)
# the columns the dataclasses hold (a table may carry more, e.g. added by later migrations)
_PACKAGE_ATTRS = tuple(f.name for f in fields(Package) if f.name != "items")
_VERSION_ATTRS = tuple(f.name for f in fields(FileVersion))
_PACKAGE_COLUMNS = [packages.c[a].label(f"p_{a}") for a in _PACKAGE_ATTRS]
_VERSION_COLUMNS = [file_versions.c[a].label(f"v_{a}") for a in _VERSION_ATTRS]


def _conditions(project_id: int, flt: PackageFileFilter) -> list[Any]:
    cond: list[Any] = [packages.c.project_id == project_id]
    if flt.file_ids:
        cond.append(package_items.c.file_id.in_(list(flt.file_ids)))
    if flt.file_name:
        cond.append(func.lower(file_versions.c.name) == flt.file_name.lower())
    if flt.file_type is not None:
        cond.append(file_versions.c.file_type == flt.file_type)
    if flt.change_type is not None:
        cond.append(file_versions.c.change_type == flt.change_type)
    if flt.commit_user:
        cond.append(file_versions.c.commit_user == flt.commit_user)
    if flt.commit_from is not None:
        cond.append(file_versions.c.commit_time >= flt.commit_from)
    if flt.commit_to is not None:
        cond.append(file_versions.c.commit_time < flt.commit_to)
    if flt.business_id is not None:
        cond.append(files.c.business_id == flt.business_id)
    return cond


def _row(m: RowMapping) -> PackageFile:
    package = Package(**{a: m[f"p_{a}"] for a in _PACKAGE_ATTRS})
    values = {a: m[f"v_{a}"] for a in _VERSION_ATTRS}
    values["config"] = orjson.loads(values["config"])
    item = Item(m["item_file_id"], m["item_file_version"], m["item_status"])
    version = FileVersion(**values)
    parsing = bool(m["auto_parsing"])
    return PackageFile(package, item, version, m["prod_version"], parsing, m["user_name"])


class PackageFilesRepo:
    conn: Connection

    def list_package_files(
        self, project_id: int, flt: PackageFileFilter, page: Page
    ) -> tuple[list[PackageFile], int]:
        where = and_(*_conditions(project_id, flt))
        total = self.conn.execute(select(func.count()).select_from(_JOINED).where(where))
        stmt = (
            select(
                *_PACKAGE_COLUMNS,
                *_VERSION_COLUMNS,
                package_items.c.file_id.label("item_file_id"),
                package_items.c.file_version.label("item_file_version"),
                package_items.c.status.label("item_status"),
                files.c.prod_version.label("prod_version"),
                files.c.auto_parsing.label("auto_parsing"),
                users.c.name.label("user_name"),
            )
            .select_from(_JOINED)
            .where(where)
            .order_by(packages.c.id.desc(), package_items.c.file_id)
            .limit(page.size)
            .offset(page.offset)
        )
        found = [_row(r._mapping) for r in self.conn.execute(stmt)]
        return found, int(total.scalar_one())
