"""Sealed secrets, the server key file, STS tokens, audit redaction, CLI parsers."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from openworks.cli.audit import parse_since
from openworks.core.member_model import UserInfo
from openworks.protocol import ApiError, RawRequest
from openworks.security import Security, issue_sts, parse_duration
from openworks.store import make_engine, migrate
from openworks.store.audit import redact
from openworks.store.identity import (
    create_user,
    ensure_account,
    lookup_key,
    seal_plaintext_secrets,
)
from openworks.store.schema import access_keys
from openworks.store.secrets import SecretBox, SecretError, key_file_for, load_server_key

KEY = b"k" * 32
ACCOUNT = "1000000000000001"


def test_seal_and_open() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("s3cret-value", "LTAI1")
    assert "s3cret" not in sealed and sealed.startswith("ow1:")
    assert box.open(sealed, "LTAI1") == "s3cret-value"
    assert box.seal("s3cret-value", "LTAI1") != sealed  # fresh nonce every time


def test_a_value_moved_to_another_key_or_opened_with_another_server_key_fails() -> None:
    sealed = SecretBox(KEY).seal("x", "LTAI1")
    with pytest.raises(SecretError):
        SecretBox(KEY).open(sealed, "LTAI2")
    with pytest.raises(SecretError, match="server key"):
        SecretBox(b"other" * 8).open(sealed, "LTAI1")
    with pytest.raises(SecretError):
        SecretBox(KEY).open(sealed[:-4] + "AAAA", "LTAI1")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db/ow.db"
    assert key_file_for(url) == tmp_path / "db" / "ow.db.key"
    first = load_server_key(url, {})
    assert load_server_key(url, {}) == first
    assert stat.S_IMODE(os.stat(tmp_path / "db" / "ow.db.key").st_mode) == 0o600
    assert load_server_key(url, {"OPENWORKS_SECRET_KEY": "e" * 40}) == b"e" * 40
    with pytest.raises(ValueError):
        load_server_key(url, {"OPENWORKS_SECRET_KEY": "short"})


def test_postgres_key_lives_in_the_data_directory(tmp_path: Path) -> None:
    assert key_file_for("postgresql://x/y", tmp_path) == tmp_path / "server.key"


def test_plaintext_rows_are_sealed_and_a_wrong_key_opens_nothing() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    box = SecretBox(KEY)
    _user, key_id, secret = create_user(engine, box, ACCOUNT, "alice")
    with engine.begin() as conn:  # an old row, stored in plain text
        conn.execute(
            access_keys.insert().values(
                id="LTAIold", user_id=ACCOUNT, secret="plain-old", active=True, create_time=1
            )
        )
    assert seal_plaintext_secrets(engine, box) == 1
    assert seal_plaintext_secrets(engine, box) == 0
    with engine.connect() as conn:
        stored = [row.secret for row in conn.execute(access_keys.select())]
    assert all(value.startswith("ow1:") for value in stored)
    assert not any(secret in value or "plain-old" in value for value in stored)
    record = lookup_key(engine, box, key_id)
    assert record is not None and record.secret == secret
    assert lookup_key(engine, box, "LTAIold").secret == "plain-old"  # type: ignore[union-attr]
    assert lookup_key(engine, SecretBox(b"w" * 32), key_id) is None


def _raw(token: str | None) -> RawRequest:
    headers = {"x-acs-security-token": token} if token else {}
    return RawRequest("POST", "/", b"", headers, b"")


def _code(call: object) -> str:
    with pytest.raises(ApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value.code


def test_sts_tokens() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    ensure_account(engine, ACCOUNT)
    box = SecretBox(KEY)
    security = Security(engine, box)
    root = UserInfo(ACCOUNT, ACCOUNT, "root")
    cred = issue_sts(box, root, 60)
    keys = lambda _key_id: None  # noqa: E731  (permanent keys: none)
    found = security.lookup(keys, _raw(cred.security_token), {})(cred.access_key_id)
    assert found is not None and found.active and found.secret == cred.access_key_secret
    assert found.principal.user_id == ACCOUNT  # type: ignore[attr-defined]
    lookup = security.lookup(keys, _raw(None), {})
    assert _code(lambda: lookup(cred.access_key_id)) == "MissingSecurityToken"
    bad = cred.security_token[:-3] + ("AAA" if cred.security_token[-3:] != "AAA" else "BBB")
    lookup = security.lookup(keys, _raw(bad), {})
    assert _code(lambda: lookup(cred.access_key_id)) == "InvalidSecurityToken.Malformed"
    other = issue_sts(box, root, 60)
    lookup = security.lookup(keys, _raw(other.security_token), {})
    assert _code(lambda: lookup(cred.access_key_id)).endswith("MismatchWithAccessKey")
    assert _code(lambda: lookup("LTAIpermanent")).endswith("MismatchWithAccessKey")
    old = issue_sts(box, root, 60, now=time.time() - 120)
    lookup = security.lookup(keys, _raw(old.security_token), {})
    assert _code(lambda: lookup(old.access_key_id)) == "InvalidSecurityToken.Expired"
    forged = issue_sts(SecretBox(b"z" * 32), root, 60)
    lookup = security.lookup(keys, _raw(forged.security_token), {})
    assert _code(lambda: lookup(forged.access_key_id)) == "InvalidSecurityToken.Malformed"


@pytest.mark.parametrize(
    ("text", "seconds"), [("900", 900), ("900s", 900), ("15m", 900), ("1h", 3600)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "13h", "abc", "-5s", "1.5h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_since() -> None:
    assert parse_since("1h", now=10_000) == (10_000 - 3600) * 1000
    assert parse_since("1970-01-02T00:00:00Z") == 86_400_000
    with pytest.raises(ValueError):
        parse_since("yesterday")


def test_redact() -> None:
    params = {"AccessKeySecret": "x", "Content": "y" * 1000, "ClientToken": "t", "FileId": 3}
    out = redact(params)
    assert out["AccessKeySecret"] == "***"
    assert out["Content"].startswith("y" * 256) and "1000 characters" in out["Content"]
    assert out["ClientToken"] == "t" and out["FileId"] == 3
