"""The handle every domain function receives: storage, clock and the worker's doorbell."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .ports import Store

__all__ = ["Core", "now_ms"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ignore(_package_id: int) -> None:
    return None


@dataclass
class Core:
    store: Store
    clock: Callable[[], int] = now_ms
    on_package: Callable[[int], None] = field(default=_ignore)
    # Called with the package id inside the executing transaction, after the package has
    # been applied and before it commits. Tests use it to hold a package mid-execution
    # (`openworks worker` honours OPENWORKS_TEST_EXECUTION_PAUSE_MS).
    inside_execution: Callable[[int], None] = field(default=_ignore)
