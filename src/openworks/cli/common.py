"""Options shared by several ``openworks`` commands."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Engine

from openworks.config import ConfigError, Settings
from openworks.protocol.errors import ClientError
from openworks.protocol.params import int_range, to_int

if TYPE_CHECKING:
    from openworks.store.secrets import SecretBox

__all__ = [
    "DATABASE_URL",
    "INT32",
    "INT64",
    "LOG_FORMAT",
    "PAGE_NUMBER",
    "PAGE_SIZE",
    "PORT",
    "BoundedInt",
    "Seconds",
    "open_database",
    "open_engine_or_exit",
    "open_secrets",
]


class Seconds(click.types.FloatParamType):
    """A finite number of seconds within ``minimum``..``maximum`` (click's own float type
    takes ``nan`` and ``inf``, which turn a wait into one that never ends)."""

    name = "seconds"

    def __init__(self, minimum: float = 0.0, maximum: float = 86_400.0) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = super().convert(value, param, ctx)
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            self.fail(
                f"{value!r} must be between {self.minimum:g} and {self.maximum:g}", param, ctx
            )
        return float(number)


class BoundedInt(click.types.IntParamType):
    """An integer option or argument read exactly as the API and the console read one
    (:func:`openworks.protocol.params.to_int`): optional sign and ASCII digits only (no
    superscript, full-width or other Unicode digits), within the signed ``bits`` range (32
    or 64) narrowed to ``minimum``/``maximum``. Anything else is a usage error (exit 2)
    that names the option and the range, never a traceback. (A subclass of click's own
    integer type, which is not generic in every click release this project supports.)"""

    name = "integer"

    def __init__(
        self, bits: int = 64, *, minimum: int | None = None, maximum: int | None = None
    ) -> None:
        if bits not in (32, 64):
            raise ValueError(f"bits must be 32 or 64, not {bits}")
        self.bits = bits
        self.minimum = minimum
        self.maximum = maximum
        self.low, self.high = int_range(bits, minimum, maximum)

    def __repr__(self) -> str:
        return f"BoundedInt({self.low}..{self.high})"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)  # a default given as a number
        elif isinstance(value, str):
            text = value
        else:
            self.fail(f"{value!r} is not an integer", param, ctx)
        try:
            return to_int(
                (param.name if param else None) or "value",
                text,
                self.bits,
                minimum=self.minimum,
                maximum=self.maximum,
            )
        except ClientError as err:
            # to_int's message is 'The value of the parameter "x" is invalid: <reason>.';
            # click already names the option, so keep the reason with the value given.
            _head, found, reason = err.message.partition(" is invalid: ")
            shown = text if len(text) <= 40 else f"{text[:40]}..."
            if found and not text.isascii():  # e.g. full-width or superscript digits
                reason = f"{reason.rstrip('.')} written with the ASCII digits 0-9."
            self.fail(f"{shown!r} {reason}" if found else err.message, param, ctx)


INT32 = BoundedInt(32)
INT64 = BoundedInt(64)
PAGE_NUMBER = BoundedInt(32, minimum=1)  # as the API's PageNumber
PAGE_SIZE = BoundedInt(32, minimum=1, maximum=100)  # as the API's PageSize
PORT = BoundedInt(32, minimum=1, maximum=65535)

DATABASE_URL = click.option(
    "--database-url",
    envvar="OPENWORKS_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (sqlite:///path or postgresql://...). Default: an SQLite file in "
    "$XDG_DATA_HOME/openworks/.",
)

LOG_FORMAT = click.option(
    "--log-format",
    envvar="OPENWORKS_LOG_FORMAT",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one readable line a record; json: one JSON object a line (time, level, "
    "logger, message, and the access log's request_id, action, account, status, code, ms).",
)


def open_engine_or_exit(url: str) -> Engine:
    """A migrated engine on ``url``; a URL that cannot be used (not SQLite or PostgreSQL,
    unreachable, refused, newer schema: the ConfigError of :mod:`openworks.store.db`) ends
    the command with its one line on stderr and exit status 2, never a traceback. The
    engine's connections are closed when the command ends."""
    from openworks.store import make_engine, migrate

    try:
        engine = make_engine(url)
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.call_on_close(engine.dispose)
        migrate(engine)
    except ConfigError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    return engine


def open_database(database_url: str | None) -> tuple[Settings, Engine]:
    """Settings from flags and environment, and a migrated engine with the root account."""
    from openworks.store.identity import ensure_account

    settings = Settings.from_env(database_url=database_url)
    engine = open_engine_or_exit(settings.database_url)
    ensure_account(engine, settings.account_id)
    return settings, engine


def open_secrets(database_url: str | None) -> tuple[Settings, Engine, SecretBox]:
    """:func:`open_database` plus the server key's box (secrets sealed at rest)."""
    from openworks.store.identity import seal_plaintext_secrets
    from openworks.store.secrets import SecretBox, ServerKeyMismatch, load_server_key

    settings, engine = open_database(database_url)
    box = SecretBox(load_server_key(settings.database_url))
    try:
        seal_plaintext_secrets(engine, box)
    except ServerKeyMismatch as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    return settings, engine, box
