"""``openworks users``: users of the root account and their AccessKeys."""

from __future__ import annotations

import json
import sys

import click

from . import main
from .common import DATABASE_URL, open_database

__all__ = ["users"]


@main.group()
def users() -> None:
    """Users of the root account."""


@users.command("create")
@click.argument("name")
@DATABASE_URL
def users_create(name: str, database_url: str | None) -> None:
    """Add a user with an AccessKey; prints {"UserId", "AccessKeyId", "AccessKeySecret"}."""
    from openworks.store.identity import create_user

    settings, engine = open_database(database_url)
    try:
        user_id, key_id, secret = create_user(engine, settings.account_id, name)
    except ValueError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(1)
    click.echo(json.dumps({"UserId": user_id, "AccessKeyId": key_id, "AccessKeySecret": secret}))
