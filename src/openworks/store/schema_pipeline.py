"""The pipeline runs of API version 2024-05-18 (migration 0011).

::

    pipeline_runs 1 ──── 0..2 packages      (packages.run_id; the run keeps the ids of its
                                              development and production package)

A run's stage statuses are derived from its packages (core/run_stages.py); ``status`` and
``message`` store the last derivation so that ListPipelineRuns can filter and page in SQL,
and ``stages`` holds the JSON list of stored stages (code, triggered, own status, message).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text, text

from .schema import ID, metadata

__all__ = ["pipeline_runs"]

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("object_id", BigInteger, nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("creator", String(64), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("run_mode", String(16), nullable=False),
    Column("auto_until", String(32)),
    Column("stages", Text, nullable=False),
    Column("dev_package_id", BigInteger),
    Column("prod_package_id", BigInteger),
    Column("cancelled", Boolean, nullable=False, server_default=text("false")),
    Column("origin", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("create_time", BigInteger, nullable=False),
    Column("modify_time", BigInteger, nullable=False),
    Index("ix_pipeline_runs_project_created", "project_id", "create_time"),
    Index("ix_pipeline_runs_object", "object_id"),
)
