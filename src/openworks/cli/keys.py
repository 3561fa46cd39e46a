"""``openworks keys``: AccessKeys of a user, for rotation.

::

    openworks keys create --user NAME [--account ID]  → {"AccessKeyId", "AccessKeySecret"}
    openworks keys list [--user NAME] [--account ID] [--json]   (never shows secrets)
    openworks keys disable|enable KEYID [--account ID]
    openworks keys delete KEYID [--account ID]

Rotation: create a second key, move the clients over, disable the old one, delete it when
nothing broke. A disabled key answers ``InvalidAccessKeyId.Inactive`` (within 2 seconds: the
server caches lookups that long); a deleted one ``InvalidAccessKeyId.NotFound``.
``create``, ``disable``, ``enable`` and ``delete`` are recorded in ``openworks audit``
(source ``cli``; never a secret).
"""

from __future__ import annotations

import json
import time

import click

from . import main
from .audited import audited
from .common import DATABASE_URL, open_secrets
from .users import ACCOUNT, fail

__all__ = ["keys"]


@main.group()
def keys() -> None:
    """AccessKeys of users (several may be active at once)."""


@keys.command("create")
@click.option("--user", "user", required=True, help="User name.")
@ACCOUNT
@DATABASE_URL
def keys_create(user: str, account_id: str | None, database_url: str | None) -> None:
    """One more active AccessKey for a user."""
    from openworks.store.identity import IdentityError, create_key

    settings, engine, box = open_secrets(database_url)
    account = account_id or settings.account_id
    try:
        with audited(engine, account, account, "keys.create", {"UserName": user}) as change:
            key_id, secret = create_key(engine, box, account, user)
            change.result.update(AccessKeyId=key_id)
    except IdentityError as err:
        fail(err)
    click.echo(json.dumps({"AccessKeyId": key_id, "AccessKeySecret": secret}))


@keys.command("list")
@click.option("--user", "user", default=None, help="Only this user's keys.")
@ACCOUNT
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@DATABASE_URL
def keys_list(
    user: str | None, account_id: str | None, as_json: bool, database_url: str | None
) -> None:
    """AccessKeys: ID, user, status, creation time (no secrets)."""
    from openworks.store.identity import list_keys

    settings, engine, _box = open_secrets(database_url)
    for key in list_keys(engine, account_id or settings.account_id, user):
        status = "active" if key.active else "disabled"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.create_time / 1000))
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "AccessKeyId": key.access_key_id,
                        "UserId": key.user_id,
                        "UserName": key.user_name,
                        "Status": status,
                        "CreateTime": created,
                    }
                )
            )
        else:
            click.echo(f"{key.access_key_id}\t{key.user_name}\t{status}\t{created}")


def _set_active(key_id: str, account_id: str | None, database_url: str | None, on: bool) -> None:
    from openworks.store.identity import IdentityError, set_key_active

    settings, engine, _box = open_secrets(database_url)
    account = account_id or settings.account_id
    action = "keys.enable" if on else "keys.disable"
    try:
        with audited(engine, account, account, action, {"AccessKeyId": key_id}):
            set_key_active(engine, account, key_id, on)
    except IdentityError as err:
        fail(err)
    click.echo(f"AccessKey {key_id} {'enabled' if on else 'disabled'}")


@keys.command("disable")
@click.argument("key_id")
@ACCOUNT
@DATABASE_URL
def keys_disable(key_id: str, account_id: str | None, database_url: str | None) -> None:
    """Stop an AccessKey (InvalidAccessKeyId.Inactive)."""
    _set_active(key_id, account_id, database_url, False)


@keys.command("enable")
@click.argument("key_id")
@ACCOUNT
@DATABASE_URL
def keys_enable(key_id: str, account_id: str | None, database_url: str | None) -> None:
    """Re-activate a disabled AccessKey."""
    _set_active(key_id, account_id, database_url, True)


@keys.command("delete")
@click.argument("key_id")
@ACCOUNT
@DATABASE_URL
def keys_delete(key_id: str, account_id: str | None, database_url: str | None) -> None:
    """Remove an AccessKey for good."""
    from openworks.store.identity import IdentityError, delete_key

    settings, engine, _box = open_secrets(database_url)
    account = account_id or settings.account_id
    try:
        with audited(engine, account, account, "keys.delete", {"AccessKeyId": key_id}):
            delete_key(engine, account, key_id)
    except IdentityError as err:
        fail(err)
    click.echo(f"AccessKey {key_id} deleted")
