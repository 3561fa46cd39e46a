"""Pre-deployment checks, extensions, approvals and the webhook outbox.

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workspace_settings",
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "key"),
    )
    op.create_table(
        "extensions",
        sa.Column("account_id", sa.String(length=32), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("events", sa.String(length=256), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "code"),
    )
    op.create_table(
        "extension_workspaces",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "code", "project_id"),
    )
    op.create_table(
        "check_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", ID, sa.ForeignKey("packages.id"), nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("event_code", sa.String(length=32), nullable=False),
        sa.Column("file_id", ID, nullable=False),
        sa.Column("file_version", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("process_name", sa.String(length=256), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_check_events_package", "check_events", ["package_id"])
    op.create_index("ix_check_events_project", "check_events", ["project_id", "event_code"])
    op.create_index("ix_check_events_open", "check_events", ["open"])
    op.create_table(
        "check_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("event_id", ID, sa.ForeignKey("check_events.id"), nullable=False),
        sa.Column("package_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("spec", sa.Text(), server_default="", nullable=False),
        sa.Column("checker_instance_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("finish_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checker_instance_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_check_runs_event", "check_runs", ["event_id"])
    op.create_index("ix_check_runs_package", "check_runs", ["package_id"])
    op.create_index("ix_check_runs_pending", "check_runs", ["kind", "status"])
    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("run_id", ID, sa.ForeignKey("check_runs.id"), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("extension_code", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    for name in ("ix_check_runs_pending", "ix_check_runs_package", "ix_check_runs_event"):
        op.drop_index(name, table_name="check_runs")
    op.drop_table("check_runs")
    for name in ("ix_check_events_open", "ix_check_events_project", "ix_check_events_package"):
        op.drop_index(name, table_name="check_events")
    op.drop_table("check_events")
    op.drop_table("extension_workspaces")
    op.drop_table("extensions")
    op.drop_table("workspace_settings")
