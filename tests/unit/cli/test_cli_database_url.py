"""A database URL that cannot be used is one line (what is wrong, the URL without its
password, what to do) and exit status 2, never a traceback (issue 17). Every command opens
the database through :func:`openworks.cli.common.open_engine_or_exit`; ``serve`` gets the
same line from the ConfigError that make_engine/migrate raise (tests/sdk/test_cli_database
_errors.py runs the commands, serve included, as processes)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from openworks.cli import main
from openworks.config import ConfigError
from openworks.store import make_engine, migrate
from openworks.store.db import CONNECT_TIMEOUT, shown_url

SET_IT = "--database-url or OPENWORKS_DATABASE_URL"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, [*(args or ("users", "list")), "--database-url", url])


def assert_one_line(result: Result, *needles: str, secret: str | None = None) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("openworks: ") and "Traceback" not in line
    assert SET_IT in line
    for needle in needles:
        assert needle in line, line
    if secret is not None:
        assert secret not in line
    return line


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("OPENWORKS_DATABASE_URL", "OPENWORKS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)


def test_mysql_is_named_and_refused() -> None:
    line = assert_one_line(
        invoke("mysql://app:hunter22@db.example:3306/ow"),
        "mysql://app@db.example:3306/ow",
        "SQLite or PostgreSQL only",
        "postgresql://USER:PASSWORD@HOST:5432/DATABASE",
        secret="hunter22",
    )
    assert "MySQLdb" not in line


def test_unreachable_postgresql_is_one_line() -> None:
    port = closed_port()
    assert_one_line(
        invoke(f"postgresql://postgres:hunter22@127.0.0.1:{port}/test"),
        f"cannot open the database postgresql://postgres@127.0.0.1:{port}/test",
        "Connection refused",
        f"check that PostgreSQL is running at 127.0.0.1:{port}",
        secret="hunter22",
    )


def test_unknown_host_is_one_line() -> None:
    assert_one_line(
        invoke("postgresql://postgres@no-such-host.invalid/test"),
        "postgresql://postgres@no-such-host.invalid/test",
        "no-such-host.invalid",
    )


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("nonsense", "'nonsense' is not a database URL"),
        ("postgresql://u:hunter22@h:notaport/db", "'postgresql://u@h:notaport/db' is not a"),
        ("postgresql://u:hun@ter22@h/db", "more than one '@'"),
        ("postgresql+psycopg2://u:hunter22@h/db", "needs the Python module psycopg2"),
    ],
)
def test_malformed_urls_are_one_line(url: str, needle: str) -> None:
    assert_one_line(invoke(url), needle, secret="ter22")


def test_sqlite_paths_that_cannot_hold_a_database(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("hello, not SQLite\n" * 100)
    assert_one_line(
        invoke(f"sqlite:///{not_a_database}"), "file is not a database", str(not_a_database)
    )
    assert_one_line(invoke(f"sqlite:///{tmp_path}"), "unable to open database file")
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert_one_line(invoke(f"sqlite:///{blocked}/sub/ow.db"), f"{blocked}")


def test_a_schema_newer_than_this_openworks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ow.db"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert_one_line(invoke(url), "schema revision 9999", "Upgrade openworks")


@pytest.mark.parametrize(
    "args",
    [
        ("workspaces", "list"),
        ("deployments", "show", "1"),
        ("audit",),
        ("keys", "list"),
        ("worker",),
        ("sync", ".", "--workspace", "w"),
    ],
)
def test_every_command_gives_the_same_line(args: tuple[str, ...]) -> None:
    assert_one_line(invoke("mysql://app:hunter22@db/ow", *args), "SQLite or PostgreSQL only")


def test_make_engine_and_migrate_raise_config_error() -> None:
    """What ``serve`` catches (``except ConfigError``) without a change of its own."""
    with pytest.raises(ConfigError, match="SQLite or PostgreSQL only"):
        make_engine("mysql://app:hunter22@db/ow")
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    with pytest.raises(ConfigError, match="cannot open the database"):
        migrate(engine)
    engine.dispose()


def test_postgresql_connections_give_up_after_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that drops packets would otherwise hang the command for minutes."""
    seen: list[dict[str, Any]] = []

    def fake_connect(*_args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        raise psycopg.OperationalError("connection timeout expired")

    monkeypatch.setattr(psycopg, "connect", fake_connect)
    monkeypatch.setattr(psycopg.Connection, "connect", fake_connect)
    for url, wanted in (
        ("postgresql://postgres@192.0.2.1/test", CONNECT_TIMEOUT),
        ("postgresql://postgres@192.0.2.1/test?connect_timeout=3", "3"),
    ):
        engine = make_engine(url, pool=False)
        with pytest.raises(ConfigError, match="connection timeout expired"):
            migrate(engine)
        assert seen[-1]["connect_timeout"] == wanted
        engine.dispose()


def test_shown_url_drops_the_password() -> None:
    assert shown_url("postgresql://u:p%40ss@h:5/d?x=1") == "postgresql://u@h:5/d?x=1"
    assert shown_url("postgresql://u:p/ss@h/d") == "postgresql://u@h/d"  # as SQLAlchemy reads it
    assert shown_url("postgresql://u:p@s@s@h/d") == "postgresql://u@h/d"
    assert shown_url("postgresql://u@h:5432/d") == "postgresql://u@h:5432/d"
    assert shown_url("sqlite:////tmp/a:b@c.db") == "sqlite:////tmp/a:b@c.db"
    assert shown_url(make_engine("postgresql://u:secret@h/d").url) == "postgresql://u@h/d"


def _postgres_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _postgres_up(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_missing_postgresql_database_is_one_line() -> None:
    assert_one_line(
        invoke("postgresql://postgres:hunter22@127.0.0.1:5432/openworks_no_such_db"),
        "postgresql://postgres@127.0.0.1:5432/openworks_no_such_db",
        'database "openworks_no_such_db" does not exist',
        secret="hunter22",
    )
