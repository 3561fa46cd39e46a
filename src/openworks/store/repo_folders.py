"""Repository methods for workflows, folders, table relations, parse notes and node listings.

Mixed into :class:`openworks.store.repo.SqlTx`; every method uses ``self.conn`` (the
transaction's connection) and maps rows to :mod:`openworks.core.folder_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, insert, or_, select, update

from openworks.core.folder_model import Business, Folder, ParseNote, TableRelation
from openworks.core.model import DeletedStatus, Node
from openworks.core.ports import Page

from .hot import HotRead
from .schema import files, nodes
from .schema_folders import businesses, file_parse_notes, folders, table_relations
from .upsert import insert_missing

__all__ = ["FoldersRepo"]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _business(row: Row[Any] | Mapping[str, Any]) -> Business:
    m = row._mapping if isinstance(row, Row) else row
    return Business(
        id=m["id"],
        project_id=m["project_id"],
        name=m["name"],
        owner=m["owner"],
        create_time=m["create_time"],
        modify_time=m["modify_time"],
        description=m["description"],
        use_type=m["use_type"],
    )


def _folder(row: Row[Any] | Mapping[str, Any]) -> Folder:
    m = row._mapping if isinstance(row, Row) else row
    return Folder(
        id=m["id"],
        project_id=m["project_id"],
        path=m["path"],
        parent_path=m["parent_path"],
        business_id=m["business_id"],
        create_time=m["create_time"],
    )


def _folder_values(folder: Folder) -> dict[str, Any]:
    return {
        "id": folder.id,
        "project_id": folder.project_id,
        "path": folder.path,
        "parent_path": folder.parent_path,
        "business_id": folder.business_id,
        "create_time": folder.create_time,
    }


def _relation(row: Row[Any]) -> TableRelation:
    m = row._mapping
    return TableRelation(
        project_id=m["project_id"],
        table_guid=m["table_guid"],
        business_id=m["business_id"],
        folder_id=m["folder_id"],
        creator=m["creator"],
        create_time=m["create_time"],
        modify_time=m["modify_time"],
    )


# Reads on CreateFile's path (a file placed into FileFolderPath), compiled once and run on
# the driver (store.hot); both look up a unique index, so at most one row.
_BUSINESS_BY_NAME = HotRead(
    select(businesses).where(
        businesses.c.project_id == bindparam("_project_id"),
        businesses.c.name_key == bindparam("_name_key"),
    )
)
_FOLDER_BY_PATH = HotRead(
    select(folders).where(
        folders.c.project_id == bindparam("_project_id"), folders.c.path == bindparam("_path")
    )
)


class FoldersRepo:
    conn: Connection

    def _node(self, row: Row[Any]) -> Node:  # provided by SqlTx
        raise NotImplementedError

    # nodes ------------------------------------------------------------------------
    def list_nodes(self, project_id: int, env: int) -> list[Node]:
        stmt = (
            select(nodes)
            .where(nodes.c.project_id == project_id, nodes.c.env == env)
            .order_by(nodes.c.node_id)
        )
        return [self._node(r) for r in self.conn.execute(stmt)]

    def set_node_status(self, env: int, node_id: int, status: str) -> None:
        self.conn.execute(
            update(nodes)
            .where(nodes.c.env == env, nodes.c.node_id == node_id)
            .values(status=status)
        )

    # businesses -------------------------------------------------------------------
    def business(self, business_id: int) -> Business | None:
        row = self.conn.execute(select(businesses).where(businesses.c.id == business_id)).first()
        return _business(row) if row else None

    def business_by_name(self, project_id: int, name: str) -> Business | None:
        params = {"_project_id": project_id, "_name_key": name.lower()}
        rows = _BUSINESS_BY_NAME.dicts(self.conn, params)
        return _business(rows[0]) if rows else None

    def _business_values(self, b: Business) -> dict[str, Any]:
        return {
            "project_id": b.project_id,
            "name": b.name,
            "name_key": b.name.lower(),
            "description": b.description,
            "owner": b.owner,
            "use_type": b.use_type,
            "create_time": b.create_time,
            "modify_time": b.modify_time,
        }

    def insert_business(self, business: Business) -> int:
        result = self.conn.execute(
            insert(businesses).values(self._business_values(business)).returning(businesses.c.id)
        )
        business.id = int(result.scalar_one())
        return business.id

    def add_business(self, business: Business) -> Business:
        values = self._business_values(business)
        values.pop("id", None)
        insert_missing(self.conn, businesses, values)
        stored = self.business_by_name(business.project_id, business.name)
        assert stored is not None  # inserted, or there already
        return stored

    def update_business(self, business: Business) -> None:
        self.conn.execute(
            update(businesses)
            .where(businesses.c.id == business.id)
            .values(self._business_values(business))
        )

    def delete_business(self, business_id: int) -> None:
        self.conn.execute(
            delete(table_relations).where(table_relations.c.business_id == business_id)
        )
        self.conn.execute(delete(folders).where(folders.c.business_id == business_id))
        self.conn.execute(delete(businesses).where(businesses.c.id == business_id))

    def list_businesses(
        self, project_id: int, keyword: str | None, page: Page
    ) -> tuple[list[Business], int]:
        where = businesses.c.project_id == project_id
        if keyword:
            pattern = f"%{_escape_like(keyword.lower())}%"
            where = and_(where, businesses.c.name_key.like(pattern, escape="\\"))
        total = self.conn.execute(
            select(func.count()).select_from(businesses).where(where)
        ).scalar_one()
        stmt = (
            select(businesses)
            .where(where)
            .order_by(businesses.c.id)
            .limit(page.size)
            .offset(page.offset)
        )
        return [_business(r) for r in self.conn.execute(stmt)], int(total)

    # folders ----------------------------------------------------------------------
    def folder(self, folder_id: str) -> Folder | None:
        row = self.conn.execute(select(folders).where(folders.c.id == folder_id)).first()
        return _folder(row) if row else None

    def folder_by_path(self, project_id: int, path: str) -> Folder | None:
        rows = _FOLDER_BY_PATH.dicts(self.conn, {"_project_id": project_id, "_path": path})
        return _folder(rows[0]) if rows else None

    def insert_folder(self, folder: Folder) -> None:
        self.conn.execute(insert(folders).values(_folder_values(folder)))

    def add_folder(self, folder: Folder) -> Folder:
        insert_missing(self.conn, folders, _folder_values(folder))
        stored = self.folder_by_path(folder.project_id, folder.path)
        assert stored is not None  # inserted, or there already
        return stored

    def delete_folder(self, folder_id: str) -> None:
        self.conn.execute(
            update(table_relations)
            .where(table_relations.c.folder_id == folder_id)
            .values(folder_id=None)
        )
        self.conn.execute(delete(folders).where(folders.c.id == folder_id))

    def child_folders(
        self, project_id: int, parent_path: str, page: Page | None
    ) -> tuple[list[Folder], int]:
        where = and_(folders.c.project_id == project_id, folders.c.parent_path == parent_path)
        total = self.conn.execute(
            select(func.count()).select_from(folders).where(where)
        ).scalar_one()
        stmt = select(folders).where(where).order_by(folders.c.path)
        if page is not None:
            stmt = stmt.limit(page.size).offset(page.offset)
        return [_folder(r) for r in self.conn.execute(stmt)], int(total)

    def _under(self, column: Any, path: str) -> Any:
        return or_(column == path, column.like(f"{_escape_like(path)}/%", escape="\\"))

    def move_folder_tree(self, project_id: int, old_path: str, new_path: str) -> None:
        """Rename ``old_path`` to ``new_path`` in folder rows and live files below it."""

        def moved(path: str) -> str:
            return new_path + path[len(old_path) :]

        rows = self.conn.execute(
            select(folders.c.id, folders.c.path, folders.c.parent_path).where(
                folders.c.project_id == project_id, self._under(folders.c.path, old_path)
            )
        ).all()
        for row in rows:
            parent = moved(row.parent_path) if row.path != old_path else row.parent_path
            self.conn.execute(
                update(folders)
                .where(folders.c.id == row.id)
                .values(path=moved(row.path), parent_path=parent)
            )
        file_rows = self.conn.execute(
            select(files.c.id, files.c.folder_path).where(
                files.c.project_id == project_id, self._under(files.c.folder_path, old_path)
            )
        ).all()
        for file_row in file_rows:
            self.conn.execute(
                update(files)
                .where(files.c.id == file_row.id)
                .values(folder_path=moved(file_row.folder_path))
            )

    def count_live_files_in(self, project_id: int, path: str) -> int:
        stmt = (
            select(func.count())
            .select_from(files)
            .where(
                files.c.project_id == project_id,
                files.c.deleted_status == DeletedStatus.NORMAL,
                self._under(files.c.folder_path, path),
            )
        )
        return int(self.conn.execute(stmt).scalar_one())

    # table relations --------------------------------------------------------------
    def relate_table(self, relation: TableRelation) -> None:
        key = and_(
            table_relations.c.project_id == relation.project_id,
            table_relations.c.table_guid == relation.table_guid,
        )
        self.conn.execute(delete(table_relations).where(key))
        self.conn.execute(
            insert(table_relations).values(
                project_id=relation.project_id,
                table_guid=relation.table_guid,
                business_id=relation.business_id,
                folder_id=relation.folder_id,
                creator=relation.creator,
                create_time=relation.create_time,
                modify_time=relation.modify_time,
            )
        )

    def table_relation(self, project_id: int, table_guid: str) -> TableRelation | None:
        row = self.conn.execute(
            select(table_relations).where(
                table_relations.c.project_id == project_id,
                table_relations.c.table_guid == table_guid,
            )
        ).first()
        return _relation(row) if row else None

    def table_relations(self, business_id: int) -> list[TableRelation]:
        stmt = (
            select(table_relations)
            .where(table_relations.c.business_id == business_id)
            .order_by(table_relations.c.table_guid)
        )
        return [_relation(r) for r in self.conn.execute(stmt)]

    # parse notes ------------------------------------------------------------------
    def set_parse_note(self, note: ParseNote) -> None:
        self.conn.execute(
            delete(file_parse_notes).where(file_parse_notes.c.file_id == note.file_id)
        )
        self.conn.execute(
            insert(file_parse_notes).values(
                file_id=note.file_id, ok=note.ok, message=note.message, parse_time=note.parse_time
            )
        )

    def parse_note(self, file_id: int) -> ParseNote | None:
        row = self.conn.execute(
            select(file_parse_notes).where(file_parse_notes.c.file_id == file_id)
        ).first()
        if row is None:
            return None
        m = row._mapping
        return ParseNote(m["file_id"], bool(m["ok"]), m["message"], m["parse_time"])
