"""The package lifecycle: every change of a package's, item's, version's or file's state.

Checks (:mod:`openworks.core.checks`), approvals (:mod:`openworks.core.approvals`), package
creation and the worker (:mod:`openworks.core.packages`) call the transitions below; nothing
else writes a package's Status, hold, CheckingStatus, HandlerId, ErrorMessage or
ExecuteTime, or a version's status.

Packages (Status / hold / CheckingStatus; environments LOCAL 0, DEV 1, PROD 2)::

   created ──▶ READY 0, hold —  (each installed gate: created(Creation), checks first)
                 │ hold_for_checks                    hold_for_approval (to PROD,
                 ▼                                      approval.required)
   READY 0, hold "checks", CS 8 ─ checks_passed ─▶ READY 0, hold "approval" ───┐
                 │            └─ checks_passed ─▶ READY 0, hold — (worker) ─┐  │
                 │ checks_failed                                             │  │
                 ├── to DEV:  READY 0, hold —, CS 7 (worker runs it) ───────┤  │
                 └── to PROD: FAILED 2, CS 7 (blocked)                      │  │
                                                                            ▼  │
                         execute (worker claim, hold —)  ◀───────────────────┘  │
                         approve (hold "approval")       ◀──────────────────────┘
                                  │
                                  ├── target stale / invalid / a gate ─▶ FAILED 2
                                  └── applied ──────────────────────────▶ SUCCESS 1
   READY 0, hold "approval" ── reject ─▶ REJECTED 6
   READY 0, any hold ── fail_after_crash ─▶ FAILED 2

A package of a pipeline run (``await_stage``, :mod:`openworks.core.pipeline_runs`) waits for
its deploy stage: where the diagram releases it (checks passed, or no checks) it is held
"stage" instead, and a failed check blocks it whatever its target::

   READY 0, hold "stage" ── release_stage ─▶ READY 0, hold "approval" (to PROD, required)
                                        └──▶ READY 0, hold — (worker)

Every transition that settles a package of a run (checks passed or failed, executed,
failed, rejected) then tells each gate it is given (``gate.settled``) in the same
transaction; the gate of pipeline runs (:class:`openworks.core.run_trigger.RunsGate`)
refreshes the run's status and advances an Auto run.

Items: UNPUBLISHED 0 ─▶ SUCCESS 1 | ERROR 2 (commit) | DEPLOY_ERROR 4 (deploy) | REJECT 6
(or the item status a forced failure names). Versions (see
:class:`openworks.core.model.VersionStatus`)::

   COMMITTING ─ok─▶ COMMITTED (to DEV) / DEPLOYED (basic, to PROD)   ─failed─▶ CANCELLED
   COMMITTED ─start_deploy─▶ DEPLOYING ─ok─▶ DEPLOYED                 ─failed─▶ COMMITTED

Files: a successful package to PROD sets ``prod_version`` (None for a deletion); a failed
commit of the file's current version marks the working copy changed again (and a failed
deletion takes the file out of the recycle bin).

**Every transition is a compare-and-set.** The package row is locked first
(:meth:`Tx.lock_package`: ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write
transactions are ``BEGIN IMMEDIATE`` and already exclusive), its state checked, and the
write is ``UPDATE … WHERE status = expected AND hold = expected`` of the changed columns only;
a row that moved meanwhile raises ``Invalid.Deployment.StatusChanged`` and the whole
transaction rolls back. Versions move the same way (``WHERE status = expected``). So of two
racing transitions (approve and reject, two workers settling one gate) exactly one wins.

**Stale targets are refused.** What :func:`execute` checks and applies is in
:mod:`openworks.core.execution`: a file deleted for good, or a newer version of it already
in the target environment, fails the package with :data:`STALE` in its ErrorMessage instead
of applying an older version over a newer one (so the packages of one file reach an
environment in the order they were created); an item the environment cannot take (missing
input, a deleted node's children) fails it too; nothing is applied until every item passed.

**Gates** (:class:`openworks.core.context.Gate`) join the lifecycle through one small
interface without this module importing them: ``created`` runs in the creating transaction
once the package's versions are stored and gets its
:class:`~openworks.core.context.Creation` (who made it in which workspace, for which
extension event; it may hold the package), ``before_execute`` may fail a package instead of
running it, ``settled`` hears that a package of a run settled. They are installed per
:class:`~openworks.core.context.Core` at start and passed in as ``core.lifecycle_gates``
(its ``checks``, its ``gates``, then its ``observers``) to every transition that may call
them; with none installed (a bare ``Core``) no gate code runs and nothing holds a new
package. :func:`openworks.store.open_core` installs, in that order, the checks with
approval behind them (:func:`openworks.core.checks.install`; its holds are
:func:`hold_for_checks` and :func:`hold_for_approval`), only with ``--control`` or the test
kit test control's gate (:func:`openworks.core.test_control.install`), and the observers of
pipeline runs and cross runs (:func:`openworks.core.run_trigger.install`,
:func:`openworks.core.cross_exec.install`); a gate that holds packages beside ``hold``
also needs the worker's claim to wait for it (``SqlStore(test_control=True)`` picks the
claim statement that does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import execution
from .context import Creation, Gate
from .errors import Invalid
from .execution import STALE, delete_for_good, node_outputs
from .model import (
    ChangeType,
    CheckingStatus,
    DeletedStatus,
    Env,
    File,
    FileVersion,
    Item,
    ItemStatus,
    Package,
    PackageStatus,
    VersionStatus,
)
from .ports import Tx

__all__ = [
    "HOLD_APPROVAL",
    "HOLD_CHECKS",
    "HOLD_STAGE",
    "STALE",
    "approve",
    "checks_failed",
    "checks_passed",
    "created",
    "delete_for_good",
    "execute",
    "fail",
    "fail_after_crash",
    "hold_for_approval",
    "hold_for_checks",
    "hold_for_stage",
    "lock",
    "node_outputs",
    "reject",
    "release_stage",
    "start_deploy",
]

HOLD_CHECKS = "checks"
HOLD_APPROVAL = "approval"
HOLD_STAGE = "stage"


def _settled(tx: Tx, gates: Sequence[Gate], package: Package) -> None:
    """Tell the gates that a package of a pipeline run settled."""
    if package.run_id is not None:
        for gate in gates:
            gate.settled(tx, package)


INTERNAL_ERROR = "Internal error while executing the package; see the server log."


# -- compare-and-set ------------------------------------------------------------------


def _changed(package: Package) -> Invalid:
    return Invalid(
        "Invalid.Deployment.StatusChanged",
        f"The deployment package {package.id} changed state while this request ran "
        "(another request or worker decided it first); read it again with GetDeployment.",
    )


def lock(tx: Tx, package_id: int) -> Package | None:
    """The package, its row locked until the transaction ends (PostgreSQL)."""
    return tx.lock_package(package_id)


def _move(tx: Tx, package: Package, **changes: Any) -> None:
    """Set ``changes`` if the package is still where ``package`` says it is; else refuse."""
    if not tx.move_package(package.id, package.status, package.hold, changes):
        raise _changed(package)
    for name, value in changes.items():
        setattr(package, name, value)


def _expect(package: Package, status: PackageStatus, hold: str | None) -> None:
    if package.status != status or package.hold != hold:
        raise _changed(package)


def _set_items(tx: Tx, package: Package, status: int, only: Item | None = None) -> None:
    for item in package.items:
        if only is None or item is only:
            item.status = status
            tx.set_item_status(package.id, item.file_id, status)


def _move_version(tx: Tx, version: FileVersion, status: VersionStatus) -> None:
    if not tx.move_version(version.file_id, version.version, version.status, status):
        raise Invalid(
            "Invalid.Deployment.StatusChanged",
            f"Version {version.version} of file {version.file_id} changed state while this "
            "request ran; read it again.",
        )
    version.status = status


# -- versions and files ---------------------------------------------------------------


def start_deploy(tx: Tx, version: FileVersion) -> None:
    """COMMITTED ─▶ DEPLOYING, when DeployFile packages the version."""
    _move_version(tx, version, VersionStatus.DEPLOYING)


def _settle_version(
    tx: Tx, package: Package, version: FileVersion, file: File | None, ok: bool
) -> None:
    """Move the version (and its file, as read in this transaction) to where the package
    outcome leaves them."""
    committing = package.from_env == Env.LOCAL
    if ok:
        to_prod = package.to_env == Env.PROD
        _move_version(tx, version, VersionStatus.DEPLOYED if to_prod else VersionStatus.COMMITTED)
        if file is not None and to_prod:
            deleted = version.change_type == ChangeType.DELETE
            file.prod_version = None if deleted else version.version
            tx.update_file(file)
    elif committing:
        _move_version(tx, version, VersionStatus.CANCELLED)
        if file is not None and file.current_version == version.version:
            file.commit_status = 0
            if version.change_type == ChangeType.DELETE:
                file.deleted_status = DeletedStatus.NORMAL
            tx.update_file(file)
    else:
        _move_version(tx, version, VersionStatus.COMMITTED)


def _settle_versions(tx: Tx, package: Package, ok: bool) -> None:
    for item in package.items:
        version = tx.version(item.file_id, item.file_version)
        if version is not None:
            _settle_version(tx, package, version, tx.file(version.file_id), ok)


def _failed_item(package: Package) -> ItemStatus:
    return ItemStatus.ERROR if package.from_env == Env.LOCAL else ItemStatus.DEPLOY_ERROR


# -- creation, holds and the check gate ------------------------------------------------


def created(tx: Tx, gates: Sequence[Gate], creation: Creation) -> None:
    """A package just made (READY, no hold, its versions inserted): each installed gate may
    hold it, the checks first."""
    for gate in gates:
        gate.created(tx, creation)


def hold_for_checks(tx: Tx, package: Package) -> None:
    """READY, no hold ─▶ READY, hold "checks", CheckingStatus 8 (in its creating tx)."""
    _move(tx, package, hold=HOLD_CHECKS, checking_status=CheckingStatus.CHECKING)


def hold_for_approval(tx: Tx, package: Package) -> None:
    """READY, no hold ─▶ READY, hold "approval" (in its creating transaction); a package
    waiting for its run's deploy stage is held "stage" instead (approval comes later)."""
    _move(tx, package, hold=HOLD_STAGE if package.await_stage else HOLD_APPROVAL)


def hold_for_stage(tx: Tx, package: Package) -> None:
    """READY, no hold ─▶ READY, hold "stage": a run's package with nothing to check."""
    _expect(package, PackageStatus.READY, None)
    _move(tx, package, hold=HOLD_STAGE)


def release_stage(tx: Tx, package: Package, approval_required: bool) -> None:
    """READY "stage" ─▶ READY "approval" (to PROD, approval required) or READY unheld
    (the worker runs it): the run's deploy stage was triggered."""
    _expect(package, PackageStatus.READY, HOLD_STAGE)
    hold = HOLD_APPROVAL if approval_required and package.to_env == Env.PROD else None
    _move(tx, package, hold=hold)


def checks_passed(tx: Tx, package: Package, approval_required: bool, gates: Sequence[Gate]) -> None:
    """READY "checks" ─▶ READY "approval" (to PROD, approval required) or READY unheld;
    READY "stage" for a package waiting for its run's deploy stage."""
    _expect(package, PackageStatus.READY, HOLD_CHECKS)
    hold = HOLD_APPROVAL if approval_required and package.to_env == Env.PROD else None
    if package.await_stage:
        hold = HOLD_STAGE
    _move(tx, package, hold=hold, checking_status=None)
    _settled(tx, gates, package)


def checks_failed(tx: Tx, package: Package, summary: str, now: int, gates: Sequence[Gate]) -> None:
    """READY "checks" ─▶ to DEV: READY unheld, CheckingStatus 7 (it still commits);
    to PROD, or a package of a pipeline run: FAILED, blocked, its versions back as after
    a failed run."""
    _expect(package, PackageStatus.READY, HOLD_CHECKS)
    if package.to_env != Env.PROD and not package.await_stage:
        _move(tx, package, hold=None, checking_status=CheckingStatus.FAILED)
        _settled(tx, gates, package)
        return
    _finish_failed(
        tx,
        gates,
        package,
        now,
        f"Blocked by pre-deployment checks: {summary}",
        _failed_item(package),
        checking_status=CheckingStatus.FAILED,
    )


# -- deciding and executing -----------------------------------------------------------


def _finish_failed(
    tx: Tx,
    gates: Sequence[Gate],
    package: Package,
    now: int,
    message: str,
    item_status: int,
    only: Item | None = None,
    **extra: Any,
) -> None:
    _set_items(tx, package, item_status, only)
    _settle_versions(tx, package, ok=False)
    _move(
        tx,
        package,
        status=PackageStatus.FAILED,
        error_message=message,
        execute_time=now,
        hold=None,
        **extra,
    )
    _settled(tx, gates, package)


def fail(
    tx: Tx,
    package: Package,
    now: int,
    message: str,
    item_status: int | None,
    gates: Sequence[Gate],
) -> None:
    """READY (any hold) ─▶ FAILED: every item gets ``item_status`` (default: ERROR for a
    commit, DEPLOY_ERROR for a deploy) and the versions go back."""
    _expect(package, PackageStatus.READY, package.hold)
    status = _failed_item(package) if item_status is None else item_status
    _finish_failed(tx, gates, package, now, message, status)


def fail_after_crash(tx: Tx, package_id: int, now: int, gates: Sequence[Gate]) -> bool:
    """A package whose execution raised: FAILED with a message saying so; False if it is
    no longer READY (someone else finished it)."""
    package = lock(tx, package_id)
    if package is None or package.status != PackageStatus.READY:
        return False
    fail(tx, package, now, INTERNAL_ERROR, None, gates)
    return True


def reject(
    tx: Tx, package: Package, handler_id: str, reason: str, now: int, gates: Sequence[Gate]
) -> None:
    """READY "approval" ─▶ REJECTED, items REJECT, versions back as after a failure."""
    _expect(package, PackageStatus.READY, HOLD_APPROVAL)
    _set_items(tx, package, ItemStatus.REJECT)
    _settle_versions(tx, package, ok=False)
    _move(
        tx,
        package,
        status=PackageStatus.REJECTED,
        error_message=reason,
        handler_id=handler_id,
        execute_time=now,
        hold=None,
    )
    _settled(tx, gates, package)


def approve(tx: Tx, package: Package, handler_id: str, now: int, gates: Sequence[Gate]) -> None:
    """READY "approval" ─▶ executed at once with the reviewer as HandlerId."""
    _expect(package, PackageStatus.READY, HOLD_APPROVAL)
    execute(tx, package, now, gates, handler_id=handler_id)


def execute(
    tx: Tx, package: Package, now: int, gates: Sequence[Gate], handler_id: str | None = None
) -> None:
    """READY (claimed by the worker, or approved) ─▶ SUCCESS, or FAILED if a gate forces
    it, the target is stale, or an item cannot go into the target environment.

    The caller holds the package row (claim or :func:`lock`); every item is validated
    before any is applied, so a package never half-applies.
    """
    _expect(package, PackageStatus.READY, package.hold)
    decided: dict[str, Any] = {} if handler_id is None else {"handler_id": handler_id}
    for gate in gates:
        forced = gate.before_execute(tx, package, now)
        if forced is not None:
            item_status, message = forced
            _finish_failed(tx, gates, package, now, message, item_status, **decided)
            return
    loaded = execution.load(tx, package)
    failure = execution.first_failure(tx, package, loaded)
    if failure is not None:
        bad, reason = failure
        _finish_failed(tx, gates, package, now, reason, _failed_item(package), only=bad, **decided)
        return
    execution.apply_all(tx, loaded.project, loaded.versions, Env(package.to_env), now)
    _set_items(tx, package, ItemStatus.SUCCESS)
    for version, file in zip(loaded.versions, loaded.files, strict=True):
        _settle_version(tx, package, version, file, ok=True)
    _move(tx, package, status=PackageStatus.SUCCESS, execute_time=now, hold=None, **decided)
    _settled(tx, gates, package)
