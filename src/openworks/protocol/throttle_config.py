"""Reading a throttling :class:`~openworks.protocol.throttle.Policy` from a preset or TOML.

``load_policy(spec)`` accepts a preset name (``off``, ``basic``, ``standard``,
``professional``, ``enterprise``) or the path of a TOML file::

    preset = "enterprise"          # starting point (default "off")
    qps = 0                        # every operation together; 0 = no limit
    read_qps = 50                  # Get/List/Check/... operations
    write_qps = 20                 # everything else
    daily = 0                      # calls per calendar day; 0 = no cap
    burst_seconds = 1.0            # bucket depth: this many seconds of calls at once
    day_utc_offset_hours = 8       # where the day starts (DataWorks: China time)

    [operations]                   # per-operation limits (QPS) -> Throttling.Api
    DeployFile = 1

    [accounts."1000000000000002"]  # replaces the limits above for one account
    preset = "off"                 # same keys as the top level, except day_utc_offset_hours

Keys given next to ``preset`` replace that preset's values; an account table starts from
its own ``preset`` when it names one, else from the top-level result. Unknown keys,
negative numbers and (when ``known_operations`` is given) unknown operation names are
errors, so that a typing mistake cannot silently disable a limit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .throttle import PRESETS, Limits, Policy

__all__ = ["ThrottleConfigError", "load_policy", "parse_policy"]

_LIMIT_KEYS = {"preset", "qps", "read_qps", "write_qps", "daily", "burst_seconds", "operations"}
_TOP_KEYS = _LIMIT_KEYS | {"day_utc_offset_hours", "accounts"}


class ThrottleConfigError(ValueError):
    """The throttling configuration cannot be used; the message says why."""


def _number(where: str, value: object, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ThrottleConfigError(f"{where} must be a number, not {value!r}")
    if integer and not isinstance(value, int):
        raise ThrottleConfigError(f"{where} must be a whole number, not {value!r}")
    if value < 0:
        raise ThrottleConfigError(f"{where} must not be negative: {value!r}")
    return float(value)


def _preset(where: str, name: object) -> Limits:
    if not isinstance(name, str) or name not in PRESETS:
        choices = ", ".join(PRESETS)
        raise ThrottleConfigError(f"{where}: unknown preset {name!r} (choose from {choices})")
    return PRESETS[name]


def _limits(
    where: str,
    table: Mapping[str, Any],
    base: Limits,
    known_operations: Collection[str] | None,
    allowed: set[str],
) -> Limits:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ThrottleConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    lim = _preset(f"{where}preset", table["preset"]) if "preset" in table else base
    changes: dict[str, Any] = {}
    for key in ("qps", "read_qps", "write_qps"):
        if key in table:
            changes[key] = _number(f"{where}{key}", table[key])
    if "daily" in table:
        changes["daily"] = int(_number(f"{where}daily", table["daily"], integer=True))
    if "burst_seconds" in table:
        burst = _number(f"{where}burst_seconds", table["burst_seconds"])
        if burst <= 0:
            raise ThrottleConfigError(f"{where}burst_seconds must be positive")
        changes["burst_seconds"] = burst
    if "operations" in table:
        ops = table["operations"]
        if not isinstance(ops, dict):
            raise ThrottleConfigError(f"{where}operations must be a table of name = qps")
        parsed: dict[str, float] = {}
        for name, rate in ops.items():
            if known_operations is not None and name not in known_operations:
                raise ThrottleConfigError(f"{where}operations: unknown operation {name!r}")
            parsed[name] = _number(f"{where}operations.{name}", rate)
        changes["operations"] = {**lim.operations, **parsed}
    return replace(lim, **changes)


def parse_policy(
    document: Mapping[str, Any], known_operations: Collection[str] | None = None
) -> Policy:
    """A policy from an already-parsed TOML document."""
    default = _limits("", document, Limits(), known_operations, _TOP_KEYS)
    offset = _number("day_utc_offset_hours", document.get("day_utc_offset_hours", 8.0))
    if offset > 24:
        raise ThrottleConfigError("day_utc_offset_hours must be between 0 and 24")
    accounts_table = document.get("accounts", {})
    if not isinstance(accounts_table, dict):
        raise ThrottleConfigError("accounts must be a table of account tables")
    accounts: dict[str, Limits] = {}
    for account, table in accounts_table.items():
        if not isinstance(table, dict):
            raise ThrottleConfigError(f"accounts.{account} must be a table")
        where = f"accounts.{account}."
        accounts[str(account)] = _limits(where, table, default, known_operations, _LIMIT_KEYS)
    return Policy(default, accounts, offset)


def load_policy(spec: str, known_operations: Collection[str] | None = None) -> Policy:
    """A preset name, or the path of a TOML file (see the module docstring)."""
    name = spec.strip()
    if name.lower() in PRESETS:
        return Policy(PRESETS[name.lower()])
    path = Path(name)
    if not path.is_file():
        choices = ", ".join(PRESETS)
        raise ThrottleConfigError(
            f"--throttle {spec!r} is neither a preset ({choices}) nor a TOML file"
        )
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ThrottleConfigError(f"cannot read throttling file {path}: {err}") from err
    try:
        return parse_policy(document, known_operations)
    except ThrottleConfigError as err:
        raise ThrottleConfigError(f"{path}: {err}") from err
