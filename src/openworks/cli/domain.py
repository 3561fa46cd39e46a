"""Running domain functions from the command line: a Core on the database, as a user.

Commands act as the root user of the configured account unless ``--user NAME`` names
another user of that account; domain errors print ``openworks: <message>`` and exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import DomainError
from openworks.core.model import Principal

from .common import open_secrets

__all__ = ["domain_errors", "open_core", "project_ref", "run"]

T = TypeVar("T")


def project_ref(text: str) -> ProjectRef:
    """A workspace given as its numeric ID or its identifier."""
    text = text.strip()
    return ProjectRef(id=int(text)) if text.isdigit() else ProjectRef(identifier=text)


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
