"""Tables shown in a workflow (2020 EstablishRelationTableToBusiness, also at 2024-05-18).

DataWorks lists, under a workflow of the DataStudio tree, the tables that belong to it. A
relation ties one table (its GUID, as Data Map names it) to one workflow of the workspace,
and optionally to one of that workflow's folders::

    (workspace, TableGuid) ──▶ workflow (BusinessId) [──▶ folder of that workflow (FolderId)]

    establish again       the table moves: its row is replaced (one workflow per table)
    DeleteFolder          the relation stays with the workflow, without a folder
    DeleteBusiness        the workflow's relations go with it (they never block it)

openworks runs no engines and keeps no catalogue: a table need not exist anywhere; the
GUID is checked for its shape only (:data:`GUID_SHAPE`). The relations are read by the
console's Files page for a workflow folder (no API response carries them).

Errors::

    Invalid.TableGuid          not ``<engine>.<instance or project>[.<db>[.<schema>]].<table>``
    Invalid.BusinessId         BusinessId is not a number
    InvalidBusiness.NotFound   no such workflow in the workspace (404)
    InvalidFolder.NotFound     no such folder in the workspace (404)
    Invalid.Folder.Business    the folder belongs to another workflow
"""

from __future__ import annotations

import re

from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .folder_model import Business, TableRelation
from .model import Principal

__all__ = ["GUID_SHAPE", "establish", "parse_guid", "workflow_tables"]

MAX_GUID = 256
# odps.<project>.<table>, odps.<project>.<schema>.<table>, emr.<cluster>.<db>.<table>,
# holo.<instance>.<db>.<schema>.<table>: an engine word, then two to four names.
GUID_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_$-]+){2,4}")


def parse_guid(text: str) -> str:
    """The table GUID, or Invalid.TableGuid naming the expected shape."""
    if len(text) > MAX_GUID or not GUID_SHAPE.fullmatch(text):
        shown = text if len(text) <= 80 else text[:80] + "…"
        raise Invalid(
            "Invalid.TableGuid",
            f"TableGuid {shown!r} is not a table GUID: expected "
            "<engine>.<project>.<table> (for example odps.my_project.ods_orders), with "
            f"up to two more names between, of letters, digits, _ - $, at most {MAX_GUID} "
            "characters.",
        )
    return text


def _business_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise Invalid("Invalid.BusinessId", f"BusinessId {text[:40]!r} must be a workflow ID.")
    return int(text)


def establish(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    business_id: str,
    folder_id: str | None,
    table_guid: str,
) -> TableRelation:
    """Show the table in the workflow (and folder); replaces the table's earlier relation."""
    guid = parse_guid(table_guid)
    wanted = _business_id(business_id)
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        business = tx.business(wanted)
        if business is None or business.project_id != project.id:
            raise NotFound(
                "InvalidBusiness.NotFound",
                f"The workflow {wanted} does not exist in workspace {project.identifier}.",
            )
        if folder_id:
            folder = tx.folder(folder_id)
            if folder is None or folder.project_id != project.id:
                raise NotFound(
                    "InvalidFolder.NotFound", f"The folder (FolderId {folder_id}) does not exist."
                )
            if folder.business_id != business.id:
                raise Invalid(
                    "Invalid.Folder.Business",
                    f"The folder {folder.path} does not belong to the workflow "
                    f"{business.name} ({business.id}).",
                )
        now = core.clock()
        earlier = tx.table_relation(project.id, guid)
        relation = TableRelation(
            project_id=project.id,
            table_guid=guid,
            business_id=business.id,
            folder_id=folder_id or None,
            creator=principal.user_id,
            create_time=now if earlier is None else earlier.create_time,
            modify_time=now,
        )
        tx.relate_table(relation)
        return relation


def workflow_tables(
    core: Core, principal: Principal, ref: ProjectRef, folder_path: str
) -> tuple[Business | None, list[TableRelation]]:
    """The workflow a folder path is in (its first two levels: root/workflow) and the tables
    shown in it, by GUID; (None, []) above or outside any workflow."""
    parts = [p for p in folder_path.split("/") if p]
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        if len(parts) < 2:
            return None, []
        folder = tx.folder_by_path(project.id, "/".join(parts[:2]))
        business = None if folder is None else tx.business(folder.business_id)
        if business is None:
            return None, []
        return business, tx.table_relations(business.id)
