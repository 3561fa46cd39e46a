"""Persistence: SQLAlchemy 2 schema, repositories and Alembic migrations (SQLite, PostgreSQL)."""

from .db import default_database_url, make_engine, migrate
from .repo import SqlStore

__all__ = ["SqlStore", "default_database_url", "make_engine", "migrate"]
