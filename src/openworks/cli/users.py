"""``openworks users`` and ``openworks accounts``: tenants, their users, who is disabled.

::

    openworks accounts create NAME → {"AccountId", "UserId", "AccessKeyId", "AccessKeySecret"}
    openworks accounts list
    openworks users create NAME [--account ID] → {"UserId", "AccessKeyId", "AccessKeySecret"}
    openworks users list [--account ID] [--json]
    openworks users disable|enable NAME [--account ID]

``--account`` defaults to ``OPENWORKS_ACCOUNT_ID`` (the server's root account). Disabling a
user stops all its AccessKeys and temporary credentials within the key cache's 2 seconds.
``create``, ``disable`` and ``enable`` are recorded in ``openworks audit`` (source ``cli``,
as the account's root user; ``accounts create`` in the server's own account).
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn

import click

from . import main
from .audited import audited
from .common import DATABASE_URL, open_secrets

__all__ = ["ACCOUNT", "accounts", "fail", "users"]

ACCOUNT = click.option(
    "--account",
    "account_id",
    default=None,
    help="Account ID (default: OPENWORKS_ACCOUNT_ID, the server's root account).",
)


def fail(err: Exception) -> NoReturn:
    click.echo(f"openworks: {err}", err=True)
    sys.exit(1)


@main.group()
def accounts() -> None:
    """Accounts (tenants): each sees only its own workspaces."""


@accounts.command("create")
@click.argument("name")
@DATABASE_URL
def accounts_create(name: str, database_url: str | None) -> None:
    """A new account with its root user and one AccessKey."""
    from openworks.store.identity import IdentityError, create_account

    settings, engine, box = open_secrets(database_url)
    root = settings.account_id
    try:
        with audited(engine, root, root, "accounts.create", {"AccountName": name}) as change:
            account_id, key_id, secret = create_account(engine, box, name)
            change.result.update(AccountId=account_id, AccessKeyId=key_id)
    except IdentityError as err:
        fail(err)
    click.echo(
        json.dumps(
            {
                "AccountId": account_id,
                "UserId": account_id,
                "AccessKeyId": key_id,
                "AccessKeySecret": secret,
            }
        )
    )


@accounts.command("list")
@DATABASE_URL
def accounts_list(database_url: str | None) -> None:
    """Every account: ID and name."""
    from openworks.store.identity import list_accounts

    _settings, engine, _box = open_secrets(database_url)
    for account_id, name in list_accounts(engine):
        click.echo(f"{account_id}\t{name}")


@main.group()
def users() -> None:
    """Users of an account (the root account unless --account)."""


@users.command("create")
@click.argument("name")
@ACCOUNT
@DATABASE_URL
def users_create(name: str, account_id: str | None, database_url: str | None) -> None:
    """Add a user with an AccessKey; prints {"UserId", "AccessKeyId", "AccessKeySecret"}."""
    from openworks.store.identity import IdentityError, create_user

    settings, engine, box = open_secrets(database_url)
    account = account_id or settings.account_id
    try:
        with audited(engine, account, account, "users.create", {"UserName": name}) as change:
            user_id, key_id, secret = create_user(engine, box, account, name)
            change.result.update(UserId=user_id, AccessKeyId=key_id)
    except IdentityError as err:
        fail(err)
    click.echo(json.dumps({"UserId": user_id, "AccessKeyId": key_id, "AccessKeySecret": secret}))


@users.command("list")
@ACCOUNT
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@DATABASE_URL
def users_list(account_id: str | None, as_json: bool, database_url: str | None) -> None:
    """Users of the account: ID, name, status."""
    from openworks.store.identity import list_users

    settings, engine, _box = open_secrets(database_url)
    for user in list_users(engine, account_id or settings.account_id):
        status = "disabled" if user.disabled else "active"
        if as_json:
            click.echo(
                json.dumps(
                    {"UserId": user.id, "Name": user.name, "Status": status, "Root": user.is_root}
                )
            )
        else:
            root = "\troot" if user.is_root else ""
            click.echo(f"{user.id}\t{user.name}\t{status}{root}")


def _set_disabled(name: str, account_id: str | None, database_url: str | None, value: bool) -> None:
    from openworks.store.identity import IdentityError, set_user_disabled

    settings, engine, _box = open_secrets(database_url)
    account = account_id or settings.account_id
    action = "users.disable" if value else "users.enable"
    try:
        with audited(engine, account, account, action, {"UserName": name}) as change:
            user = set_user_disabled(engine, account, name, value)
            change.result.update(UserId=user.id)
    except IdentityError as err:
        fail(err)
    click.echo(f"user {user.name} ({user.id}) {'disabled' if value else 'enabled'}")


@users.command("disable")
@click.argument("name")
@ACCOUNT
@DATABASE_URL
def users_disable(name: str, account_id: str | None, database_url: str | None) -> None:
    """Stop every AccessKey and temporary credential of a user."""
    _set_disabled(name, account_id, database_url, True)


@users.command("enable")
@click.argument("name")
@ACCOUNT
@DATABASE_URL
def users_enable(name: str, account_id: str | None, database_url: str | None) -> None:
    """Let a disabled user's active keys work again."""
    _set_disabled(name, account_id, database_url, False)
