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
