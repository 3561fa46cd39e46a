"""Tables of the web console: password hashes and signed-in sessions.

::

    users ──1:0..1── console_passwords   (salted scrypt hash, set by `openworks users passwd`)
    users ──1:n───── console_sessions    (one row per browser sign-in; the cookie holds a
                                          token whose SHA-256 is the primary key)

A session signed in with an AccessKey remembers the key id, so disabling the key (or the
user) ends the session too.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from .schema import metadata

__all__ = ["console_passwords", "console_sessions"]

console_passwords = Table(
    "console_passwords",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id"), primary_key=True),
    Column("hash", String(256), nullable=False),
    Column("update_time", BigInteger, nullable=False),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("access_key_id", String(64), nullable=True),
    Column("csrf", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("expire_time", BigInteger, nullable=False),
    Index("ix_console_sessions_user", "user_id"),
)
