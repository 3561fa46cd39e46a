"""Cross-workspace deployment: environments, the source ─▶ target id mapping, cross runs
(schema_cross.py).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cross_environments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("source_project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("target_project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creator", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("source_project_id", "target_project_id", name="uq_cross_env_pair"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "cross_object_map",
        sa.Column("environment_id", ID, sa.ForeignKey("cross_environments.id"), primary_key=True),
        sa.Column("kind", sa.String(length=16), primary_key=True),
        sa.Column("source_id", sa.BigInteger(), primary_key=True),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "cross_runs",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("environment_id", ID, sa.ForeignKey("cross_environments.id"), nullable=False),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("target_project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_name", sa.String(length=256), nullable=False),
        sa.Column("object_version", sa.String(length=32), nullable=False),
        sa.Column("change_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("error_code", sa.String(length=128), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("creator", sa.String(length=64), nullable=False),
        sa.Column("executor", sa.String(length=64), nullable=False),
        sa.Column("abolisher", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("modify_time", sa.BigInteger(), nullable=False),
        sa.Column("execute_time", sa.BigInteger()),
        sa.Column("finish_time", sa.BigInteger()),
        sa.Column("abolish_time", sa.BigInteger()),
        sa.Column("dev_package_id", sa.BigInteger()),
        sa.Column("prod_package_id", sa.BigInteger()),
        sa.Column("items", sa.Text(), nullable=False),
    )
    op.create_index("ix_cross_runs_project_created", "cross_runs", ["project_id", "create_time"])
    op.create_index("ix_cross_runs_environment", "cross_runs", ["environment_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_cross_runs_environment", table_name="cross_runs")
    op.drop_index("ix_cross_runs_project_created", table_name="cross_runs")
    op.drop_table("cross_runs")
    op.drop_table("cross_object_map")
    op.drop_table("cross_environments")
