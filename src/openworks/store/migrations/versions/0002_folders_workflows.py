"""Workflows (businesses), folders and auto-parsing notes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BUSINESS_ID_START = 80_000
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "businesses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("use_type", sa.String(length=16), server_default="NORMAL", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("modify_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_businesses_name", "businesses", ["project_id", "name_key"], unique=True)
    op.create_table(
        "folders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("parent_path", sa.String(length=1024), nullable=False),
        sa.Column("business_id", ID, sa.ForeignKey("businesses.id"), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_folders_path", "folders", ["project_id", "path"], unique=True)
    op.create_index("ix_folders_parent", "folders", ["project_id", "parent_path"])
    op.create_table(
        "file_parse_notes",
        sa.Column("file_id", ID, sa.ForeignKey("files.id"), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("parse_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("file_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('businesses', :s)").bindparams(
                s=BUSINESS_ID_START
            )
        )
    else:
        op.execute(
            sa.text(f"ALTER SEQUENCE businesses_id_seq RESTART WITH {BUSINESS_ID_START + 1}")
        )


def downgrade() -> None:
    op.drop_table("file_parse_notes")
    op.drop_index("ix_folders_parent", table_name="folders")
    op.drop_index("ux_folders_path", table_name="folders")
    op.drop_table("folders")
    op.drop_index("ux_businesses_name", table_name="businesses")
    op.drop_table("businesses")
