"""Accounts, users and AccessKeys: who may call, and with which secret.

The account's *root user* has the account's UID as user ID (as Alibaba Cloud does); other
users get generated 16-digit IDs. AccessKey IDs look like Alibaba Cloud's (``LTAI`` + 20
characters) and secrets are 30 random characters.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from openworks.core.context import now_ms

from .schema import access_keys, accounts, users

__all__ = [
    "KeyRecord",
    "create_user",
    "ensure_account",
    "ensure_key",
    "lookup_key",
    "new_key_pair",
]

_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class KeyRecord:
    access_key_id: str
    secret: str
    active: bool
    user_id: str
    account_id: str
    user_name: str


def new_key_pair() -> tuple[str, str]:
    key_id = "LTAI" + "".join(secrets.choice(_ALPHABET) for _ in range(20))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(30))
    return key_id, secret


def ensure_account(engine: Engine, account_id: str, name: str = "root") -> None:
    """Create the account and its root user if missing."""
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first():
                return
            now = now_ms()
            conn.execute(insert(accounts).values(id=account_id, name=name, create_time=now))
            conn.execute(
                insert(users).values(
                    id=account_id, account_id=account_id, name=name, create_time=now
                )
            )


def ensure_key(engine: Engine, user_id: str, key_id: str, secret: str) -> None:
    """Register (or re-activate with a new secret) a given key pair for a user."""
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            found = conn.execute(
                select(access_keys.c.user_id).where(access_keys.c.id == key_id)
            ).first()
            if found is None:
                conn.execute(
                    insert(access_keys).values(
                        id=key_id, user_id=user_id, secret=secret, active=True, create_time=now_ms()
                    )
                )
            else:
                conn.execute(
                    update(access_keys)
                    .where(access_keys.c.id == key_id)
                    .values(user_id=user_id, secret=secret, active=True)
                )


def create_user(engine: Engine, account_id: str, name: str) -> tuple[str, str, str]:
    """Add a user with one AccessKey to the account: (user id, key id, secret)."""
    if not name or len(name) > 64:
        raise ValueError("a user name is 1-64 characters")
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            taken = conn.execute(
                select(users.c.id).where(users.c.account_id == account_id, users.c.name == name)
            ).first()
            if taken is not None:
                raise ValueError(f"a user named {name!r} already exists in account {account_id}")
            user_id = "2" + "".join(secrets.choice(string.digits) for _ in range(15))
            key_id, secret = new_key_pair()
            now = now_ms()
            conn.execute(
                insert(users).values(id=user_id, account_id=account_id, name=name, create_time=now)
            )
            conn.execute(
                insert(access_keys).values(
                    id=key_id, user_id=user_id, secret=secret, active=True, create_time=now
                )
            )
    return user_id, key_id, secret


def lookup_key(engine: Engine, key_id: str) -> KeyRecord | None:
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
    return KeyRecord(
        access_key_id=key_id,
        secret=row.secret,
        active=bool(row.active) and not bool(row.disabled),
        user_id=row.id,
        account_id=row.account_id,
        user_name=row.name,
    )
