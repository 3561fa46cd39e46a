"""``openworks serve``: the API server with its package worker."""

from __future__ import annotations

import logging
import sys

import click

from openworks.config import ConfigError, Settings

from . import main
from .common import DATABASE_URL

__all__ = ["serve"]


@main.command()
@click.option("--host", envvar="OPENWORKS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="OPENWORKS_PORT", default=8470, type=int, show_default=True)
@DATABASE_URL
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, database_url: str | None, log_level: str) -> None:
    """Run the API server (with the package worker in the same process)."""
    import uvicorn

    from openworks.app import build_service, create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = Settings.from_env(host=host, port=port, database_url=database_url)
    try:
        service = build_service(settings)
    except ConfigError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    click.echo(f"openworks: database {service.engine.url.render_as_string(hide_password=True)}")
    if service.dev_key:
        click.echo(
            "openworks: development AccessKey (loopback only): "
            f"AccessKeyId={settings.root_key()[0]} AccessKeySecret={settings.root_key()[1]}"
        )
    else:
        click.echo(
            f"openworks: root AccessKeyId {service.root_key_id} (account {settings.account_id})"
        )
    click.echo(f"openworks: listening on http://{host}:{port}")
    uvicorn.run(create_app(service), host=host, port=port, access_log=False, log_level=log_level)
