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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from .filetypes import SQL_TYPES
from .folder_model import ParseNote
from .model import File, Project
from .ports import Tx

__all__ = ["ParseResult", "apply_auto_parsing", "parse_sql"]

_VARIABLE = re.compile(r"\$\{[^}]*\}")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STATEMENTS: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Query", "Insert", "MultitableInserts", "Create", "Drop", "Set", "Delete", "Update",
        "Merge", "Alter", "Use", "Describe", "TruncateTable", "Analyze",
    )
    if hasattr(exp, name)
)  # fmt: skip
# Fields that, when changed, make a file with AutoParsing parse again.
TRIGGERS = ("Content", "AutoParsing", "InputList", "OutputList")


@dataclass(frozen=True, slots=True)
class ParseResult:
    ok: bool
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    reason: str = ""


def _name(table: exp.Table, identifier: str) -> str:
    project = table.db or identifier
    return f"{project}.{table.name}".lower()


def _target(node: exp.Expression | None) -> exp.Table | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _written(statement: exp.Expression) -> list[exp.Table]:
    targets: list[exp.Table] = []
    for node in statement.walk():
        kind = str(node.args.get("kind") or "").upper()
        writes = isinstance(node, exp.Insert | exp.Delete | exp.Update | exp.Merge) or (
            isinstance(node, exp.Create) and kind in ("TABLE", "VIEW")
        )
        if not writes:
            continue
        target = _target(node.this)
        if target is not None:
            targets.append(target)
    return targets


def parse_sql(sql: str, identifier: str) -> ParseResult:
    """Inputs and outputs of a SQL script; ``ok=False`` with a reason when it cannot."""
    try:
        statements = sqlglot.parse(_VARIABLE.sub("__var__", sql), read="hive")
    except sqlglot.errors.SqlglotError as err:
        text = " ".join(_ANSI.sub("", str(err)).split())
        return ParseResult(ok=False, reason=f"SQL could not be parsed: {text}"[:1000])
    inputs: dict[str, None] = {}
    outputs: dict[str, None] = {}
    for number, statement in enumerate(statements, 1):
        if statement is None or type(statement).__name__ == "Semicolon":
            continue  # empty statement (a lone ";" or a trailing comment)
        if not isinstance(statement, _STATEMENTS):
            snippet = statement.sql()[:80]
            return ParseResult(
                ok=False, reason=f"Statement {number} is not SQL the parser understands: {snippet}"
            )
        written = _written(statement)
        written_ids = {id(t) for t in written}
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for table in written:
            outputs.setdefault(_name(table, identifier), None)
        for table in statement.find_all(exp.Table):
            if id(table) in written_ids or not table.name:
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            inputs.setdefault(_name(table, identifier), None)
    return ParseResult(
        ok=True, inputs=[i for i in inputs if i not in outputs], outputs=list(outputs)
    )


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
