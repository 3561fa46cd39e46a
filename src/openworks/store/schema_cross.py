"""Cross-workspace deployment (API 2024-05-18; migration 0014).

::

    cross_environments 1 ──── * cross_object_map   (source id ─▶ the copy's id in the target)
                       1 ──── * cross_runs         (items: a JSON list, root first)

An environment is one source ─▶ target pair (unique). A run's packages live in the target
workspace (``packages.run_id`` = the run's id; the run keeps their ids).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .schema import ID, metadata

__all__ = ["cross_environments", "cross_object_map", "cross_runs"]

cross_environments = Table(
    "cross_environments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("source_project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("target_project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("creator", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    UniqueConstraint("source_project_id", "target_project_id", name="uq_cross_env_pair"),
    sqlite_autoincrement=True,
)

cross_object_map = Table(
    "cross_object_map",
    metadata,
    Column("environment_id", ID, ForeignKey("cross_environments.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("source_id", BigInteger, primary_key=True),
    Column("target_id", BigInteger, nullable=False),
)

cross_runs = Table(
    "cross_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("environment_id", ID, ForeignKey("cross_environments.id"), nullable=False),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("target_project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("object_id", BigInteger, nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_name", String(256), nullable=False),
    Column("object_version", String(32), nullable=False),
    Column("change_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("error_code", String(128), nullable=False),
    Column("error_message", Text, nullable=False),
    Column("creator", String(64), nullable=False),
    Column("executor", String(64), nullable=False),
    Column("abolisher", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("modify_time", BigInteger, nullable=False),
    Column("execute_time", BigInteger),
    Column("finish_time", BigInteger),
    Column("abolish_time", BigInteger),
    Column("dev_package_id", BigInteger),
    Column("prod_package_id", BigInteger),
    Column("items", Text, nullable=False),
    Index("ix_cross_runs_project_created", "project_id", "create_time"),
    Index("ix_cross_runs_environment", "environment_id", "status"),
)
