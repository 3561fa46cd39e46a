"""``openworks extensions``: register external check extensions (webhooks).

``add`` and ``remove`` are recorded in ``openworks audit`` (source ``cli``; the secret as
``***``).
"""

from __future__ import annotations

import json

import click

from openworks.config import env_flag
from openworks.core.check_ports import Extension
from openworks.core.extensions import (
    ALLOW_ANY_ADDRESS_ENV,
    add_extension,
    list_extensions,
    remove_extension,
)
from openworks.core.ports import Page

from . import main
from .common import DATABASE_URL
from .domain import domain_errors, open_core, open_session, project_ref, run

__all__ = ["MIN_SECRET_LENGTH", "extensions"]

# what openworks.core.extensions refuses below (tests/unit/cli/test_cli_newcomer.py keeps
# the two in step)
MIN_SECRET_LENGTH = 8


def _document(ext: Extension) -> dict[str, object]:
    return {
        "ExtensionCode": ext.code,
        "ExtensionName": ext.name,
        "Events": ext.events,
        "Url": ext.url,
        "Workspaces": ext.project_ids or "all",
        "Owner": ext.owner,
    }


@main.group()
def extensions() -> None:
    """Extensions that receive commit/deploy/delete events and answer OK, WARN or FAIL."""


@extensions.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--events", required=True, help="Comma-separated: commit-file, deploy-file, delete-file."
)
@click.option("--url", required=True, help="Where events are POSTed.")
@click.option(
    "--secret",
    required=True,
    help=f"Key of the X-Openworks-Signature HMAC: at least {MIN_SECRET_LENGTH} characters.",
)
@click.option(
    "--workspace",
    "workspaces",
    multiple=True,
    help="Workspace ID or identifier (repeatable); none: every workspace of the account.",
)
@click.option("--description", default="", help="Free text.")
@DATABASE_URL
def extensions_add(
    code: str,
    name: str,
    events: str,
    url: str,
    secret: str,
    workspaces: tuple[str, ...],
    description: str,
    database_url: str | None,
) -> None:
    """Register extension CODE; prints it as JSON (without the secret).

    A URL whose host is, or resolves to, a link-local or unspecified address is refused
    unless OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS=1 is set.
    """
    session = open_session(database_url)
    allow_any_address = env_flag(ALLOW_ANY_ADDRESS_ENV)
    refs = [project_ref(w) for w in workspaces]
    params = {
        "ExtensionCode": code,
        "ExtensionName": name,
        "Events": events,
        "Url": url,
        "Secret": secret,  # stored as "***"
        "Workspaces": list(workspaces),
        "Description": description,
    }

    def add() -> Extension:
        with session.audited("extensions.add", params) as change:
            ext = add_extension(
                session.core,
                session.principal,
                code,
                name,
                events.split(","),
                url,
                secret,
                refs,
                description,
                allow_any_address=allow_any_address,
            )
            if len(ext.project_ids) == 1:
                change.workspace(ext.project_ids[0])
            change.result.update(Workspaces=ext.project_ids or "all")
            return ext

    ext = run(add)
    click.echo(json.dumps(_document(ext)))


@extensions.command("list")
@DATABASE_URL
def extensions_list(database_url: str | None) -> None:
    """One JSON line per extension of the account."""
    core, principal = open_core(database_url)
    page = Page(1, 100)
    while True:
        with domain_errors():
            found, total = list_extensions(core, principal, page)
        for ext in found:
            click.echo(json.dumps(_document(ext)))
        if page.number * page.size >= total:
            break
        page = Page(page.number + 1, page.size)


@extensions.command("remove")
@click.argument("code")
@DATABASE_URL
def extensions_remove(code: str, database_url: str | None) -> None:
    """Unregister CODE; checks it still owes time out as FAIL."""
    session = open_session(database_url)

    def remove() -> None:
        with session.audited("extensions.remove", {"ExtensionCode": code}):
            remove_extension(session.core, session.principal, code)

    run(remove)
    click.echo(f"removed {code}")
