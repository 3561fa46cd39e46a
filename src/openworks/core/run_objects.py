"""What a pipeline run deploys: a node, or a workflow definition and its nodes.

::

    ObjectIds[0] ─▶ a live file of the workspace?  ─▶ Target Node (that file)
                 └▶ a business flow of the workspace? ─▶ Target WorkflowDefinition
                                                       (its live nodes, in id order)
                 else 404 InvalidObject.NotFound

File ids and business ids never collide: both are drawn from sequences seeded far apart
(files from 500,000,001, businesses from 80,001; migrations 0001 and 0002), so an id is
looked up as a file first, then as a workflow.

Per stage, the files a run packages (read when the stage runs, so a node added to the
workflow meanwhile is included)::

    BUILD_PACKAGE     fails if a node is deleted or busy (in a package), or none of the
                      nodes has anything to deploy
    to commit         nodes with an uncommitted change (CommitStatus 0)
    to deploy (1→2)   nodes whose latest version is committed, not yet in production
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFound
from .folder_model import Business
from .model import DeletedStatus, File, PipelineRun, Project, VersionStatus
from .ports import FileFilter, Page, Tx

__all__ = ["NODE", "WORKFLOW", "Target", "find_target", "run_target"]

NODE, WORKFLOW = "Node", "WorkflowDefinition"
_SCAN = 500


@dataclass(frozen=True, slots=True)
class Target:
    """The object of a run and the files it stands for."""

    kind: str  # NODE | WORKFLOW
    id: int
    name: str
    files: tuple[File, ...]
    business: Business | None = None

    @property
    def label(self) -> str:
        what = "node" if self.kind == NODE else "workflow"
        return f"{what} {self.name} ({self.id})"

    def blocker(self, tx: Tx) -> str | None:
        """Why nothing can be packaged for the object now (deleted, busy), or None."""
        if self.kind == NODE and (not self.files or not _live(self.files[0])):
            return f"The node {self.id} has been deleted."
        for file in self.files:
            busy = tx.busy_version(file.id)
            if busy is not None:
                return (
                    f"Version {busy.version} of node {file.name} ({file.id}) is still in a "
                    "deployment package; wait for it to finish."
                )
        return None

    def build_problem(self, tx: Tx) -> str | None:
        """BUILD_PACKAGE: why there is nothing to deploy, or None."""
        problem = self.blocker(tx)
        if problem is not None:
            return problem
        if any(f.commit_status == 0 or _undeployed(tx, f) for f in self.files):
            return None
        if self.kind == WORKFLOW:
            if not self.files:
                return f"Nothing to deploy: the workflow {self.name} ({self.id}) has no nodes."
            return (
                f"Nothing to deploy: every node of the workflow {self.name} ({self.id}) is "
                "already in production with no change since."
            )
        file = self.files[0]
        return (
            f"Nothing to deploy: node {file.name} ({file.id}) has no change since version "
            f"{file.current_version}, which is already in production."
        )

    def to_commit(self) -> list[File]:
        """The files with an uncommitted change."""
        return [f for f in self.files if f.commit_status == 0]

    def to_deploy(self, tx: Tx) -> list[File]:
        """The files whose latest committed version is not yet in production (for a node:
        the node, which DeployFile's rules then accept or refuse)."""
        if self.kind == NODE:
            return list(self.files)
        return [f for f in self.files if _undeployed(tx, f)]


def _live(file: File | None) -> bool:
    return file is not None and file.deleted_status == DeletedStatus.NORMAL


def _undeployed(tx: Tx, file: File) -> bool:
    latest = tx.latest_version(file.id)
    return latest is not None and latest.status == VersionStatus.COMMITTED


def _nodes(tx: Tx, project_id: int, business_id: int) -> tuple[File, ...]:
    found: list[File] = []
    number = 1
    while True:
        batch, total = tx.list_files(project_id, FileFilter(), Page(number, _SCAN))
        found.extend(f for f in batch if f.business_id == business_id)
        if number * _SCAN >= total or not batch:
            return tuple(found)
        number += 1


def _workflow(tx: Tx, project: Project, business: Business) -> Target:
    nodes = _nodes(tx, project.id, business.id)
    return Target(WORKFLOW, business.id, business.name, nodes, business)


def find_target(tx: Tx, project: Project, object_ids: list[str]) -> Target:
    """The object ``ObjectIds`` names (its first id), or 404 ``InvalidObject.NotFound``."""
    first = object_ids[0].strip() if object_ids else ""
    number = int(first) if first.isascii() and first.isdigit() and len(first) < 19 else None
    file = tx.file(number) if number is not None else None
    if file is not None and file.project_id == project.id and _live(file):
        return Target(NODE, file.id, file.name, (file,))
    business = tx.business(number) if number is not None else None
    if business is not None and business.project_id == project.id:
        return _workflow(tx, project, business)
    raise NotFound(
        "InvalidObject.NotFound",
        f"No object to deploy was found: {object_ids} (ObjectIds takes the ID of a node or "
        f"a workflow definition of workspace {project.identifier}; only the first one is "
        "deployed).",
    )


def run_target(tx: Tx, project: Project, run: PipelineRun) -> Target:
    """The run's object as it is now (a node deleted meanwhile: its last state or none)."""
    if run.object_type == WORKFLOW:
        business = tx.business(run.object_id)
        if business is None:
            return Target(WORKFLOW, run.object_id, str(run.object_id), ())
        return _workflow(tx, project, business)
    file = tx.file(run.object_id)
    if file is None:
        return Target(NODE, run.object_id, str(run.object_id), ())
    return Target(NODE, file.id, file.name, (file,))
