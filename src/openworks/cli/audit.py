"""``openworks audit``: the trail of state-changing API calls and CLI commands.

::

    openworks audit [--since 1h | --since 2026-01-31T00:00:00Z] [--workspace ID|IDENTIFIER]
                    [--account ID | --all-accounts] [--source api|cli] [--limit N] [--json]

One line per call, oldest first: time, account, user, AccessKey (for a command:
``cli:`` and the operator, ``cli:alice@build-01``), action, workspace, HTTP status and code,
request id, redacted parameters. ``--json`` adds ``Source`` and ``Operator``. How commands
are recorded: :mod:`openworks.cli.audited`.
"""

from __future__ import annotations

import calendar
import json
import re
import time

import click

from openworks.protocol.errors import ClientError
from openworks.protocol.params import to_int

from . import main
from .common import DATABASE_URL, BoundedInt, open_secrets
from .users import ACCOUNT

__all__ = ["MAX_SINCE_DAYS", "audit", "parse_since"]

MAX_SINCE_DAYS = 36_500  # a hundred years: older than any audit trail
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DIGITS = re.compile("[0-9]+")


def parse_since(text: str, now: float | None = None) -> int:
    """``30s``/``15m``/``2h``/``7d`` ago (ASCII digits, at most :data:`MAX_SINCE_DAYS`
    days back), or an ISO-8601 UTC time → epoch milliseconds; else ``ValueError``."""
    current = time.time() if now is None else now
    number, unit = text[:-1], text[-1:]
    if _DIGITS.fullmatch(number) and unit in _UNITS:
        limit = MAX_SINCE_DAYS * 86400 // _UNITS[unit]
        try:
            amount = to_int("since", number, 64, minimum=0, maximum=limit)
        except ClientError:
            raise ValueError(
                f"{text[:40]!r} is too far back: at most {limit}{unit} ({MAX_SINCE_DAYS} days)"
            ) from None
        return int((current - amount * _UNITS[unit]) * 1000)
    if text.isascii():  # strptime would read other Unicode digits too
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                return calendar.timegm(time.strptime(text, fmt)) * 1000
            except ValueError:
                continue
    raise ValueError(f"not a time: {text[:40]!r} (try 1h, 7d or 2026-01-31T00:00:00Z)")


@main.command()
@click.option("--since", default=None, help="Only calls since: 1h, 7d or an ISO time (UTC).")
@click.option("--workspace", default=None, help="Only calls on this workspace (ID or name).")
@ACCOUNT
@click.option("--all-accounts", is_flag=True, help="Every account, not only one.")
@click.option(
    "--source",
    type=click.Choice(["api", "cli"]),
    default=None,
    help="Only API calls or only openworks commands (default: both).",
)
@click.option(
    "--limit", default=1000, show_default=True, type=BoundedInt(32, minimum=1, maximum=1_000_000)
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@DATABASE_URL
def audit(
    since: str | None,
    workspace: str | None,
    account_id: str | None,
    all_accounts: bool,
    source: str | None,
    limit: int,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Show recorded state-changing API calls and CLI commands, oldest first."""
    from openworks.store.audit import query

    try:
        since_ms = parse_since(since) if since else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--since'") from None
    settings, engine, _box = open_secrets(database_url)
    account = None if all_accounts else (account_id or settings.account_id)
    for e in query(engine, account, since_ms, workspace, limit, source):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e.time / 1000))
        stamp += f".{e.time % 1000:03d}Z"
        where = e.project_id if e.project_id is not None else (e.project_identifier or "-")
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "Time": stamp,
                        "AccountId": e.account_id,
                        "UserId": e.user_id,
                        "AccessKeyId": e.access_key_id,
                        "Action": e.action,
                        "Version": e.version,
                        "ProjectId": e.project_id,
                        "ProjectIdentifier": e.project_identifier,
                        "Status": e.status,
                        "Code": e.code,
                        "RequestId": e.request_id,
                        "Parameters": e.params,
                        "Source": e.source,
                        "Operator": e.operator,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            params = json.dumps(e.params, ensure_ascii=False, sort_keys=True)
            via = e.access_key_id or "-"
            # a 2024-05-18 call reads GetProject@2024-05-18; 2020 ones, the first API, bare
            action = e.action if e.version in (None, "2020-05-18") else f"{e.action}@{e.version}"
            if e.source != "api":
                via = f"{e.source}:{e.operator or '-'}"
            click.echo(
                f"{stamp} {e.account_id} {e.user_id} {via} {action} {where} "
                f"{e.status} {e.code} {e.request_id} {params}"
            )
