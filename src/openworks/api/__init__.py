"""The DataWorks 2020-05-18 surface: the operation table and thin handlers.

Importing this package registers every implemented handler.
"""

from . import deployments, files, projects
from . import extensions as extensions
from . import folders as folders
from . import members as members
from . import nodes as nodes
from .registry import HANDLERS, Call, dispatch
from .spec import API_VERSION, Operation, operations

__all__ = [
    "API_VERSION",
    "HANDLERS",
    "Call",
    "Operation",
    "deployments",
    "dispatch",
    "files",
    "operations",
    "projects",
]
