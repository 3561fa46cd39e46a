"""Running domain functions from the command line: a Core on the database, as a user.

Commands act as the root user of the configured account unless ``--user NAME`` names
another user of that account; domain errors print ``openworks: <message>`` and exit 1.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import DomainError
from openworks.core.model import Principal
from openworks.protocol.errors import ClientError
from openworks.protocol.params import int_range, to_int

from .common import open_secrets

__all__ = ["domain_errors", "open_core", "project_ref", "run"]

T = TypeVar("T")
_DIGITS = re.compile("[0-9]+")


def project_ref(text: str) -> ProjectRef:
    """A workspace given as its numeric ID (ASCII digits only, a signed 64-bit number as
    the API's ProjectId) or its identifier (anything else: superscript or full-width
    digits make an identifier). An ID out of range is a usage error (exit 2) naming the
    option, not a traceback."""
    text = text.strip()
    if _DIGITS.fullmatch(text) is None:
        return ProjectRef(identifier=text)
    try:
        return ProjectRef(id=to_int("workspace", text, 64))
    except ClientError:  # only ASCII digits here, so the number is too large
        shown = text if len(text) <= 40 else f"{text[:40]}..."
        message = f"{shown!r} is not a workspace ID: must be between 0 and {int_range(64)[1]}."
        ctx = click.get_current_context(silent=True)
        param = _workspace_param(ctx)
        if param is None:
            raise click.BadParameter(message, ctx, param_hint="'workspace'") from None
        raise click.BadParameter(message, ctx, param) from None


def _workspace_param(ctx: click.Context | None) -> click.Parameter | None:
    """The command's workspace option or argument, to name it in an error."""
    if ctx is None:
        return None
    for param in ctx.command.params:
        if param.name in ("workspace_id", "workspace", "workspaces"):
            return param
    return None


def open_core(database_url: str | None, user_name: str | None = None) -> tuple[Core, Principal]:
    from openworks.store import SqlStore

    settings, engine, box = open_secrets(database_url)
    core = Core(SqlStore(engine, box))
    account = settings.account_id
    if not user_name:
        return core, Principal(account, account, "root")
    with core.store.transaction() as tx:
        user_id = tx.checks().user_id_by_name(account, user_name)
    if user_id is None:
        click.echo(f"openworks: no user named {user_name!r} in account {account}", err=True)
        sys.exit(1)
    return core, Principal(account, user_id, user_name)


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as err:
        click.echo(f"openworks: {err.message} ({err.code})", err=True)
        sys.exit(1)


def run(func: Callable[[], T]) -> T:
    with domain_errors():
        return func()
