"""Accounts, users and AccessKeys: who may call, and with which secret.

::

    account (tenant, 16-digit ID) ──1:n── user ──1:n── AccessKey (active | disabled)
      └── root user: user ID = account ID, acts as owner in every workspace of the account

Other users get generated 16-digit IDs. AccessKey IDs look like Alibaba Cloud's (``LTAI`` +
20 characters), secrets are 30 random characters and are stored sealed with the server key
(:class:`~openworks.store.secrets.SecretBox`); a user may hold several active keys (rotation).
A disabled user's keys all stop working. No SQL here is built from strings.

Start-up registration (:func:`seal_plaintext_secrets`, :func:`ensure_account`,
:func:`ensure_key`) may run on any number of hosts at once: each runs in one write
transaction under the registration lock (:func:`~openworks.store.db.exclusive`) and inserts
with ``ON CONFLICT DO NOTHING``. Each first checks the server key against the secrets
already stored (:func:`check_server_key`): a server whose key does not open them raises
:class:`~openworks.store.secrets.ServerKeyMismatch` and writes nothing.
"""

from __future__ import annotations

import logging
import secrets
import string
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from openworks.core.context import now_ms
from openworks.core.member_model import UserInfo

from .db import REGISTRATION_LOCK, exclusive
from .schema import access_keys, accounts, users
from .schema_checks import extensions
from .secrets import PREFIX, SecretBox, SecretError, ServerKeyMismatch
from .upsert import insert_missing

__all__ = [
    "IdentityError",
    "KeyInfo",
    "KeyRecord",
    "check_server_key",
    "create_account",
    "create_key",
    "create_user",
    "delete_key",
    "ensure_account",
    "ensure_key",
    "find_user",
    "list_accounts",
    "list_keys",
    "list_users",
    "lookup_key",
    "new_key_pair",
    "seal_plaintext_secrets",
    "set_key_active",
    "set_user_disabled",
    "user_by_id",
]

log = logging.getLogger("openworks.security")
_ALPHABET = string.ascii_letters + string.digits
MAX_SECRET = 128


class IdentityError(ValueError):
    """A users/keys command cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    access_key_id: str
    secret: str
    active: bool
    user_id: str
    account_id: str
    user_name: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    access_key_id: str
    user_id: str
    user_name: str
    active: bool
    create_time: int


def new_key_pair() -> tuple[str, str]:
    key_id = "LTAI" + "".join(secrets.choice(_ALPHABET) for _ in range(20))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(30))
    return key_id, secret


def _digits(first: str) -> str:
    return first + "".join(secrets.choice(string.digits) for _ in range(15))


def _write(engine: Engine) -> Connection:
    conn = engine.connect()
    conn.info["write"] = True
    return conn


def _fingerprint(sealed: str) -> str:
    """The server-key fingerprint a sealed value names (8 hex digits), for messages."""
    found = sealed[len(PREFIX) :].partition(":")[0]
    return found if len(found) == 8 and all(c in string.hexdigits for c in found) else "?"


def check_server_key(conn: Connection, box: SecretBox) -> None:
    """Raise :class:`ServerKeyMismatch` when a secret in the database was sealed under
    another server key (AccessKey and extension secrets), or when an AccessKey secret
    that names this key does not open with it (a fingerprint collision). A database with
    no sealed secret yet passes: whoever registers first under the registration lock
    decides the key."""
    mine = f"{PREFIX}{box.key_id}:"
    for column in (access_keys.c.secret, extensions.c.secret):
        other = conn.execute(
            select(column).where(column.like(PREFIX + "%"), column.not_like(mine + "%")).limit(1)
        ).scalar()
        if other is not None:
            raise ServerKeyMismatch(_fingerprint(other), box.key_id)
    sample = conn.execute(
        select(access_keys.c.id, access_keys.c.secret)
        .where(access_keys.c.secret.like(mine + "%"))
        .limit(1)
    ).first()
    if sample is not None:
        try:
            box.open(sample.secret, sample.id)
        except SecretError as err:
            found = f"{box.key_id} (another key with the same fingerprint)"
            raise ServerKeyMismatch(found, box.key_id) from err


def _start_registration(conn: Connection, box: SecretBox) -> None:
    """First statements of a registration transaction: the lock, then the key check."""
    exclusive(conn, REGISTRATION_LOCK)
    check_server_key(conn, box)


def ensure_account(engine: Engine, account_id: str, name: str = "root") -> None:
    """Create the account and its root user if missing (safe from several hosts at once)."""
    with _write(engine) as conn, conn.begin():
        if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first():
            return
        now = now_ms()
        insert_missing(conn, accounts, {"id": account_id, "name": name, "create_time": now})
        insert_missing(
            conn,
            users,
            {"id": account_id, "account_id": account_id, "name": name, "create_time": now},
        )


def _insert_key(conn: Connection, box: SecretBox, user_id: str) -> tuple[str, str]:
    key_id, secret = new_key_pair()
    conn.execute(
        insert(access_keys).values(
            id=key_id,
            user_id=user_id,
            secret=box.seal(secret, key_id),
            active=True,
            create_time=now_ms(),
        )
    )
    return key_id, secret


def create_account(engine: Engine, box: SecretBox, name: str) -> tuple[str, str, str]:
    """A new account with its root user and one key: (account id, key id, secret)."""
    if not name or len(name) > 64:
        raise IdentityError("an account name is 1-64 characters")
    account_id = _digits("1")
    ensure_account(engine, account_id, name)
    with _write(engine) as conn, conn.begin():
        key_id, secret = _insert_key(conn, box, account_id)
    return account_id, key_id, secret


def list_accounts(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(accounts.c.id, accounts.c.name).order_by(accounts.c.id))
        return [(r.id, r.name) for r in rows]


def ensure_key(engine: Engine, box: SecretBox, user_id: str, key_id: str, secret: str) -> None:
    """Register (or re-activate with a new secret) a given key pair for a user.

    Safe from several hosts at once, and never overwrites what it cannot open: under the
    registration lock it checks the server key (:func:`check_server_key`), inserts the key
    if missing (``ON CONFLICT DO NOTHING``), and rewrites an existing row only when its
    user, state or secret differ, after opening the stored secret with this server's key.
    A row sealed under another key raises :class:`ServerKeyMismatch` and stays as it is.
    """
    if len(secret) > MAX_SECRET:
        raise IdentityError(f"an AccessKey secret is at most {MAX_SECRET} characters")
    with _write(engine) as conn, conn.begin():
        _start_registration(conn, box)
        found = conn.execute(
            select(access_keys.c.user_id, access_keys.c.secret, access_keys.c.active).where(
                access_keys.c.id == key_id
            )
        ).first()
        if found is None:
            insert_missing(
                conn,
                access_keys,
                {
                    "id": key_id,
                    "user_id": user_id,
                    "secret": box.seal(secret, key_id),
                    "active": True,
                    "create_time": now_ms(),
                },
            )
            return
        stored = found.secret
        if stored.startswith(PREFIX):
            try:
                stored = box.open(stored, key_id)
            except SecretError as err:
                raise ServerKeyMismatch(_fingerprint(found.secret), box.key_id) from err
        if stored == secret and found.user_id == user_id and found.active:
            return  # registered already: a restart writes nothing
        conn.execute(
            update(access_keys)
            .where(access_keys.c.id == key_id)
            .values(user_id=user_id, secret=box.seal(secret, key_id), active=True)
        )


def create_user(engine: Engine, box: SecretBox, account_id: str, name: str) -> tuple[str, str, str]:
    """Add a user with one AccessKey to the account: (user id, key id, secret)."""
    if not name or len(name) > 64:
        raise IdentityError("a user name is 1-64 characters")
    with _write(engine) as conn, conn.begin():
        if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
            raise IdentityError(f"there is no account {account_id}")
        taken = conn.execute(
            select(users.c.id).where(users.c.account_id == account_id, users.c.name == name)
        ).first()
        if taken is not None:
            raise IdentityError(f"a user named {name!r} already exists in account {account_id}")
        user_id = _digits("2")
        conn.execute(
            insert(users).values(id=user_id, account_id=account_id, name=name, create_time=now_ms())
        )
        key_id, secret = _insert_key(conn, box, user_id)
    return user_id, key_id, secret


def _user_info(row: Row[Any]) -> UserInfo:
    return UserInfo(row.id, row.account_id, row.name, bool(row.disabled))


def find_user(engine: Engine, account_id: str, name: str) -> UserInfo:
    with engine.connect() as conn:
        row = conn.execute(
            select(users).where(users.c.account_id == account_id, users.c.name == name)
        ).first()
    if row is None:
        raise IdentityError(f"there is no user {name!r} in account {account_id}")
    return _user_info(row)


def user_by_id(engine: Engine, user_id: str) -> UserInfo | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
        conn.rollback()
    return _user_info(row) if row is not None else None


def list_users(engine: Engine, account_id: str) -> list[UserInfo]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(users).where(users.c.account_id == account_id).order_by(users.c.create_time)
        )
        return [_user_info(r) for r in rows]


def set_user_disabled(engine: Engine, account_id: str, name: str, disabled: bool) -> UserInfo:
    user = find_user(engine, account_id, name)
    if user.is_root and disabled:
        raise IdentityError("the account's root user cannot be disabled")
    with _write(engine) as conn, conn.begin():
        conn.execute(update(users).where(users.c.id == user.id).values(disabled=disabled))
    return user


def create_key(engine: Engine, box: SecretBox, account_id: str, name: str) -> tuple[str, str]:
    """One more active AccessKey for a user: (key id, secret)."""
    user = find_user(engine, account_id, name)
    with _write(engine) as conn, conn.begin():
        return _insert_key(conn, box, user.id)


def list_keys(engine: Engine, account_id: str, name: str | None = None) -> list[KeyInfo]:
    stmt = (
        select(access_keys.c.id, access_keys.c.active, access_keys.c.create_time, users)
        .join(users, users.c.id == access_keys.c.user_id)
        .where(users.c.account_id == account_id)
        .order_by(access_keys.c.create_time, access_keys.c.id)
    )
    if name is not None:
        stmt = stmt.where(users.c.name == name)
    with engine.connect() as conn:
        return [
            KeyInfo(r[0], r.id, r.name, bool(r.active), r.create_time) for r in conn.execute(stmt)
        ]


def _key_of_account(conn: Connection, account_id: str, key_id: str) -> None:
    found = conn.execute(
        select(access_keys.c.id)
        .join(users, users.c.id == access_keys.c.user_id)
        .where(access_keys.c.id == key_id, users.c.account_id == account_id)
    ).first()
    if found is None:
        raise IdentityError(f"there is no AccessKey {key_id} in account {account_id}")


def set_key_active(engine: Engine, account_id: str, key_id: str, active: bool) -> None:
    with _write(engine) as conn, conn.begin():
        _key_of_account(conn, account_id, key_id)
        conn.execute(update(access_keys).where(access_keys.c.id == key_id).values(active=active))


def delete_key(engine: Engine, account_id: str, key_id: str) -> None:
    with _write(engine) as conn, conn.begin():
        _key_of_account(conn, account_id, key_id)
        conn.execute(delete(access_keys).where(access_keys.c.id == key_id))


def lookup_key(engine: Engine, box: SecretBox, key_id: str) -> KeyRecord | None:
    """The key with its secret opened, or ``None`` (unknown, or not openable: logged)."""
    stmt = (
        select(
            access_keys.c.secret,
            access_keys.c.active,
            users.c.id,
            users.c.account_id,
            users.c.name,
            users.c.disabled,
        )
        .join(users, users.c.id == access_keys.c.user_id)
        .where(access_keys.c.id == key_id)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
        conn.rollback()
    if row is None:
        return None
    try:
        secret = box.open(row.secret, key_id)
    except SecretError as err:
        log.error("AccessKey %s unusable: %s", key_id, err)
        return None
    return KeyRecord(
        access_key_id=key_id,
        secret=secret,
        active=bool(row.active) and not bool(row.disabled),
        user_id=row.id,
        account_id=row.account_id,
        user_name=row.name,
    )


def seal_plaintext_secrets(engine: Engine, box: SecretBox) -> int:
    """Check the server key against the database, then seal the AccessKey secrets stored
    in plain text by earlier versions; how many were sealed.

    Every process that opens the database with its key (``serve``, ``worker``, the CLI)
    calls this first, so a wrong key stops there: :class:`ServerKeyMismatch`, nothing
    written."""
    with _write(engine) as conn, conn.begin():
        _start_registration(conn, box)
        rows = conn.execute(
            select(access_keys.c.id, access_keys.c.secret).where(
                access_keys.c.secret.not_like(PREFIX + "%")
            )
        ).all()
        for key_id, secret in rows:
            conn.execute(
                update(access_keys)
                .where(access_keys.c.id == key_id)
                .values(secret=box.seal(secret, key_id))
            )
    return len(rows)
