"""``openworks sync``, part 1: reading a folder of node files and planning the changes.

One file per node, ``<node name>.sql``; the node's settings are ``-- @key value`` comment
lines at the top (so the file stays valid SQL), the rest is the content::

    -- @type ODPS_SQL                       FileType name or code (default ODPS_SQL, 10)
    -- @cron 00 30 05 * * ?                 CronExpress (default 00 00 00 * * ?)
    -- @depends stg_orders, stg_customers   parents: other nodes of the folder, or any
                                            output name containing a dot, used verbatim
    -- @description Daily order totals      FileDescription
    insert overwrite table orders_daily …

A node without ``@depends`` hangs under the workspace root. Every node outputs
``<workspace>.<name>``, which is what a child's ``@depends <name>`` refers to.

Planning compares the folder with the files under the sync folder path::

    in folder only ─▶ create      in both, different ─▶ update (with a unified diff)
    in workspace only ─▶ delete   in both, same ─▶ unchanged

Nodes are ordered parents first (a cycle or an unknown local parent is an error).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Invalid
from .files import SCHEDULE_DEFAULTS, split_names
from .filetypes import FILE_TYPES
from .model import File, Project

__all__ = [
    "DEFAULT_FOLDER",
    "Change",
    "NodeSpec",
    "Plan",
    "dependency_order",
    "make_plan",
    "parse_node",
    "read_folder",
    "render",
]

DEFAULT_FOLDER = "Business Flow/openworks_sync/MaxCompute"
DEFAULT_TYPE = 10
_HEADER = re.compile(r"^--\s*@(?P<key>[A-Za-z_]+)\b\s*(?P<value>.*?)\s*$")
_KEYS = ("type", "cron", "depends", "description")
_TYPE_BY_NAME = {t.type_name.lower(): t.code for t in FILE_TYPES.values()}


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    file_type: int = DEFAULT_TYPE
    content: str = ""
    cron: str = str(SCHEDULE_DEFAULTS["CronExpress"])
    depends: tuple[str, ...] = ()
    description: str = ""

    def inputs(self, project: Project) -> list[str]:
        """InputList: local parents become ``<workspace>.<name>``; none means the root."""
        if not self.depends:
            return [project.root_output]
        return [d if "." in d else f"{project.identifier}.{d}" for d in self.depends]


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # create | update | delete | unchanged
    name: str
    spec: NodeSpec | None = None
    file: File | None = None
    diff: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    changes: list[Change] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]

    @property
    def is_empty(self) -> bool:
        return not self.of("create", "update", "delete")


def _file_type(value: str, where: str) -> int:
    text = value.strip()
    # ASCII digits only ("²".isdigit() is true) and short enough for a 32-bit code
    numeric = text.isascii() and text.isdigit() and len(text) <= 9
    code = int(text) if numeric else _TYPE_BY_NAME.get(text.lower())
    if code is None or code not in FILE_TYPES:
        raise Invalid("Invalid.Sync.Header", f"{where}: unknown node type {value!r}.")
    return code


def parse_node(name: str, text: str, where: str | None = None) -> NodeSpec:
    """One node file: its ``-- @key value`` header lines, then the content."""
    where = where or name
    lines = text.splitlines(keepends=True)
    values: dict[str, str] = {}
    body_start = 0
    for number, line in enumerate(lines):
        match = _HEADER.match(line.rstrip("\r\n"))
        if match is None:
            break
        key = match["key"].lower()
        if key not in _KEYS:
            raise Invalid(
                "Invalid.Sync.Header",
                f"{where}:{number + 1}: unknown setting @{key} (known: {', '.join(_KEYS)}).",
            )
        values[key] = match["value"]
        body_start = number + 1
    cron = values.get("cron") or str(SCHEDULE_DEFAULTS["CronExpress"])
    if len(cron.split()) not in (6, 7):
        raise Invalid("Invalid.Sync.Header", f"{where}: @cron needs 6 or 7 fields, not {cron!r}.")
    depends = tuple(split_names(values.get("depends", "").replace(" ", ",")))
    return NodeSpec(
        name=name,
        file_type=_file_type(values["type"], where) if "type" in values else DEFAULT_TYPE,
        content="".join(lines[body_start:]),
        cron=cron,
        depends=depends,
        description=values.get("description", ""),
    )


def read_folder(directory: Path) -> list[NodeSpec]:
    """Every ``*.sql`` file directly in the folder, by name."""
    if not directory.is_dir():
        raise Invalid("Invalid.Sync.Folder", f"{directory} is not a directory.")
    specs = []
    for path in sorted(directory.glob("*.sql")):
        specs.append(parse_node(path.stem, path.read_text(encoding="utf-8"), str(path)))
    return specs


def dependency_order(specs: Sequence[NodeSpec]) -> list[NodeSpec]:
    """Parents before children (then by name); unknown local parents and cycles refused."""
    by_name = {s.name: s for s in specs}
    for spec in specs:
        for parent in spec.depends:
            if "." not in parent and parent not in by_name:
                raise Invalid(
                    "Invalid.Sync.Depends",
                    f"{spec.name} depends on {parent}, which is not a node of the folder "
                    "(write a full output name such as other_ws.node for outside parents).",
                )
    ordered: list[NodeSpec] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(spec: NodeSpec, path: tuple[str, ...]) -> None:
        if state.get(spec.name) == 2:
            return
        if state.get(spec.name) == 1:
            cycle = " -> ".join((*path[path.index(spec.name) :], spec.name))
            raise Invalid("Invalid.Sync.Cycle", f"The dependencies form a cycle: {cycle}.")
        state[spec.name] = 1
        for parent in sorted(p for p in spec.depends if p in by_name):
            visit(by_name[parent], (*path, spec.name))
        state[spec.name] = 2
        ordered.append(spec)

    for spec in sorted(specs, key=lambda s: s.name):
        visit(spec, ())
    return ordered


def _depends_of(project: Project, file: File, local: set[str]) -> tuple[str, ...]:
    names = []
    for wanted in split_names(str(file.config.get("InputList") or "")):
        if wanted == project.root_output:
            continue
        prefix = f"{project.identifier}."
        short = wanted[len(prefix) :] if wanted.startswith(prefix) else None
        names.append(short if short is not None and short in local else wanted)
    return tuple(names)


def spec_of(project: Project, file: File, local: set[str]) -> NodeSpec:
    """What the workspace holds for a file, in the folder's terms."""
    return NodeSpec(
        name=file.name,
        file_type=file.file_type,
        content=file.content,
        cron=str(file.config.get("CronExpress") or SCHEDULE_DEFAULTS["CronExpress"]),
        depends=_depends_of(project, file, local),
        description=file.description,
    )


def render(spec: NodeSpec) -> str:
    """The file text for a node (header lines, then content)."""
    known = FILE_TYPES.get(spec.file_type)
    lines = [f"-- @type {known.type_name if known else spec.file_type}\n"]
    lines.append(f"-- @cron {spec.cron}\n")
    if spec.depends:
        lines.append(f"-- @depends {', '.join(spec.depends)}\n")
    if spec.description:
        lines.append(f"-- @description {spec.description}\n")
    return "".join(lines) + spec.content


def _diff(name: str, old: NodeSpec | None, new: NodeSpec | None) -> tuple[str, ...]:
    return tuple(
        difflib.unified_diff(
            render(old).splitlines(keepends=True) if old else [],
            render(new).splitlines(keepends=True) if new else [],
            fromfile=f"workspace/{name}.sql",
            tofile=f"folder/{name}.sql",
        )
    )


def _same(old: NodeSpec, new: NodeSpec) -> bool:
    return (old.file_type, old.content, old.cron, old.depends, old.description) == (
        new.file_type,
        new.content,
        new.cron,
        new.depends,
        new.description,
    )


def make_plan(project: Project, specs: Sequence[NodeSpec], files: Mapping[str, File]) -> Plan:
    """Compare the folder (``specs``) with the managed files (by name)."""
    ordered = dependency_order(specs)
    local = {s.name for s in specs} | set(files)
    changes: list[Change] = []
    for spec in ordered:
        file = files.get(spec.name)
        if file is None:
            changes.append(Change("create", spec.name, spec, None, _diff(spec.name, None, spec)))
            continue
        current = spec_of(project, file, local)
        if current.file_type != spec.file_type:
            raise Invalid(
                "Invalid.Sync.TypeChange",
                f"{spec.name} is a FileType {current.file_type} node in the workspace; its type "
                f"cannot change to {spec.file_type}. Rename the file to replace the node.",
            )
        kind = "unchanged" if _same(current, spec) else "update"
        diff = () if kind == "unchanged" else _diff(spec.name, current, spec)
        changes.append(Change(kind, spec.name, spec, file, diff))
    wanted = {s.name for s in specs}
    gone = [f for name, f in files.items() if name not in wanted]
    # Children before parents, so no deletion leaves a node with missing parents.
    gone_names = {f.name for f in gone}
    gone_specs = dependency_order([_loose(spec_of(project, f, local), gone_names) for f in gone])
    by_name = {f.name: f for f in gone}
    for spec in reversed(gone_specs):
        file = by_name[spec.name]
        current = spec_of(project, file, local)
        changes.append(Change("delete", spec.name, None, file, _diff(spec.name, current, None)))
    return Plan(changes)


def _loose(spec: NodeSpec, among: set[str]) -> NodeSpec:
    """The spec with parents outside ``among`` dropped (for ordering deletions only)."""
    return NodeSpec(
        spec.name,
        spec.file_type,
        spec.content,
        spec.cron,
        tuple(d for d in spec.depends if d in among),
    )
