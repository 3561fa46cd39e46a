"""Executing a package: is each item still valid for its target, and applying it.

Called only by :mod:`openworks.core.lifecycle`, which owns every package, item and version
transition and decides SUCCESS or FAILED from what this module says (its ``execute``;
``delete_for_good`` is re-exported there)::

    load(tx, package)                     ─▶ the workspace, each item's file version and
                                             its file (read once: the lifecycle settles
                                             the file it read here)
    first_failure(tx, package, …)         ─▶ (item, reason) of the first item that cannot go,
       1. stale, every item first:           or None; nothing is written
          the file deleted for good, or a newer version already in the target
          environment (deployed to PROD; committed to DEV) ─▶ "The package is stale: …"
       2. then the environment, per item, given the rest of the package:
          a deletion whose node still has children there (not removed by this package);
          an input no node there (or in this package) produces
    apply_all(tx, project, versions, env) ─▶ each version's node upserted (or deleted) in
                                             the environment (the per-environment node
                                             rows, with inputs and outputs)
    delete_for_good(tx, project, file, …)  ─▶ an Offline run's DeleteNode stage: the file
                                             deleted for good, its DEV node removed

Every item is validated before any is applied, so a package never half-applies.
:func:`node_outputs` (a node's output names) is also what the dependency graph of the
2020 and 2024 reads uses.
"""

from __future__ import annotations

from typing import NamedTuple

from .files import split_names
from .model import (
    ChangeType,
    DeletedStatus,
    Env,
    File,
    FileVersion,
    Item,
    Node,
    Package,
    Project,
    VersionStatus,
)
from .ports import Tx

__all__ = [
    "STALE",
    "Loaded",
    "apply_all",
    "delete_for_good",
    "first_failure",
    "load",
    "node_outputs",
]

STALE = "The package is stale"

_ENV_NAMES = {Env.LOCAL: "local", Env.DEV: "development", Env.PROD: "production"}


def node_outputs(project: Project, name: str, config: dict[str, object]) -> list[str]:
    """The automatic output ``<workspace>.<node>`` followed by the declared OutputList."""
    auto = f"{project.identifier}.{name}"
    declared = split_names(str(config.get("OutputList") or ""))
    return [auto, *(o for o in declared if o != auto)]


def _stale(tx: Tx, package: Package, version: FileVersion, file: File | None) -> str | None:
    """Why the item no longer matches its target (file gone, newer version there), or None."""
    if file is None or file.deleted_status == DeletedStatus.DELETED:
        return f"{STALE}: the file {version.file_id} has been deleted."
    env = Env(package.to_env)
    arrived = {VersionStatus.DEPLOYED}
    if env == Env.DEV:
        arrived |= {VersionStatus.COMMITTED, VersionStatus.DEPLOYING}
    for newer in tx.versions_after(version.file_id, version.version):
        if newer.status in arrived:
            what = "the deletion" if newer.change_type == ChangeType.DELETE else "version"
            return (
                f"{STALE}: {what} {newer.version} of file {version.file_id} already reached "
                f"the {_ENV_NAMES[env]} environment; version {version.version} would "
                "replace it with an older one. Deploy the latest version instead."
            )
    return None


def _problem(
    tx: Tx,
    project: Project,
    version: FileVersion,
    env: Env,
    produced_here: set[str],
    removed_nodes: set[int],
) -> str | None:
    """Why this item cannot go into ``env``, or None."""
    where = _ENV_NAMES[env]
    if version.change_type == ChangeType.DELETE:
        current = tx.node(env, version.node_id)
        if current is None:
            return None
        children = [
            n
            for n in tx.consumers(project.id, env, current.outputs)
            if n.node_id != version.node_id and n.node_id not in removed_nodes
        ]
        if children:
            names = ", ".join(sorted(f"{c.name} ({c.node_id})" for c in children))
            return (
                f"Node {version.name} ({version.node_id}) still has children in the {where} "
                f"environment: {names}."
            )
        return None
    for wanted in split_names(str(version.config.get("InputList") or "")):
        if wanted == project.root_output or wanted in produced_here:
            continue
        producers = [p for p in tx.producers(project.id, env, wanted) if p != version.node_id]
        if not [p for p in producers if p not in removed_nodes]:
            return (
                f"The output name {wanted} of the dependent ancestor node of {version.name} does "
                f"not exist in the {where} environment: no node there produces it."
            )
    return None


def _apply(tx: Tx, project: Project, version: FileVersion, env: Env, now: int) -> None:
    if version.change_type == ChangeType.DELETE:
        tx.delete_node(env, version.node_id)
        return
    tx.upsert_node(
        Node(
            node_id=version.node_id,
            env=env,
            project_id=project.id,
            file_id=version.file_id,
            file_version=version.version,
            name=version.name,
            file_type=version.file_type,
            owner=version.owner,
            content=version.content,
            config=dict(version.config),
            inputs=split_names(str(version.config.get("InputList") or "")),
            outputs=node_outputs(project, version.name, version.config),
            modify_time=now,
        )
    )


class Loaded(NamedTuple):
    """What :func:`load` read: the workspace, and per item (in item order) its file version
    and its file (None: gone). Nothing else in the package's execution writes a file row
    before the lifecycle settles it, so the lifecycle settles these very objects."""

    project: Project
    versions: list[FileVersion]
    files: list[File | None]


def load(tx: Tx, package: Package) -> Loaded:
    """The package's workspace, and the file version and file of each item, in item order
    (a write transaction on PostgreSQL locks each file row here)."""
    project = tx.project(package.project_id)
    versions: list[FileVersion] = []
    for item in package.items:
        version = tx.version(item.file_id, item.file_version)
        if version is None or project is None:
            raise RuntimeError(f"package {package.id} refers to a missing file version")
        versions.append(version)
    if project is None:
        raise RuntimeError(f"package {package.id} refers to a missing workspace")
    return Loaded(project, versions, [tx.file(v.file_id) for v in versions])


def first_failure(tx: Tx, package: Package, loaded: Loaded) -> tuple[Item, str] | None:
    """The first item that cannot go into the package's target, with why; None if all can."""
    project, versions, files = loaded
    for item, version, file in zip(package.items, versions, files, strict=True):
        reason = _stale(tx, package, version, file)
        if reason is not None:
            return item, reason
    env = Env(package.to_env)
    produced: set[str] = set()
    removed: set[int] = set()
    for version in versions:
        if version.change_type == ChangeType.DELETE:
            removed.add(version.node_id)
        else:
            produced.update(node_outputs(project, version.name, version.config))
    for item, version in zip(package.items, versions, strict=True):
        own = produced - set(node_outputs(project, version.name, version.config))
        reason = _problem(tx, project, version, env, own, removed - {version.node_id})
        if reason is not None:
            return item, reason
    return None


def apply_all(tx: Tx, project: Project, versions: list[FileVersion], env: Env, now: int) -> None:
    """Put every version into the environment (after :func:`first_failure` found none)."""
    for version in versions:
        _apply(tx, project, version, env, now)


def delete_for_good(tx: Tx, project: Project, file: File, user_id: str, now: int) -> str | None:
    """The DeleteNode stage of an Offline run (after production removed the node): the
    file is deleted for good and, in a standard workspace, its development node removed.
    Why it cannot be, or None."""
    current = tx.node(Env.DEV, file.node_id) if file.node_id is not None else None
    if current is not None:
        children = [
            n
            for n in tx.consumers(project.id, Env.DEV, current.outputs)
            if n.node_id != current.node_id
        ]
        if children:
            names = ", ".join(sorted(f"{c.name} ({c.node_id})" for c in children))
            return f"Node {file.name} still has children in the development environment: {names}."
        tx.delete_node(Env.DEV, current.node_id)
    file.deleted_status = DeletedStatus.DELETED
    file.last_edit_user, file.last_edit_time = user_id, now
    tx.update_file(file)
    return None
