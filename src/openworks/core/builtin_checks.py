"""Built-in pre-deployment checks: what they test and the syntax that switches them on.

A workspace lists its checks in the setting ``checks.builtin``, comma-separated::

    spec   := NAME [ "(" ARG ")" ] [ "@" LEVEL ]
    LEVEL  := fail | warn             (what a finding answers; default fail)

    sql-syntax[(DIALECT)]             the code parses as SQL (sqlglot; default dialect hive);
                                      files that are not SQL types pass untouched
    forbid-pattern(REGEX)             the code must not match REGEX (Python syntax)
    forbid-drop-table                 no DROP TABLE in code bound for production
    require-description               the file has a description
    require-owner                     the file has an owner

For example ``sql-syntax, forbid-pattern(MAX_PT)@warn, forbid-drop-table``. Commas inside
parentheses belong to the argument. Every check answers ``(result, message)`` with result
OK, WARN or FAIL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import Invalid
from .filetypes import SQL_TYPES
from .model import FileVersion

__all__ = ["CHECKS", "BuiltinSpec", "evaluate", "parse_specs"]

_SPEC = re.compile(
    r"\s*(?P<name>[a-z][a-z0-9-]*)\s*(?:\((?P<arg>.*)\))?\s*(?:@\s*(?P<level>[A-Za-z]+))?\s*",
    re.DOTALL,
)
_PARAM = re.compile(r"\$\{[^}]*\}|\$\[[^\]]*\]")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_DROP_TABLE = re.compile(r"\bDROP\s+TABLE\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BuiltinSpec:
    name: str
    arg: str | None = None
    level: str = "FAIL"

    def __str__(self) -> str:
        text = self.name if self.arg is None else f"{self.name}({self.arg})"
        return text if self.level == "FAIL" else f"{text}@{self.level.lower()}"


Verdict = tuple[str, str]
Check = Callable[[BuiltinSpec, FileVersion, bool], Verdict]


def _without_comments(code: str) -> str:
    return _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub(" ", code))


def _finding(spec: BuiltinSpec, message: str) -> Verdict:
    return spec.level, message


def _sql_syntax(spec: BuiltinSpec, version: FileVersion, _prod: bool) -> Verdict:
    if version.file_type not in SQL_TYPES:
        return "OK", f"FileType {version.file_type} is not SQL; nothing to parse."
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    # Scheduling parameters (${bizdate}, $[yyyymmdd]) are substituted at run time.
    code = _PARAM.sub("0", version.content)
    try:
        sqlglot.parse(code, read=spec.arg or "hive")
    except (ParseError, TokenError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return _finding(spec, f"SQL syntax error: {first}")
    return "OK", "The SQL parses."


def _forbid_pattern(spec: BuiltinSpec, version: FileVersion, _prod: bool) -> Verdict:
    match = re.search(spec.arg or "", version.content)
    if match:
        line = version.content.count("\n", 0, match.start()) + 1
        return _finding(spec, f"The code contains the forbidden pattern {spec.arg} (line {line}).")
    return "OK", f"The code does not contain {spec.arg}."


def _forbid_drop_table(_spec: BuiltinSpec, version: FileVersion, prod: bool) -> Verdict:
    if not prod:
        return "OK", "Not bound for production."
    if _DROP_TABLE.search(_without_comments(version.content)):
        return _finding(_spec, "DROP TABLE is not allowed in code bound for production.")
    return "OK", "No DROP TABLE."


def _require_description(spec: BuiltinSpec, version: FileVersion, _prod: bool) -> Verdict:
    if not version.description.strip():
        return _finding(spec, f"The file {version.name} has no description.")
    return "OK", "The file has a description."


def _require_owner(spec: BuiltinSpec, version: FileVersion, _prod: bool) -> Verdict:
    if not version.owner.strip():
        return _finding(spec, f"The file {version.name} has no owner.")
    return "OK", "The file has an owner."


# name -> (check, whether the argument is required / allowed / forbidden)
CHECKS: dict[str, tuple[Check, str]] = {
    "sql-syntax": (_sql_syntax, "optional"),
    "forbid-pattern": (_forbid_pattern, "required"),
    "forbid-drop-table": (_forbid_drop_table, "none"),
    "require-description": (_require_description, "none"),
    "require-owner": (_require_owner, "none"),
}


def _split(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _bad(message: str) -> Invalid:
    return Invalid("Invalid.Setting", f"checks.builtin: {message}")


def _parse_one(text: str) -> BuiltinSpec:
    match = _SPEC.fullmatch(text)
    if match is None:
        raise _bad(f"cannot read {text.strip()!r}; write NAME, NAME(ARG) or NAME(ARG)@warn.")
    name, arg, level = match["name"], match["arg"], (match["level"] or "fail").upper()
    if name not in CHECKS:
        raise _bad(f"unknown check {name!r}; known: {', '.join(CHECKS)}.")
    if level not in ("FAIL", "WARN"):
        raise _bad(f"level {match['level']!r} of {name} must be fail or warn.")
    need = CHECKS[name][1]
    if arg is not None:
        arg = arg.strip()
    if need == "required" and not arg:
        raise _bad(f"{name} needs an argument, e.g. {name}(MAX_PT).")
    if need == "none" and arg:
        raise _bad(f"{name} takes no argument.")
    if name == "forbid-pattern":
        try:
            re.compile(arg or "")
        except re.error as err:
            raise _bad(f"forbid-pattern({arg}) is not a valid regular expression: {err}.") from None
    if name == "sql-syntax" and arg:
        from sqlglot.dialects.dialect import Dialect

        try:
            Dialect.get_or_raise(arg)
        except ValueError:
            raise _bad(f"sql-syntax: unknown SQL dialect {arg!r}.") from None
    return BuiltinSpec(name, arg or None, level)


def parse_specs(text: str) -> list[BuiltinSpec]:
    """The checks a ``checks.builtin`` value switches on; raises Invalid on a bad value."""
    return [_parse_one(part) for part in _split(text)]


def evaluate(spec: BuiltinSpec, version: FileVersion, to_prod: bool) -> Verdict:
    """Run one check on one committed version; never raises for bad code."""
    check = CHECKS[spec.name][0]
    return check(spec, version, to_prod)
