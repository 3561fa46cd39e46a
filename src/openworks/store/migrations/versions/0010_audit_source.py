"""Audit rows say where a change came from: the API or the command line, and who ran it.

``source`` is ``api`` for the rows written so far and for every API call, ``cli`` for a
change made with an ``openworks`` command; ``operator`` is, for a command, the operating
system user and host that ran it (``alice@build-01``), empty for API calls (their
AccessKey says who).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_log",
        sa.Column("source", sa.String(length=16), nullable=False, server_default="api"),
    )
    op.add_column("audit_log", sa.Column("operator", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("operator")
        batch_op.drop_column("source")
