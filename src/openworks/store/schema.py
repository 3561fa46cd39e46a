"""The relational schema (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Alembic migrations in ``store/migrations`` create and evolve it; this module is what the
repositories query and what ``alembic revision --autogenerate`` compares against.

Numeric IDs come from autoincrement columns that start at DataWorks-like offsets (seeded by the
initial migration), so IDs stay unique across processes with no coordination beyond the
database.

Partial indexes (:func:`partial_index`) have one predicate for both databases. Here it is
only SQLite's ``sqlite_where``: a ``postgresql_where`` option would make SQLAlchemy import
its PostgreSQL dialect (about 50 ms) to validate the option in every process, an SQLite
server's too, although nothing reads it at run time (the migrations create the real
indexes). :func:`add_postgresql_predicates` gives the indexes their ``postgresql_where``;
``store.db.make_engine`` calls it for a PostgreSQL URL, so the metadata that the
migrations' environment (``alembic revision --autogenerate``) compares with a PostgreSQL
database has them. A partial index made after that call gets its predicate at once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "access_keys",
    "accounts",
    "add_postgresql_predicates",
    "file_versions",
    "files",
    "members",
    "metadata",
    "node_edges",
    "node_ids",
    "nodes",
    "package_items",
    "packages",
    "partial_index",
    "projects",
    "users",
]

metadata = MetaData()

_partial_indexes: list[Index] = []
_postgresql = False  # add_postgresql_predicates() was called


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows for which ``where`` (SQL) holds, on SQLite and PostgreSQL."""
    index = Index(name, *columns, unique=unique, sqlite_where=text(where))
    _partial_indexes.append(index)
    if _postgresql:
        _add_postgresql_predicate(index)
    return index


def add_postgresql_predicates() -> None:
    """Give every partial index its ``postgresql_where`` (the same predicate as SQLite's);
    idempotent. Loads SQLAlchemy's PostgreSQL dialect."""
    global _postgresql
    _postgresql = True
    for index in list(_partial_indexes):
        _add_postgresql_predicate(index)


def _add_postgresql_predicate(index: Index) -> None:
    index.dialect_options["postgresql"]["where"] = index.dialect_options["sqlite"]["where"]


# An integer primary key that is a rowid alias on SQLite and a BIGINT elsewhere.
ID = BigInteger().with_variant(Integer(), "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("create_time", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("create_time", BigInteger, nullable=False),
    Index("ux_users_account_name", "account_id", "name", unique=True),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("secret", String(256), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("create_time", BigInteger, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("account_id", String(32), ForeignKey("accounts.id"), nullable=False),
    Column("identifier", String(64), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("mode", Integer, nullable=False),
    Column("owner_id", String(32), nullable=False),
    Column("status", Integer, nullable=False, server_default=text("0")),
    Column("disable_development", Boolean, nullable=False, server_default=text("false")),
    Column("is_allow_download", Integer, nullable=False, server_default=text("1")),
    Column("resource_group_id", String(128)),
    Column("tags", Text, nullable=False, server_default="[]"),
    Column("client_token", String(128)),
    Column("create_time", BigInteger, nullable=False),
    Column("modify_time", BigInteger, nullable=False),
    Index("ux_projects_client_token", "account_id", "client_token", unique=True),
    sqlite_autoincrement=True,
)

members = Table(
    "members",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id"), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), primary_key=True),
    Column("role", String(64), primary_key=True),
)

files = Table(
    "files",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("file_type", Integer, nullable=False),
    Column("content", Text, nullable=False, server_default=""),
    Column("folder_path", String(1024), nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("owner", String(64), nullable=False),
    Column("config", Text, nullable=False, server_default="{}"),
    Column("commit_status", Integer, nullable=False, server_default=text("0")),
    Column("current_version", Integer),
    Column("node_id", BigInteger),
    Column("deleted_status", String(16), nullable=False, server_default="NORMAL"),
    Column("use_type", String(32), nullable=False, server_default="NORMAL"),
    Column("auto_parsing", Boolean, nullable=False, server_default=text("false")),
    Column("connection_name", String(256)),
    Column("advanced_settings", Text),
    Column("business_id", BigInteger),
    Column("parent_id", BigInteger),
    Column("create_user", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("last_edit_user", String(64), nullable=False),
    Column("last_edit_time", BigInteger, nullable=False),
    Column("prod_version", Integer),
    partial_index(
        "ux_files_live_name",
        "project_id",
        "name_key",
        unique=True,
        where="deleted_status = 'NORMAL'",
    ),
    Index("ix_files_node", "project_id", "node_id"),
    # ListFiles by Owner and/or CommitStatus in id order; name_key makes it cover the count
    # with a Keyword too (migration 0016)
    Index(
        "ix_files_owner_status",
        "project_id",
        "owner",
        "commit_status",
        "deleted_status",
        "id",
        "name_key",
    ),
    sqlite_autoincrement=True,
)

file_versions = Table(
    "file_versions",
    metadata,
    Column("file_id", ID, ForeignKey("files.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("change_type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("commit_time", BigInteger, nullable=False),
    Column("commit_user", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("file_type", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("folder_path", String(1024), nullable=False, server_default=""),
    Column("owner", String(64), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("config", Text, nullable=False),
    Column("node_id", BigInteger, nullable=False),
    Column("use_type", String(32), nullable=False, server_default="NORMAL"),
    Column("package_id", BigInteger),
)

packages = Table(
    "packages",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("status", Integer, nullable=False),
    Column("from_env", Integer, nullable=False),
    Column("to_env", Integer, nullable=False),
    Column("checking_status", Integer),
    Column("creator_id", String(64), nullable=False),
    Column("handler_id", String(64)),
    Column("create_time", BigInteger, nullable=False),
    Column("execute_time", BigInteger),
    Column("error_message", Text),
    Column("comment", Text, nullable=False, server_default=""),
    Column("hold", String(32)),
    # pipeline runs (schema_pipeline.py, migration 0011)
    Column("run_id", String(36)),
    Column("await_stage", Boolean, nullable=False, server_default=text("false")),
    Index("ix_packages_project_created", "project_id", "create_time"),
    Index("ix_packages_run", "run_id"),
    # ListDeployments by Status and Creator in page order; name makes it cover the count
    # with a Keyword too (migration 0016)
    Index(
        "ix_packages_status_creator",
        "project_id",
        "status",
        "creator_id",
        "create_time",
        "id",
        "name",
    ),
    partial_index("ix_packages_ready", "id", where="status = 0 AND hold IS NULL"),
    sqlite_autoincrement=True,
)

package_items = Table(
    "package_items",
    metadata,
    Column("package_id", ID, ForeignKey("packages.id"), primary_key=True),
    Column("file_id", ID, primary_key=True),
    Column("file_version", Integer, nullable=False),
    Column("status", Integer, nullable=False),
)

nodes = Table(
    "nodes",
    metadata,
    Column("env", Integer, primary_key=True),
    Column("node_id", BigInteger, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("file_id", ID, nullable=False),
    Column("file_version", Integer, nullable=False),
    Column("name", String(128), nullable=False),
    Column("file_type", Integer, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="NORMAL"),
    Column("modify_time", BigInteger, nullable=False),
    Index("ix_nodes_project_env", "project_id", "env"),
)

# One row per (node, name) edge end: kind 'out' for a produced output, 'in' for a consumed one.
node_edges = Table(
    "node_edges",
    metadata,
    Column("project_id", ID, nullable=False, primary_key=True),
    Column("env", Integer, nullable=False, primary_key=True),
    Column("kind", String(3), nullable=False, primary_key=True),
    Column("name", String(512), nullable=False, primary_key=True),
    Column("node_id", BigInteger, nullable=False, primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_node_edges_node", "env", "node_id"),
)

node_ids = Table(
    "node_ids",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    sqlite_autoincrement=True,
)
