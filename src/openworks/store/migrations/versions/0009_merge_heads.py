"""Merge the feature branches of the schema into one head.

Folders (0002), security (0003), checks (0004), shared nonces (0005), test control (0006)
and the console (0008) were developed in parallel, each on top of 0001. From here on the
history is linear again: a new migration revises "0009".

Revision ID: 0009
Revises: 0002, 0003, 0004, 0005, 0006, 0008
"""

from __future__ import annotations

revision = "0009"
down_revision = ("0002", "0003", "0004", "0005", "0006", "0008")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
