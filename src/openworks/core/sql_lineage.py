"""Table lineage of user SQL (the sqlglot side of AutoParsing): which tables a script
reads and which it writes.

Imported lazily by :func:`openworks.core.parsing.parse_sql` (loading it loads sqlglot);
:class:`ParseResult` lives here so that the two modules do not import each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

__all__ = ["ParseResult", "tables_of"]


@dataclass(frozen=True, slots=True)
class ParseResult:
    ok: bool
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    reason: str = ""


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


def tables_of(sql: str, identifier: str) -> ParseResult:
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
