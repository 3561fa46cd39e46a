"""The 2024-05-18 handlers: one module per contract group, over the same core as 2020.

Importing this package registers them (``@handles(name, version="2024-05-18")``); the
operation table is the overlay :mod:`openworks.api.versions.v2024_05_18`.

=========================  =========================================================
module                     groups
=========================  =========================================================
``projects``               project (GetProject by ``Id``, Name = ProjectIdentifier)
``members``                member (RoleCodes arrays)
``legacy``                 legacy_datastudio: the 2020 file and package operations
``nodes``                  node (FlowSpec; a node is a file, its Id the FileId)
``workflows``              workflow_definition (a workflow is a business flow)
``pipeline``               pipeline (runs over the package lifecycle) and its aliases
``resources``              resource (FlowSpec; a resource file of FileType 12-15)
``functions``              function (FlowSpec; a UDF file of FileType 17)
``snapshots``              snapshot (an object's versions: committed file versions)
``tasks``                  scheduler_task (what deployment made: the 2020 nodes)
``cross_runs``             cross_project_pipeline (environments, cross-workspace runs)
=========================  =========================================================
"""

from . import (
    cross_runs,
    functions,
    legacy,
    members,
    nodes,
    pipeline,
    projects,
    resources,
    snapshots,
    tasks,
    workflows,
)

__all__ = [
    "cross_runs",
    "functions",
    "legacy",
    "members",
    "nodes",
    "pipeline",
    "projects",
    "resources",
    "snapshots",
    "tasks",
    "workflows",
]
