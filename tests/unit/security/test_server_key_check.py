"""The server key check and idempotent start-up registration (issue 13, items 9 and 11).

A server whose key does not open the secrets already in the database raises
ServerKeyMismatch and writes nothing; registration and migration run safely from many
processes at once (here: threads with an engine each, released together by a barrier).
Runs on SQLite, and on PostgreSQL when OPENWORKS_TEST_POSTGRES is set."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from openworks.store import make_engine, migrate
from openworks.store.identity import (
    check_server_key,
    create_user,
    ensure_account,
    ensure_key,
    lookup_key,
    seal_plaintext_secrets,
)
from openworks.store.schema import access_keys, accounts, users
from openworks.store.schema_checks import extensions
from openworks.store.secrets import SecretBox, ServerKeyMismatch, load_server_key
from tests.dbutil import fresh_database_url, postgres_base

ACCOUNT = "1000000000000001"
A = SecretBox(b"A" * 32)
B = SecretBox(b"B" * 32)
ROOT_KEY = ("LTAIroot0000000000000000", "root-secret-0123456789")


def _url(tmp: Path, name: str = "k") -> str:
    return fresh_database_url("key") if postgres_base() else f"sqlite:///{tmp}/{name}.db"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(_url(tmp_path))
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    yield engine
    engine.dispose()


def _secrets(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(access_keys.c.id, access_keys.c.secret).order_by("id"))
        return [(r.id, r.secret) for r in rows]


def test_a_restart_with_the_same_key_writes_nothing_and_a_new_secret_rotates(
    engine: Engine,
) -> None:
    ensure_key(engine, A, ACCOUNT, *ROOT_KEY)
    first = _secrets(engine)
    ensure_key(engine, A, ACCOUNT, *ROOT_KEY)
    assert _secrets(engine) == first  # the same ciphertext: not even re-sealed
    ensure_key(engine, A, ACCOUNT, ROOT_KEY[0], "a-rotated-root-secret")
    record = lookup_key(engine, A, ROOT_KEY[0])
    assert record is not None and record.secret == "a-rotated-root-secret"


def test_another_server_key_is_refused_and_overwrites_nothing(engine: Engine) -> None:
    ensure_key(engine, A, ACCOUNT, *ROOT_KEY)
    create_user(engine, A, ACCOUNT, "alice")
    with engine.begin() as conn:  # a row stored in plain text by an old version
        conn.execute(
            insert(access_keys).values(
                id="LTAIold", user_id=ACCOUNT, secret="plain-old", active=True, create_time=1
            )
        )
    before = _secrets(engine)
    with pytest.raises(ServerKeyMismatch) as caught:
        seal_plaintext_secrets(engine, B)
    message = str(caught.value)
    assert "does not open the secrets in this database" in message
    assert A.key_id in message and B.key_id in message and "\n" not in message
    with pytest.raises(ServerKeyMismatch):
        ensure_key(engine, B, ACCOUNT, *ROOT_KEY)
    with pytest.raises(ServerKeyMismatch):
        ensure_key(engine, B, ACCOUNT, "LTAIanother0000000000000", "another-secret")
    assert _secrets(engine) == before
    assert seal_plaintext_secrets(engine, A) == 1  # the right key goes on working


def test_extension_secrets_count_too(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(extensions).values(
                account_id=ACCOUNT, code="ext", name="e", events="x", url="http://127.0.0.1/",
                secret=A.seal("hook-secret", "bound"), status=0, owner=ACCOUNT, create_time=1,
            )
        )  # fmt: skip
    with engine.connect() as conn:
        check_server_key(conn, A)
        with pytest.raises(ServerKeyMismatch):
            check_server_key(conn, B)


def test_a_key_with_the_same_fingerprint_that_does_not_open_is_refused(
    engine: Engine,
) -> None:
    ensure_key(engine, A, ACCOUNT, *ROOT_KEY)
    impostor = SecretBox(b"C" * 32)
    impostor.key_id = A.key_id  # a 32-bit fingerprint collision
    with engine.connect() as conn, pytest.raises(ServerKeyMismatch):
        check_server_key(conn, impostor)


def _together(count: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(10)
            work(n)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def _start(engines: list[Engine], n: int) -> None:
    """What ``openworks serve`` does to the database at start (app.build_service)."""
    engine = engines[n]
    migrate(engine)
    seal_plaintext_secrets(engine, A)
    ensure_account(engine, ACCOUNT)
    ensure_key(engine, A, ACCOUNT, *ROOT_KEY)


def test_many_processes_migrate_and_register_at_once(tmp_path: Path) -> None:
    for round_ in range(3):
        url = _url(tmp_path, f"race{round_}")
        engines = [make_engine(url, pool=False) for _ in range(4)]
        try:
            _together(4, functools.partial(_start, engines))
            _together(4, functools.partial(_start, engines))  # on the migrated database
            with engines[0].connect() as conn:
                assert conn.execute(select(func.count()).select_from(accounts)).scalar() == 1
                assert conn.execute(select(func.count()).select_from(users)).scalar() == 1
                assert conn.execute(select(func.count()).select_from(access_keys)).scalar() == 1
            record = lookup_key(engines[0], A, ROOT_KEY[0])
            assert record is not None and record.secret == ROOT_KEY[1]
        finally:
            for e in engines:
                e.dispose()


def test_two_keys_racing_on_an_empty_database_leave_exactly_one(tmp_path: Path) -> None:
    url = _url(tmp_path, "two")
    engine = make_engine(url)
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    engines = [make_engine(url, pool=False) for _ in range(2)]
    outcome: dict[int, str] = {}

    def start(n: int) -> None:
        box, key = ((A, ROOT_KEY), (B, ("LTAIother000000000000000", "other-secret-01234")))[n]
        try:
            ensure_key(engines[n], box, ACCOUNT, *key)
            outcome[n] = "registered"
        except ServerKeyMismatch:
            outcome[n] = "refused"

    try:
        _together(2, start)
        assert sorted(outcome.values()) == ["refused", "registered"]
        winner = A if outcome[0] == "registered" else B
        with engine.connect() as conn:
            check_server_key(conn, winner)
        assert len(_secrets(engine)) == 1
    finally:
        for e in [engine, *engines]:
            e.dispose()


def _load_key(url: str, into: list[bytes], _n: int) -> None:
    into.append(load_server_key(url, {}))


def test_processes_creating_the_key_file_at_once_all_read_the_same_whole_key(
    tmp_path: Path,
) -> None:
    for round_ in range(5):
        url = f"sqlite:///{tmp_path}/file{round_}.db"
        keys: list[bytes] = []
        _together(8, functools.partial(_load_key, url, keys))
        assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 32
        assert sorted(p.name for p in tmp_path.iterdir() if f"file{round_}" in p.name) == [
            f"file{round_}.db.key"
        ]  # no draft left behind
