"""Test control: how new packages wait, and which executions are made to fail.

A gate of the package lifecycle, installed only where asked for (:func:`install`:
``openworks serve --control``, ``openworks worker --control``, ``OPENWORKS_CONTROL=1`` for
those and for the CLI's local worker, and always in :mod:`openworks.testing`). Without it a
process reads and writes no control table: package creation, execution and the worker's
claim carry no control code or SQL (the store is opened with ``test_control=False``, whose
claim statement has no gate filter). Every process that executes packages against a
database whose server has control on must install it too, or it would ignore the gates.

A small policy, stored in the database (so every process with control sees the same one)::

    package created ──▶ on_created(mode)
        instant  no gate: the worker runs it as soon as any checks/approval allow
        delay N  gate 'delay', run_after = create time + N ms
        manual   gate 'manual': Status 0 until release()
                      │
    worker claims only packages with hold IS NULL (checks, approval) AND no blocking gate
    (with SqlStore(test_control=True); installed processes only)
                      │
    execute ──▶ forced_failure: while forced failures remain, the package fails with
                the chosen item status and message instead of running (one per package)

The gate lives beside ``packages.hold`` rather than in it, so the two compose: a package
in manual mode that also has checks waits for both, in any order; ``release`` removes only
the gate and the package then goes on to whatever gate is still pending. Approving a
package (:mod:`openworks.core.approvals`) executes it at once, gate or not: approval is
itself an explicit release.
"""

from __future__ import annotations

from dataclasses import replace

from .context import Core, Creation, Gate
from .errors import Invalid
from .model import ItemStatus, Package, PackageStatus
from .ports import ControlState, ControlStore, Tx

__all__ = [
    "DEFAULT_FAILURE",
    "GATE",
    "MAX_DELAY_MS",
    "MODES",
    "ControlState",
    "ControlStore",
    "control_state",
    "fail_next",
    "forced_failure",
    "install",
    "on_created",
    "release",
    "set_mode",
]

MODES = ("instant", "delay", "manual")
MAX_DELAY_MS = 24 * 3600 * 1000
MAX_FAILURES = 10_000
DEFAULT_FAILURE = "Deployment failed (failure injected by openworks test control)."
# Item statuses that mean "this item failed" (see ItemStatus).
FAILURE_ITEM_STATUSES = frozenset(
    {ItemStatus.ERROR, ItemStatus.DEPLOY_ERROR, ItemStatus.REJECT, ItemStatus.CLONED}
)


def _store(tx: Tx) -> ControlStore:
    return tx.control()


# -- hooks called by the package lifecycle -----------------------------------------------


def on_created(tx: Tx, package_id: int, now: int) -> None:
    """Apply the execution mode to a package created in this transaction."""
    store = _store(tx)
    state = store.state()
    if state.mode == "manual":
        store.add_gate(package_id, "manual", None)
    elif state.mode == "delay" and state.delay_ms > 0:
        store.add_gate(package_id, "delay", now + state.delay_ms)


def forced_failure(tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
    """The failure to record instead of running the package, if one is pending (taken
    atomically, one per package); :mod:`openworks.core.lifecycle` asks before executing."""
    taken = _store(tx).take_failure()
    if taken is None:
        return None
    return taken.fail_item_status, taken.fail_message or DEFAULT_FAILURE


class _TestControlGate:
    """Test control as a :class:`~openworks.core.context.Gate` of the lifecycle."""

    def created(self, tx: Tx, creation: Creation) -> None:
        on_created(tx, creation.package_id, creation.now)

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        return forced_failure(tx, package, now)

    def settled(self, tx: Tx, package: Package) -> None:
        return None


GATE: Gate = _TestControlGate()


def install(core: Core) -> Core:
    """Make ``core`` apply test control (modes and forced failures); ``core`` again.

    Its store must claim with the gates too (``SqlStore(engine, box, test_control=True)``);
    :func:`openworks.store.open_core` does both.
    """
    if GATE not in core.gates:
        core.gates = (*core.gates, GATE)
    return core


# -- operations of the control API --------------------------------------------------------


def control_state(core: Core) -> ControlState:
    with core.store.transaction() as tx:
        return _store(tx).state()


def set_mode(core: Core, mode: str, delay_ms: int = 0) -> ControlState:
    if mode not in MODES:
        raise Invalid("Invalid.Control.Mode", f"mode must be one of {', '.join(MODES)}.")
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int):
        raise Invalid("Invalid.Control.Delay", "delay_ms must be an integer.")
    if not 0 <= delay_ms <= MAX_DELAY_MS:
        raise Invalid("Invalid.Control.Delay", f"delay_ms must be between 0 and {MAX_DELAY_MS}.")
    if mode == "delay" and delay_ms == 0:
        raise Invalid("Invalid.Control.Delay", "mode delay needs delay_ms greater than 0.")
    with core.store.transaction(write=True) as tx:
        store = _store(tx)
        state = replace(store.state(), mode=mode, delay_ms=delay_ms if mode == "delay" else 0)
        store.save_state(state)
        return state


def fail_next(core: Core, n: int, message: str, item_status: int) -> ControlState:
    """Make the next ``n`` executed packages fail (replacing any earlier request)."""
    for name, value in (("n", n), ("item_status", item_status)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("Invalid.Control.Failure", f"{name} must be an integer.")
    if not 0 <= n <= MAX_FAILURES:
        raise Invalid("Invalid.Control.Failure", f"n must be between 0 and {MAX_FAILURES}.")
    if item_status not in FAILURE_ITEM_STATUSES:
        allowed = ", ".join(str(int(s)) for s in sorted(FAILURE_ITEM_STATUSES))
        raise Invalid("Invalid.Control.Failure", f"item_status must be one of {allowed}.")
    if not isinstance(message, str) or len(message) > 2048:
        raise Invalid("Invalid.Control.Failure", "message must be text of at most 2048 chars.")
    with core.store.transaction(write=True) as tx:
        store = _store(tx)
        state = replace(
            store.state(),
            fail_remaining=n,
            fail_message=message.strip() or DEFAULT_FAILURE,
            fail_item_status=item_status,
        )
        store.save_state(state)
        return state


def release(core: Core, package_id: int | None = None) -> list[int]:
    """Remove the mode's gate from one package (or from all); the released package IDs.

    The package then waits only for what else holds it (checks, approval), if anything.
    """
    with core.store.transaction(write=True) as tx:
        store = _store(tx)
        ids = store.gated(package_id)
        if package_id is not None and not ids:
            package = tx.package(package_id)
            if package is None:
                state = "does not exist"
            elif package.status == PackageStatus.READY:
                state = "is not held by the execution mode"
            else:
                state = f"has already finished (Status {package.status})"
            raise Invalid(
                "Invalid.Control.NotHeld", f"The deployment package {package_id} {state}."
            )
        store.remove_gates(ids)
    for released in ids:
        core.on_package(released)
    return ids
