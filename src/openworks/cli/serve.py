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
@click.option(
    "--throttle",
    envvar="OPENWORKS_THROTTLE",
    default=None,
    help="Rate limits: off (default), basic, standard, professional, enterprise, or the "
    "path of a TOML file. See docs/throttling.md.",
)
@click.option(
    "--max-inflight",
    envvar="OPENWORKS_MAX_INFLIGHT",
    default=None,
    type=click.IntRange(min=0),
    help="API requests processed at once before answering Throttling.System (0 = no "
    "bound). Default 128.",
)
@click.option(
    "--redis-url",
    envvar="OPENWORKS_REDIS_URL",
    default=None,
    help="Redis for rate limits shared by several server processes (redis://host:6379/0).",
)
@click.option(
    "--control",
    is_flag=True,
    envvar="OPENWORKS_CONTROL",
    default=False,
    help="Enable the test-control API under /_openworks/ (reset, modes, forced failures; "
    "root AccessKey as HTTP Basic credentials). For test servers only.",
)
def serve(
    host: str,
    port: int,
    database_url: str | None,
    log_level: str,
    throttle: str | None,
    max_inflight: int | None,
    redis_url: str | None,
    control: bool,
) -> None:
    """Run the API server (with the package worker in the same process)."""
    import uvicorn

    from openworks.app import build_service, create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = Settings.from_env(
        host=host,
        port=port,
        database_url=database_url,
        throttle=throttle,
        max_inflight=max_inflight,
        redis_url=redis_url,
        control=control or None,
    )
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
    click.echo(
        f"openworks: throttling {settings.throttle}, at most {settings.max_inflight or 'any'} "
        "API requests in flight" + (" (limits shared through Redis)" if settings.redis_url else "")
    )
    if settings.control:
        click.echo("openworks: test control API enabled under /_openworks/ (root key only)")
    click.echo(f"openworks: listening on http://{host}:{port}")
    uvicorn.run(create_app(service), host=host, port=port, access_log=False, log_level=log_level)
