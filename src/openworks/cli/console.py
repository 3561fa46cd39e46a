"""``openworks users passwd NAME``: set the password a user signs in to the web console with.

The password is read twice from the terminal, or once from standard input with
``--password-stdin`` (for scripts). Only a salted scrypt hash is stored; setting a new
password signs that user out of every browser. Recorded in ``openworks audit`` (source
``cli``; never the password).
"""

from __future__ import annotations

import sys

import click

from .audited import audited
from .common import DATABASE_URL, open_database
from .users import users

__all__ = ["users_passwd"]


@users.command("passwd")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@DATABASE_URL
def users_passwd(name: str, password_stdin: bool, database_url: str | None) -> None:
    """Set the console password of user NAME (at least 8 characters)."""
    from openworks.store.console_auth import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New console password", hide_input=True, confirmation_prompt=True)
    settings, engine = open_database(database_url)
    account = settings.account_id
    try:
        with audited(engine, account, account, "users.passwd", {"UserName": name}) as change:
            user_id = set_password(engine, account, name, password)
            change.result.update(UserId=user_id)
    except ValueError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(1)
    click.echo(f"openworks: console password set for {name} (user {user_id})")
