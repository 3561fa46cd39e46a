"""Audit rows say which API version a call used.

The same action names two operations in two versions (GetProject, CreateProject...), so an
API call's row records its version (``2020-05-18``, ``2024-05-18``); rows written before,
all 2020-05-18 calls, and rows of ``openworks`` commands have none.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("version", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("version")
