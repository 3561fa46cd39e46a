"""Options shared by several ``openworks`` commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine

from openworks.config import Settings

if TYPE_CHECKING:
    from openworks.store.secrets import SecretBox

__all__ = ["DATABASE_URL", "open_database", "open_secrets"]

DATABASE_URL = click.option(
    "--database-url",
    envvar="OPENWORKS_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (sqlite:///path or postgresql://...). Default: an SQLite file in "
    "$XDG_DATA_HOME/openworks/.",
)


def open_database(database_url: str | None) -> tuple[Settings, Engine]:
    """Settings from flags and environment, and a migrated engine with the root account."""
    from openworks.store import make_engine, migrate
    from openworks.store.identity import ensure_account

    settings = Settings.from_env(database_url=database_url)
    engine = make_engine(settings.database_url)
    migrate(engine)
    ensure_account(engine, settings.account_id)
    return settings, engine


def open_secrets(database_url: str | None) -> tuple[Settings, Engine, SecretBox]:
    """:func:`open_database` plus the server key's box (secrets sealed at rest)."""
    from openworks.store.identity import seal_plaintext_secrets
    from openworks.store.secrets import SecretBox, load_server_key

    settings, engine = open_database(database_url)
    box = SecretBox(load_server_key(settings.database_url))
    seal_plaintext_secrets(engine, box)
    return settings, engine, box
