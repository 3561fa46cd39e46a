"""The console's bounds without a server: bounded line diffs and input validation (issue 13)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from openworks.console import diffing
from openworks.console.deployments import parse_filters
from openworks.console.diffing import Opcode, compare, grouped, opcodes
from openworks.console.inputs import MAX_QUERY_VALUE, check_query, path_id, query_int
from openworks.console.web import Refused


def _apply(a: Sequence[str], b: Sequence[str], codes: list[Opcode]) -> list[str]:
    """Rebuild ``b`` from ``a`` and the opcodes, checking that they tile both sides."""
    out: list[str] = []
    at_a = at_b = 0
    for tag, i1, i2, j1, j2 in codes:
        assert (i1, j1) == (at_a, at_b)
        if tag == "equal":
            assert list(a[i1:i2]) == list(b[j1:j2])
            out += a[i1:i2]
        else:
            kind = "replace" if i1 < i2 and j1 < j2 else "delete" if i1 < i2 else "insert"
            assert tag == kind
            out += b[j1:j2]
        at_a, at_b = i2, j2
    assert (at_a, at_b) == (len(a), len(b))
    return out


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(previous[j] + 1 if x == y else max(previous[j + 1], row[j]))
        previous = row
    return previous[-1]


lines = st.lists(st.sampled_from("abcd"), max_size=14)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(a=lines, b=lines)
def test_opcodes_are_a_shortest_edit_script(a: list[str], b: list[str]) -> None:
    codes, exact = opcodes(a, b)
    assert exact and _apply(a, b, codes) == b
    changed = sum(i2 - i1 + j2 - j1 for tag, i1, i2, j1, j2 in codes if tag != "equal")
    assert changed == len(a) + len(b) - 2 * _lcs(a, b)  # as few changed lines as possible


def test_hunks_group_changes_with_three_lines_of_context() -> None:
    old = [str(n) for n in range(30)]
    new = ["two" if n == "2" else "x" if n == "27" else n for n in old]
    codes, _ = opcodes(old, new)
    assert [(g[0][1], g[-1][2]) for g in grouped(codes)] == [(0, 6), (24, 30)]
    assert grouped(opcodes(old, old)[0]) == []


def test_past_the_edit_budget_the_middle_is_one_replace() -> None:
    a = ["same", *[f"a{n}" for n in range(50)], "end"]
    b = ["same", *[f"b{n}" for n in range(40)], "end"]
    codes, exact = opcodes(a, b, max_edits=10)
    assert not exact
    assert codes == [("equal", 0, 1, 0, 1), ("replace", 1, 51, 1, 41), ("equal", 51, 52, 41, 42)]
    assert _apply(a, b, codes) == b
    added = [f"new {n}" for n in range(50)]  # only added lines: nothing to align
    assert opcodes(a, a[:1] + added + a[1:], max_edits=10) == (
        [("equal", 0, 1, 0, 1), ("insert", 1, 1, 1, 51), ("equal", 1, 52, 51, 102)],
        True,
    )


def test_past_the_deadline_the_diff_gives_up() -> None:
    ticks = iter(range(1000))
    a, b = [str(n % 2) for n in range(200)], [str(n % 3) for n in range(200)]
    codes, exact = opcodes(a, b, seconds=3, clock=lambda: float(next(ticks)))
    assert not exact and _apply(a, b, codes) == b


def test_repetitive_versions_that_took_minutes_take_well_under_a_second() -> None:
    """difflib (autojunk=False) took ~40 s on this pair and over 2 minutes on 3,000 lines."""
    old = "\n".join(str(n % 2) for n in range(3000))
    new = "\n".join(str(n % 3) for n in range(3000))
    started = time.monotonic()
    diff = compare(old, new)
    assert time.monotonic() - started < 2 * diffing.MAX_SECONDS
    assert diff.compared and diff.notes and "too many places" in diff.notes[0]
    assert diff.added and diff.removed and len(diff.rows) <= diffing.MAX_ROWS


def test_sides_over_the_size_limits_are_not_compared() -> None:
    too_long = "x\r" * (diffing.MAX_SIDE_LINES + 1)  # \r ends a line too
    diff = compare(too_long, "x")
    assert not diff.compared and diff.rows == []
    assert diff.notes == [
        f"Diff too large to show: the old side has {diffing.MAX_SIDE_LINES + 1:,} lines; the "
        "console compares up to 20,000 lines and 1,048,576 bytes (1 MiB) per side."
    ]
    diff = compare("x", "é" * (diffing.MAX_SIDE_BYTES // 2 + 1))  # bytes, not characters
    assert not diff.compared and "the new side has 1,048,578 bytes" in diff.notes[0]


def test_long_diffs_show_the_first_rows_and_say_so() -> None:
    old = [f"line {n}" for n in range(6300)]
    new: list[str] = []
    for n, line in enumerate(old):
        new += [line, "new"] if n % 7 == 6 else [line]
    diff = compare("\n".join(old), "\n".join(new))  # 900 hunks of 8 rows
    assert len(diff.rows) == diffing.MAX_ROWS
    assert (diff.added, diff.removed) == (900, 0)  # counted over the whole comparison
    assert len(diff.notes) == 1
    assert diff.notes[-1].startswith("The diff is too long to show in full")


# -- input validation ------------------------------------------------------------------


def test_path_ids_are_ascii_64_bit_or_not_found() -> None:
    assert path_id({"project_id": "9223372036854775807"}, "project_id", "workspace") == 2**63 - 1
    for bad in ("9223372036854775808", "9" * 5000, "\u00b2", "\uff11", "-1", "+1", "", "x"):
        with pytest.raises(Refused) as err:
            path_id({"project_id": bad}, "project_id", "workspace")
        assert (err.value.status, err.value.message) == (404, "No such workspace.")
    with pytest.raises(Refused):
        path_id({}, "file_id", "file")


def test_query_integers_use_the_shared_conversion() -> None:
    assert query_int("page", "2147483647") == 2**31 - 1
    for bad in ("2147483648", "\u00b2", "\uff11", "1.5", "", "9" * 30):
        with pytest.raises(Refused) as err:
            query_int("page", bad)
        assert err.value.status == 400 and '"page"' in err.value.message


def test_query_strings_with_nul_or_over_long_values_are_refused() -> None:
    check_query(QueryParams("keyword=" + "k" * MAX_QUERY_VALUE))
    for query in ("keyword=a%00b", "x%00=1", "keyword=" + "k" * (MAX_QUERY_VALUE + 1)):
        with pytest.raises(Refused) as err:
            check_query(QueryParams(query))
        assert err.value.status == 400


@pytest.mark.parametrize(
    "query",
    [
        {"page": "\u00b2"},
        {"page": "99999999999999999999999"},
        {"page": "2147483648"},
        {"created_before": "\u00b2"},
        {"created_before": "99999999999999999999999"},
        {"executed_before": "\uff11"},
        {"keyword": "a\x00b"},
        {"creator": "\x00"},
        {"keyword": "k" * 129},
    ],
)
def test_filters_refuse_what_used_to_be_a_500(query: dict[str, str]) -> None:
    with pytest.raises(Refused) as err:
        parse_filters(query)
    assert err.value.status == 400


def test_filter_times_take_64_bit_milliseconds() -> None:
    assert parse_filters({"created_before": "9223372036854775807"}).flt.end_create_time == (
        2**63 - 1
    )
