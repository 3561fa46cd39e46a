"""The files of deployment packages (2024-05-18 ListDeploymentPackageFiles).

A row is one package item with the file version it carries (see
:mod:`.package_file_model`); the workspace check is the read permission, as for
ListDeployments::

    ListDeploymentPackageFiles(filters) ─▶ resolve workspace ─▶ items of its packages,
                                          newest package first, one page
"""

from __future__ import annotations

from .access import ProjectRef, resolve_project
from .context import Core
from .model import Principal, Project
from .package_file_model import PackageFile, PackageFileFilter
from .ports import Page

__all__ = ["list_package_files"]


def list_package_files(
    core: Core, principal: Principal, ref: ProjectRef, flt: PackageFileFilter, page: Page
) -> tuple[Project, list[PackageFile], int]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        found, total = tx.list_package_files(project.id, flt, page)
        return project, found, total
