"""AutoParsing: a SQL file's dependencies inferred from its code.

::

    Content ──${var} masked──▶ sqlglot (Hive dialect) ──▶ statements
        │                                                    │
        │ parse error / unsupported statement                │ tables written → outputs
        ▼                                                    │ tables read (minus CTEs and
    ParseResult(ok=False, reason)                            │ tables written here) → inputs
    lists left unchanged                                     ▼
                                     names ``<project>.<table>`` (workspace identifier when
                                     the SQL does not name a project), lower case

:func:`apply_auto_parsing` runs on CreateFile/UpdateFile when the file has AutoParsing on
and is a SQL type; the outcome is kept as a :class:`~.folder_model.ParseNote` per file.
The parsing itself is :mod:`.sql_lineage` (``ParseResult`` lives there too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .filetypes import SQL_TYPES
from .folder_model import ParseNote
from .model import File, Project
from .ports import Tx

if TYPE_CHECKING:  # sqlglot is imported on first use, not with this module
    from .sql_lineage import ParseResult

__all__ = ["apply_auto_parsing", "parse_sql"]

# Fields that, when changed, make a file with AutoParsing parse again.
TRIGGERS = ("Content", "AutoParsing", "InputList", "OutputList")


def parse_sql(sql: str, identifier: str) -> ParseResult:
    """Inputs and outputs of a SQL script; ``ok=False`` with a reason when it cannot.

    sqlglot is imported on first use (it costs a noticeable part of start-up time).
    """
    from .sql_lineage import tables_of

    return tables_of(sql, identifier)


def apply_auto_parsing(
    tx: Tx, project: Project, file: File, changes: Mapping[str, Any], now: int
) -> None:
    """Re-derive InputList/OutputList of ``file`` from its code when AutoParsing asks for it.

    With a successful parse the code is the source of truth: the parsed names replace both
    lists, and names passed explicitly in the same call are added after them. A failed
    parse leaves the lists as they are and records why.
    """
    if not file.auto_parsing or file.file_type not in SQL_TYPES or file.id == 0:
        return
    if not any(changes.get(key) is not None for key in TRIGGERS):
        return
    result = parse_sql(file.content or "", project.identifier)
    if result.ok:
        for key, parsed in (("InputList", result.inputs), ("OutputList", result.outputs)):
            extra = [n.strip() for n in str(changes.get(key) or "").split(",") if n.strip()]
            file.config[key] = ",".join(dict.fromkeys([*parsed, *extra]))
    tx.set_parse_note(ParseNote(file.id, result.ok, result.reason, now))
