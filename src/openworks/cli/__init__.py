"""The ``openworks`` command line.

Each command group lives in its own module and registers itself on :data:`main`; every
command that touches the database takes ``--database-url`` and honours
``OPENWORKS_DATABASE_URL``.
"""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group()
@click.version_option(package_name="openworks")
def main() -> None:
    """openworks: a self-hostable, DataWorks-compatible deployment service."""


# Command modules register on `main` when imported.
from . import (  # noqa: E402,F401
    audit,
    console,
    deployments,
    deployments_view,  # issue 9: list / show / wait
    environments,  # issue 16: source -> target pairs for cross-workspace runs
    extensions,
    keys,
    resources,  # issue 16: resource bytes for CreateResourceFile
    serve,
    sts,
    sync,  # issue 9: ship a folder
    users,
    worker,
    workspace,
    workspaces,  # issue 17: list workspaces and their IDs
)
