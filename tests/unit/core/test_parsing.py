"""AutoParsing with sqlglot: which tables a script reads and writes."""

from __future__ import annotations

import pytest

from openworks.core.parsing import parse_sql


def test_insert_overwrite_with_partition_and_variables() -> None:
    sql = (
        "INSERT OVERWRITE TABLE dws_a PARTITION (ds='${bizdate}')\n"
        "SELECT a.x, b.y FROM ods_a a JOIN other_ws.ods_b b ON a.id = b.id\n"
        "WHERE a.ds = ${bizdate};"
    )
    result = parse_sql(sql, "ws")
    assert result.ok
    assert sorted(result.inputs) == ["other_ws.ods_b", "ws.ods_a"]
    assert result.outputs == ["ws.dws_a"]


def test_ctes_and_tables_written_by_the_script_are_not_inputs() -> None:
    sql = (
        "set odps.sql.allow.fullscan=true;\n"
        "WITH t AS (SELECT * FROM Src1) INSERT INTO TABLE tmp SELECT * FROM t;\n"
        "CREATE TABLE IF NOT EXISTS final AS SELECT * FROM tmp JOIN src2 ON 1 = 1;\n"
        "-- a comment\n"
    )
    result = parse_sql(sql, "ws")
    assert result.ok
    assert sorted(result.inputs) == ["ws.src1", "ws.src2"]
    assert result.outputs == ["ws.tmp", "ws.final"]


def test_multi_insert_and_plain_select() -> None:
    result = parse_sql("FROM s INSERT OVERWRITE TABLE a SELECT x INSERT INTO TABLE b SELECT y", "w")
    assert (result.inputs, sorted(result.outputs)) == (["w.s"], ["w.a", "w.b"])
    assert parse_sql("SELECT 1", "w").ok and parse_sql("", "w").ok


@pytest.mark.parametrize("sql", ["SELECT ( FROM", "SELEC * FRM x", "INSERT INTO"])
def test_unparseable_sql_says_why(sql: str) -> None:
    result = parse_sql(sql, "ws")
    assert not result.ok and result.reason
    assert "\x1b" not in result.reason
    assert (result.inputs, result.outputs) == ([], [])
