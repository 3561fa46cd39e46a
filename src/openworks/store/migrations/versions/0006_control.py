"""Test control: execution mode, forced failures, ID seed, and per-package gates.

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=16), server_default="instant", nullable=False),
        sa.Column("delay_ms", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("fail_remaining", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("fail_message", sa.Text(), server_default="", nullable=False),
        sa.Column("fail_item_status", sa.Integer(), server_default=sa.text("2"), nullable=False),
        sa.Column("seed", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "control_gates",
        sa.Column(
            "package_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_after", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("package_id"),
    )


def downgrade() -> None:
    op.drop_table("control_gates")
    op.drop_table("control_state")
