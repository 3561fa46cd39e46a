"""Console credentials and sessions in SQL: passwords (scrypt) and signed-in browsers.

A password is stored as ``scrypt$N$r$p$<salt b64>$<hash b64>`` (16-byte random salt, 32-byte
key); checking one costs the same whether or not the user exists, so timing does not reveal
user names. A session token is 32 random bytes handed to the browser once; the table keeps
only its SHA-256, so a copy of the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from openworks.core.context import now_ms

from .schema import users
from .schema_console import console_passwords, console_sessions

__all__ = [
    "ConsoleSession",
    "ConsoleUser",
    "check_password",
    "end_session",
    "find_session",
    "hash_password",
    "set_password",
    "start_session",
    "verify_hash",
]

_N, _R, _P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    user_id: str
    account_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    user: ConsoleUser
    access_key_id: str | None
    csrf: str
    expire_time: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_hash(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, key = stored.split("$")
        if algo != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def _user_by_name(engine: Engine, account_id: str, name: str) -> tuple[ConsoleUser, bool] | None:
    stmt = select(users.c.id, users.c.disabled).where(
        users.c.account_id == account_id, users.c.name == name
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
        conn.rollback()
    if row is None:
        return None
    return ConsoleUser(row.id, account_id, name), bool(row.disabled)


def set_password(engine: Engine, account_id: str, name: str, password: str) -> str:
    """Set (or replace) the console password of a user; the user's id."""
    if len(password) < 8:
        raise ValueError("a console password has at least 8 characters")
    found = _user_by_name(engine, account_id, name)
    if found is None:
        raise ValueError(f"no user named {name!r} in account {account_id}")
    user = found[0]
    stored = hash_password(password)
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            exists = conn.execute(
                select(console_passwords.c.user_id).where(
                    console_passwords.c.user_id == user.user_id
                )
            ).first()
            values = {"hash": stored, "update_time": now_ms()}
            if exists is None:
                conn.execute(insert(console_passwords).values(user_id=user.user_id, **values))
            else:
                conn.execute(
                    update(console_passwords)
                    .where(console_passwords.c.user_id == user.user_id)
                    .values(**values)
                )
            # a new password signs out every browser of that user
            conn.execute(delete(console_sessions).where(console_sessions.c.user_id == user.user_id))
    return user.user_id


def check_password(engine: Engine, account_id: str, name: str, password: str) -> ConsoleUser | None:
    """The user if the name and password match an enabled user, else None."""
    found = _user_by_name(engine, account_id, name)
    stored = None
    if found is not None:
        with engine.connect() as conn:
            stored = conn.execute(
                select(console_passwords.c.hash).where(
                    console_passwords.c.user_id == found[0].user_id
                )
            ).scalar()
            conn.rollback()
    ok = verify_hash(password, stored or _DUMMY)
    if found is None or stored is None or found[1] or not ok:
        return None
    return found[0]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    engine: Engine, user_id: str, access_key_id: str | None, lifetime_ms: int
) -> tuple[str, str]:
    """Record a new session; (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = now_ms()
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(delete(console_sessions).where(console_sessions.c.expire_time < now))
            conn.execute(
                insert(console_sessions).values(
                    token_hash=_digest(token),
                    user_id=user_id,
                    access_key_id=access_key_id,
                    csrf=csrf,
                    create_time=now,
                    expire_time=now + lifetime_ms,
                )
            )
    return token, csrf


def find_session(engine: Engine, token: str) -> ConsoleSession | None:
    """The live session of a cookie token (unexpired, user enabled), or None."""
    stmt = (
        select(
            console_sessions.c.access_key_id,
            console_sessions.c.csrf,
            console_sessions.c.expire_time,
            users.c.id,
            users.c.account_id,
            users.c.name,
            users.c.disabled,
        )
        .join(users, users.c.id == console_sessions.c.user_id)
        .where(console_sessions.c.token_hash == _digest(token))
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
        conn.rollback()
    if row is None or row.disabled or row.expire_time < now_ms():
        return None
    user = ConsoleUser(row.id, row.account_id, row.name)
    return ConsoleSession(user, row.access_key_id, row.csrf, row.expire_time)


def end_session(engine: Engine, token: str) -> None:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            conn.execute(
                delete(console_sessions).where(console_sessions.c.token_hash == _digest(token))
            )
