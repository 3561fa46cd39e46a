"""Nouns of the DataStudio tree: workflows (businesses), folders, parse notes.

::

    业务流程 (root, virtual)
     └── <workflow>            Folder, level 1 — one per Business
          └── <engine folder>  Folder, level 2 (MaxCompute, 数据集成, 通用…)
               └── <sub>…      Folder, level 3..6
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Business", "Folder", "ParseNote", "TableRelation"]


@dataclass(slots=True)
class Business:
    id: int
    project_id: int
    name: str
    owner: str
    create_time: int
    modify_time: int
    description: str = ""
    use_type: str = "NORMAL"


@dataclass(slots=True)
class Folder:
    id: str
    project_id: int
    path: str
    parent_path: str
    business_id: int
    create_time: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(slots=True)
class ParseNote:
    """Outcome of the last AutoParsing run of a file."""

    file_id: int
    ok: bool
    message: str
    parse_time: int


@dataclass(slots=True)
class TableRelation:
    """A table shown in a workflow (EstablishRelationTableToBusiness; core/table_relations.py):
    one workflow per table and workspace, optionally in one of the workflow's folders."""

    project_id: int
    table_guid: str
    business_id: int
    folder_id: str | None
    creator: str
    create_time: int
    modify_time: int
