"""``openworks resources upload FILE --workspace ID``: resource bytes for CreateResourceFile.

::

    openworks resources upload app.jar --workspace 10001 [--sha256 HEX]
      → stores the bytes in the configured blob store (OPENWORKS_BLOB_STORE, as the server)
      → lets workspace 10001 name them, prints  <public url>/resources/sha256/<hex>

Pass the printed URL as CreateResourceFile's ``ResourceFile``: openworks reads the digest
from the path and never fetches the URL. This is the supported path for resources larger
than a request body (4 MiB); the SDKs' ``*_advance`` methods cannot reach openworks
(docs/behaviour.md, "Resources and the blob store").
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openworks.config import ConfigError
from openworks.core import resources
from openworks.core.errors import DomainError

from . import main
from .common import DATABASE_URL, INT64, open_database

__all__ = ["resources_group", "upload"]


@main.group("resources")
def resources_group() -> None:
    """Resource bytes (jar, py, archive, file) for CreateResourceFile."""


@resources_group.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "project_id", type=INT64, required=True, help="Workspace ID.")
@click.option(
    "--sha256",
    "expected",
    default=None,
    metavar="HEX",
    help="Refuse the bytes unless their SHA-256 is this (64 hex digits).",
)
@DATABASE_URL
def upload(file: Path, project_id: int, expected: str | None, database_url: str | None) -> None:
    """Store FILE for a workspace and print the URL CreateResourceFile's ResourceFile takes."""
    from openworks.store import open_core
    from openworks.store.blobs import blob_store_from

    settings, engine = open_database(database_url)
    try:
        blobs = blob_store_from(settings, engine)
    except ConfigError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    with file.open("rb") as source:
        data = source.read(blobs.max_bytes + 1)
    core = open_core(engine)
    resources.install(core, blobs)
    try:
        digest = resources.grant_upload(core, project_id, data, expected)
    except DomainError as err:
        click.echo(f"openworks: {err.code}: {err.message}", err=True)
        sys.exit(1)
    click.echo(resources.upload_url(settings.base_url(), digest))
