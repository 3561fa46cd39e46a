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
=========================  =========================================================
"""

from . import legacy, members, nodes, pipeline, projects, workflows

__all__ = ["legacy", "members", "nodes", "pipeline", "projects", "workflows"]
