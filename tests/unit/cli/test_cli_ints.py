"""Integers on the command line are read as the API reads them (``to_int``): ASCII digits
only, within the contract's 32- or 64-bit range and the option's own bounds. Anything else
is a usage error (exit 2) naming the option and the range, never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from openworks.cli import main
from openworks.cli.audit import MAX_SINCE_DAYS, parse_since
from openworks.cli.common import INT32, INT64, PAGE_NUMBER, PAGE_SIZE, PORT, BoundedInt
from openworks.cli.domain import project_ref
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.model import Principal
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, make_engine, migrate

ACCOUNT = "1000000000000001"
ROOT = Principal(ACCOUNT, ACCOUNT, "root")
INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
SUPERSCRIPT_TWO = "\u00b2"  # "²".isdigit() is true, int("²") raises
FULL_WIDTH_12 = "\uff11\uff12"  # int() reads it as 12
ARABIC_INDIC_7 = "\u0667"  # int() reads it as 7
HUGE = "99999999999999999999999"
NOT_INTEGERS = [SUPERSCRIPT_TWO, FULL_WIDTH_12, ARABIC_INDIC_7, "1.5", "0x10", "1_000", " 1", ""]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def assert_usage_error(result: Result, option: str, *needles: str) -> None:
    """Exit 2, click's "Invalid value for '<option>'", the needles, and no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert f"Invalid value for '{option}'" in result.output, result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """A temporary SQLite database with the root account and one workspace, ``ws_cli``."""
    for name in ("OPENWORKS_DATABASE_URL", "OPENWORKS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = f"sqlite:///{tmp_path / 'ow.db'}"
    engine = make_engine(url)
    migrate(engine)
    from openworks.store.identity import ensure_account

    ensure_account(engine, ACCOUNT)
    project_id = create_project(Core(SqlStore(engine)), ROOT, NewProject("ws_cli", "cli"))
    engine.dispose()
    return url, project_id


# -- the parameter type itself ------------------------------------------------------------


def test_bounded_int_converts_like_the_api() -> None:
    assert INT32.convert("2147483647", None, None) == INT32_MAX
    assert INT32.convert("-2147483648", None, None) == -(2**31)
    assert INT64.convert("+0009223372036854775807", None, None) == INT64_MAX
    assert INT64.convert(42, None, None) == 42  # defaults arrive as numbers
    assert PAGE_SIZE.convert("100", None, None) == 100
    assert PORT.convert("65535", None, None) == 65535
    assert (PAGE_NUMBER.low, PAGE_NUMBER.high) == (1, INT32_MAX)
    with pytest.raises(click.BadParameter, match="between -2147483648 and 2147483647"):
        INT32.convert("2147483648", None, None)
    with pytest.raises(click.BadParameter, match="must be an integer written with the ASCII"):
        INT64.convert(FULL_WIDTH_12, None, None)
    with pytest.raises(click.BadParameter, match="True is not an integer"):
        INT64.convert(True, None, None)
    with pytest.raises(click.BadParameter, match=r"'9{40}\.\.\.' must be between"):
        INT64.convert("9" * 5000, None, None)  # the value is shown clipped
    with pytest.raises(ValueError, match="bits must be 32 or 64"):
        BoundedInt(16)


# -- deployments: ids, --status, times, paging ---------------------------------------------


@pytest.mark.parametrize("value", NOT_INTEGERS)
@pytest.mark.parametrize("option", ["--page-number", "--page-size", "--status"])
def test_list_refuses_what_is_not_an_ascii_integer(option: str, value: str) -> None:
    result = invoke("deployments", "list", "--workspace", "ws", option, value)
    assert_usage_error(result, option, "must be an integer")


@pytest.mark.parametrize(
    ("option", "value", "bounds"),
    [
        ("--page-number", "-1", "between 1 and 2147483647"),
        ("--page-number", "0", "between 1 and 2147483647"),
        ("--page-number", "2147483648", "between 1 and 2147483647"),
        ("--page-number", HUGE, "between 1 and 2147483647"),
        ("--page-size", "0", "between 1 and 100"),
        ("--page-size", "101", "between 1 and 100"),
        ("--page-size", HUGE, "between 1 and 100"),
        ("--status", "2147483648", "between -2147483648 and 2147483647"),
        ("--status", "-2147483649", "between -2147483648 and 2147483647"),
        ("--end-create-time", "9223372036854775808", f"and {INT64_MAX}"),
        ("--end-execute-time", HUGE, f"and {INT64_MAX}"),
        ("--end-execute-time", "1" + "0" * 5000, f"and {INT64_MAX}"),
    ],
)
def test_list_refuses_numbers_out_of_range(option: str, value: str, bounds: str) -> None:
    result = invoke("deployments", "list", "--workspace", "ws", option, value)
    assert_usage_error(result, option, bounds)


@pytest.mark.parametrize("command", ["approve", "reject", "show", "wait"])
@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, FULL_WIDTH_12, HUGE, "9223372036854775808"])
def test_deployment_ids_are_64_bit_ascii_integers(command: str, value: str) -> None:
    extra = {
        "reject": ["--reason", "no"],
        "show": ["--workspace", "ws"],
        "wait": ["--workspace", "ws"],
    }
    result = invoke("deployments", command, value, *extra.get(command, []))
    assert_usage_error(result, "DEPLOYMENT_ID")
    if value in (HUGE, "9223372036854775808"):
        assert f"between -9223372036854775808 and {INT64_MAX}" in result.output


def test_list_accepts_the_bounds(db: tuple[str, int]) -> None:
    url, project_id = db
    result = invoke(
        "deployments",
        "list",
        "--workspace",
        str(project_id),  # a workspace by its numeric ID
        "--status",
        str(INT32_MAX),
        "--end-create-time",
        str(INT64_MAX),
        "--end-execute-time",
        str(INT64_MAX),
        "--page-number",
        str(INT32_MAX),
        "--page-size",
        "100",
        "--database-url",
        url,
    )
    assert result.exit_code == 0, result.output
    assert f"0 of 0 (page {INT32_MAX})" in result.output
    plain = invoke("deployments", "list", "--workspace", "ws_cli", "--database-url", url)
    assert plain.exit_code == 0, plain.output
    assert "0 of 0 (page 1)" in plain.output  # the defaults go through the same type


def test_help_still_renders() -> None:
    result = invoke("deployments", "list", "--help")
    assert result.exit_code == 0, result.output
    assert "--page-size INTEGER" in result.output


# -- workspace references -------------------------------------------------------------------


def test_project_ref_reads_ascii_digits_as_an_id() -> None:
    assert project_ref("123") == ProjectRef(id=123)
    assert project_ref(" 0042 ") == ProjectRef(id=42)
    assert project_ref(str(INT64_MAX)) == ProjectRef(id=INT64_MAX)
    for text in (SUPERSCRIPT_TWO, FULL_WIDTH_12, ARABIC_INDIC_7, "-5", "+5", "ws_1"):
        assert project_ref(text) == ProjectRef(identifier=text)
    with pytest.raises(click.BadParameter, match=f"between 0 and {INT64_MAX}"):
        project_ref(HUGE)


@pytest.mark.parametrize("value", [HUGE, "9223372036854775808"])
def test_a_huge_workspace_id_is_a_usage_error(db: tuple[str, int], value: str) -> None:
    url, _project_id = db
    listed = invoke("deployments", "list", "--workspace", value, "--database-url", url)
    assert_usage_error(listed, "--workspace", "is not a workspace ID", str(INT64_MAX))
    shown = invoke("workspace", "show", value, "--database-url", url)
    assert_usage_error(shown, "WORKSPACE_ID", "is not a workspace ID")


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, FULL_WIDTH_12])
def test_unicode_digits_name_a_workspace(db: tuple[str, int], value: str) -> None:
    url, _project_id = db
    result = invoke("deployments", "list", "--workspace", value, "--database-url", url)
    assert result.exit_code == 1, result.output  # no such workspace: a domain error
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith("openworks: "), result.output


# -- serve ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--port", "0", "between 1 and 65535"),
        ("--port", "65536", "between 1 and 65535"),
        ("--port", HUGE, "between 1 and 65535"),
        ("--port", "\uff18\uff14\uff17\uff10", "must be an integer"),  # full-width 8470
        ("--port", SUPERSCRIPT_TWO, "must be an integer"),
        ("--max-inflight", "-1", "between 0 and 2147483647"),
        ("--max-inflight", HUGE, "between 0 and 2147483647"),
        ("--workers", "0", "between 1 and 2147483647"),
        ("--workers", ARABIC_INDIC_7, "must be an integer"),
    ],
)
def test_serve_refuses_bad_numbers_before_starting(option: str, value: str, needle: str) -> None:
    assert_usage_error(invoke("serve", option, value), option, needle)


def test_serve_port_from_the_environment_is_checked_too() -> None:
    result = invoke("serve", env={"OPENWORKS_PORT": "\uff18\uff14\uff17\uff10"})
    assert_usage_error(result, "--port", "must be an integer")


# -- audit ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0", "between 1 and 1000000"),
        ("1000001", "between 1 and 1000000"),
        (HUGE, "between 1 and 1000000"),
        (FULL_WIDTH_12, "must be an integer"),
    ],
)
def test_audit_limit(value: str, needle: str) -> None:
    assert_usage_error(invoke("audit", "--limit", value), "--limit", needle)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (f"{SUPERSCRIPT_TWO}d", "not a time"),
        (f"{FULL_WIDTH_12}h", "not a time"),
        (f"{ARABIC_INDIC_7}m", "not a time"),
        ("-1h", "not a time"),
        (f"{HUGE}d", "too far back"),
        (f"{MAX_SINCE_DAYS + 1}d", "too far back"),
        ("\uff12\uff10\uff12\uff16-01-31", "not a time"),  # strptime would read it
    ],
)
def test_audit_since_is_a_usage_error(value: str, needle: str) -> None:
    assert_usage_error(invoke("audit", "--since", value), "--since", needle)


def test_parse_since_bounds() -> None:
    now = 4_000_000_000.0
    assert parse_since("90s", now=now) == int((now - 90) * 1000)
    assert parse_since("007m", now=now) == int((now - 420) * 1000)
    assert parse_since(f"{MAX_SINCE_DAYS}d", now=now) == int((now - MAX_SINCE_DAYS * 86400) * 1000)
    assert parse_since(f"{MAX_SINCE_DAYS * 86400}s", now=now) == parse_since(
        f"{MAX_SINCE_DAYS}d", now=now
    )
    assert parse_since("2026-01-31") == 1_769_817_600_000
    with pytest.raises(ValueError, match="too far back"):
        parse_since(f"{MAX_SINCE_DAYS * 24 + 1}h", now=now)
    with pytest.raises(ValueError, match="not a time"):
        parse_since(f"{SUPERSCRIPT_TWO}d", now=now)


def test_audit_accepts_valid_values(db: tuple[str, int]) -> None:
    url, _project_id = db
    result = invoke("audit", "--since", "7d", "--limit", "1000000", "--database-url", url)
    assert result.exit_code == 0, result.output
