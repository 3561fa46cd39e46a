"""Tables shown in a workflow: table_relations (schema_folders.py), written by
EstablishRelationTableToBusiness.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "table_relations",
        sa.Column("project_id", ID, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("table_guid", sa.String(length=256), nullable=False),
        sa.Column("business_id", ID, sa.ForeignKey("businesses.id"), nullable=False),
        sa.Column("folder_id", sa.String(length=64), nullable=True),
        sa.Column("creator", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("modify_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "table_guid"),
    )
    op.create_index("ix_table_relations_business", "table_relations", ["business_id"])


def downgrade() -> None:
    op.drop_index("ix_table_relations_business", table_name="table_relations")
    op.drop_table("table_relations")
