"""Console building blocks without a browser: diffs, folder tree, filters, passwords, sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, update

from openworks.console.deployments import parse_filters
from openworks.console.files import diff_rows, tree
from openworks.console.web import Refused, safe_next
from openworks.store import make_engine, migrate
from openworks.store.console_auth import (
    check_password,
    end_session,
    find_session,
    hash_password,
    set_password,
    start_session,
    verify_hash,
)
from openworks.store.identity import ensure_account
from openworks.store.schema import users

ACCOUNT = "1000000000000001"


def test_diff_rows_number_both_sides() -> None:
    rows = diff_rows("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(r.kind, r.old, r.new, r.text) for r in rows] == [
        ("hunk", None, None, "@@ -1,3 +1,4 @@"),
        ("same", 1, 1, "a"),
        ("del", 2, None, "b"),
        ("add", None, 2, "B"),
        ("same", 3, 3, "c"),
        ("add", None, 4, "d"),
    ]
    assert diff_rows("same\n", "same\n") == []
    assert [r.kind for r in diff_rows("", "x")] == ["hunk", "add"]


def test_diff_rows_split_far_apart_changes_into_hunks() -> None:
    old = "\n".join(str(n) for n in range(30))
    new = old.replace("2\n", "two\n", 1).replace("27", "twenty-seven")
    hunks = [r.text for r in diff_rows(old, new) if r.kind == "hunk"]
    assert hunks == ["@@ -1,6 +1,6 @@", "@@ -25,6 +25,6 @@"]


def test_tree_counts_files_at_or_below_each_folder() -> None:
    root = tree(["A/B", "A/B", "A/C/D", "E", ""])
    assert root.count == 5
    assert [c.name for c in root.sorted_children] == ["A", "E"]
    a = root.children["A"]
    assert (a.count, a.path) == (3, "A")
    assert [(c.path, c.count) for c in a.sorted_children] == [("A/B", 2), ("A/C", 1)]
    assert a.children["C"].children["D"].path == "A/C/D"


def test_filters_are_validated() -> None:
    f = parse_filters({"status": "6", "keyword": " x ", "created_before": "2024-05-01T12:00"})
    assert f.flt.status == 6 and f.flt.keyword == "x"
    assert f.flt.end_create_time == 1_714_564_800_000
    assert f.query(2) == "status=6&keyword=x&created_before=2024-05-01T12%3A00&page=2"
    assert parse_filters({"executed_before": "123"}).flt.end_execute_time == 123
    for bad in ({"status": "3"}, {"page": "0"}, {"page": "x"}, {"created_before": "soon"}):
        with pytest.raises(Refused) as err:
            parse_filters(bad)
        assert err.value.status == 400


def test_safe_next_stays_inside_the_console() -> None:
    assert safe_next("/console/w/1/deployments?status=1") == "/console/w/1/deployments?status=1"
    for bad in (None, "", "https://evil.example/", "//evil.example", "/consolex", "/console/\\x"):
        assert safe_next(bad) == "/console/w"


def test_password_hash_is_salted_and_checked() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert verify_hash("correct horse", first) and not verify_hash("wrong", first)
    assert not verify_hash("x", "md5$abc") and not verify_hash("x", "garbage")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/console.db")
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    return engine


def test_passwords_and_sessions(engine: Engine) -> None:
    user_id = "2000000000000042"
    with engine.begin() as conn:
        conn.execute(
            insert(users).values(id=user_id, account_id=ACCOUNT, name="dora", create_time=1)
        )
    with pytest.raises(ValueError, match="at least 8"):
        set_password(engine, ACCOUNT, "dora", "short")
    with pytest.raises(ValueError, match="no user"):
        set_password(engine, ACCOUNT, "nobody", "long enough")
    assert set_password(engine, ACCOUNT, "dora", "long enough") == user_id
    assert check_password(engine, ACCOUNT, "dora", "wrong one") is None
    assert check_password(engine, ACCOUNT, "nobody", "long enough") is None
    user = check_password(engine, ACCOUNT, "dora", "long enough")
    assert user is not None and user.user_id == user_id

    token, csrf = start_session(engine, user_id, None, 60_000)
    session = find_session(engine, token)
    assert session is not None and session.csrf == csrf and session.user.name == "dora"
    assert find_session(engine, token + "x") is None
    end_session(engine, token)
    assert find_session(engine, token) is None

    expired, _ = start_session(engine, user_id, None, -1)
    assert find_session(engine, expired) is None

    # a new password ends every session; a disabled user cannot sign in or keep a session
    live, _ = start_session(engine, user_id, None, 60_000)
    set_password(engine, ACCOUNT, "dora", "another one")
    assert find_session(engine, live) is None
    live, _ = start_session(engine, user_id, None, 60_000)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(disabled=True))
    assert find_session(engine, live) is None
    assert check_password(engine, ACCOUNT, "dora", "another one") is None
