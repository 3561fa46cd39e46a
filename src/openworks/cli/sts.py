"""``openworks sts issue``: temporary credentials for a user, as STS AssumeRole hands out.

::

    openworks sts issue --user NAME [--duration 900s] [--account ID]
      → {"AccessKeyId": "STS.…", "AccessKeySecret", "SecurityToken", "Expiration"}

The SDKs take them as they are: Tea ``Config(security_token=...)``, the legacy SDK
``StsTokenCredential``. Duration: ``900``, ``900s``, ``15m`` or ``1h``, 1 s to 12 h.
Each issue is recorded in ``openworks audit`` (source ``cli``: the temporary AccessKey ID
and expiry, never the secret or token).
"""

from __future__ import annotations

import json
import time

import click

from . import main
from .audited import audited
from .common import DATABASE_URL, open_secrets
from .users import ACCOUNT, fail

__all__ = ["sts"]


@main.group()
def sts() -> None:
    """Temporary credentials (security tokens)."""


@sts.command("issue")
@click.option("--user", "user", required=True, help="User name.")
@click.option("--duration", default="900s", show_default=True, help="Lifetime: 900s, 15m, 1h.")
@ACCOUNT
@DATABASE_URL
def sts_issue(user: str, duration: str, account_id: str | None, database_url: str | None) -> None:
    """Print a temporary AccessKey, its secret and security token."""
    from openworks.security import issue_sts, parse_duration
    from openworks.store.identity import IdentityError, find_user

    try:
        seconds = parse_duration(duration)
    except ValueError as err:
        fail(err)
    settings, engine, box = open_secrets(database_url)
    account = account_id or settings.account_id
    params = {"UserName": user, "DurationSeconds": seconds}
    try:
        with audited(engine, account, account, "sts.issue", params) as change:
            found = find_user(engine, account, user)
            if found.disabled:
                raise IdentityError(f"user {user} is disabled")
            cred = issue_sts(box, found, seconds)
            change.result.update(AccessKeyId=cred.access_key_id, Expiration=cred.expiration)
    except IdentityError as err:
        fail(err)
    click.echo(
        json.dumps(
            {
                "AccessKeyId": cred.access_key_id,
                "AccessKeySecret": cred.access_key_secret,
                "SecurityToken": cred.security_token,
                "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cred.expiration)),
            }
        )
    )
