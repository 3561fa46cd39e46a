"""The handle every domain function receives: storage, clock, the worker's doorbell and
the gates installed in this process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .model import Package
from .ports import Store, Tx

__all__ = ["Core", "Gate", "now_ms"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ignore(_package_id: int) -> None:
    return None


class Gate(Protocol):
    """A policy that joins the package lifecycle (:mod:`openworks.core.lifecycle`) without
    the lifecycle importing it; installed per :class:`Core` (test control is one, and only
    with ``--control``: :func:`openworks.core.test_control.install`)."""

    def created(self, tx: Tx, package_id: int, now: int) -> None:
        """A package was inserted in this transaction; hold it here if the gate wants."""
        ...

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        """(item status, ErrorMessage) to fail the package instead of running it, or None."""
        ...


@dataclass
class Core:
    store: Store
    clock: Callable[[], int] = now_ms
    on_package: Callable[[int], None] = field(default=_ignore)
    # Called with the package id inside the executing transaction, after the package has
    # been applied and before it commits. Tests use it to hold a package mid-execution
    # (`openworks worker` honours OPENWORKS_TEST_EXECUTION_PAUSE_MS).
    inside_execution: Callable[[int], None] = field(default=_ignore)
    # Gates asked at creation and before execution (lifecycle.created / execute); none
    # unless installed at start, so a plain process runs no gate code at all.
    gates: tuple[Gate, ...] = ()
