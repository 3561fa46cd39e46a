"""Security: the audit trail.

AccessKey secrets already stored in plain text are sealed at server start (that needs the
server key, which migrations do not have); see ``identity.seal_plaintext_secrets``. The
``access_keys`` table itself is unchanged.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("access_key_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=True),
        sa.Column("project_identifier", sa.String(length=64), nullable=True),
        sa.Column("params", sa.Text(), server_default="{}", nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_account_time", "audit_log", ["account_id", "time"])
    op.create_index("ix_audit_project_time", "audit_log", ["project_id", "time"])


def downgrade() -> None:
    op.drop_index("ix_audit_project_time", table_name="audit_log")
    op.drop_index("ix_audit_account_time", table_name="audit_log")
    op.drop_table("audit_log")
