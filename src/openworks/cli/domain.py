"""Running domain functions from the command line: a Core on the database, as a user.

Commands act as the root user of the configured account unless ``--user NAME`` names
another user of that account; domain errors print ``openworks: <message>`` and exit 1.
Commands that change something run under :meth:`Session.audited` (see
:mod:`openworks.cli.audited`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from openworks.core.access import ProjectRef, resolve_project
from openworks.core.context import Core
from openworks.core.errors import DomainError
from openworks.core.model import Principal, Project
from openworks.protocol.errors import ClientError
from openworks.protocol.params import int_range, to_int

from .audited import Change, audited
from .common import open_secrets

__all__ = ["Session", "domain_errors", "open_core", "open_session", "project_ref", "run"]

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


@dataclass(frozen=True, slots=True)
class Session:
    """A command's Core on the database, the user it acts as, and the engine."""

    core: Core
    principal: Principal
    engine: Engine

    def audited(
        self, action: str, params: Mapping[str, Any], ref: ProjectRef | None = None
    ) -> AbstractContextManager[Change]:
        """Record the change the block makes as this command's audit row."""
        p = self.principal
        return audited(self.engine, p.account_id, p.user_id, action, params, ref)

    def package_workspace(self, package_id: int) -> int | None:
        """The workspace ID of a package of this account, for its audit row (None if none)."""
        with self.core.store.transaction() as tx:
            package = tx.package(package_id)
            project = tx.project(package.project_id) if package is not None else None
        if project is None or project.account_id != self.principal.account_id:
            return None
        return project.id

    def project(self, ref: ProjectRef) -> Project:
        """The workspace ``ref`` names, if the user may see it (else a DomainError)."""
        with self.core.store.transaction() as tx:
            return resolve_project(tx, self.principal, ref)


def open_session(database_url: str | None, user_name: str | None = None) -> Session:
    from openworks.store import open_core as store_core

    settings, engine, box = open_secrets(database_url)
    core = store_core(engine, box, test_control=settings.control)  # OPENWORKS_CONTROL=1
    account = settings.account_id
    if not user_name:
        return Session(core, Principal(account, account, "root"), engine)
    with core.store.transaction() as tx:
        user_id = tx.checks().user_id_by_name(account, user_name)
    if user_id is None:
        click.echo(f"openworks: no user named {user_name!r} in account {account}", err=True)
        sys.exit(1)
    return Session(core, Principal(account, user_id, user_name), engine)


def open_core(database_url: str | None, user_name: str | None = None) -> tuple[Core, Principal]:
    session = open_session(database_url, user_name)
    return session.core, session.principal


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
