"""DataStudio folder paths: parsing, English aliases, canonical (Chinese) form.

A path is ``<root>/<workflow>/<engine folder>/<sub folder>…``::

    业务流程 / 第一个业务流程 / MaxCompute / 文件夹1 / 文件夹2
    ───┬───   ─────┬─────   ────┬─────   ─────┬──────
     root       workflow      engine     up to 4 sub folders
   (virtual)   (a Business)

Roots and engine folders have fixed names; the English console names (``Business Flow``,
``folderMaxCompute``, ``General``…) are accepted as aliases, case-insensitively, and
stored in canonical form. Workflow and sub folder names are free text without ``/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Invalid

__all__ = [
    "ENGINE_FOLDERS",
    "MAX_SUB_FOLDERS",
    "ROOTS",
    "FolderPath",
    "check_segment",
    "parse_path",
]

# Canonical root → the workflow UseType it holds.
ROOTS = {"业务流程": "NORMAL", "手动业务流程": "MANUAL_BIZ"}
_ROOT_ALIASES = {
    "business flow": "业务流程",
    "business flows": "业务流程",
    "workflow": "业务流程",
    "workflows": "业务流程",
    "manual business flow": "手动业务流程",
    "manual business flows": "手动业务流程",
    "manually triggered workflow": "手动业务流程",
    "manually triggered workflows": "手动业务流程",
}
ENGINE_FOLDERS: dict[str, tuple[str, ...]] = {
    "数据集成": ("folderDi", "Data Integration"),
    "MaxCompute": ("folderMaxCompute",),
    "Hologres": ("folderHologres",),
    "EMR": ("folderEMR", "E-MapReduce"),
    "CDH": ("folderCDH",),
    "通用": ("folderGeneral", "General"),
    "算法": ("folderAlgm", "Algorithm"),
    "Flink": ("folderFlink",),
    "自定义": ("folderUserDefined", "User Defined", "Custom"),
    "数据模型": ("folderErd", "Data Model"),
    "AnalyticDB for PostgreSQL": ("folderADB",),
    "数据库": ("folderJdbc", "Database"),
}
_ENGINE_ALIASES = {
    alias.lower(): canonical
    for canonical, aliases in ENGINE_FOLDERS.items()
    for alias in (canonical, *aliases)
}
MAX_SUB_FOLDERS = 4
_MAX_SEGMENT = 128


def _key(segment: str) -> str:
    return " ".join(segment.split()).lower()


def check_segment(name: str, what: str = "Folder name") -> str:
    """A workflow or sub folder name: 1-128 characters, no ``/`` or control characters."""
    if not name or name != name.strip() or len(name) > _MAX_SEGMENT:
        raise Invalid(
            "Invalid.Folder.Name", f"{what} must be 1-128 characters without outer spaces."
        )
    if "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise Invalid("Invalid.Folder.Name", f"{what} {name!r} contains a forbidden character.")
    return name


@dataclass(frozen=True, slots=True)
class FolderPath:
    root: str
    workflow: str | None = None
    engine: str | None = None
    subs: tuple[str, ...] = ()

    @property
    def segments(self) -> tuple[str, ...]:
        head = (self.root, self.workflow, self.engine)
        return tuple(s for s in head if s is not None) + self.subs

    @property
    def level(self) -> int:
        """0 for a root, 1 for a workflow, 2 for an engine folder, 3+ for sub folders."""
        return len(self.segments) - 1

    @property
    def text(self) -> str:
        return "/".join(self.segments)

    @property
    def use_type(self) -> str:
        return ROOTS[self.root]

    def parent(self) -> FolderPath:
        if self.subs:
            return FolderPath(self.root, self.workflow, self.engine, self.subs[:-1])
        if self.engine is not None:
            return FolderPath(self.root, self.workflow)
        return FolderPath(self.root)

    def ancestors(self) -> list[FolderPath]:
        """Every folder from the workflow down to this one (roots are virtual)."""
        chain = [self]
        while chain[-1].level > 1:
            chain.append(chain[-1].parent())
        return [p for p in reversed(chain) if p.level >= 1]

    def with_workflow(self, name: str) -> FolderPath:
        return FolderPath(self.root, name, self.engine, self.subs)

    def renamed(self, name: str) -> FolderPath:
        """The same folder with its last segment replaced (a sub folder or the workflow)."""
        if self.subs:
            return FolderPath(self.root, self.workflow, self.engine, (*self.subs[:-1], name))
        return self.with_workflow(name)


def parse_path(text: str | None) -> FolderPath:
    """Parse and canonicalise a folder path; :class:`Invalid` says what is wrong."""
    parts = [p.strip() for p in (text or "").replace("\\", "/").split("/")]
    parts = [p for p in parts if p]
    if not parts:
        raise Invalid("Invalid.Folder.Path", "The folder path is empty.")
    root = parts[0] if parts[0] in ROOTS else _ROOT_ALIASES.get(_key(parts[0]))
    if root is None:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Illegal folder path {text!r}: it must start with 业务流程 (Business Flow) or "
            "手动业务流程 (Manual Business Flow), without a 数据开发 prefix.",
        )
    if len(parts) == 1:
        return FolderPath(root)
    workflow = check_segment(parts[1], "Workflow name")
    if len(parts) == 2:
        return FolderPath(root, workflow)
    engine = _ENGINE_ALIASES.get(_key(parts[2]))
    if engine is None:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Illegal folder path {text!r}: {parts[2]!r} is not an engine folder; the third "
            f"segment must be one of {', '.join(ENGINE_FOLDERS)}.",
        )
    subs = tuple(check_segment(p) for p in parts[3:])
    if len(subs) > MAX_SUB_FOLDERS:
        raise Invalid(
            "Invalid.Folder.Path",
            f"Illegal folder path {text!r}: at most {MAX_SUB_FOLDERS} levels of sub folders "
            "are allowed below the engine folder.",
        )
    return FolderPath(root, workflow, engine, subs)
