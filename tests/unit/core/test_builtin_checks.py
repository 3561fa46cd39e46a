"""Built-in checks and the ``checks.builtin`` / workspace settings syntax."""

from __future__ import annotations

import pytest

from openworks.core.builtin_checks import BuiltinSpec, evaluate, parse_specs
from openworks.core.errors import Invalid
from openworks.core.model import FileVersion
from openworks.core.workspace_settings import _normalize


def version(
    content: str, file_type: int = 10, description: str = "d", owner: str = "u"
) -> FileVersion:
    return FileVersion(
        file_id=1, version=1, change_type="CREATE", status="COMMITTING", commit_time=0,
        commit_user="u", name="f", file_type=file_type, content=content, folder_path="",
        owner=owner, config={}, node_id=1, description=description,
    )  # fmt: skip


def test_parse_specs_reads_names_arguments_and_levels() -> None:
    specs = parse_specs(" sql-syntax , forbid-pattern(MAX_PT|a,b)@warn,forbid-drop-table ")
    assert specs == [
        BuiltinSpec("sql-syntax"),
        BuiltinSpec("forbid-pattern", "MAX_PT|a,b", "WARN"),
        BuiltinSpec("forbid-drop-table"),
    ]
    assert [str(s) for s in specs] == [
        "sql-syntax", "forbid-pattern(MAX_PT|a,b)@warn", "forbid-drop-table",
    ]  # fmt: skip
    assert parse_specs("") == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("no-such-check", "unknown check"),
        ("forbid-pattern", "needs an argument"),
        ("forbid-pattern(()", "not a valid regular expression"),
        ("require-owner(x)", "takes no argument"),
        ("sql-syntax@loud", "must be fail or warn"),
        ("sql-syntax(klingon)", "unknown SQL dialect"),
        ("sql syntax", "cannot read"),
    ],
)
def test_parse_specs_refuses_bad_values(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_specs(text)
    assert fragment in err.value.message and err.value.code == "Invalid.Setting"


def test_sql_syntax_passes_good_sql_with_scheduling_parameters() -> None:
    code = (
        "INSERT OVERWRITE TABLE t PARTITION (ds='${bizdate}') SELECT a FROM s WHERE ds=${bizdate};"
    )
    assert evaluate(BuiltinSpec("sql-syntax"), version(code), False)[0] == "OK"


def test_sql_syntax_fails_broken_sql_and_honours_level() -> None:
    result, message = evaluate(BuiltinSpec("sql-syntax"), version("SELECT FROM WHERE (;"), False)
    assert result == "FAIL" and message.startswith("SQL syntax error")
    assert (
        evaluate(BuiltinSpec("sql-syntax", level="WARN"), version("SELEC 1 (("), False)[0] == "WARN"
    )


def test_sql_syntax_skips_files_that_are_not_sql() -> None:
    result, message = evaluate(BuiltinSpec("sql-syntax"), version("echo ((", file_type=6), False)
    assert result == "OK" and "not SQL" in message


def test_forbid_pattern_names_the_line() -> None:
    code = "SELECT 1;\nSELECT MAX_PT('t');"
    result, message = evaluate(BuiltinSpec("forbid-pattern", "MAX_PT"), version(code), False)
    assert result == "FAIL" and "MAX_PT" in message and "line 2" in message
    assert evaluate(BuiltinSpec("forbid-pattern", "MAX_PT"), version("SELECT 1"), False)[0] == "OK"


def test_forbid_drop_table_only_for_production_and_not_in_comments() -> None:
    spec = BuiltinSpec("forbid-drop-table")
    assert evaluate(spec, version("drop  table t;"), True)[0] == "FAIL"
    assert evaluate(spec, version("drop table t;"), False)[0] == "OK"
    assert evaluate(spec, version("-- drop table t\n/* DROP TABLE x */ SELECT 1"), True)[0] == "OK"


def test_require_description_and_owner() -> None:
    assert (
        evaluate(BuiltinSpec("require-description"), version("", description=" "), False)[0]
        == "FAIL"
    )
    assert evaluate(BuiltinSpec("require-description"), version(""), False)[0] == "OK"
    assert evaluate(BuiltinSpec("require-owner"), version("", owner=""), False)[0] == "FAIL"
    assert evaluate(BuiltinSpec("require-owner"), version(""), False)[0] == "OK"


def test_settings_are_normalized_or_refused() -> None:
    assert _normalize("checks.timeout", " 1.50 ") == "1.5"
    assert _normalize("approval.required", "YES") == "true"
    assert _normalize("checks.builtin", "sql-syntax,forbid-pattern(X)@WARN") == (
        "sql-syntax, forbid-pattern(X)@warn"
    )
    assert _normalize("checks.timeout", "") is None
    for key, value in [("checks.timeout", "0"), ("checks.timeout", "soon"),
                       ("approval.required", "maybe"), ("checks.colour", "red")]:  # fmt: skip
        with pytest.raises(Invalid):
            _normalize(key, value)
