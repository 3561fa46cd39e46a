"""Tables of the security model: the audit trail.

::

    audit_log   one row per state-changing API call that got past authentication, and per
                change made with an ``openworks`` command (time, who, which key, action,
                workspace, redacted parameters, outcome; source ``api`` or ``cli`` and,
                for a command, the operating system user@host that ran it)

Secrets live in ``access_keys.secret`` (sealed, see :mod:`openworks.store.secrets`);
temporary (STS) credentials are stateless and need no table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from .schema import ID, metadata

__all__ = ["audit_log"]

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("time", BigInteger, nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("access_key_id", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("project_id", BigInteger),
    Column("project_identifier", String(64)),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("status", Integer, nullable=False),
    Column("code", String(128), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("source", String(16), nullable=False, server_default="api"),  # api | cli
    Column("operator", String(128)),  # cli: the OS user@host that ran the command
    Column("version", String(16)),  # api: the API version of the call; cli: none
    Index("ix_audit_account_time", "account_id", "time"),
    Index("ix_audit_project_time", "project_id", "time"),
    sqlite_autoincrement=True,
)
