"""The files of deployment packages (2024 ListDeploymentPackageFiles): nouns only.

One :class:`PackageFile` is one package item seen with the file version it carries::

    Package (id, status, checks) ──item──▶ FileVersion (name, type, change, commit)
                                                 └── File (production version, workflow)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import FileVersion, Item, Package

__all__ = ["PackageFile", "PackageFileFilter"]


@dataclass(frozen=True, slots=True)
class PackageFileFilter:
    """None or empty: no filter. Times are milliseconds, ``commit_to`` exclusive."""

    file_ids: Sequence[int] = ()
    file_name: str | None = None
    file_type: int | None = None
    change_type: str | None = None
    commit_user: str | None = None
    commit_from: int | None = None
    commit_to: int | None = None
    business_id: int | None = None


@dataclass(frozen=True, slots=True)
class PackageFile:
    package: Package  # without its items
    item: Item
    version: FileVersion
    prod_version: int | None
    auto_parsing: bool
    commit_user_name: str | None
