"""The gate between creating a package and executing it: checks, then approval.

:class:`ChecksGate` is the first :class:`~openworks.core.context.Gate` of every process
(``core.checks``, installed by :func:`openworks.store.open_core` through :func:`install`):
the lifecycle hands it each new package with its :class:`~openworks.core.context.Creation`
(who, which workspace, which event: commit-file, deploy-file, delete-file)::

    package created ──(SkipAllDeployFileExtensions, or no check configured)──┐
         │ checks configured                                                 │
         ▼                                                                   │
    Status 0, hold "checks", CheckingStatus 8                                │
         │ every run answered (OK / WARN / FAIL), or the deadline passed     │
         │ (an unanswered run becomes FAIL "no answer within N s")           │
         ├── all OK/WARN ─▶ CheckingStatus empty ──────────────────────────┐ │
         │                                                                 ▼ ▼
         │                                      to PROD and approval.required?
         │                                        yes: hold "approval"   no: hold released
         │                                        (core.approvals)       ─▶ worker executes
         └── any FAIL ─▶ CheckingStatus 7
               ├── to DEV (a standard-mode commit): hold released, the worker executes it:
               │     committed (Status 1) but its version cannot be deployed
               └── to PROD: package blocked at once: Status 2, items 2/4, ErrorMessage
                     naming the failed checks; the versions go back as after a failed run

Every transition is one transaction that first locks the package
(:mod:`openworks.core.lifecycle` makes the moves, each a compare-and-set); a verdict is
stored only while its run is still CHECKING, so of an OK and a FAIL sent at once, or of a
verdict and the deadline, exactly one counts and the other answers
``Invalid.Extension.AlreadyAnswered``. Built-in checks are evaluated by the worker's check
loop; extensions are asked by webhook (:mod:`openworks.delivery`) and answer through
CallbackExtension, UpdateIDEEventResult or CheckFileDeployment.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace

from . import lifecycle
from .builtin_checks import evaluate, parse_specs
from .check_ports import CheckEvent, CheckRun, Delivery, RunStatus
from .context import Core, Creation, Gate
from .errors import Invalid, NotFound
from .extensions import event_message
from .function_deps import is_function, missing_resources
from .lifecycle import HOLD_APPROVAL, HOLD_CHECKS
from .model import CheckingStatus, Env, FileVersion, Package, PackageStatus, Principal
from .ports import Tx
from .workspace_settings import load_settings

__all__ = [
    "GATE",
    "HOLD_APPROVAL",
    "HOLD_CHECKS",
    "ChecksGate",
    "answer_check",
    "answer_checker_instance",
    "deploy_blocker",
    "install",
    "run_builtin_checks",
    "settle",
    "settle_due",
    "work_due",
]

RESULTS = frozenset({"OK", "WARN", "FAIL"})


def _new_message_id() -> str:
    return str(uuid.uuid4())


def _new_instance_id() -> str:
    return "ci-" + secrets.token_hex(12)


def _open(tx: Tx, creation: Creation) -> None:
    """Hold a freshly made package for its checks and/or approval, as configured."""
    package = creation.package
    now, project, event_code = creation.now, creation.project, creation.event_code
    settings = load_settings(tx, project.id)
    to_prod = package.to_env == Env.PROD
    store = tx.checks()
    builtin = settings.builtin if event_code != "delete-file" else ()
    extensions = (
        []
        if creation.skip_checks
        else store.extensions_for(project.account_id, project.id, event_code)
    )
    if creation.skip_checks:
        builtin = ()
    gaps = _function_gaps(tx, creation, package) if event_code != "delete-file" else {}
    if builtin or extensions or gaps:
        deadline = now + int(settings.timeout_seconds * 1000)
        for item in package.items:
            version = creation.version(tx, item.file_id, item.file_version)
            file = tx.file(item.file_id)
            if version is None or file is None:
                raise RuntimeError(f"package {package.id} refers to a missing file version")
            event = CheckEvent(
                0, _new_message_id(), package.id, project.id, project.account_id, event_code,
                item.file_id, item.file_version, creation.principal.user_id, version.name, now,
                deadline,
            )  # fmt: skip
            store.insert_event(event)
            if item.file_id in gaps:  # decided at once: nothing to evaluate later
                store.insert_run(
                    CheckRun(0, event.id, package.id, "builtin", FUNCTION_RESOURCES,
                             _new_instance_id(), status=RunStatus.FAIL,
                             message=gaps[item.file_id], finish_time=now)
                )  # fmt: skip
            for spec in builtin:
                store.insert_run(
                    CheckRun(0, event.id, package.id, "builtin", spec.name, _new_instance_id(),
                             spec=str(spec))
                )  # fmt: skip
            for ext in extensions:
                run = CheckRun(0, event.id, package.id, "extension", ext.code, _new_instance_id())
                store.insert_run(run)
                body = event_message(event, run, project, package, file, version)
                store.insert_delivery(
                    Delivery(0, run.id, ext.account_id, ext.code, body, next_attempt=now,
                             create_time=now)
                )  # fmt: skip
        lifecycle.hold_for_checks(tx, package)
    elif settings.approval_required and to_prod:
        lifecycle.hold_for_approval(tx, package)


class ChecksGate:
    """The checks, with approval behind them, as the first :class:`Gate` of the lifecycle
    (``core.checks``): it may hold a package at creation and does nothing later (verdicts,
    the deadline and approvals move the package through :func:`settle` and
    :mod:`openworks.core.approvals`)."""

    def created(self, tx: Tx, creation: Creation) -> None:
        _open(tx, creation)

    def before_execute(self, tx: Tx, package: Package, now: int) -> tuple[int, str] | None:
        return None

    def settled(self, tx: Tx, package: Package) -> None:
        return None


GATE: Gate = ChecksGate()


def install(core: Core) -> Core:
    """Make ``core`` hold new packages for their checks and approval (once); ``core`` again.
    :func:`openworks.store.open_core` does it for every process; a bare ``Core`` has none."""
    if GATE not in core.checks:
        core.checks = (GATE,)
    return core


FUNCTION_RESOURCES = "function-resources"
"""The always-on check of a function item: the resources it names must be deployed to the
package's target environment, or ship in the same package."""


def _function_gaps(tx: Tx, creation: Creation, package: Package) -> dict[int, str]:
    """Per function item (file id) whose resources are missing, the check's message."""
    project = creation.project
    shipping = {item.file_id for item in package.items}
    gaps: dict[int, str] = {}
    for item in package.items:
        version = creation.version(tx, item.file_id, item.file_version)
        if version is None or not is_function(version.file_type):
            continue
        missing = missing_resources(tx, project, version, Env(package.to_env), shipping)
        if missing:
            where = "production" if package.to_env == Env.PROD else "development"
            gaps[item.file_id] = (
                f"The function {version.name} needs resources that are not deployed to "
                f"{where}: {', '.join(missing)} (deploy them first, or in the same package)"
            )
    return gaps


# -- settling the gate ------------------------------------------------------------------


def _summary(runs: list[CheckRun]) -> str:
    return "; ".join(f"{r.name}: {r.message}" if r.message else r.name for r in runs)


def settle(tx: Tx, package_id: int, now: int, gates: Sequence[Gate] = ()) -> bool:
    """Decide the gate if every run answered or the deadline passed; True if it moved on.
    ``gates`` (the Core's) hear a run's package settle; without them nobody does.

    The package is locked first, so two workers (or a worker and a verdict) settle one
    gate once: the second finds it no longer held for checks and does nothing."""
    store = tx.checks()
    package = lifecycle.lock(tx, package_id)
    if package is None or package.status != PackageStatus.READY or package.hold != HOLD_CHECKS:
        store.close_events(package_id)
        return False
    events = store.events_for_package(package_id)
    runs = store.runs_for_package(package_id)
    pending = [r for r in runs if r.status == RunStatus.CHECKING]
    expired = [e for e in events if e.deadline <= now]
    if pending and not expired:
        return False
    for run in pending:
        event = next(e for e in events if e.id == run.event_id)
        seconds = (event.deadline - event.create_time) / 1000
        _record_timeout(
            tx, run, f"no answer within the workspace's check timeout of {seconds:g} s", now
        )
    store.close_events(package_id)
    failed = [r for r in runs if r.status == RunStatus.FAIL]
    if failed:
        lifecycle.checks_failed(tx, package, _summary(failed), now, gates)
    else:
        required = load_settings(tx, package.project_id).approval_required
        lifecycle.checks_passed(tx, package, required, gates)
    return True


def _record_timeout(tx: Tx, run: CheckRun, message: str, now: int) -> None:
    """FAIL a run that did not answer in time, unless its answer was stored meanwhile."""
    timed_out = replace(run, status=RunStatus.FAIL, message=message, finish_time=now)
    store = tx.checks()
    if store.finish_run(timed_out):
        run.status, run.message, run.finish_time = RunStatus.FAIL, message, now
        return
    stored = store.run(run.id)
    if stored is not None:
        run.status, run.message, run.finish_time = stored.status, stored.message, stored.finish_time


def work_due(core: Core) -> bool:
    """Whether :func:`run_builtin_checks`, :func:`settle_due` or a delivery has anything to
    do now: one read, so that a check loop woken for every new package costs little when
    no workspace uses checks."""
    with core.store.transaction() as tx:
        return tx.checks().work_due(core.clock())


def settle_due(core: Core) -> list[int]:
    """Settle every gate whose runs are all answered or whose deadline passed."""
    now = core.clock()
    with core.store.transaction() as tx:
        store = tx.checks()
        due: list[int] = []
        for package_id in store.open_package_ids():
            events = store.events_for_package(package_id)
            runs = store.runs_for_package(package_id)
            done = all(r.status != RunStatus.CHECKING for r in runs)
            if done or any(e.deadline <= now for e in events):
                due.append(package_id)
    moved = []
    for package_id in due:
        with core.store.transaction(write=True) as tx:
            if settle(tx, package_id, now, core.lifecycle_gates):
                moved.append(package_id)
    for package_id in moved:
        core.on_package(package_id)
    return moved


def run_builtin_checks(core: Core, limit: int = 50) -> int:
    """Evaluate pending built-in runs and settle their packages; how many were evaluated.

    The runs are found in a read transaction; then each package is locked before its runs
    are evaluated and stored (compare-and-set), so two check loops never both judge a run,
    and locks are always taken package first, run second (as verdicts take them)."""
    now = core.clock()
    with core.store.transaction() as tx:
        found = tx.checks().pending_builtin_runs(limit)
    if not found:
        return 0
    evaluated = 0
    moved: list[int] = []
    with core.store.transaction(write=True) as tx:
        store = tx.checks()
        for package_id in sorted({r.package_id for r in found}):
            package = lifecycle.lock(tx, package_id)
            events = {e.id: e for e in store.events_for_package(package_id)}
            for run in store.runs_for_package(package_id):
                if run.kind != "builtin" or run.status != RunStatus.CHECKING:
                    continue
                event = events.get(run.event_id)
                version = tx.version(event.file_id, event.file_version) if event else None
                if package is None or version is None:
                    run.status, run.message = RunStatus.FAIL, "the checked file version is missing"
                else:
                    try:
                        spec = parse_specs(run.spec)[0]
                        verdict = evaluate(spec, version, package.to_env == Env.PROD)
                    except Exception as err:  # a check must never wedge the loop
                        verdict = (RunStatus.FAIL, f"the check could not run: {err}")
                    run.status, run.message = verdict
                run.finish_time = now
                evaluated += store.finish_run(run)
            if settle(tx, package_id, now, core.lifecycle_gates):
                moved.append(package_id)
    for package_id in moved:
        core.on_package(package_id)
    return evaluated


# -- answers from extensions ------------------------------------------------------------


def _record(tx: Tx, run: CheckRun, result: str, message: str, now: int) -> bool:
    """Store one answer; False if it repeats the stored one (idempotent callbacks).

    A compare-and-set on the run: only a run still CHECKING takes a verdict, so of two
    different answers at once one is stored and the other is refused."""
    if result not in RESULTS:
        raise Invalid("Invalid.Param", f"CheckResult must be OK, WARN or FAIL, not {result!r}.")
    if run.status == RunStatus.CHECKING:
        answered = replace(run, status=result, message=message, finish_time=now)
        if tx.checks().finish_run(answered):
            return True
        run = tx.checks().run(run.id) or run
    if run.status == result:
        return False
    raise Invalid(
        "Invalid.Extension.AlreadyAnswered",
        f"The check {run.name} of this event is already closed with {run.status}"
        + (f" ({run.message})" if run.message else "")
        + "; it cannot be changed.",
    )


def _event_of(tx: Tx, principal: Principal, message_id: str) -> CheckEvent:
    event = tx.checks().event_by_message(message_id)
    if event is None or event.account_id != principal.account_id:
        raise NotFound("InvalidMessage.NotFound", f"No extension event has MessageId {message_id}.")
    return event


def answer_check(
    core: Core,
    principal: Principal,
    message_id: str,
    extension_code: str | None,
    result: str,
    message: str | None,
) -> None:
    """An extension's verdict on one event (CallbackExtension / UpdateIDEEventResult)."""
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        event = _event_of(tx, principal, message_id)
        lifecycle.lock(tx, event.package_id)  # verdicts and settling of one gate queue here
        runs = [r for r in tx.checks().runs_for_event(event.id) if r.kind == "extension"]
        if extension_code:
            runs = [r for r in runs if r.name == extension_code]
        elif len(runs) > 1:
            raise Invalid(
                "Invalid.Param",
                f"Several extensions check message {message_id}; specify ExtensionCode.",
            )
        if not runs:
            raise NotFound(
                "InvalidExtension.NotFound",
                f"The extension {extension_code} was not asked to check message {message_id}."
                if extension_code
                else f"No extension was asked to check message {message_id}.",
            )
        changed = _record(tx, runs[0], result, message or "", now)
        moved = changed and settle(tx, event.package_id, now, core.lifecycle_gates)
    if moved:
        core.on_package(event.package_id)


def answer_checker_instance(
    core: Core, principal: Principal, checker_instance_id: str, result: str
) -> None:
    """The legacy CheckFileDeployment path: the run named by its CheckerInstanceId."""
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        run = tx.checks().run_by_instance(checker_instance_id)
        event = None
        if run is not None:
            lifecycle.lock(tx, run.package_id)  # verdicts and settling of one gate queue here
            run = tx.checks().run(run.id) or run
            event = next(
                (e for e in tx.checks().events_for_package(run.package_id) if e.id == run.event_id),
                None,
            )
        if run is None or event is None or event.account_id != principal.account_id:
            raise NotFound(
                "InvalidCheckerInstance.NotFound",
                f"No file deployment check has CheckerInstanceId {checker_instance_id}.",
            )
        changed = _record(tx, run, result, "", now)
        moved = changed and settle(tx, run.package_id, now, core.lifecycle_gates)
    if moved:
        core.on_package(run.package_id)


# -- what the deploy path asks ----------------------------------------------------------


def deploy_blocker(tx: Tx, version: FileVersion) -> Invalid | None:
    """Why the checks of this version's commit forbid deploying it, or None."""
    if version.package_id is None:
        return None
    package = tx.package(version.package_id)
    if package is None:
        return None
    pending = package.hold == HOLD_CHECKS or package.checking_status == CheckingStatus.CHECKING
    if not pending and package.checking_status != CheckingStatus.FAILED:
        return None  # checked and passed, or never checked: no runs to read
    runs = tx.checks().runs_for_package(package.id)
    where = f"version {version.version} of file {version.file_id} (package {package.id})"
    if pending:
        waiting = [r.name for r in runs if r.status == RunStatus.CHECKING]
        return Invalid(
            "Invalid.Deploy.CheckPending",
            f"The pre-deployment checks of {where} are still running (CheckingStatus 8; "
            f"waiting for {', '.join(waiting) or 'the gate to settle'}). Poll GetDeployment "
            "until CheckingStatus is empty.",
        )
    if package.checking_status == CheckingStatus.FAILED:
        failed = [r for r in runs if r.status == RunStatus.FAIL]
        return Invalid(
            "Invalid.Deploy.CheckFailed",
            f"The pre-deployment check of {where} failed (CheckingStatus 7): "
            f"{_summary(failed)}. Fix the file and submit it again.",
        )
    return None
