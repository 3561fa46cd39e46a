"""The handle every domain function receives: storage, clock, the worker's doorbell and
the gates installed in this process.

::

    Core.checks      the pre-deployment checks, approval behind them   store.open_core
                     (checks.ChecksGate)
    Core.gates       test control (only with --control)                 store.open_core
    Core.observers   pipeline runs, cross-workspace runs (listen only)  store.open_core
                     ─────────────────────────────────────────────
    Core.lifecycle_gates = checks, then gates, then observers: what the lifecycle asks,
    in that order, through :class:`Gate` (``created`` gets a :class:`Creation`)

A bare ``Core(store)`` has none of them (unit tests install what they need).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .model import FileVersion, Package, Principal, Project
from .ports import Store, Tx

__all__ = ["Core", "Creation", "Gate", "now_ms"]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ignore(_package_id: int) -> None:
    return None


@dataclass(frozen=True)
class Creation:
    """What the gates hear of a package just made (its versions inserted, same transaction):
    who made it in which workspace, for which extension event (``commit-file``,
    ``deploy-file``, ``delete-file``), whether the caller skipped the extensions, and the
    versions of its items as stored and the package as stored (items in file id order, as a
    read gives them), so that no gate reads them back."""

    package: Package
    now: int
    principal: Principal
    project: Project
    event_code: str
    skip_checks: bool = False
    versions: tuple[FileVersion, ...] = ()

    @property
    def package_id(self) -> int:
        return self.package.id

    def version(self, tx: Tx, file_id: int, number: int) -> FileVersion | None:
        """An item's version: the one the creator stored, else read in ``tx``."""
        for version in self.versions:
            if (version.file_id, version.version) == (file_id, number):
                return version
        return tx.version(file_id, number)


class Gate(Protocol):
    """A policy that joins the package lifecycle (:mod:`openworks.core.lifecycle`) without
    the lifecycle importing it; installed per :class:`Core`: the checks
    (:func:`openworks.core.checks.install`) in ``checks``, test control (only with
    ``--control``: :func:`openworks.core.test_control.install`) in ``gates``, pipeline runs
    (:func:`openworks.core.run_trigger.install`) and cross runs in ``observers``; all by
    :func:`openworks.store.open_core`."""

    def created(self, tx: Tx, creation: Creation) -> None:
        """A package was made in this transaction; hold it here if the gate wants."""
        ...

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        """(item status, ErrorMessage) to fail the package instead of running it, or None."""
        ...

    def settled(self, tx: Tx, package: Package) -> None:
        """A package of a pipeline run (``run_id``) reached a decision in this transaction:
        checks passed or failed, executed, failed or rejected."""
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
    # The gate of pre-deployment checks and approval (checks.ChecksGate), asked first;
    # installed by store.open_core. None in a bare Core.
    checks: tuple[Gate, ...] = ()
    # Gates asked at creation, before execution and when a run's package settles (see
    # Gate); none unless installed at start (test control's, only with --control).
    gates: tuple[Gate, ...] = ()
    # Gates that only listen (their created/before_execute do nothing): pipeline runs',
    # installed by store.open_core. None in a bare Core.
    observers: tuple[Gate, ...] = ()

    @property
    def lifecycle_gates(self) -> tuple[Gate, ...]:
        """What the lifecycle is given: the checks, the gates, then the observers."""
        return (*self.checks, *self.gates, *self.observers)
