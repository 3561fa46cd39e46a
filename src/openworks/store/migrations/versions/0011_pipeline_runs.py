"""Pipeline runs (API 2024-05-18): the pipeline_runs table, and packages linked to a run.

``packages.run_id`` names the run that made (or mirrors) a package; ``await_stage`` tells
the lifecycle that the package waits, once checked, for its run's deploy stage.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("creator", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("run_mode", sa.String(length=16), nullable=False),
        sa.Column("auto_until", sa.String(length=32), nullable=True),
        sa.Column("stages", sa.Text(), nullable=False),
        sa.Column("dev_package_id", sa.BigInteger(), nullable=True),
        sa.Column("prod_package_id", sa.BigInteger(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("modify_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pipeline_runs_project_created", "pipeline_runs", ["project_id", "create_time"]
    )
    op.create_index("ix_pipeline_runs_object", "pipeline_runs", ["object_id"])
    op.add_column("packages", sa.Column("run_id", sa.String(length=36), nullable=True))
    op.add_column(
        "packages",
        sa.Column("await_stage", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index("ix_packages_run", "packages", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_packages_run", table_name="packages")
    with op.batch_alter_table("packages") as batch_op:
        batch_op.drop_column("await_stage")
        batch_op.drop_column("run_id")
    op.drop_index("ix_pipeline_runs_object", table_name="pipeline_runs")
    op.drop_index("ix_pipeline_runs_project_created", table_name="pipeline_runs")
    op.drop_table("pipeline_runs")
