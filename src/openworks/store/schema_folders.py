"""Tables for workflows (businesses), DataStudio folders and auto-parsing notes.

::

    businesses 1 ──── n folders            (a workflow owns its folder tree)
    folders.path  ◀─── files.folder_path   (a file lives in a folder, matched by path)
    files 1 ──── 0..1 file_parse_notes     (outcome of the last AutoParsing run)
    businesses 1 ──── n table_relations    (tables shown in a workflow; migration 0015)

Folder IDs are strings, as DataWorks shows them; business IDs are integers drawn from an
autoincrement column seeded by migration 0002.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text

from .schema import ID, metadata

__all__ = ["businesses", "file_parse_notes", "folders", "table_relations"]

businesses = Table(
    "businesses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("owner", String(64), nullable=False),
    Column("use_type", String(16), nullable=False, server_default="NORMAL"),
    Column("create_time", BigInteger, nullable=False),
    Column("modify_time", BigInteger, nullable=False),
    Index("ux_businesses_name", "project_id", "name_key", unique=True),
    sqlite_autoincrement=True,
)

folders = Table(
    "folders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("parent_path", String(1024), nullable=False),
    Column("business_id", ID, ForeignKey("businesses.id"), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Index("ux_folders_path", "project_id", "path", unique=True),
    Index("ix_folders_parent", "project_id", "parent_path"),
)

file_parse_notes = Table(
    "file_parse_notes",
    metadata,
    Column("file_id", ID, ForeignKey("files.id"), primary_key=True),
    Column("ok", Boolean, nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("parse_time", BigInteger, nullable=False),
)

# One row per (workspace, table): a table is shown in one workflow, optionally in one of its
# folders (folder_id: no foreign key; DeleteFolder clears it, DeleteBusiness drops the row).
table_relations = Table(
    "table_relations",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id"), primary_key=True),
    Column("table_guid", String(256), primary_key=True),
    Column("business_id", ID, ForeignKey("businesses.id"), nullable=False),
    Column("folder_id", String(64)),
    Column("creator", String(64), nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("modify_time", BigInteger, nullable=False),
    Index("ix_table_relations_business", "business_id"),
)
