"""Per-workspace settings of checks and approvals.

=====================  ==========  =========================================================
key                    default     meaning
=====================  ==========  =========================================================
checks.builtin         (empty)     built-in checks to run, see :mod:`.builtin_checks`
checks.timeout         600         seconds a package waits for its checks; a check that has
                                   not answered by then counts as FAIL
approval.required      false       packages bound for production wait for a reviewer
=====================  ==========  =========================================================

Setting a key to an empty value restores its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .access import ProjectRef, resolve_project
from .builtin_checks import BuiltinSpec, parse_specs
from .context import Core
from .errors import Invalid
from .model import Principal
from .ports import Tx

__all__ = [
    "DEFAULTS",
    "DEFAULT_TIMEOUT_SECONDS",
    "WorkspaceSettings",
    "load_settings",
    "set_settings",
    "show_settings",
]

DEFAULT_TIMEOUT_SECONDS = 600.0
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600.0
DEFAULTS: dict[str, str] = {
    "checks.builtin": "",
    "checks.timeout": "600",
    "approval.required": "false",
}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    builtin: tuple[BuiltinSpec, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    approval_required: bool = False


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise Invalid(
            "Invalid.Setting", f"checks.timeout must be a number of seconds, not {value!r}."
        ) from None
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        raise Invalid(
            "Invalid.Setting",
            f"checks.timeout must be more than 0 and at most {int(MAX_TIMEOUT_SECONDS)} seconds.",
        )
    return seconds


def _flag(key: str, value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise Invalid("Invalid.Setting", f"{key} must be true or false, not {value!r}.")


def _normalize(key: str, value: str) -> str | None:
    """The stored text for ``key=value`` (None: back to the default); raises Invalid."""
    if key not in DEFAULTS:
        raise Invalid("Invalid.Setting", f"Unknown setting {key!r}; known: {', '.join(DEFAULTS)}.")
    value = value.strip()
    if not value:
        return None
    if key == "checks.builtin":
        return ", ".join(str(s) for s in parse_specs(value))
    if key == "checks.timeout":
        return f"{_timeout(value):g}"
    return "true" if _flag(key, value) else "false"


def load_settings(tx: Tx, project_id: int) -> WorkspaceSettings:
    stored = tx.checks().settings(project_id)
    return WorkspaceSettings(
        builtin=tuple(parse_specs(stored.get("checks.builtin", ""))),
        timeout_seconds=_timeout(stored.get("checks.timeout", DEFAULTS["checks.timeout"])),
        approval_required=_flag("approval.required", stored.get("approval.required", "false")),
    )


def _effective(tx: Tx, project_id: int) -> dict[str, str]:
    return {**DEFAULTS, **tx.checks().settings(project_id)}


def set_settings(
    core: Core, principal: Principal, ref: ProjectRef, changes: Mapping[str, str]
) -> dict[str, str]:
    """Validate and store every change (all or none); the effective settings after."""
    normalized = {key: _normalize(key, value) for key, value in changes.items()}
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        for key, value in normalized.items():
            tx.checks().set_setting(project.id, key, value)
        return _effective(tx, project.id)


def show_settings(core: Core, principal: Principal, ref: ProjectRef) -> dict[str, str]:
    with core.store.transaction() as tx:
        project = resolve_project(tx, principal, ref)
        return _effective(tx, project.id)
