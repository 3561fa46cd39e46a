"""The ``openworks`` command: serve the API, manage users.

Every command that touches the database takes ``--database-url`` and honours
``OPENWORKS_DATABASE_URL``.
"""

from __future__ import annotations

import json
import logging
import sys

import click

from .config import ConfigError, Settings

__all__ = ["main"]

DATABASE_URL = click.option(
    "--database-url",
    envvar="OPENWORKS_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (sqlite:///path or postgresql://...). Default: an SQLite file in "
    "$XDG_DATA_HOME/openworks/.",
)


@click.group()
@click.version_option(package_name="openworks")
def main() -> None:
    """openworks: a self-hostable, DataWorks-compatible deployment service."""


@main.command()
@click.option("--host", envvar="OPENWORKS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="OPENWORKS_PORT", default=8470, type=int, show_default=True)
@DATABASE_URL
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, database_url: str | None, log_level: str) -> None:
    """Run the API server (with the package worker in the same process)."""
    import uvicorn

    from .app import build_service, create_app

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


@main.group()
def users() -> None:
    """Users of the root account."""


@users.command("create")
@click.argument("name")
@DATABASE_URL
def users_create(name: str, database_url: str | None) -> None:
    """Add a user with an AccessKey; prints {"UserId", "AccessKeyId", "AccessKeySecret"}."""
    from .store import make_engine, migrate
    from .store.identity import create_user, ensure_account

    settings = Settings.from_env(database_url=database_url)
    engine = make_engine(settings.database_url)
    migrate(engine)
    ensure_account(engine, settings.account_id)
    try:
        user_id, key_id, secret = create_user(engine, settings.account_id, name)
    except ValueError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(1)
    click.echo(json.dumps({"UserId": user_id, "AccessKeyId": key_id, "AccessKeySecret": secret}))
