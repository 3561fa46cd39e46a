"""Waiting for something another thread or process does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["within"]


def within(predicate: Callable[[], object], seconds: float, step: float = 0.02) -> bool:
    """Whether ``predicate()`` became true within ``seconds`` (polled every ``step``)."""
    deadline = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
