"""The DataWorks API surface: operation tables per API version and thin handlers.

Each version is a generated contract (``contracts/``) read through its overlay
(``versions/``), see :mod:`openworks.api.spec`; a call runs the operation of its pair
(Action, Version), :func:`resolve`. Importing this package registers every implemented
handler (2020-05-18 in this package's modules, 2024-05-18 in :mod:`openworks.api.v2024`).
"""

from . import deployments, files, projects
from . import extensions as extensions
from . import folders as folders
from . import functions as functions
from . import members as members
from . import nodes as nodes
from . import resources as resources
from . import v2024 as v2024
from .registry import HANDLERS, Call, dispatch, handlers, resolve
from .spec import API_VERSION, VERSIONS, Operation, matrix, operations, rule_of, table

__all__ = [
    "API_VERSION",
    "HANDLERS",
    "VERSIONS",
    "Call",
    "Operation",
    "deployments",
    "dispatch",
    "files",
    "handlers",
    "matrix",
    "operations",
    "projects",
    "resolve",
    "rule_of",
    "table",
]
