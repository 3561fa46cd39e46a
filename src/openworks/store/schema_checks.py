"""Tables for pre-deployment checks, extensions, approvals and webhook deliveries.

::

    workspace_settings      (project, key) ─▶ value        checks.builtin, approval.required…
    extensions              (account, code) ─▶ url, secret, events
    extension_workspaces    (account, code, project)      no rows: every workspace

    packages 1 ── n check_events 1 ── n check_runs 1 ── 0..1 outbox
                   (one per item;       (one per built-in  (the webhook to an
                    MessageId)           check or extension) extension, retried)

A check event stays ``open`` until its package's gate settles (all runs final, or the
deadline passed); the worker only scans open events.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from .schema import ID, metadata

__all__ = [
    "check_events",
    "check_runs",
    "extension_workspaces",
    "extensions",
    "outbox",
    "workspace_settings",
]

workspace_settings = Table(
    "workspace_settings",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

extensions = Table(
    "extensions",
    metadata,
    Column("account_id", String(32), ForeignKey("accounts.id"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("events", String(256), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(256), nullable=False),
    Column("status", Integer, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
)

extension_workspaces = Table(
    "extension_workspaces",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), primary_key=True),
)

check_events = Table(
    "check_events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("package_id", ID, ForeignKey("packages.id"), nullable=False),
    Column("project_id", ID, nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("event_code", String(32), nullable=False),
    Column("file_id", ID, nullable=False),
    Column("file_version", Integer, nullable=False),
    Column("operator", String(64), nullable=False),
    Column("process_name", String(256), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("open", Boolean, nullable=False),
    Index("ix_check_events_package", "package_id"),
    Index("ix_check_events_project", "project_id", "event_code"),
    Index("ix_check_events_open", "open"),
    sqlite_autoincrement=True,
)

check_runs = Table(
    "check_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("event_id", ID, ForeignKey("check_events.id"), nullable=False),
    Column("package_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("spec", Text, nullable=False, server_default=""),
    Column("checker_instance_id", String(64), nullable=False, unique=True),
    Column("status", String(8), nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("finish_time", BigInteger),
    Index("ix_check_runs_event", "event_id"),
    Index("ix_check_runs_package", "package_id"),
    Index("ix_check_runs_pending", "kind", "status"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("check_runs.id"), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("extension_code", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt", BigInteger, nullable=False),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("create_time", BigInteger, nullable=False),
    Index("ix_outbox_due", "state", "next_attempt"),
    sqlite_autoincrement=True,
)
